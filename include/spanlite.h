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

#ifdef __cplusplus
}
#endif
#endif /* SPANLITE_H */
