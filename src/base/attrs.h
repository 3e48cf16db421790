/*
 * base/attrs.h -- typed attribute values: between the wire forms of the trace
 * formats (OTLP AnyValue / KeyValue lists, Jaeger typed tags) and the JSON
 * that spanlite stores in attributes, resource, scope, events and links.
 *
 * The storage rule (docs/formats.md, "Attribute values"), chosen
 * so that json_extract(attributes, '$.key') is natural and OTLP round trips
 * are lossless:
 *
 *   1. string -> JSON string.
 *   2. bool   -> true / false.
 *   3. int    -> JSON integer, exact over all of int64 (long literals are
 *                written bare; sl_json_parse() keeps them exact).
 *   4. double -> JSON number that always has a fraction or an exponent
 *                ("1.0", "2.5e-07"), so sl_json_is_real() tells it from an
 *                int on the way back.  NaN and the infinities, which JSON
 *                numbers cannot hold, become the strings "NaN", "Infinity",
 *                "-Infinity" (the proto3 JSON spelling).
 *   5. array  -> JSON array of values under these rules.
 *   6. kvlist -> JSON object of values under these rules.
 *   7. bytes  -> the object {"$bytes": "<base64>"}; an object whose only
 *                member is a string "$bytes" is read back as bytes.
 *   8. empty (an AnyValue with no value) -> null.
 *
 * Readers work on trees from sl_json_parse() (json.h); writers append to an
 * sl_buf, whose allocation failure is sticky (check .oom once at the end).
 * No function here keeps a pointer to its arguments.
 */
#ifndef SL_ATTRS_H
#define SL_ATTRS_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include "base/buf.h"

typedef enum sl_attr_type {
    SL_ATTR_EMPTY = 0, /* null */
    SL_ATTR_STRING,
    SL_ATTR_BOOL,
    SL_ATTR_INT,
    SL_ATTR_DOUBLE,
    SL_ATTR_BYTES,
    SL_ATTR_ARRAY,
    SL_ATTR_KVLIST
} sl_attr_type;

/* ---- Wire -> stored ---------------------------------------------------- */

/* Append the stored form of one OTLP AnyValue ({"stringValue": ...}, also
 * snake_case keys).  Returns 0, or -1 with a reason in err. */
int sl_attr_from_anyvalue(sl_buf *b, const cJSON *anyvalue, char *err, size_t errlen);

/* Append a JSON object made of an OTLP KeyValue array ([{"key","value"}]);
 * NULL or a non-array writes "{}".  Returns the number of members written,
 * or -1 with a reason in err. */
int sl_attr_from_keyvalues(sl_buf *b, const cJSON *kvs, char *err, size_t errlen);

/* Append {"$bytes": b64} (rule 7). */
void sl_attr_write_bytes(sl_buf *b, const char *b64);

/* Append d under rule 4. */
void sl_attr_write_double(sl_buf *b, double d);

/* ---- Stored -> wire ---------------------------------------------------- */

/* The type of a stored value (a node of a tree from sl_json_parse()). */
sl_attr_type sl_attr_type_of(const cJSON *v);

/* The value of an SL_ATTR_INT node.  0, or -1 if v is not one. */
int sl_attr_int(const cJSON *v, int64_t *out);

/* The value of an SL_ATTR_DOUBLE node. */
double sl_attr_double(const cJSON *v);

/* The base64 text of an SL_ATTR_BYTES node, or NULL. */
const char *sl_attr_bytes(const cJSON *v);

/* Append v as an OTLP AnyValue object. */
void sl_attr_to_anyvalue(sl_buf *b, const cJSON *v);

/* Append the members of obj as an OTLP KeyValue array; skip_key (or NULL)
 * names a member to leave out.  Returns the number of entries written. */
int sl_attr_to_keyvalues(sl_buf *b, const cJSON *obj, const char *skip_key);

/* ---- Walking a big JSON document without parsing it whole -------------
 *
 * The document importers find each record (an OTLP span, a Jaeger trace's
 * members) with this scanner and parse only that record with
 * sl_json_parse(), so a document costs its own size once, not a tree of it.
 * The scanner checks brackets, strings and separators; the records it hands
 * out are checked fully by the parser.
 */
typedef struct sl_jscan {
    const char *p;   /* next byte to look at */
    const char *end; /* end of the buffer */
    char close;      /* '}' or ']' */
    int n;           /* members or elements returned so far */
} sl_jscan;

/* p past any whitespace (and a UTF-8 byte order mark at p). */
const char *sl_jscan_ws(const char *p, const char *end);

/* End of the JSON value starting at p (no leading whitespace), or NULL when
 * it is unbalanced or cut short. */
const char *sl_jscan_skip(const char *p, const char *end);

/* Start walking the object ('{') or array ('[') at p.  0, or -1 when p does
 * not start one. */
int sl_jscan_open(sl_jscan *it, const char *p, const char *end, char open);

/* Next member (objects: *key and *klen give the raw key text between its quotes)
 * or element: [*val, *vend) is its value.  Returns 1, or 0 after the closing
 * bracket (it->p just past it), or -1 on a syntax error at it->p. */
int sl_jscan_next(sl_jscan *it, const char **key, size_t *klen, const char **val,
                  const char **vend);

/* Like sl_jscan_next(), but without looking past the value's first byte,
 * so a cut-off document still yields the records before the cut: the
 * caller walks into *val itself and then calls sl_jscan_resume() with the
 * position just past the value. */
int sl_jscan_enter(sl_jscan *it, const char **key, size_t *klen, const char **val);
void sl_jscan_resume(sl_jscan *it, const char *after);

/* Is the raw key (klen bytes) equal to name? */
int sl_jscan_key_is(const char *key, size_t klen, const char *name);

#endif
