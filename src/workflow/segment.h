/*
 * workflow/segment.h -- the packed form of workflow events in wf_segment rows.
 *
 * Why packed: the simulator's events are ~110 bytes of JSON each, and
 * writing 1 million of them durably as text costs more disk time than
 * aggregate_workflows.py needs for its whole run.  Almost all of those bytes
 * repeat (member names, the meta object, the txn id of the previous event),
 * so a segment (the events of one batch, in arrival order) keeps:
 *
 *   cols  one "hot" record per event, what the report replays:
 *           varint type_id, varint flags,
 *           [TXN]      zigzag varint ref - previous ref
 *           [TS_OK]    zigzag varint ts  - previous ts
 *           [PLANNED_INT]  zigzag varint value   [PLANNED_REAL] 8-byte double
 *           [WORKFLOW] varint workflow id
 *           [ALT]      varint length + bytes: str() of this event's txn_id
 *                      when it differs from the txn's first spelling (1.0 vs 1)
 *   vals  per event: varint template id, then one item per generic slot of
 *         the template:  0 = same as this slot in the previous event of the
 *         same template, 1 = string (varint length + raw JSON content),
 *         2 = integer (zigzag varint), 3 = other number (length + raw text).
 *
 * A template (wf_template.shape) is the event's compact JSON with every
 * value token replaced by one byte: 0x01 a generic slot, 0x02 the type
 * (rebuilt from wf_type), 0x03 the txn id (from wf_txn or ALT), 0x04 ts_ms
 * (from the hot record), 0x05 the workflow name.  Literals true, false,
 * null, NaN, Infinity stay in the template.  Raw bytes below 0x20 never
 * occur in compact JSON, so the markers cannot clash with text.
 *
 * Decoding a segment needs only the blobs, the templates and, to rebuild
 * bodies, the dictionaries; the encoding of an event depends on the events
 * before it in the same segment only, so every segment decodes alone.
 *
 * An event's identity (for idempotent imports) is a 64-bit hash of its
 * decoded record: equal bodies give equal records, because every dictionary
 * maps a text to one id forever.
 */
#ifndef SL_WF_SEG_H
#define SL_WF_SEG_H

#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"

/* Hot record flags. */
enum {
    SL_WFSEG_TXN = 1 << 0,          /* txn_id present and usable as a key: ref follows */
    SL_WFSEG_TXN_BAD = 1 << 1,      /* txn_id present but a list/object (unhashable) */
    /* 1 << 2 is unused */
    SL_WFSEG_TS_OK = 1 << 3,        /* int(ts_ms) succeeded: ts follows */
    SL_WFSEG_PLANNED_SHIFT = 4,     /* 2 bits: planned_wait_ms */
    SL_WFSEG_OUTLIER = 1 << 6,      /* outlier_injected is truthy */
    SL_WFSEG_WORKFLOW = 1 << 7,     /* the event names its workflow: id follows */
    SL_WFSEG_ALT = 1 << 8           /* the txn_id's str() differs from the txn's */
};
/* planned_wait_ms states: absent or null (no gap), an integral float,
 * another float, or a value float() rejects. */
enum { SL_WFSEG_PL_NONE = 0, SL_WFSEG_PL_INT = 1, SL_WFSEG_PL_REAL = 2, SL_WFSEG_PL_BAD = 3 };
#define SL_WFSEG_PLANNED(flags) (((flags) >> SL_WFSEG_PLANNED_SHIFT) & 3u)

/* Template markers. */
enum {
    SL_WFSEG_M_SLOT = 1, SL_WFSEG_M_TYPE = 2, SL_WFSEG_M_TXN = 3,
    SL_WFSEG_M_TS = 4, SL_WFSEG_M_WORKFLOW = 5
};

/* One event's hot record, absolute values. */
typedef struct sl_wfseg_rec {
    uint32_t type_id;
    uint32_t flags;
    int64_t ref;          /* TXN */
    int64_t ts;           /* TS_OK */
    int64_t planned_i;    /* PLANNED_INT: the value float() gives, integral */
    double planned_d;     /* PLANNED_REAL */
    uint32_t workflow_id; /* WORKFLOW */
    const char *alt;      /* ALT: not NUL-terminated */
    size_t alt_len;
} sl_wfseg_rec;

/* One generic slot value: kind 1 string (p/n = raw content), 2 integer (i),
 * 3 other number (p/n = raw text). */
typedef struct sl_wfseg_slot {
    int kind;
    const char *p;
    size_t n;
    int64_t i;
} sl_wfseg_slot;

/* The "previous" state of one segment, encoder and decoder alike. */
typedef struct sl_wfseg_ctx {
    int64_t prev_ref, prev_ts;
    /* last slots of each template used in this segment, by template id */
    struct sl_wfseg_last *last;
    size_t nlast, caplast;
} sl_wfseg_ctx;

