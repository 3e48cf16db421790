/*
 * test_docstream.c -- the streaming driver of the document formats
 * (formats/docstream.h), run with a toy element format over tiny windows.
 *
 * The toy format: a document is records "(...)" (any bytes but ')' inside,
 * newlines too) separated by whitespace.  Any other byte is broken input:
 * the step answers SL_DOC_FAIL at it (the rest is rejected); '!' is a fatal
 * error instead (ds->bad NULL).  A record cut off at the window's end asks
 * for more; one cut off at the end of the input is broken at its '('.
 *
 * Expected lines and texts are read off the literal inputs by hand.
 */
#include "formats/docstream.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

typedef struct toy {
    int n;                 /* records found */
    uint64_t lines[16];
    char texts[16][32];
    int rejects;           /* reject() calls */
    uint64_t reject_line;
    char reject_why[64];
    char reject_text[64];
    int stop, stop_after;  /* stop after this many records (0: never) */
    uint64_t scanned;      /* bytes looked at by all steps */
    size_t max_cap;        /* the most the window ever allocated */
    size_t biggest;        /* the longest record */
} toy;

static int toy_step(void *ctx, sl_docstream *ds)
{
    toy *t = ctx;
    const char *buf = ds->w.buf, *end = buf + ds->w.len, *p = buf + ds->pos;
    if (ds->w.cap > t->max_cap) t->max_cap = ds->w.cap;
    while (p < end && (*p == ' ' || *p == '\n')) p++, t->scanned++;
    ds->pos = (size_t)(p - buf); /* whitespace is consumed even when a MORE follows */
    if (p == end) return ds->w.eof ? SL_DOC_DONE : SL_DOC_MORE;
    if (*p == '!') {
        snprintf(ds->why, sizeof ds->why, "line %llu: fatal",
                 (unsigned long long)sl_linepos_at(&ds->w.lines, p));
        return SL_DOC_FAIL;
    }
    if (*p != '(') {
        ds->bad = p;
        snprintf(ds->why, sizeof ds->why, "junk '%c'", *p);
        return SL_DOC_FAIL;
    }
    const char *q = p + 1;
    while (q < end && *q != ')') q++;
    t->scanned += (uint64_t)(q - p);
    if (q == end) {
        if (!ds->w.eof) return SL_DOC_MORE;
        ds->bad = p;
        snprintf(ds->why, sizeof ds->why, "cut off");
        return SL_DOC_FAIL;
    }
    size_t len = (size_t)(q + 1 - p);
    if (len > t->biggest) t->biggest = len;
    if (t->n < 16) {
        t->lines[t->n] = sl_linepos_at(&ds->w.lines, p);
        snprintf(t->texts[t->n], sizeof t->texts[0], "%.*s", (int)len, p);
    }
    t->n++;
    if (t->stop_after && t->n == t->stop_after) t->stop = 1;
    ds->pos = (size_t)(q + 1 - buf);
    return SL_DOC_STEP;
}

static void toy_reject(void *ctx, uint64_t line, const char *why, const char *text, size_t len)
{
    toy *t = ctx;
    t->rejects++;
    t->reject_line = line;
    snprintf(t->reject_why, sizeof t->reject_why, "%s", why);
    snprintf(t->reject_text, sizeof t->reject_text, "%.*s", (int)len, text);
}

static const sl_docformat toy_format = {toy_step, toy_reject};

/* Run the toy format over text with the given window chunk; rc of the run. */
static int run(toy *t, const char *text, size_t len, size_t chunk, char *err, size_t errlen)
{
    char path[] = "/tmp/test_docstream.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    sl_input *in = sl_input_open(path, err, errlen);
    assert_non_null(in);
    sl_docstream ds;
    sl_docstream_init(&ds, chunk);
    int rc = sl_docstream_run(&ds, in, &toy_format, t, &t->stop, err, errlen);
    sl_docstream_free(&ds);
    sl_input_free(in);
    unlink(path);
    return rc;
}

