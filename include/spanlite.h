/*
 * spanlite.h -- the public C API of libspanlite, a persistent trace warehouse
 * on SQLite.
 *
 * A warehouse is one SQLite file.  Open it with sl_open(), feed it spans with
 * sl_ingest_spans() or whole files with sl_import_file(), query it with SQL
 * through sl_sqlite() (the public views are documented in docs/schema.md),
 * and close it with sl_close().
 *
 * Conventions
 *   - Every call that can fail returns an int status (SL_OK on success) and
 *     leaves a message in the handle, read with sl_errmsg().  The library
 *     never prints.
 *   - Strings passed in are borrowed for the duration of the call.  Objects
 *     returned through an out-parameter are owned by the caller and released
 *     with the matching *_free() function.
 *   - Threads: an sl_db handle serialises its calls with an internal mutex,
 *     so it may be shared by threads; for parallel work open one handle per
 *     thread (or per process).  Any number of processes may import into and
 *     query one warehouse at once: SQLite's WAL mode and a busy timeout
 *     serialise the writers, readers never block.
 */
#ifndef SPANLITE_H
#define SPANLITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sqlite3 sqlite3;
typedef struct sl_db sl_db;

/* Status codes. */
enum {
    SL_OK = 0,
    SL_ERROR = 1,    /* generic failure, see sl_errmsg() */
    SL_NOMEM = 2,
    SL_IO = 3,       /* a file could not be read or written */
    SL_VERSION = 4,  /* the warehouse was written by a newer spanlite */
    SL_INVALID = 5,  /* bad argument or bad record */
    SL_NOTFOUND = 6
};

/* sl_open() flags. */
enum {
    SL_OPEN_READONLY = 1 /* no writes, no migration (used by `spanlite sql`) */
};

/* Span kinds and statuses, numbered as OTLP numbers them. */
enum {
    SL_KIND_UNSPECIFIED = 0, SL_KIND_INTERNAL = 1, SL_KIND_SERVER = 2,
    SL_KIND_CLIENT = 3, SL_KIND_PRODUCER = 4, SL_KIND_CONSUMER = 5
};
enum { SL_STATUS_UNSET = 0, SL_STATUS_OK = 1, SL_STATUS_ERROR = 2 };

/* sl_span.flags */
enum {
    SL_SPAN_SHARED = 1 /* Zipkin: the server half of a span whose id it shares with its client */
};

/*
 * One span.  All strings are NUL-terminated UTF-8; NULL means absent.  The
 * JSON members hold JSON text of the stated shape.  Times are Unix epoch
 * nanoseconds.
 */
typedef struct sl_span {
    const char *trace_id;       /* required; hex ids lower-cased by the parsers */
    const char *span_id;        /* required */
    const char *parent_span_id; /* NULL or "" for a root */
    const char *service;        /* required */
    const char *operation;      /* required */
    const char *remote_service; /* peer service (Zipkin remoteEndpoint), or NULL */
    int kind;                   /* SL_KIND_* */
    int status;                 /* SL_STATUS_* */
    int flags;                  /* SL_SPAN_* */
    const char *status_message; /* error message, or NULL */
    int64_t start_ns;
    int64_t duration_ns;        /* >= 0 */
    const char *attributes;     /* JSON object, or NULL */
    const char *resource;       /* JSON object of resource attributes, or NULL */
    const char *scope;          /* JSON object {"name","version","attributes"}, or NULL */
    const char *events;         /* JSON array of {"time_ns","name","attributes"}, or NULL */
    const char *links;          /* JSON array of {"trace_id","span_id","attributes"}, or NULL */
} sl_span;

/* Counters of one ingest or import.  read == imported + duplicates + rejected. */
typedef struct sl_import_stats {
    uint64_t read;       /* records seen */
    uint64_t imported;   /* records added */
    uint64_t duplicates; /* exact re-deliveries skipped */
    uint64_t rejected;   /* malformed records, reported through on_reject */
    uint64_t bytes;      /* input bytes consumed (uncompressed) */
} sl_import_stats;

