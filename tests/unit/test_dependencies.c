/*
 * test_dependencies.c -- dependency links (src/dependencies.c).
 *
 * The Zipkin cases are openzipkin/zipkin's own DependencyLinkerTest
 * (zipkin/src/test/java/zipkin2/internal/DependencyLinkerTest.java), each
 * test named after its Java method, with the spans and expected links
 * transcribed from it: span(traceId, parentId, id, kind, local, remote,
 * isError) becomes Z(parent, id, kind, local, remote, error, shared).
 * Zipkin allows unknown local services (null); the C linker takes 0 for
 * those.  The remaining cases are hand-worked (derivations in comments).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "analysis/dependencies.h"
#include "sql/functions.h"
#include "spanlite.h"

/* Service names <-> small ids; index 0 is "unknown". */
static const char *const SVC[] = {NULL, "app", "db", "web", "arn", "link", "producer",
                                  "consumer", "kafka", "kafka1", "kafka2", "server",
                                  "client", "foo", "bar", "baz", "service", "some-client",
                                  "service1", "service2", "gateway", "cart", "pay",
                                  "frontend", "backend", "my-service"};
enum { NSVC = sizeof SVC / sizeof SVC[0] };

static uint32_t sid(const char *name)
{
    if (!name) return 0;
    for (uint32_t i = 1; i < NSVC; i++)
        if (strcmp(SVC[i], name) == 0) return i;
    fail_msg("unknown service %s", name);
    return 0;
}

#define CLIENT SL_KIND_CLIENT
#define SERVER SL_KIND_SERVER
#define PRODUCER SL_KIND_PRODUCER
#define CONSUMER SL_KIND_CONSUMER
#define NOKIND SL_KIND_UNSPECIFIED

static sl_dep_span Z(const char *parent, const char *id, int kind, const char *local,
                     const char *remote, int error, int shared)
{
    sl_dep_span s = {id, parent, sid(local), sid(remote), kind, error, shared, 0, NULL, NULL, 0};
    return s;
}

/* TraceTest.span(traceId, parentId, id, kind, local, ip, shared): a local
 * endpoint of service `local` and address `ip` (ipv4 or ipv6 by its form). */
static sl_dep_span ZE(const char *parent, const char *id, int kind, const char *local,
                      const char *ip, int shared)
{
    sl_dep_span s = Z(parent, id, kind, local, NULL, 0, shared);
    if (ip && strchr(ip, ':')) s.ipv6 = ip;
    else s.ipv4 = ip;
    return s;
}

/* The links as "parent>child calls/errors" lines, sorted. */
static char *render(sl_deps *d)
{
    const sl_dep_link *l;
    size_t n;
    assert_int_equal(sl_deps_links(d, &l, &n), SL_OK);
    char lines[64][64];
    assert_true(n <= 64);
    for (size_t i = 0; i < n; i++)
        snprintf(lines[i], sizeof lines[i], "%s>%s %llu/%llu", SVC[l[i].parent], SVC[l[i].child],
                 (unsigned long long)l[i].calls, (unsigned long long)l[i].errors);
    qsort(lines, n, sizeof lines[0], (int (*)(const void *, const void *))strcmp);
    char *out = calloc(1, 64 * 64 + 1);
    for (size_t i = 0; i < n; i++) {
        if (i) strcat(out, " ");
        strcat(out, lines[i]);
    }
    return out;
}

static void expect_links(const sl_dep_span *t, size_t n, const char *want)
{
    sl_deps *d = sl_deps_new();
    assert_non_null(d);
    assert_int_equal(sl_deps_put_trace(d, t, n), SL_OK);
    char *got = render(d);
    assert_string_equal(got, want);
    free(got);
    sl_deps_free(d);
}

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* DependencyLinkerTest.TRACE, "in reverse order as reporting is more likely". */
static void zipkin_trace(sl_dep_span t[4])
{
    t[0] = Z("b", "c", CLIENT, "app", "db", 1, 0);
    t[1] = Z("a", "b", SERVER, "app", "web", 0, 1);
    t[2] = Z("a", "b", CLIENT, "web", "app", 0, 0);
    t[3] = Z(NULL, "a", SERVER, "web", NULL, 0, 0);
}

static void linksSpans(void **state)
{
    (void)state;
    sl_dep_span t[4];
    zipkin_trace(t);
    expect_links(t, 4, "app>db 1/1 web>app 1/0");
}

