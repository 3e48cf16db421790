/*
 * base/json.h -- JSON helpers shared by every format: exact reading on top of
 * cJSON, and a streaming writer into an sl_buf.
 *
 * Why: cJSON keeps numbers as doubles, and a double cannot hold every
 * nanosecond timestamp (2^53 ns is only 104 days).  sl_json_parse() first
 * turns every integer literal too long for a double into a string literal,
 * so sl_json_int64() can read it back exactly; readers therefore accept an
 * integer given either as a number or as a string (which OTLP JSON allows
 * anyway).
 */
#ifndef SL_JSON_H
#define SL_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/buf.h"

/* Parse text (len bytes, need not be NUL-terminated).  NULL on a syntax
 * error, with a short reason and the byte offset in err. */
cJSON *sl_json_parse(const char *text, size_t len, char *err, size_t errlen);

/* True for a number written with a fraction or exponent ("1.0", "1e3"),
 * which sl_jw_cjson() writes back as a real; integers stay integers. */
int sl_json_is_real(const cJSON *item);
/* True for an integer literal too long for a double, which cJSON holds as
 * a string (its text is valuestring); sl_jw_cjson() writes it back bare. */
int sl_json_is_bigint(const cJSON *item);
/* The text of a real number as written ("1000.125"), for exact decimal
 * reading; NULL for anything else. */
const char *sl_json_number_text(const cJSON *item);

/* Member lookup, case-sensitive. */
cJSON *sl_json_get(const cJSON *obj, const char *key);
/* String member or NULL (also NULL when present but not a string). */
const char *sl_json_str(const cJSON *obj, const char *key);

/* An integer from a number (integral, in range) or a decimal string.
 * Returns 0 and sets *out, or -1. */
int sl_json_int64(const cJSON *item, int64_t *out);
/* A number from a number or a numeric string.  Returns 0 or -1. */
int sl_json_double(const cJSON *item, double *out);

/* Parse a decimal integer string exactly (optional sign). 0 or -1. */
int sl_parse_int64(const char *s, int64_t *out);
/* Exact decimal "123.456" times 10^digits ("1.5", 3 -> 1500), rounding
 * half up beyond the last kept digit.  0, or -1 on bad text or overflow. */
int sl_parse_scaled(const char *s, int digits, int64_t *out);
/* Decimal seconds ("1000.125" or 1e3) to nanoseconds, exactly for up to 9
 * decimals.  0 or -1. */
int sl_parse_seconds_ns(const char *s, int64_t *out);

/* Lower-case s in place if it is entirely hexadecimal digits. */
void sl_hex_lower(char *s);

/* ---- Writer ---- */
void sl_jw_string(sl_buf *b, const char *s);            /* "..." escaped; NULL -> null */
void sl_jw_stringn(sl_buf *b, const char *s, size_t n);
void sl_jw_int(sl_buf *b, int64_t v);
void sl_jw_double(sl_buf *b, double v);  /* shortest exact form, keeps ".0" on integral values */
/* Serialise a cJSON tree compactly with sl_jw_* number rules. */
void sl_jw_cjson(sl_buf *b, const cJSON *item);
/* "key": with a leading comma when *first is 0; sets *first to 0. */
void sl_jw_key(sl_buf *b, const char *key, int *first);

#endif
