/*
 * base/span.h -- rules of the span model shared by every ingest path: what makes
 * a span valid, how kinds and statuses are named, and the content hash that
 * identifies an exact re-delivery.
 */
#ifndef SL_SPAN_H
#define SL_SPAN_H

#include <stddef.h>
#include <stdint.h>
#include "spanlite.h"
#include "base/hash.h"

/* A workflow event (docs/workflows.md), kept whole. */
typedef struct sl_event {
    const char *type;   /* "transaction_open", ...; NULL when the event has none */
    const char *txn_id; /* NULL when absent */
    const char *body;   /* the event object as compact JSON text */
    uint64_t line;      /* where it came from */
} sl_event;

/* NULL if sp can be stored, else a short reason ("missing span_id"). */
const char *sl_span_check(const sl_span *sp);

/* The canonical form, in place (the strings must be writable): hex ids
 * lower-case, an empty parent or optional field absent.  Spans that differ
 * only in these are the same span. */
void sl_span_normalize(sl_span *sp);

/* 64-bit hash of every field of a normalised sp. */
uint64_t sl_span_hash(const sl_span *sp);


/* "server" <-> SL_KIND_SERVER; names are the lower-case ones of the spans
 * view.  Parsing accepts any case, "SPAN_KIND_SERVER", and "0".."5".
 * Return -1 when unknown.  The names (sl_kind_name, sl_status_name) are
 * public: spanlite.h. */
int sl_kind_parse(const char *s);
/* "ok"/"error"/"unset", any case, "STATUS_CODE_ERROR", "0".."2". */
int sl_status_parse(const char *s);

#endif