static void linksSpans_serverMissingParentId(void **state)
{
    (void)state;
    sl_dep_span t[] = {/* reported in reverse */
                       Z(NULL, "b", SERVER, "link", "arn", 0, 1),
                       Z("a", "b", CLIENT, "arn", "link", 0, 0),
                       Z(NULL, "a", SERVER, "arn", NULL, 0, 0)};
    expect_links(t, LEN(t), "arn>link 1/0");
}

static void lateParentIdInSharedSpan(void **state)
{
    (void)state;
    sl_dep_span t[4];
    zipkin_trace(t);
    t[2].parent_span_id = NULL;
    expect_links(t, 4, "app>db 1/1 web>app 1/0");
}

static void lostChildAndNoParentIdInSharedSpan(void **state)
{
    (void)state;
    sl_dep_span t[4];
    zipkin_trace(t);
    t[2].parent_span_id = NULL;
    t[1] = t[3]; /* remove(1): the shared server half never arrived */
    expect_links(t, 3, "app>db 1/1 web>app 1/0");
}

static void messagingSpansDontLinkWithoutBroker_consumer(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", NULL, 0, 0),
                       Z("a", "b", CONSUMER, "consumer", "kafka", 0, 0)};
    expect_links(t, LEN(t), "kafka>consumer 1/0");
}

static void messagingSpansDontLinkWithoutBroker_producer(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", "kafka", 0, 0),
                       Z("a", "b", CONSUMER, "consumer", NULL, 0, 0)};
    expect_links(t, LEN(t), "producer>kafka 1/0");
}

static void messagingWithBroker_both_sides_same(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", "kafka", 0, 0),
                       Z("a", "b", CONSUMER, "consumer", "kafka", 0, 0)};
    expect_links(t, LEN(t), "kafka>consumer 1/0 producer>kafka 1/0");
}

static void messagingWithBroker_different(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", "kafka1", 0, 0),
                       Z("a", "b", CONSUMER, "consumer", "kafka2", 0, 0)};
    expect_links(t, LEN(t), "kafka2>consumer 1/0 producer>kafka1 1/0");
}

static void messagingWithoutBroker_noLinks(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", NULL, 0, 0),
                       Z("a", "b", CONSUMER, "consumer", NULL, 0, 0)};
    expect_links(t, LEN(t), "");
}

static void producerLinksToServer_childSpan(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", NULL, 0, 0),
                       Z("a", "b", SERVER, "server", NULL, 0, 0)};
    expect_links(t, LEN(t), "producer>server 1/0");
}

static void producerLinksToServer_sameSpan(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", PRODUCER, "producer", NULL, 0, 0),
                       Z(NULL, "a", SERVER, "server", NULL, 0, 1)};
    expect_links(t, LEN(t), "producer>server 1/0");
}

static void clientDoesntLinkToConsumer_child(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", NULL, 0, 0),
                       Z("a", "b", CONSUMER, "consumer", NULL, 0, 0)};
    expect_links(t, LEN(t), "");
}

static void linksSpansDirectedByKind(void **state)
{
    (void)state;
    sl_dep_span a[] = {Z(NULL, "a", SERVER, "server", "client", 0, 0)};
    expect_links(a, 1, "client>server 1/0");
    sl_dep_span b[] = {Z(NULL, "a", CLIENT, "client", "server", 0, 1)};
    expect_links(b, 1, "client>server 1/0");
}

static void callsAgainstTheSameLinkIncreasesCallCount_span(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "client", NULL, 0, 0),
                       Z("a", "b", CLIENT, NULL, "server", 0, 0),
                       Z("a", "c", CLIENT, NULL, "server", 0, 0)};
    expect_links(t, LEN(t), "client>server 2/0");
}

static void callsAgainstTheSameLinkIncreasesCallCount_trace(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "client", NULL, 0, 0),
                       Z("a", "b", CLIENT, NULL, "server", 0, 0)};
    sl_deps *d = sl_deps_new();
    assert_int_equal(sl_deps_put_trace(d, t, LEN(t)), SL_OK);
    assert_int_equal(sl_deps_put_trace(d, t, LEN(t)), SL_OK);
    char *got = render(d);
    assert_string_equal(got, "client>server 2/0");
    free(got);
    sl_deps_free(d);
}

static void singleHostSpansResultInASingleCallCount(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", NULL, 0, 0),
                       Z("a", "b", SERVER, "server", NULL, 0, 0)};
    expect_links(t, LEN(t), "client>server 1/0");
}

