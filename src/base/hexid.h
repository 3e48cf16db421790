/*
 * base/hexid.h -- the stored form of span ids: binary when the id is hex.
 *
 * Span ids are nearly always 16 lower-case hex digits (OTLP, Jaeger,
 * Zipkin), which SQLite stores as 16 bytes of text plus their copy in
 * span_identity.  Stored as the 8 bytes they spell, they take half.
 * The rules (schema/006_compact_ids.sql, docs/schema.md):
 *
 *   R1 An id of 2..2*SL_HEXID_MAX characters, even in number, each of
 *      0-9 a-f, is stored as the BLOB of the bytes it spells.
 *   R2 Any other id ("trace-123", an odd length, upper-case digits that
 *      were not lower-cased, longer ones) is stored as its TEXT, unchanged.
 *   R3 So the stored form is a bijection: TEXT and BLOB never compare
 *      equal, and the text of a BLOB is lower(hex(blob)), exactly the id.
 *
 * Readers turn a stored id back into its text in SQL, with built-in
 * functions only (plain sqlite3 reads the views): SL_HEXID_SQL("s.span_id").
 * Writers and lookups bind the stored form (store/ids.h: sl_ids_bind).
 */
#ifndef SL_HEXID_H
#define SL_HEXID_H

#include <stddef.h>

#define SL_HEXID_MAX 64 /* bytes of the longest id stored in binary */

/* The SQL expression that gives the text of the stored id column COL (a
 * string literal); NULL stays NULL. */
#define SL_HEXID_SQL(col) \
    "CASE WHEN typeof(" col ") = 'blob' THEN lower(hex(" col ")) ELSE " col " END"

/* The bytes id spells into out[SL_HEXID_MAX] when R1 holds: their number;
 * otherwise (R2, or id NULL) 0 and out is untouched. */
size_t sl_hexid_encode(const char *id, unsigned char out[SL_HEXID_MAX]);

/* The text of n stored bytes into out[2n+1], lower-case, NUL-terminated. */
void sl_hexid_decode(const unsigned char *bytes, size_t n, char *out);

#endif