/* Called once per rejected record: where it was, why, and its raw text. */
typedef void (*sl_reject_fn)(void *ctx, const char *source, uint64_t line,
                             const char *reason, const char *record, size_t len);
/* Called from time to time during an import with the running counters. */
typedef void (*sl_progress_fn)(void *ctx, const sl_import_stats *so_far);

typedef struct sl_source sl_source; /* where an import reads from: see Sources below */

/* What one committed transaction of an import made durable. */
typedef struct sl_commit_info {
    const sl_source *source; /* the source being imported (sl_import_file: one for its path) */
    uint64_t records;        /* records this commit stored (new or duplicate) */
    uint64_t offset;         /* byte offset in the source (in a range's file: from the
                                file's start; in gzip input: of the uncompressed bytes)
                                up to which every record is now in the warehouse or
                                was rejected: resume reading there */
    uint64_t line;           /* line of the last record covered (0: workflow events,
                                which carry none) */
} sl_commit_info;
/* Called after each COMMIT of an import that returned OK, in order; never for
 * a transaction that was rolled back.  Offsets only grow; after the last
 * commit of a successful import offset is the end of the input.  A record
 * spread over lines, or one JSON document holding many records, is covered
 * from its start: offset stays at that start until all of it is committed. */
typedef void (*sl_commit_fn)(void *ctx, const sl_commit_info *commit);

typedef struct sl_import_opts {
    const char *format;        /* "auto" (NULL), "spans", or another sl_formats() name */
    const char *const *csv_map;/* NULL-terminated "field=COLUMN" strings, for csv */
    sl_reject_fn on_reject;
    sl_progress_fn on_progress;
    void *ctx;                 /* passed to the callbacks */
    sl_commit_fn on_commit;    /* or NULL */
} sl_import_opts;

/* ---- Opening and closing ---------------------------------------------- */

/*
 * Open (creating and migrating as needed) the warehouse at path.  *out is
 * always set, even on failure, so that sl_errmsg() can explain; release it
 * with sl_close().
 */
int sl_open(const char *path, int flags, sl_db **out);
void sl_close(sl_db *db);
const char *sl_errmsg(const sl_db *db);

/* The underlying connection, for ad hoc SQL.  Owned by db. */
sqlite3 *sl_sqlite(sl_db *db);

/* Schema version of this library and of the open warehouse. */
int sl_schema_version(void);
const char *sl_version(void);

/* ---- Ingest --------------------------------------------------------- */

/* Add spans in one transaction; exact re-deliveries are skipped.  A span
 * missing a required field fails the whole call with SL_INVALID. */
int sl_ingest_spans(sl_db *db, const sl_span *spans, size_t n, sl_import_stats *st);
int sl_ingest_span(sl_db *db, const sl_span *span);

/* Import a file ("-" for standard input; gzip is detected by its magic).
 * The same as sl_import_source() on sl_source_file(path). */
int sl_import_file(sl_db *db, const char *path, const sl_import_opts *opts,
                   sl_import_stats *st);

/* ---- Sources ---------------------------------------------------------- */
/*
 * A source says where an import reads and how messages name a position in
 * it.  Creating one reads nothing (a file is opened by the import, and its
 * failure is the import's error), so a source may be imported more than once.
 * The constructors return NULL only when out of memory.
 *
 *   sl_source *src = sl_source_memory("spans/3@1042", msg, len);   // a Kafka message
 *   sl_source_set_position(src, "%n, line %l");
 *   rc = sl_import_source(db, src, &opts, &st);
 *   sl_source_free(src);
 */

/* A file, or standard input for "-"; gzip is detected by its magic.  Named
 * path ("<stdin>" for "-"). */
sl_source *sl_source_file(const char *path);
/* len bytes at buf, read as they are (not gzip), named name.  buf is borrowed:
 * it must stay valid while the source is imported. */