static void singleHostSpansResultInASingleErrorCount(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", NULL, 1, 0),
                       Z("a", "b", SERVER, "server", NULL, 1, 0)};
    expect_links(t, LEN(t), "client>server 1/1");
}

static void singleHostSpansResultInASingleErrorCount_sameId(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", NULL, 1, 0),
                       Z(NULL, "a", SERVER, "server", NULL, 1, 1)};
    expect_links(t, LEN(t), "client>server 1/1");
}

static void singleHostSpansResultInASingleCallCount_defersNameToServer(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", "server", 0, 0),
                       Z("a", "b", SERVER, "server", NULL, 0, 0)};
    expect_links(t, LEN(t), "client>server 1/0");
}

static void singleHostSpans_multipleChildren(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", NULL, 0, 0),
                       Z("a", "b", SERVER, "server", "client", 1, 0),
                       Z("a", "c", SERVER, "server", "client", 0, 0)};
    expect_links(t, LEN(t), "client>server 2/1");
}

static void singleHostSpans_multipleChildren_defersNameToServer(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "client", "server", 0, 0),
                       Z("a", "b", SERVER, "server", NULL, 0, 0),
                       Z("a", "c", SERVER, "server", NULL, 0, 0)};
    expect_links(t, LEN(t), "client>server 2/0");
}

static void intermediatedClientSpansMissingLocalServiceNameLinkToNearestServer(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "client", NULL, 0, 0),
                       Z("a", "b", NOKIND, NULL, NULL, 0, 0),
                       Z("b", "c", CLIENT, "server", NULL, 0, 0),
                       Z("b", "d", CLIENT, "server", NULL, 0, 0)};
    expect_links(t, LEN(t), "client>server 2/0");
}

static void errorsOnUninstrumentedLinks(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "client", NULL, 0, 0),
                       Z("a", "b", NOKIND, NULL, NULL, 0, 0),
                       Z("b", "c", CLIENT, "server", NULL, 1, 0),
                       Z("b", "d", CLIENT, "server", NULL, 1, 0)};
    expect_links(t, LEN(t), "client>server 2/0");
}

static void errorsOnInstrumentedLinks(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "foo", NULL, 0, 0),
                       Z("a", "b", NOKIND, NULL, NULL, 0, 0),
                       Z("b", "c", CLIENT, "bar", "baz", 1, 0),
                       Z("b", "d", CLIENT, "bar", "baz", 0, 0)};
    expect_links(t, LEN(t), "bar>baz 2/1 foo>bar 2/0");
}

static void linkWithErrorIsLogged(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z("b", "c", CLIENT, "foo", "bar", 1, 0)};
    expect_links(t, LEN(t), "foo>bar 1/1");
}

static void linksLoopbackSpans(void **state)
{
    (void)state;
    sl_dep_span a[] = {Z(NULL, "a", SERVER, "service", "service", 0, 0)};
    expect_links(a, 1, "service>service 1/0");
    sl_dep_span b[] = {Z(NULL, "b", CLIENT, "service", "service", 0, 0)};
    expect_links(b, 1, "service>service 1/0");
}

static void noSpanKindTreatedSameAsClient(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", NOKIND, "some-client", "web", 0, 0),
                       Z("a", "b", NOKIND, "web", "app", 0, 0),
                       Z("b", "c", NOKIND, "app", "db", 0, 0)};
    expect_links(t, LEN(t), "app>db 1/0 some-client>web 1/0 web>app 1/0");
}

static void noSpanKindWithError(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", NOKIND, "some-client", "web", 0, 0),
                       Z("a", "b", NOKIND, "web", "app", 1, 0),
                       Z("b", "c", NOKIND, "app", "db", 0, 0)};
    expect_links(t, LEN(t), "app>db 1/0 some-client>web 1/0 web>app 1/1");
}

static void cannotLinkSingleSpanWithoutBothServiceNames(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, NULL, NULL, 0, 0),
                       Z(NULL, "a", SERVER, "server", NULL, 0, 0),
                       Z(NULL, "a", SERVER, NULL, "client", 0, 0),
                       Z(NULL, "a", CLIENT, NULL, NULL, 0, 0),
                       Z(NULL, "a", CLIENT, "client", NULL, 0, 0),
                       Z(NULL, "a", CLIENT, NULL, "server", 0, 0)};
    for (size_t i = 0; i < LEN(t); i++) expect_links(&t[i], 1, "");
}

