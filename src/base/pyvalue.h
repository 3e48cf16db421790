/*
 * base/pyvalue.h -- JSON and Python value rules for workflow events.
 *
 * aggregate_workflows.py reads each line with Python's str.strip() and
 * json.loads(), then applies int(), float(), truth tests, str() and dict-key
 * equality to what it finds.  To print the same report from stored events,
 * spanlite reads events by exactly those rules.  This module implements
 * them on UTF-8 bytes, without allocating per value:
 *
 *   1. sl_wfj_strip(): str.strip() (Unicode whitespace, not just ASCII).
 *   2. sl_wfj_compact(): json.loads()'s grammar (NaN, Infinity, -Infinity
 *      accepted; raw control characters in strings, trailing commas, leading
 *      zeros, "1." refused), emitting the value without insignificant
 *      whitespace.  Tokens are copied verbatim, so no number is rounded.
 *   3. Walking compact text: sl_wfj_member() visits an object's members,
 *      sl_wfj_skip() steps over one value.
 *   4. Python conversions of one value: sl_wfj_py_int() is int(v),
 *      sl_wfj_py_float() is float(v), sl_wfj_py_truthy() is bool(v),
 *      sl_wfj_py_str() is str(v) (f"{v}"), sl_wfj_py_key() gives a text that
 *      is equal for two values exactly when Python's dict treats them as the
 *      same key (1 == 1.0 == True; "1" differs).
 *
 * Limits (documented in docs/workflows.md): integers are exact within
 * int64; str() of a string with a NUL character stops at the NUL; values
 * nest at most SL_WFJ_MAX_DEPTH arrays and objects deep (a deeper event is
 * refused by sl_wfj_compact(), as Python's json.loads() refuses it with a
 * RecursionError), so the walks below may recurse.
 */
#ifndef SL_WF_JSON_H
#define SL_WF_JSON_H

#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"

#define SL_WFJ_MAX_DEPTH 1000 /* arrays and objects open at once */

/* Kinds of JSON values; SL_WFJ_NONE marks an absent member. */
enum {
    SL_WFJ_NONE = 0,
    SL_WFJ_OBJECT, SL_WFJ_ARRAY, SL_WFJ_STRING,
    SL_WFJ_INT,   /* a number without fraction or exponent */
    SL_WFJ_REAL,  /* a number with either */
    SL_WFJ_TRUE, SL_WFJ_FALSE, SL_WFJ_NULL,
    SL_WFJ_NAN, SL_WFJ_INF, SL_WFJ_NINF /* Python's extensions */
};

/* One value inside compact text: its raw token (strings with their quotes,
 * containers whole) and kind. */
typedef struct sl_wfj_val {
    int kind;
    const char *p;
    size_t n;
} sl_wfj_val;

/* Python's str.strip(): narrow [*p, *p + *n) past whitespace at both ends. */
void sl_wfj_strip(const char **p, size_t *n);

/* 0 if p[0..n) is well-formed UTF-8 as Python's strict codec wants it
 * (no overlongs, no encoded surrogates, nothing above U+10FFFF), else -1. */
int sl_wfj_utf8_check(const char *p, size_t n);

/*
 * Validate p[0..n) as one JSON document by json.loads()'s rules and append
 * its compact form to out.  Returns the kind of the top-level value, or -1
 * with a short reason (json's own wording) in *why and the 0-based byte
 * offset of the problem in *at.
 */
int sl_wfj_compact(const char *p, size_t n, sl_buf *out, const char **why, size_t *at);

/* Step over the value starting at p in compact text; returns the end and
 * sets *kind. */
const char *sl_wfj_skip(const char *p, const char *end, int *kind);

/*
 * Iterate the members of the compact object text [*pos, end): start with
 * *pos just after the '{'.  Returns 1 with key (a string token) and val set,
 * 0 after the last member.
 */
int sl_wfj_member(const char **pos, const char *end, sl_wfj_val *key, sl_wfj_val *val);

/* The decoded text of a string token, appended to out (UTF-8; a lone
 * surrogate escape becomes its 3-byte form, as Python keeps it). */
void sl_wfj_unescape(const sl_wfj_val *v, sl_buf *out);
/* True when the string token v decodes to name. */
int sl_wfj_str_eq(const sl_wfj_val *v, const char *name);

/* int(v): 0 and *out, or -1 where Python raises (or the value leaves int64). */
int sl_wfj_py_int(const sl_wfj_val *v, int64_t *out);
/* float(v): 0 and *out (inf and nan included), or -1 where Python raises. */
int sl_wfj_py_float(const sl_wfj_val *v, double *out);
/* bool(v). */
int sl_wfj_py_truthy(const sl_wfj_val *v);
/* str(v), appended to out: strings as decoded, numbers and containers as
 * Python prints them (1.0, 1e+16, True, None, [1, 'a'], {'k': nan}). */
void sl_wfj_py_str(const sl_wfj_val *v, sl_buf *out);

/* dict-key identity of v, appended to out.  Returns 0, or 1 when v is not
 * hashable (a list or dict: the script raises).  NaN is one key: json.loads
 * hands out the same float object for every NaN literal. */
enum { SL_WFJ_KEY_OK = 0, SL_WFJ_KEY_UNHASHABLE = 1 };
int sl_wfj_py_key(const sl_wfj_val *v, sl_buf *out);

/* Python's int(str) and float(str) on decoded text: Unicode whitespace and
 * decimal digits, single underscores between digits.  0 or -1. */
int sl_wfj_int_from_text(const char *s, size_t n, int64_t *out);
int sl_wfj_float_from_text(const char *s, size_t n, double *out);

/* repr(float): the shortest text that reads back as d, in Python's layout. */
void sl_wfj_float_repr(double d, sl_buf *out);

#endif