void sl_wfseg_ctx_init(sl_wfseg_ctx *c);
void sl_wfseg_ctx_reset(sl_wfseg_ctx *c); /* start of a segment; keeps memory */
void sl_wfseg_ctx_free(sl_wfseg_ctx *c);

/* Varints. */
void sl_wfseg_put_uv(sl_buf *b, uint64_t v);
void sl_wfseg_put_sv(sl_buf *b, int64_t v);
/* 0, or -1 past end. */
int sl_wfseg_get_uv(const uint8_t **p, const uint8_t *end, uint64_t *v);
int sl_wfseg_get_sv(const uint8_t **p, const uint8_t *end, int64_t *v);

/* Hot records. */
void sl_wfseg_put_hot(sl_buf *cols, sl_wfseg_ctx *c, const sl_wfseg_rec *r);
int sl_wfseg_get_hot(const uint8_t **p, const uint8_t *end, sl_wfseg_ctx *c, sl_wfseg_rec *r);

/* A string or number value of an event body, as sl_wfseg_walk() found it:
 * a generic slot unless the caller turns its marker into a special one. */
typedef struct sl_wfseg_tok {
    const char *p;  /* raw token */
    size_t n;
    int kind;       /* SL_WFJ_STRING, _INT or _REAL */
    size_t at;      /* offset of its marker in the template */
} sl_wfseg_tok;

/* A top-level member of an event body (any kind of value). */
typedef struct sl_wfseg_member {
    const char *key; /* the name's raw string token */
    size_t key_n;
    const char *p;   /* the value's raw text */
    size_t n;
    int kind;
    long tok;        /* index of the value in the token list, or -1 */
} sl_wfseg_member;

/* Growable lists for sl_wfseg_walk(), reused from event to event. */
typedef struct sl_wfseg_walk_out {
    sl_buf tmpl;
    sl_wfseg_tok *toks;
    size_t ntoks, captoks;
    sl_wfseg_member *mem;
    size_t nmem, capmem;
    char *stack;           /* scratch: the brackets of the open containers */
    size_t capstack;       /* bytes allocated for stack[] */
} sl_wfseg_walk_out;

void sl_wfseg_walk_free(sl_wfseg_walk_out *o);

/* One pass over the compact object body: its template (every string and
 * number value a SLOT marker; names, punctuation and literals as they
 * are), its values in order, and its top-level members.  0, or -1 when out
 * of memory. */
int sl_wfseg_walk(const char *body, size_t len, sl_wfseg_walk_out *o);

/* The generic slots of a walked body whose special markers have been set
 * in o->tmpl (at each token's offset): *slots grown as needed. */
int sl_wfseg_slots(const sl_wfseg_walk_out *o, sl_wfseg_slot **slots, size_t *nslots,
                   size_t *capslots);

/* Append one event's vals (template id and slots). */
int sl_wfseg_put_vals(sl_buf *vals, sl_wfseg_ctx *c, uint32_t template_id,
                      const sl_wfseg_slot *slots, size_t nslots);
/* Read one event's template id, then its nslots slots (nslots comes from the
 * template, so the caller reads the id first with sl_wfseg_get_uv).  Slot
 * pointers point into the blob.  0, or -1 if the blob is malformed. */
int sl_wfseg_get_slots(const uint8_t **p, const uint8_t *end, sl_wfseg_ctx *c,
                       uint32_t template_id, sl_wfseg_slot *slots, size_t nslots);

/* Where a template puts the value of its top-level member name (plain
 * ASCII, no escapes): 1 and *slot (index among the generic slots) when a
 * slot holds it, 2 and *lit, *litn when the value is written in the
 * template (a literal, an object or an array, with slot markers inside if
 * any), 0 when the template has no such member, -1 when it is a special
 * marker (type, txn_id, ts_ms, workflow). */
int sl_wfseg_template_member(const char *shape, size_t len, const char *name, size_t *slot,
                             const char **lit, size_t *litn);

/* Number of generic slots in a template. */
size_t sl_wfseg_template_slots(const char *shape, size_t len);

/* Identity hash of a decoded event. */
uint64_t sl_wfseg_hash(const sl_wfseg_rec *r, uint32_t template_id, const sl_wfseg_slot *slots,
                       size_t nslots);

/* What the decoder needs to rebuild a body's special values. */
typedef struct sl_wfseg_names {
    const char *type; /* name of r->type_id */
    const char *txn;  /* str() of the txn id (the ALT text when present) */
    size_t txn_len;
    const char *workflow;
} sl_wfseg_names;

/* Rebuild the compact JSON body of an event.  0, or -1 (bad template). */
int sl_wfseg_body(const char *shape, size_t len, const sl_wfseg_rec *r, const sl_wfseg_slot *slots,
                  size_t nslots, const sl_wfseg_names *names, sl_buf *out);

#endif