sl_source *sl_source_memory(const char *name, const void *buf, size_t len);
/* At most length bytes of the plain file path from byte offset on (less if it
 * ends first; SL_RANGE_END: to its end), named path.  Lines count from 1 at
 * offset; commit offsets count from the file's start. */
#define SL_RANGE_END UINT64_MAX
sl_source *sl_source_range(const char *path, uint64_t offset, uint64_t length);
void sl_source_free(sl_source *src);

/* The name, as on_reject receives it. */
const char *sl_source_name(const sl_source *src);
/*
 * How a position in the source is written in messages: form is copied, "%n"
 * stands for the name, "%l" for the line (or record number), "%%" for "%".
 * The default "%n:%l" gives FILE:LINE; a Kafka consumer may use "%n"
 * ("topic/partition@offset"), a receiver "%n, line %l" ("POST /v1/traces
 * from 127.0.0.1, line 3").  SL_OK, or SL_NOMEM.
 */
int sl_source_set_position(sl_source *src, const char *form);
/* The position of line in src, written into buf (always NUL-terminated when
 * n > 0); returns the length it needed, like snprintf. */
size_t sl_source_where(const sl_source *src, uint64_t line, char *buf, size_t n);

/* Import src, as sl_import_file() imports a file.  Rejects reach
 * opts->on_reject with sl_source_name(src) and the line; fatal errors name
 * the source in sl_errmsg(). */
int sl_import_source(sl_db *db, sl_source *src, const sl_import_opts *opts,
                     sl_import_stats *st);

/* Names of the import formats, NULL-terminated. */
const char *const *sl_formats(void);

/* ---- Read back -------------------------------------------------------- */

typedef struct sl_trace {
    size_t nspans;
    sl_span *spans;  /* ordered by start time; strings owned by the trace */
    void *mem_;      /* private */
} sl_trace;

/* Fetch one trace; SL_NOTFOUND if no span has that trace id. */
int sl_get_trace(sl_db *db, const char *trace_id, sl_trace **out);
void sl_trace_free(sl_trace *t);

/* Delete every span (TracAgg's clear()). */
int sl_clear(sl_db *db);

typedef struct sl_export_opts {
    const char *format;     /* "spans" (NULL) or another sl_export_formats() name */
    const char *trace_id;   /* only this trace, or NULL */
    const char *service;    /* only traces touching this service, or NULL */
    int64_t since_ns;       /* spans starting at or after, when has_since */
    int64_t until_ns;       /* spans starting before, when has_until */
    int has_since, has_until;
} sl_export_opts;

/* Stream spans to out; *count receives the number written. */
int sl_export(sl_db *db, FILE *out, const sl_export_opts *opts, uint64_t *count);
const char *const *sl_export_formats(void);

/* ---- Checking ---------------------------------------------------------- */

/* Called for each problem a check finds (name: "integrity", "traces",
 * "rollups" or "links"), and once per check when it is done. */
typedef void (*sl_check_fn)(void *ctx, const char *check, const char *problem);
typedef void (*sl_check_done_fn)(void *ctx, const char *check, uint64_t problems);

/*
 * Verify the warehouse without writing to it: SQLite's integrity check,
 * then each derived table against the spans it derives from (trace rows,
 * hourly rollups, dependency links).  *problems receives the number found
 * (0: sound).  SL_OK when every check ran, whatever it found.
 */
int sl_check(sl_db *db, sl_check_fn on_problem, sl_check_done_fn on_done, void *ctx,
             uint64_t *problems);

/* ---- Time and duration text ------------------------------------------- */

