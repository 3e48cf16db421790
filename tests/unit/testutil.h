/*
 * testutil.h -- helpers shared by the cmocka tests: a scratch directory per
 * test program, files in it, a warehouse in it, and single-value queries.
 * Define TESTUTIL_PREFIX (the scratch directory's name prefix) before
 * including.  Header-only and static inline, so unused helpers cost nothing.
 */
#ifndef SL_TESTUTIL_H
#define SL_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sqlite3.h>
#include "spanlite.h"

#ifndef TESTUTIL_PREFIX
#define TESTUTIL_PREFIX "test"
#endif

static char tmpdir[512];

/* Group setup: a fresh directory under $TMPROOT (or /tmp). */
static inline int setup_dir(void **state)
{
    (void)state;
    const char *root = getenv("TMPROOT");
    snprintf(tmpdir, sizeof tmpdir, "%s/" TESTUTIL_PREFIX ".XXXXXX", root && *root ? root : "/tmp");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Group teardown: remove it. */
static inline int teardown_dir(void **state)
{
    (void)state;
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline void path_in(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Write text to the scratch file name; its path goes to out. */
static inline void write_file(char *out, size_t n, const char *name, const char *text)
{
    path_in(out, n, name);
    FILE *f = fopen(out, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* A new, empty warehouse in the scratch directory. */
static inline sl_db *open_db(const char *name)
{
    char p[600];
    path_in(p, sizeof p, name);
    unlink(p);
    sl_db *db = NULL;
    assert_int_equal(sl_open(p, 0, &db), SL_OK);
    return db;
}

/* First column of the first row as a malloc'd string; NULL for SQL NULL or no row. */
static inline char *q(sl_db *db, const char *sql)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(sl_sqlite(db), sql, -1, &st, NULL), SQLITE_OK);
    char *r = NULL;
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        r = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return r;
}

/* q(db, sql) must be want (NULL: SQL NULL or no row). */
static inline void expect_q(sl_db *db, const char *sql, const char *want)
{
    char *got = q(db, sql);
    if (!want) {
        if (got) fprintf(stderr, "%s\n  got [%s], want NULL\n", sql, got);
        assert_null(got);
        return;
    }
    if (!got || strcmp(got, want) != 0)
        fprintf(stderr, "%s\n  got  [%s]\n  want [%s]\n", sql, got ? got : "NULL", want);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* Rejects seen by an import (sl_import_opts.on_reject with ctx = a rejects *). */
typedef struct rejects {
    int n;
    uint64_t lines[16];
    char reasons[16][128];
    char records[16][256];
} rejects;

static inline void on_reject(void *ctx, const char *source, uint64_t line, const char *reason,
                             const char *record, size_t len)
{
    (void)source;
    rejects *r = ctx;
    if (r->n >= 16) return;
    r->lines[r->n] = line;
    snprintf(r->reasons[r->n], sizeof r->reasons[0], "%s", reason);
    snprintf(r->records[r->n], sizeof r->records[0], "%.*s", (int)len, record);
    r->n++;
}

#endif