static void doesntLinkUnrelatedSpansWhenMissingRootSpan(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z("a", "b", SERVER, "service1", NULL, 0, 0),
                       Z("a", "c", SERVER, "service2", NULL, 0, 0)};
    expect_links(t, LEN(t), "");
}

static void linksRelatedSpansWhenMissingRootSpan(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z("a", "b", SERVER, "service1", NULL, 0, 0),
                       Z("b", "c", SERVER, "service2", NULL, 0, 0)};
    expect_links(t, LEN(t), "service1>service2 1/0");
}

static void linksSingleHostSpans(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "web", NULL, 0, 0),
                       Z("a", "b", SERVER, "app", NULL, 0, 0)};
    expect_links(t, LEN(t), "web>app 1/0");
}

static void linksSingleHostSpans_errorOnClient(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", CLIENT, "web", NULL, 1, 0),
                       Z("a", "b", SERVER, "app", NULL, 0, 0)};
    expect_links(t, LEN(t), "web>app 1/1");
}

static void missingSpan(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "web", NULL, 0, 0),
                       Z("a", "b", CLIENT, "app", NULL, 0, 0)};
    expect_links(t, LEN(t), "web>app 1/0");
}

/* ---- Hand-worked: our additions ------------------------------------------ */

/*
 * R12, a CSV export without kinds: gateway root G, G's in-process child H
 * (gateway again: no link), cart C under G, pay P under C (error), and
 * span X whose parent is not in the trace (no link).
 * -> gateway>cart 1/0, cart>pay 1/1.
 */
static void kindless_trace_links_parent_services(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "G", NOKIND, "gateway", NULL, 0, 0),
                       Z("G", "H", NOKIND, "gateway", NULL, 0, 0),
                       Z("G", "C", NOKIND, "cart", NULL, 0, 0),
                       Z("C", "P", NOKIND, "pay", NULL, 1, 0),
                       Z("gone", "X", NOKIND, "web", NULL, 0, 0)};
    expect_links(t, LEN(t), "cart>pay 1/1 gateway>cart 1/0");
}

/* Internal spans count as "no kind" (Zipkin has no internal kind). */
static void internal_only_trace_is_kindless(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "G", SL_KIND_INTERNAL, "gateway", NULL, 0, 0),
                       Z("G", "C", SL_KIND_INTERNAL, "cart", NULL, 0, 0)};
    expect_links(t, LEN(t), "gateway>cart 1/0");
}

/* One span with a kind switches the whole trace to Zipkin's rules, which
 * find nothing here (the server root has no remote). */
static void one_kind_disables_kindless_rule(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "G", SERVER, "gateway", NULL, 0, 0),
                       Z("G", "C", NOKIND, "cart", NULL, 0, 0)};
    expect_links(t, LEN(t), "");
}

/*
 * R10: web calls app twice; the server halves are children of their client
 * spans, so each call counts the client's duration: 100 and 300.
 * avg 200, p50 = 100 + 0.5 * 200 = 200, p99 = 100 + 0.99 * 200 = 298.
 */
static void latency_of_calls(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "r", SERVER, "web", NULL, 0, 0),
                       Z("r", "c1", CLIENT, "web", "app", 0, 0),
                       Z("c1", "s1", SERVER, "app", NULL, 0, 0),
                       Z("r", "c2", CLIENT, "web", "app", 0, 0),
                       Z("c2", "s2", SERVER, "app", NULL, 0, 0)};
    t[0].duration_ns = 1000;
    t[1].duration_ns = 100;
    t[2].duration_ns = 60;
    t[3].duration_ns = 300;
    t[4].duration_ns = 250;
    sl_deps *d = sl_deps_new();
    assert_int_equal(sl_deps_put_trace(d, t, LEN(t)), SL_OK);
    const sl_dep_link *l;
    size_t n;
    assert_int_equal(sl_deps_links(d, &l, &n), SL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].calls, 2);
    assert_true(l[0].avg_ns == 200.0);
    assert_true(l[0].p50_ns == 200.0);
    assert_true(l[0].p99_ns > 297.999 && l[0].p99_ns < 298.001);
    sl_deps_free(d);
}

/*
 * Percentiles over 1..10 (leaf clients with a remote, own durations):
 * p50: index 4.5 -> 5 + 0.5 * (6 - 5) = 5.5; p99: index 8.91 -> 9.91.
 * Durations are fed in a scrambled order.
 */