/* Records cut off by a 4-byte window are found whole, on their lines. */
static void test_records_across_drops(void **state)
{
    (void)state;
    static const char doc[] = "(a)\n(bc\nd)\n\n  (efghij)\n(k)";
    toy t = {0};
    char err[128] = "";
    assert_int_equal(run(&t, doc, strlen(doc), 4, err, sizeof err), 0);
    assert_int_equal(t.n, 4);
    assert_string_equal(t.texts[0], "(a)");
    assert_string_equal(t.texts[1], "(bc\nd)");
    assert_string_equal(t.texts[2], "(efghij)");
    assert_string_equal(t.texts[3], "(k)");
    assert_int_equal(t.lines[0], 1);
    assert_int_equal(t.lines[1], 2);
    assert_int_equal(t.lines[2], 5);
    assert_int_equal(t.lines[3], 6);
    assert_int_equal(t.rejects, 0);
}

/* Broken input mid-document: the records before it arrive, it and all
 * after it are rejected in one piece at its line; the run succeeds. */
static void test_broken_rejects_rest(void **state)
{
    (void)state;
    static const char doc[] = "(a)\n(b)\n\n x (c)\n(d)\n";
    toy t = {0};
    char err[128] = "";
    assert_int_equal(run(&t, doc, strlen(doc), 4, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_string_equal(t.texts[1], "(b)");
    assert_int_equal(t.rejects, 1);
    assert_int_equal(t.reject_line, 4);
    assert_string_equal(t.reject_why, "junk 'x'");
    assert_string_equal(t.reject_text, "x (c)\n(d)\n");
}

/* A record cut off by the end of the input is rejected from its start. */
static void test_cut_off_at_end(void **state)
{
    (void)state;
    static const char doc[] = "(a)\n\n(bb\nbb";
    toy t = {0};
    char err[128] = "";
    assert_int_equal(run(&t, doc, strlen(doc), 4, err, sizeof err), 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.rejects, 1);
    assert_int_equal(t.reject_line, 3);
    assert_string_equal(t.reject_why, "cut off");
    assert_string_equal(t.reject_text, "(bb\nbb");
}

/* A fatal error: no rest rejected, the run fails with the step's message. */
static void test_fatal(void **state)
{
    (void)state;
    static const char doc[] = "(a)\n(b)\n(c) ! (d)";
    toy t = {0};
    char err[128] = "";
    assert_int_equal(run(&t, doc, strlen(doc), 4, err, sizeof err), -1);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.rejects, 0);
    assert_string_equal(err, "line 3: fatal");
}

/* The format's stop flag ends the run at once, broken input after it unseen. */
static void test_stop(void **state)
{
    (void)state;
    static const char doc[] = "(a)(b)(c) junk";
    toy t = {0};
    t.stop_after = 2;
    char err[128] = "";
    assert_int_equal(run(&t, doc, strlen(doc), 4, err, sizeof err), 0);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.rejects, 0);
}

/* Bounded memory and linear rescans: a 200 KB record through a 16-byte
 * window is re-scanned a few times its size in all (a window that grew by a
 * chunk a time would scan it some 10^9 bytes), and a thousand records after
 * it do not keep the window big beyond what the record needed. */
static void test_linear_bounded(void **state)
{
    (void)state;
    size_t big = 200000, small = 1000, len = big + 1 + small * 4;
    char *doc = malloc(len + 1);
    assert_non_null(doc);
    doc[0] = '(';
    memset(doc + 1, 'x', big - 2);
    doc[big - 1] = ')';
    doc[big] = '\n';
    for (size_t i = 0; i < small; i++) memcpy(doc + big + 1 + 4 * i, "(y)\n", 4);
    toy t = {0};
    char err[128] = "";
    assert_int_equal(run(&t, doc, len, 16, err, sizeof err), 0);
    assert_int_equal(t.n, 1 + (int)small);
    assert_int_equal(t.biggest, big);
    assert_true(t.scanned < 4 * len);
    assert_true(t.max_cap <= 4 * big + 64);
    assert_int_equal(t.lines[1], 2);
    assert_int_equal(t.lines[15], 16);

    /* Many small records alone: the window stays a few chunks. */
    toy u = {0};
    assert_int_equal(run(&u, doc + big + 1, small * 4, 16, err, sizeof err), 0);
    assert_int_equal(u.n, (int)small);
    assert_true(u.max_cap <= 64);
    assert_true(u.scanned < 4 * small * 4);
    free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records_across_drops),
        cmocka_unit_test(test_broken_rejects_rest),
        cmocka_unit_test(test_cut_off_at_end),
        cmocka_unit_test(test_fatal),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_linear_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
