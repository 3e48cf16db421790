/*
 * api/import.c -- the public import calls: sources (sl_source_*), and
 * sl_import_source() / sl_import_file(), which hold the handle's mutex, open
 * the source's input, and run the pipeline (ingest/pipeline.h) over the
 * handle's span writer.
 *
 * A source is a description (kind, name, where to read, position form), not
 * an open input: sl_import_source() opens it each time, so opening errors are
 * the import's errors, reported through the handle like every other.
 */
#include "api/warehouse.h"
#include "ingest/pipeline.h"
#include "base/source.h"

#include <stdlib.h>
#include <string.h>

enum { SRC_FILE, SRC_MEMORY, SRC_RANGE };

struct sl_source {
    int kind;             /* SRC_* */
    char *name;           /* for messages and on_reject */
    char *path;           /* SRC_FILE, SRC_RANGE: what to open */
    const void *buf;      /* SRC_MEMORY: the bytes (borrowed) ... */
    size_t len;           /* ... and their count */
    uint64_t offset, length; /* SRC_RANGE */
    char *form;           /* position form (sl_source_set_position) */
};

static sl_source *source_new(int kind, const char *name, const char *path)
{
    sl_source *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    s->kind = kind;
    s->name = strdup(name);
    s->path = path ? strdup(path) : NULL;
    s->form = strdup("%n:%l");
    if (!s->name || (path && !s->path) || !s->form) {
        sl_source_free(s);
        return NULL;
    }
    return s;
}

sl_source *sl_source_file(const char *path)
{
    return source_new(SRC_FILE, strcmp(path, "-") == 0 ? "<stdin>" : path, path);
}

sl_source *sl_source_memory(const char *name, const void *buf, size_t len)
{
    sl_source *s = source_new(SRC_MEMORY, name, NULL);
    if (s) {
        s->buf = buf;
        s->len = len;
    }
    return s;
}

sl_source *sl_source_range(const char *path, uint64_t offset, uint64_t length)
{
    sl_source *s = source_new(SRC_RANGE, path, path);
    if (s) {
        s->offset = offset;
        s->length = length;
    }
    return s;
}

void sl_source_free(sl_source *s)
{
    if (!s) return;
    free(s->name);
    free(s->path);
    free(s->form);
    free(s);
}

const char *sl_source_name(const sl_source *s) { return s->name; }

int sl_source_set_position(sl_source *s, const char *form)
{
    char *f = strdup(form);
    if (!f) return SL_NOMEM;
    free(s->form);
    s->form = f;
    return SL_OK;
}

size_t sl_source_where(const sl_source *s, uint64_t line, char *buf, size_t n)
{
    size_t k = 0; /* length so far; buf holds min(k, n - 1) of it */
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)line);
    for (const char *f = s->form; *f; f++) {
        const char *piece = f;
        size_t plen = 1;
        if (f[0] == '%' && (f[1] == 'n' || f[1] == 'l' || f[1] == '%')) {
            piece = f[1] == 'n' ? s->name : f[1] == 'l' ? num : "%";
            plen = strlen(piece);
            f++;
        }
        for (size_t i = 0; i < plen; i++, k++)
            if (k + 1 < n) buf[k] = piece[i];
    }
    if (n) buf[k < n ? k : n - 1] = '\0';
    return k;
}

static sl_input *source_open(const sl_source *s, char *err, size_t errlen)
{
    switch (s->kind) {
    case SRC_MEMORY: return sl_input_memory(s->name, s->buf, s->len, err, errlen);
    case SRC_RANGE: return sl_input_range(s->path, s->offset, s->length, err, errlen);
    default: return sl_input_open(s->path, err, errlen);
    }
}

int sl_import_source(sl_db *db, sl_source *src, const sl_import_opts *opts, sl_import_stats *st)
{
    static const sl_import_opts no_opts;
    sl_import_stats local = {0};
    if (!opts) opts = &no_opts;
    if (!st) st = &local;
    char err[1024] = "";
    const sl_format *fmt = NULL;
    sl_store *store = NULL;

    pthread_mutex_lock(&db->mu);
    int rc = SL_OK;
    sl_input *in = source_open(src, err, sizeof err);
    if (!in) {
        rc = sl_db_fail(db, SL_IO, "%s", err);
        goto done;
    }
    if ((rc = sl_pipeline_format(in, opts->format, &fmt, err, sizeof err)) != SL_OK) {
        sl_db_fail(db, rc, "%s", err);
        goto done;
    }
    if (!(store = sl_db_store(db))) { /* db->err is set */
        rc = SL_ERROR;
        goto done;
    }
    rc = sl_pipeline_run(db->db, store, fmt, in, src, opts, st, err, sizeof err);
    if (rc != SL_OK) sl_db_fail(db, rc, "%s", err);
done:
    sl_input_free(in);
    pthread_mutex_unlock(&db->mu);
    return rc;
}

int sl_import_file(sl_db *db, const char *path, const sl_import_opts *opts, sl_import_stats *st)
{
    sl_source *src = sl_source_file(path);
    int rc = src ? sl_import_source(db, src, opts, st) : SL_NOMEM;
    if (!src) { /* the handle's message, like every failure */
        pthread_mutex_lock(&db->mu);
        sl_db_fail(db, SL_NOMEM, "out of memory");
        pthread_mutex_unlock(&db->mu);
    }
    sl_source_free(src);
    return rc;
}