static void percentiles_interpolate(void **state)
{
    (void)state;
    static const int64_t durs[] = {7, 3, 10, 1, 9, 2, 8, 5, 4, 6};
    static const char *ids[] = {"c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"};
    sl_dep_span t[11];
    t[0] = Z(NULL, "r", SERVER, "web", NULL, 0, 0);
    for (int i = 0; i < 10; i++) {
        t[i + 1] = Z("r", ids[i], CLIENT, "web", "db", 0, 0);
        t[i + 1].duration_ns = durs[i];
    }
    sl_deps *d = sl_deps_new();
    assert_int_equal(sl_deps_put_trace(d, t, 11), SL_OK);
    const sl_dep_link *l;
    size_t n;
    assert_int_equal(sl_deps_links(d, &l, &n), SL_OK);
    assert_int_equal(n, 1);
    assert_int_equal(l[0].calls, 10);
    assert_true(l[0].avg_ns == 5.5);
    assert_true(l[0].p50_ns == 5.5);
    assert_true(l[0].p99_ns > 9.9099 && l[0].p99_ns < 9.9101);
    sl_deps_free(d);
}

/* A span naming itself as parent (Zipkin throws) is left out, not looped. */
static void self_parent_left_out(void **state)
{
    (void)state;
    sl_dep_span t[] = {Z(NULL, "a", SERVER, "web", NULL, 0, 0),
                       Z("b", "b", SERVER, "app", "web", 0, 0),
                       Z("a", "c", CLIENT, "web", "db", 0, 0)};
    expect_links(t, LEN(t), "web>db 1/0");
}

/* ---- Through SQL, on a real warehouse ------------------------------------ */

static sl_span mk(const char *trace, const char *id, const char *parent, const char *svc,
                  const char *remote, int kind, int status, int flags, int64_t start, int64_t dur)
{
    sl_span s;
    memset(&s, 0, sizeof s);
    s.trace_id = trace;
    s.span_id = id;
    s.parent_span_id = parent;
    s.service = svc;
    s.operation = "op";
    s.remote_service = remote;
    s.kind = kind;
    s.status = status;
    s.flags = flags;
    s.start_ns = start;
    s.duration_ns = dur;
    return s;
}

#define T0 1700000000000000000LL
#define HOUR 3600000000000LL

static sl_db *open_warehouse(void)
{
    sl_db *db = NULL;
    int rc = sl_open(":memory:", 0, &db);
    if (rc != SL_OK) fprintf(stderr, "sl_open: %s\n", sl_errmsg(db));
    assert_int_equal(rc, SL_OK);
    assert_int_equal(sl_analysis_register(sl_sqlite(db)), SQLITE_OK);
    sl_span s[] = {
        /* t1 at T0: DependencyLinkerTest.TRACE with its shared server half */
        mk("t1", "c", "b", "app", "db", SL_KIND_CLIENT, SL_STATUS_ERROR, 0, T0 + 30, 10),
        mk("t1", "b", "a", "app", "web", SL_KIND_SERVER, SL_STATUS_OK, SL_SPAN_SHARED, T0 + 20, 40),
        mk("t1", "b", "a", "web", "app", SL_KIND_CLIENT, SL_STATUS_OK, 0, T0 + 10, 60),
        mk("t1", "a", NULL, "web", NULL, SL_KIND_SERVER, SL_STATUS_OK, 0, T0, 100),
        /* t2 two hours later: a kindless (CSV-like) trace */
        mk("t2", "g", NULL, "gateway", NULL, 0, 0, 0, T0 + 2 * HOUR, 100),
        mk("t2", "h", "g", "cart", NULL, 0, 2, 0, T0 + 2 * HOUR + 5, 50),
    };
    sl_import_stats st;
    rc = sl_ingest_spans(db, s, sizeof s / sizeof s[0], &st);
    if (rc != SL_OK) fprintf(stderr, "ingest: %s\n", sl_errmsg(db));
    assert_int_equal(rc, SL_OK);
    return db;
}

static char *rows_of(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) fprintf(stderr, "%s\n", sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_OK);
    char *out = calloc(1, 4096);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*out) strcat(out, " ");
        strcat(out, (const char *)sqlite3_column_text(st, 0));
    }
    if (rc != SQLITE_DONE) fprintf(stderr, "%s\n", sqlite3_errmsg(db));
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return out;
}

