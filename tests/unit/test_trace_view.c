/*
 * test_trace_view.c -- sl_get_trace_view() (spanlite.h; rules T1-T4 in
 * src/analysis/trace_view.h) through the public API only.
 *
 * The trace, with every expected figure worked out by hand below (times in
 * ns after 1000):
 *
 *     a   front GET /    SERVER   [1000,1100]  root
 *     b   front call     CLIENT   [1010,1060]  parent a
 *     b   back  handle   SERVER   [1015,1055]  shared (Zipkin server half of b)
 *     c   db    query    CLIENT   [1020,1040]  parent b -> hangs under the server half
 *     d   front render   INTERNAL [1070,1090]  parent a, error
 *     e   cache get      CLIENT   [1200,1205]  parent zzz (missing) -> extra root
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spanlite.h"

#define NONE SL_TRACE_VIEW_NONE

typedef struct fixture {
    char dir[512];
    char path[600];
    sl_db *db;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f) return -1;
    const char *root = getenv("TMPROOT");
    snprintf(f->dir, sizeof f->dir, "%s/tv.XXXXXX", root && *root ? root : "/tmp");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof f->path, "%s/w.db", f->dir);
    if (sl_open(f->path, 0, &f->db) != SL_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    sl_close(f->db);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static sl_span mk(const char *trace, const char *id, const char *parent, const char *svc, const char *op,
                  int kind, int64_t start, int64_t dur)
{
    sl_span s = {0};
    s.trace_id = trace;
    s.span_id = id;
    s.parent_span_id = parent;
    s.service = svc;
    s.operation = op;
    s.kind = kind;
    s.start_ns = start;
    s.duration_ns = dur;
    return s;
}

static void ingest_example(sl_db *db)
{
    sl_span s[6] = {
        mk("AB01", "a", NULL, "front", "GET /", SL_KIND_SERVER, 1000, 100),
        mk("AB01", "b", "a", "front", "call", SL_KIND_CLIENT, 1010, 50),
        mk("AB01", "b", "a", "back", "handle", SL_KIND_SERVER, 1015, 40),
        mk("AB01", "c", "b", "db", "query", SL_KIND_CLIENT, 1020, 20),
        mk("AB01", "d", "a", "front", "render", SL_KIND_INTERNAL, 1070, 20),
        mk("AB01", "e", "zzz", "cache", "get", SL_KIND_CLIENT, 1200, 5),
    };
    s[2].flags = SL_SPAN_SHARED;
    s[4].status = SL_STATUS_ERROR;
    /* given out of order: the view sorts them (T2) */
    sl_span shuffled[6] = {s[5], s[3], s[0], s[4], s[2], s[1]};
    if (sl_ingest_spans(db, shuffled, 6, NULL) != SL_OK) fail_msg("ingest: %s", sl_errmsg(db));
}

/* Index of the span with this id and service. */
static uint32_t at(const sl_trace_view *v, const char *id, const char *svc)
{
    for (size_t i = 0; i < v->nspans; i++)
        if (!strcmp(v->spans[i].span->span_id, id) && !strcmp(v->spans[i].span->service, svc))
            return (uint32_t)i;
    fail_msg("no span %s/%s", id, svc);
    return NONE;
}

