/*
 * base/num.h -- integer arithmetic that cannot overflow.
 *
 * Sums of durations kept at ingest (rollup_hour.sum_ns, link_hour.sum_ns)
 * add int64 nanoseconds without bound: a few absurd spans (durations near
 * 2^62, as a damaged or hostile input may carry) would overflow them, which
 * is undefined behaviour in C.  They saturate instead: a sum pinned at
 * INT64_MAX or INT64_MIN says "too large to count", and every other figure
 * of the row (calls, errors, min, max, the sketch) stays exact.
 */
#ifndef SL_NUM_H
#define SL_NUM_H

#include <stdint.h>

/* a + b, clamped to [INT64_MIN, INT64_MAX]. */
static inline int64_t sl_add_sat64(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_add_overflow(a, b, &r)) return r;
    return b > 0 ? INT64_MAX : INT64_MIN;
}

/* a * b, clamped likewise. */
static inline int64_t sl_mul_sat64(int64_t a, int64_t b)
{
    int64_t r;
    if (!__builtin_mul_overflow(a, b, &r)) return r;
    return (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}

#endif