static void sql_all_traces(void **state)
{
    (void)state;
    sl_db *db = open_warehouse();
    char *s = rows_of(sl_sqlite(db),
        "SELECT parent || '>' || child || ' ' || call_count || '/' || error_count FROM dependencies");
    assert_string_equal(s, "app>db 1/1 gateway>cart 1/1 web>app 1/0");
    free(s);
    /* web>app: the shared server half sits under its client, so the call
     * counts the client's 60 ns (R10) */
    s = rows_of(sl_sqlite(db), "SELECT avg_ns || ',' || p50_ns || ',' || p99_ns FROM dependencies"
                               " WHERE parent = 'web'");
    assert_string_equal(s, "60.0,60.0,60.0");
    free(s);
    sl_close(db);
}

static void sql_time_window(void **state)
{
    (void)state;
    sl_db *db = open_warehouse();
    sqlite3 *q = sl_sqlite(db);
    char *s = rows_of(q, "SELECT group_concat(parent || '>' || child, ',') FROM"
                         " dependencies(1700000000000000000, 1700003600000000000)");
    assert_string_equal(s, "app>db,web>app");
    free(s);
    /* since only; and the named-column form; the window is half open */
    s = rows_of(q, "SELECT group_concat(parent || '>' || child, ',') FROM dependencies"
                   " WHERE since_ns = 1700007200000000000");
    assert_string_equal(s, "gateway>cart");
    free(s);
    s = rows_of(q, "SELECT count(*) FROM dependencies(NULL, 1700000000000000000)");
    assert_string_equal(s, "0");
    free(s);
    s = rows_of(q, "SELECT count(*) || ' ' || min(since_ns) FROM dependencies(1700007200000000000)");
    assert_string_equal(s, "1 1700007200000000000");
    free(s);
    /* numeric text is the number it spells */
    s = rows_of(q, "SELECT group_concat(parent || '>' || child, ',') FROM"
                   " dependencies('1700000000000000000', '1700003600000000000')");
    assert_string_equal(s, "app>db,web>app");
    free(s);
    /* an argument that is not a number fails, naming it (it used to select
     * every trace: start_ns < 'yesterday' holds for any integer) */
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(q, "SELECT * FROM dependencies(NULL, ?1)", -1, &st, NULL), SQLITE_OK);
    sqlite3_bind_text(st, 1, "yesterday", -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
    assert_string_equal(sqlite3_errmsg(q),
                        "dependencies(): until_ns must be a number of nanoseconds or NULL, not 'yesterday'");
    sqlite3_finalize(st);
    sl_close(db);
}

/*
 * Spans of two traces arriving interleaved over two imports (rowid order:
 * t3 root, t4 root, t4 child, t3 child): each trace is linked whole.
 * t3: client web, server app: web>app; t4: client cart, failed server pay:
 * cart>pay with an error.
 */
static void sql_interleaved_traces(void **state)
{
    (void)state;
    sl_db *db = NULL;
    assert_int_equal(sl_open(":memory:", 0, &db), SL_OK);
    assert_int_equal(sl_analysis_register(sl_sqlite(db)), SQLITE_OK);
    sl_span a[] = {
        mk("t3", "r", NULL, "web", NULL, SL_KIND_CLIENT, 0, 0, T0, 10),
        mk("t4", "r", NULL, "cart", NULL, SL_KIND_CLIENT, 0, 0, T0 + 1, 10),
    };
    sl_span b[] = {
        mk("t4", "s", "r", "pay", NULL, SL_KIND_SERVER, SL_STATUS_ERROR, 0, T0 + 2, 5),
        mk("t3", "s", "r", "app", NULL, SL_KIND_SERVER, 0, 0, T0 + 3, 5),
    };
    sl_import_stats st;
    assert_int_equal(sl_ingest_spans(db, a, 2, &st), SL_OK);
    assert_int_equal(sl_ingest_spans(db, b, 2, &st), SL_OK);
    char *s = rows_of(sl_sqlite(db),
        "SELECT parent || '>' || child || ' ' || call_count || '/' || error_count FROM dependencies");
    assert_string_equal(s, "cart>pay 1/1 web>app 1/0");
    free(s);
    sl_close(db);
}