/*
 * The strict parser behind `spanlite --since/--until/--min-duration` and the
 * CSV reader's time columns; every accepted form is listed in docs/cli.md
 * ("Times and durations").  Both return SL_OK and set *ns, or SL_INVALID,
 * leave *ns alone and, when why is not NULL, point *why at a static reason
 * in English (not to be freed).  No handle, no state, thread-safe.
 *
 * sl_parse_time: nanoseconds since the Unix epoch from
 *   - an ISO 8601 / RFC 3339 date or date-time: 2024-05-01,
 *     2024-05-01T12:00, 2024-05-01 12:00:00.123456789+02:00 ('T', 't' or a
 *     space; zone Z, +hh:mm, +hhmm or +hh; none = UTC), checked against
 *     the calendar (2023-02-29 is refused);
 *   - an epoch integer, its unit by magnitude (s < 1e11 <= ms < 1e14 <= us
 *     < 1e17 <= ns), or a decimal number of seconds (1700000000.25);
 *   - "now" (now_ns) or "-DURATION" (-1h: now_ns minus that duration).
 *   Anything outside int64 nanoseconds (before 1677-09-21, after
 *   2262-04-11) is SL_INVALID.
 * sl_parse_duration: nanoseconds from a non-negative decimal number and a
 *   unit, ns us µs ms s m h d (250ms, 1.5s); a bare number is milliseconds.
 *   inf, nan, hex, signs and values over INT64_MAX ns are SL_INVALID.
 */
int sl_parse_time(const char *s, int64_t now_ns, int64_t *ns, const char **why);
int sl_parse_duration(const char *s, int64_t *ns, const char **why);

/* ---- Workflow events (docs/workflows.md) ---------------------------------- */

/*
 * Turn every closed workflow transaction not yet turned into spans into
 * spans (a root per transaction, a child per step), so that span analyses
 * cover workflows.  sl_import_file() does this at the end of every import
 * that stored workflow events; call it after an import that failed, or on
 * a warehouse whose imports left it for later (an earlier spanlite).
 * *made (may be NULL) receives the number of spans handed to the span
 * store (exact re-deliveries among them are skipped, as ever).  Needs a
 * read-write handle.
 */
int sl_workflow_sync_spans(sl_db *db, uint64_t *made);

/*
 * aggregate_workflows.py's report over the stored events (docs/workflows.md
 * states the contract: the text and the CSVs are the script's, byte for
 * byte).  Run it once, then write any of its renderings:
 *
 *     sl_workflow_report *r;
 *     if (sl_workflow_report_run(db, &opts, &r) == SL_OK) {
 *         sl_workflow_report_write(db, r, SL_WFREPORT_TEXT, stdout);
 *         sl_workflow_report_free(r);
 *     }
 */
#define SL_WFREPORT_DEFAULT_OUTLIER_MS 15000

typedef struct sl_workflow_report_opts {
    int64_t outlier_ms;       /* the script's --outlier-ms (default above) */
    int derive_inter_step;    /* the script's --derive-inter-step */
    int has_since, has_until; /* only events with since_ms <= ts_ms < until_ms */
    int64_t since_ms, until_ms;
    const char *workflow;     /* only this workflow's events, or NULL */
} sl_workflow_report_opts;

typedef struct sl_workflow_report sl_workflow_report;

/* Renderings for sl_workflow_report_write(). */
enum {
    SL_WFREPORT_TEXT = 0,    /* the script's stdout */
    SL_WFREPORT_JSON = 1,    /* the same figures as one JSON object */
    SL_WFREPORT_TXN_CSV = 2, /* the script's --txn-csv file */
    SL_WFREPORT_GAP_CSV = 3  /* the script's --gap-csv file */
};

int sl_workflow_report_run(sl_db *db, const sl_workflow_report_opts *opts,
                           sl_workflow_report **out);
/* SL_OK, or SL_IO (a write failed, or a gap the script's int() refuses:
 * the lines before it are written, as the script leaves them). */
int sl_workflow_report_write(sl_db *db, sl_workflow_report *r, int what, FILE *out);
/* Events on which the script would have raised (counted under their type
 * only), and the seq of the first in *first_seq. */