static void test_tree_and_figures(void **state)
{
    fixture *f = *state;
    ingest_example(f->db);
    sl_trace_view *v = NULL;
    /* hex ids are stored lower-cased; the upper-case id finds the trace */
    assert_int_equal(sl_get_trace_view(f->db, "AB01", &v), SL_OK);
    assert_string_equal(v->trace_id, "ab01");
    assert_int_equal(v->nspans, 6);
    assert_int_equal(v->start_ns, 1000);
    assert_int_equal(v->end_ns, 1205);
    assert_int_equal(v->nerrors, 1);

    /* T2 order: by start */
    uint32_t a = at(v, "a", "front"), bc = at(v, "b", "front"), bs = at(v, "b", "back");
    uint32_t c = at(v, "c", "db"), d = at(v, "d", "front"), e = at(v, "e", "cache");
    assert_int_equal(a, 0);
    assert_int_equal(bc, 1);
    assert_int_equal(bs, 2);
    assert_int_equal(c, 3);
    assert_int_equal(d, 4);
    assert_int_equal(e, 5);

    /* T1: the server half under the client half, c under the server half */
    assert_int_equal(v->spans[a].parent, NONE);
    assert_int_equal(v->spans[bc].parent, a);
    assert_int_equal(v->spans[bs].parent, bc);
    assert_int_equal(v->spans[c].parent, bs);
    assert_int_equal(v->spans[d].parent, a);
    assert_int_equal(v->spans[e].parent, NONE);
    /* T2: a's children b then d; roots a then e */
    assert_int_equal(v->spans[a].first_child, bc);
    assert_int_equal(v->spans[bc].next_sibling, d);
    assert_int_equal(v->spans[d].next_sibling, NONE);
    assert_int_equal(v->nroots, 2);
    assert_int_equal(v->roots[0], a);
    assert_int_equal(v->roots[1], e);

    /* T3: a 100 - |[1010,1060] u [1070,1090]| = 100 - 70 = 30; b client
     * 50 - 40 = 10; b server 40 - 20 = 20; c 20; d 20; e 5 */
    assert_int_equal(v->spans[a].self_ns, 30);
    assert_int_equal(v->spans[bc].self_ns, 10);
    assert_int_equal(v->spans[bs].self_ns, 20);
    assert_int_equal(v->spans[c].self_ns, 20);
    assert_int_equal(v->spans[d].self_ns, 20);
    assert_int_equal(v->spans[e].self_ns, 5);
    /* per service: front 30 + 10 + 20 = 60, back 20, db 20 (by name after
     * back), cache 5 */
    assert_int_equal(v->nservices, 4);
    assert_string_equal(v->services[0].service, "front");
    assert_int_equal(v->services[0].self_ns, 60);
    assert_string_equal(v->services[1].service, "back");
    assert_int_equal(v->services[1].self_ns, 20);
    assert_string_equal(v->services[2].service, "db");
    assert_int_equal(v->services[2].self_ns, 20);
    assert_string_equal(v->services[3].service, "cache");
    assert_int_equal(v->services[3].self_ns, 5);

    /* T4, walking Jaeger's rules from a's end: a [1090,1100], d [1070,1090],
     * a [1060,1070], b client [1055,1060], b server [1040,1055],
     * c [1020,1040], b server [1015,1020], b client [1010,1015],
     * a [1000,1010]; then the root e [1200,1205]. */
    assert_int_equal(v->nsections, 10);
    assert_int_equal(v->sections[0].span, a);
    assert_int_equal(v->sections[0].start_ns, 1000);
    assert_int_equal(v->sections[0].end_ns, 1010);
    assert_int_equal(v->sections[9].span, e);
    assert_int_equal(v->spans[a].critical_ns, 30);
    assert_int_equal(v->spans[a].nsections, 3);
    assert_int_equal(v->spans[bc].critical_ns, 10);
    assert_int_equal(v->spans[bc].nsections, 2);
    assert_int_equal(v->spans[bs].critical_ns, 20);
    assert_int_equal(v->spans[bs].first_section_ns, 1015);
    assert_int_equal(v->spans[c].critical_ns, 20);
    assert_int_equal(v->spans[d].critical_ns, 20);
    assert_int_equal(v->spans[e].critical_ns, 5);
    /* path order: by each span's earliest section */
    assert_int_equal(v->ncritical, 6);
    uint32_t order[6] = {a, bc, bs, c, d, e};
    for (int k = 0; k < 6; k++) assert_int_equal(v->critical[k], order[k]);
    sl_trace_view_free(v);
}

/* T2: spans caught in a parent cycle are shown from the earliest. */
static void test_cycle(void **state)
{
    fixture *f = *state;
    sl_span s[2] = {mk("cyc", "x", "y", "svc", "x", SL_KIND_INTERNAL, 10, 5),
                    mk("cyc", "y", "x", "svc", "y", SL_KIND_INTERNAL, 20, 5)};
    assert_int_equal(sl_ingest_spans(f->db, s, 2, NULL), SL_OK);
    sl_trace_view *v = NULL;
    assert_int_equal(sl_get_trace_view(f->db, "cyc", &v), SL_OK);
    assert_int_equal(v->nroots, 1);
    assert_int_equal(v->roots[0], 0);
    assert_string_equal(v->spans[0].span->span_id, "x");
    assert_int_equal(v->spans[0].parent, NONE);
    assert_int_equal(v->spans[1].parent, 0);
    assert_int_equal(v->spans[0].first_child, 1);
    sl_trace_view_free(v);
}

/* T1 by the shared flag alone: a server half without a kind (Zipkin v1). */
static void test_shared_flag(void **state)
{
    fixture *f = *state;
    sl_span s[4] = {mk("sh", "p", NULL, "front", "p", SL_KIND_SERVER, 100, 50),
                    mk("sh", "q", "p", "front", "q", SL_KIND_CLIENT, 110, 30),
                    mk("sh", "q", "p", "back", "q", SL_KIND_UNSPECIFIED, 112, 20),
                    mk("sh", "r", "q", "back", "r", SL_KIND_INTERNAL, 115, 10)};
    s[2].flags = SL_SPAN_SHARED;
    assert_int_equal(sl_ingest_spans(f->db, s, 4, NULL), SL_OK);
    sl_trace_view *v = NULL;
    assert_int_equal(sl_get_trace_view(f->db, "sh", &v), SL_OK);
    assert_int_equal(v->spans[1].parent, 0); /* q client under p */
    assert_int_equal(v->spans[2].parent, 1); /* q server half under q client */
    assert_int_equal(v->spans[3].parent, 2); /* r under the server half */
    assert_int_equal(v->spans[1].self_ns, 10); /* 30 - 20 */
    assert_int_equal(v->spans[2].self_ns, 10); /* 20 - 10 */
    sl_trace_view_free(v);
}

static void test_not_found(void **state)
{
    fixture *f = *state;
    sl_trace_view *v = (sl_trace_view *)1;
    assert_int_equal(sl_get_trace_view(f->db, "nope", &v), SL_NOTFOUND);
    assert_null(v);
    sl_trace_view_free(NULL);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sl_kind_name(SL_KIND_CONSUMER), "consumer");
    assert_string_equal(sl_kind_name(9), "unspecified");
    assert_string_equal(sl_status_name(SL_STATUS_ERROR), "error");
    assert_string_equal(sl_status_name(-1), "unset");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tree_and_figures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cycle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shared_flag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_found, setup, teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