static void sql_errors(void **state)
{
    (void)state;
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(sl_analysis_register(db), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT * FROM dependencies", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ERROR);
    sqlite3_finalize(st);
    assert_non_null(strstr(sqlite3_errmsg(db), "dependencies(): not a spanlite warehouse"));
    assert_int_not_equal(sqlite3_prepare_v2(db, "SELECT * FROM dependencies(1, 2, 3, 4)", -1, &st, NULL),
                         SQLITE_OK);
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* ---- Local endpoints beyond the service (ISSUE11 item 6) ----------------
 * TraceTest (zipkin/src/test/java/zipkin2/internal/TraceTest.java) asserts
 * what Trace.merge returns; here the same spans go through the linker and
 * the links of the merged spans are expected: a shared server makes one
 * call from the client's service (R8), so each server that merge keeps
 * apart is one call. */

/* TraceTest.doesntMergeSharedSpansOnDifferentIPs: a retried (or fanned-out)
 * request, two backend servers sharing span id b on 1.2.3.4 and 1.2.3.5;
 * the client b arrives in two parts.  Merge keeps the servers apart: two
 * calls frontend -> backend (spanlite counted one before). */
static void doesntMergeSharedSpansOnDifferentIPs(void **state)
{
    (void)state;
    sl_dep_span t[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, "frontend", NULL, 0),
                       ZE("a", "b", SERVER, "backend", "1.2.3.4", 1), ZE("a", "b", SERVER, "backend", "1.2.3.5", 1),
                       ZE("a", "b", CLIENT, "frontend", NULL, 0)};
    expect_links(t, LEN(t), "frontend>backend 2/0");
    /* the same on IPv6 addresses, and on ports alone */
    sl_dep_span u[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, "frontend", NULL, 0),
                       ZE("a", "b", SERVER, "backend", "2001:db8::1", 1), ZE("a", "b", SERVER, "backend", "2001:db8::2", 1)};
    expect_links(u, LEN(u), "frontend>backend 2/0");
    sl_dep_span v[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, "frontend", NULL, 0),
                       ZE("a", "b", SERVER, "backend", "1.2.3.4", 1), ZE("a", "b", SERVER, "backend", "1.2.3.4", 1)};
    v[2].port = 8080;
    v[3].port = 8081;
    expect_links(v, LEN(v), "frontend>backend 2/0");
    /* one server reported twice on the same host is one span: one call */
    v[3].port = 8080;
    expect_links(v, LEN(v), "frontend>backend 1/0");
}

/* TraceTest.putsRandomDataOnFirstSpanWithEndpoint: as above, but the late
 * parts of the client have no kind or no endpoint; they merge into the
 * client (null endpoints sort first and are compatible with any). */
static void putsRandomDataOnFirstSpanWithEndpoint(void **state)
{
    (void)state;
    sl_dep_span t[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, NULL, NULL, 0),
                       ZE("a", "b", NOKIND, "frontend", NULL, 0), ZE("a", "b", SERVER, "backend", "1.2.3.4", 1),
                       ZE("a", "b", SERVER, "backend", "1.2.3.5", 1), ZE("a", "b", NOKIND, NULL, NULL, 0)};
    expect_links(t, LEN(t), "frontend>backend 2/0");
}

/* TraceTest.mergesIncompleteEndpoints: parts of one endpoint sent
 * separately (service in one part, address in the other) are one span, not
 * partitioned too finely: client frontend@1.2.3.4, server backend@1.2.3.5,
 * one call. */
static void mergesIncompleteEndpoints(void **state)
{
    (void)state;
    sl_dep_span t[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, "frontend", NULL, 0),
                       ZE("a", "b", CLIENT, NULL, "1.2.3.4", 0), ZE("a", "b", SERVER, NULL, "1.2.3.5", 1),
                       ZE("a", "b", SERVER, "backend", NULL, 1)};
    expect_links(t, LEN(t), "frontend>backend 1/0");
}

/*
 * SpanNodeTest.constructsTraceTree_qualifiesChildrenOfDuplicateServerSpans,
 * on addresses instead of service names (hand-worked from SpanNode.Builder's
 * process()): servers b share one id on backend@1.2.3.4 and backend@1.2.3.5.
 * A child naming b as parent hangs under the server with its own whole
 * local endpoint.  c (backend@1.2.3.4, a CLIENT to db) is under server
 * b@1.2.3.4: links frontend>backend 2 (the two servers), backend>db 1.
 * A child on an endpoint of neither server (backend@10.9.9.9) hangs under
 * the span whose id is its parent id, the client b on frontend: then R8's
 * backfill adds frontend>backend for it, 3 calls in all.
 */
