/*
 * base/sort.h -- a stable sort of an index array, the one the engines use
 * to order spans (children by start, parts of a span by endpoint).
 *
 *   uint32_t order[n], tmp[n];                 order holds 0..n-1 (any order)
 *   sl_sort_index(order, tmp, n, cmp, ctx);    cmp(ctx, a, b) < 0: a first
 *
 * Bottom-up merge sort: O(n log n) compares, no recursion, no allocation
 * (tmp is the caller's), and stable, so equal elements keep their order in
 * order[]; the critical path's tie rule depends on that.
 */
#ifndef SL_SORT_H
#define SL_SORT_H

#include <stdint.h>

typedef int (*sl_index_cmp)(const void *ctx, uint32_t a, uint32_t b);

void sl_sort_index(uint32_t *a, uint32_t *tmp, uint32_t n, sl_index_cmp cmp, const void *ctx);

#endif