uint64_t sl_workflow_report_unprocessable(const sl_workflow_report *r, int64_t *first_seq);
void sl_workflow_report_free(sl_workflow_report *r);
/* Python's int() of text, as the script's argparse reads --outlier-ms:
 * SL_OK or SL_INVALID. */
int sl_workflow_parse_int(const char *s, int64_t *out);

/* ---- Names of kinds and statuses --------------------------------------- */

/* The lower-case names of the spans view: "server", "ok", ...; an unknown
 * number gives "unspecified" and "unset". */
const char *sl_kind_name(int kind);
const char *sl_status_name(int status);

/* ---- Trace view: the figures of `spanlite trace` ---------------------- */

/*
 * One trace analysed as `spanlite trace` shows it (docs/api.md numbers the
 * rules T1-T4): the span tree, each span's self time and time on the
 * critical path, and the time per service.  Indexes refer to spans[];
 * SL_TRACE_VIEW_NONE means none.  Shares are the figures over the trace
 * duration (end_ns - start_ns).
 */
#define SL_TRACE_VIEW_NONE UINT32_MAX

typedef struct sl_trace_view_span {
    const sl_span *span;      /* owned by the view */
    uint32_t parent;          /* T1, or NONE for a root */
    uint32_t first_child;     /* T2: children by start, then span id */
    uint32_t next_sibling;
    int64_t self_ns;          /* T3: duration minus what its children cover */
    int64_t critical_ns;      /* T4: total length of its critical sections */
    uint32_t nsections;       /* critical path sections it owns */
    int64_t first_section_ns; /* start of its earliest section, if any */
} sl_trace_view_span;

typedef struct sl_trace_view_section {
    uint32_t span;            /* index in spans[] */
    int64_t start_ns, end_ns;
} sl_trace_view_section;

typedef struct sl_trace_view_service {
    const char *service;
    int64_t self_ns;          /* T3: sum of its spans' self times */
} sl_trace_view_service;

typedef struct sl_trace_view {
    const char *trace_id;
    int64_t start_ns, end_ns;          /* earliest start, latest end */
    size_t nerrors;                    /* spans with status error */
    size_t nspans;
    sl_trace_view_span *spans;         /* T2 order: start, then span id */
    size_t nroots;
    uint32_t *roots;                   /* T2 order */
    size_t nsections;
    sl_trace_view_section *sections;   /* the critical path, by start */
    size_t ncritical;
    uint32_t *critical;                /* spans on the path, by earliest section */
    size_t nservices;
    sl_trace_view_service *services;   /* by self time descending, then name */
    void *mem_;                        /* private */
} sl_trace_view;

/* Analyse one trace (a hex id is tried lower-cased too, as the parsers
 * store them).  SL_NOTFOUND if no span has that trace id. */
int sl_get_trace_view(sl_db *db, const char *trace_id, sl_trace_view **out);
void sl_trace_view_free(sl_trace_view *v);

/* ---- Number text ---------------------------------------------------------- */

/* The library's readers of numbers in text (base/json.h), for callers that
 * must read them by the same rules.  0 and *out set, or -1. */
/* A decimal integer in int64 range, the whole text (read by strtoll:
 * leading blanks and a sign allowed). */
int sl_parse_int64(const char *s, int64_t *out);
/* A decimal number of seconds ("1700000000.25") as nanoseconds, exactly. */
int sl_parse_seconds_ns(const char *s, int64_t *out);

/* ---- JSON output -------------------------------------------------------- */

/* The library's JSON text rules for writers of JSON output: a string
 * escaped as the exporters escape it (NULL writes null), and a double in
 * its shortest exact form (".0" kept on integral values; non-finite null).
 * 0, or EOF on a write error. */
int sl_json_write_string(FILE *out, const char *s);
int sl_json_write_stringn(FILE *out, const char *s, size_t n);
int sl_json_write_double(FILE *out, double v);

#ifdef __cplusplus
}
#endif
#endif /* SPANLITE_H */