static void qualifiesChildrenOfDuplicateServerSpansByAddress(void **state)
{
    (void)state;
    sl_dep_span t[] = {ZE(NULL, "a", SERVER, "frontend", NULL, 0), ZE("a", "b", CLIENT, "frontend", NULL, 0),
                       ZE("a", "b", SERVER, "backend", "1.2.3.4", 1), ZE("a", "b", SERVER, "backend", "1.2.3.5", 1),
                       ZE("b", "c", CLIENT, "backend", "1.2.3.4", 0)};
    t[4].remote_service = sid("db");
    expect_links(t, LEN(t), "backend>db 1/0 frontend>backend 2/0");
    t[4].ipv4 = "10.9.9.9";
    expect_links(t, LEN(t), "backend>db 1/0 frontend>backend 3/0");
    /* and a child on the other server's endpoint: under b@1.2.3.5 */
    t[4].ipv4 = "1.2.3.5";
    expect_links(t, LEN(t), "backend>db 1/0 frontend>backend 2/0");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linksSpans),
        cmocka_unit_test(doesntMergeSharedSpansOnDifferentIPs),
        cmocka_unit_test(putsRandomDataOnFirstSpanWithEndpoint),
        cmocka_unit_test(mergesIncompleteEndpoints),
        cmocka_unit_test(qualifiesChildrenOfDuplicateServerSpansByAddress),
        cmocka_unit_test(linksSpans_serverMissingParentId),
        cmocka_unit_test(lateParentIdInSharedSpan),
        cmocka_unit_test(lostChildAndNoParentIdInSharedSpan),
        cmocka_unit_test(messagingSpansDontLinkWithoutBroker_consumer),
        cmocka_unit_test(messagingSpansDontLinkWithoutBroker_producer),
        cmocka_unit_test(messagingWithBroker_both_sides_same),
        cmocka_unit_test(messagingWithBroker_different),
        cmocka_unit_test(messagingWithoutBroker_noLinks),
        cmocka_unit_test(producerLinksToServer_childSpan),
        cmocka_unit_test(producerLinksToServer_sameSpan),
        cmocka_unit_test(clientDoesntLinkToConsumer_child),
        cmocka_unit_test(linksSpansDirectedByKind),
        cmocka_unit_test(callsAgainstTheSameLinkIncreasesCallCount_span),
        cmocka_unit_test(callsAgainstTheSameLinkIncreasesCallCount_trace),
        cmocka_unit_test(singleHostSpansResultInASingleCallCount),
        cmocka_unit_test(singleHostSpansResultInASingleErrorCount),
        cmocka_unit_test(singleHostSpansResultInASingleErrorCount_sameId),
        cmocka_unit_test(singleHostSpansResultInASingleCallCount_defersNameToServer),
        cmocka_unit_test(singleHostSpans_multipleChildren),
        cmocka_unit_test(singleHostSpans_multipleChildren_defersNameToServer),
        cmocka_unit_test(intermediatedClientSpansMissingLocalServiceNameLinkToNearestServer),
        cmocka_unit_test(errorsOnUninstrumentedLinks),
        cmocka_unit_test(errorsOnInstrumentedLinks),
        cmocka_unit_test(linkWithErrorIsLogged),
        cmocka_unit_test(linksLoopbackSpans),
        cmocka_unit_test(noSpanKindTreatedSameAsClient),
        cmocka_unit_test(noSpanKindWithError),
        cmocka_unit_test(cannotLinkSingleSpanWithoutBothServiceNames),
        cmocka_unit_test(doesntLinkUnrelatedSpansWhenMissingRootSpan),
        cmocka_unit_test(linksRelatedSpansWhenMissingRootSpan),
        cmocka_unit_test(linksSingleHostSpans),
        cmocka_unit_test(linksSingleHostSpans_errorOnClient),
        cmocka_unit_test(missingSpan),
        cmocka_unit_test(kindless_trace_links_parent_services),
        cmocka_unit_test(internal_only_trace_is_kindless),
        cmocka_unit_test(one_kind_disables_kindless_rule),
        cmocka_unit_test(latency_of_calls),
        cmocka_unit_test(percentiles_interpolate),
        cmocka_unit_test(self_parent_left_out),
        cmocka_unit_test(sql_all_traces),
        cmocka_unit_test(sql_time_window),
        cmocka_unit_test(sql_interleaved_traces),
        cmocka_unit_test(sql_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
