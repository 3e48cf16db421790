/*
 * spangen.c -- a deterministic generator of realistic spans, for tests and
 * benchmarks.  Standalone: it needs only libc (and -lm, unused today).
 *
 *   spangen --seed 7 --spans 10000000 -o spans.jsonl
 *   spangen --spans 1000 --format tracagg | spanlite --db t.db import -
 *
 * It writes native spanlite JSON Lines (docs/formats.md) or, with
 * --format tracagg, the same spans under TracAgg's field names.
 *
 * Guarantees
 *   1. The same options give byte-identical output on any machine: every
 *      random choice comes from our own xoshiro256** seeded by splitmix64,
 *      and the generator uses integer arithmetic only (log-normal durations
 *      come from a table of powers of two), so no libm rounding, rand() or
 *      clock can leak in.
 *   2. Exactly --spans lines are written; the last trace may be cut short,
 *      but a span's parent is always written before it, so every
 *      parent_span_id names a span of the same trace already in the output.
 *   3. Traces are written in increasing start time, each trace's spans
 *      together (breadth first: parents before children).
 *   4. Memory is constant: one trace (at most MAX_TRACE_SPANS spans) and the
 *      service catalogue are held at a time, whatever --spans says.
 *
 * The model
 *   Services 0..nfront-1 are frontends; the rest are backends.  Each service
 *   has --ops server operations and a resource {"service.name",
 *   "host.name", "service.version"}.  At start-up every operation gets a
 *   median self time, a spread, up to --fanout downstream operations it may
 *   call (always of a later backend, so the call graph is acyclic), and an
 *   internal step it may run.  A trace is a tree rooted at a server span of
 *   a frontend: a server span calls downstream operations through
 *   client -> server span pairs (the client span lives in the caller and
 *   carries remote_service), runs internal spans, and now and then publishes
 *   to its service's topic: a producer span whose consumer span, in a
 *   worker service, starts after the producer ends (so it may outlive the
 *   whole trace; every other child starts after and ends before its
 *   parent).  Depth (root = 1) never exceeds --depth, children per span
 *   never exceed --fanout.  With the defaults a trace has about 18 spans on
 *   average, from 1 to about 55.
 *   Errors start at server, internal and consumer spans, spread to the
 *   calling client span and often further up; --error-rate is, roughly,
 *   the fraction of spans in error.  An error span has status "error" and a
 *   status_message.  Successful server and consumer spans are "ok", other
 *   spans "unset".
 *   Attributes: --attrs entries from a fixed pool cycling string, integer,
 *   float, boolean values (one "request.seq" is a 19-digit integer, to keep
 *   importers honest about exact integers).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRACE_SPANS 4096 /* spans held for one trace; expansion stops here */
#define OUT_BUF (4u << 20)   /* output buffer; flushed when a span might not fit */
#define NAME_MAX_LEN 64      /* every generated name is shorter than this */

enum { KIND_INTERNAL = 1, KIND_SERVER = 2, KIND_CLIENT = 3, KIND_PRODUCER = 4, KIND_CONSUMER = 5 };
enum { FMT_SPANS, FMT_TRACAGG };

/* ---- PRNG: xoshiro256** seeded with splitmix64 ------------------------- */

typedef struct rng {
    uint64_t s[4];
} rng;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void rng_seed(rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t rng_next(rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n); n > 0.  Lemire's multiply-shift (bias below 2^-32). */
static uint32_t rng_below(rng *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* True with probability p/2^32 (p may be 2^32 for "always"). */
static int rng_chance(rng *r, uint64_t p)
{
    return (rng_next(r) >> 32) < p;
}

#define PROB(num, den) ((uint64_t)(num) * 4294967296ULL / (den))

/* round(65536 * 2^(i/64)), i = 0..63: exact powers of two without libm. */
static const uint32_t pow2_q16[64] = {
    65536, 66250, 66971, 67700, 68438, 69183, 69936, 70698, 71468, 72246, 73032, 73828, 74632,
    75444, 76266, 77096, 77936, 78785, 79642, 80510, 81386, 82273, 83169, 84074, 84990, 85915,
    86851, 87796, 88752, 89719, 90696, 91684, 92682, 93691, 94711, 95743, 96785, 97839, 98905,
    99982, 101070, 102171, 103283, 104408, 105545, 106694, 107856, 109031, 110218, 111418,
    112631, 113858, 115098, 116351, 117618, 118899, 120194, 121502, 122825, 124163, 125515,
    126882, 128263, 129660};

/* v * 2^(e/64), e in 1/64ths of a doubling (|e| < 64*40). */
static uint64_t scale_pow2(uint64_t v, int64_t e)
{
    int64_t biased = e + 64 * 40; /* keep it non-negative so >> floors */
    int shift = (int)(biased >> 6) - 40;
    v = (v * pow2_q16[biased & 63]) >> 16;
    if (shift >= 0)
        return shift > 20 ? v << 20 : v << shift;
    return shift < -60 ? 0 : v >> -shift;
}

/* Log-normal-ish: median * 2^(sigma * Z / 64), Z ~ N(0,1) approximated by
 * the sum of four uniforms (Irwin-Hall), so |Z| < 3.5. */
static uint64_t rng_lognormal(rng *r, uint64_t median, int sigma_q)
{
    uint64_t x = rng_next(r);
    int64_t s = (int64_t)(x & 0xffff) + (int64_t)((x >> 16) & 0xffff) +
                (int64_t)((x >> 32) & 0xffff) + (int64_t)(x >> 48) - 131070;
    uint64_t v = scale_pow2(median, s * sigma_q / 37837); /* 37837 = sd of the sum */
    return v ? v : 1;
}

/* Log-uniform in [lo, lo * 2^doublings). */
static uint64_t rng_logrange(rng *r, uint64_t lo, int doublings)
{
    return scale_pow2(lo, rng_below(r, (uint32_t)doublings * 64));
}

/* ---- The catalogue: services and operations ---------------------------- */

typedef struct name {
    char s[NAME_MAX_LEN];
    int len;
} name;

typedef struct operation {
    name name;          /* e.g. "GET /cart" or "CartService/Get" */
    name internal;      /* its internal step, e.g. "SELECT cart" */
    int service;        /* owning service */
    uint64_t median_ns; /* median self time of the server span */
    int sigma_q;        /* spread, 1/64ths of a doubling per standard deviation */
    int ncallees;
    int *callees;       /* downstream operations (global indexes), owned here */
    uint64_t internal_p;/* chance of running the internal step */
} operation;

typedef struct service {
    name name;
    name topic;          /* "<name>.events" */
    int consumer;        /* service consuming the topic, or -1 */
    char resource[256];  /* resource JSON object */
    int resource_len;
} service;

typedef struct options {
    uint64_t seed, spans, start_ns, rate;
    int services, ops, depth, fanout, attrs, format;
    double error_rate;
    const char *output;
} options;

typedef struct catalog {
    int nservices, nfront, nops; /* nops = ops per service */
    service *services;
    operation *ops;              /* nservices * nops, service-major */
} catalog;

static const char *const front_names[] = {"frontend", "api-gateway", "mobile-bff"};
static const char *const back_names[] = {
    "checkout", "cart", "order", "payment", "user", "auth", "catalog", "pricing",
    "inventory", "shipping", "recommendation", "search", "review", "currency",
    "notification", "email", "ad", "fraud", "loyalty", "ledger"};
static const char *const routes[] = {
    "GET /", "GET /product/{id}", "POST /cart", "GET /cart", "POST /checkout",
    "GET /search", "GET /account", "POST /login", "GET /orders", "GET /recommendations"};
static const char *const verbs[] = {"Get", "List", "Create", "Update", "Delete",
                                    "Validate", "Search", "Sync"};
static const char *const internal_steps[] = {"SELECT", "INSERT", "cache.get", "serialize",
                                             "validate", "render", "compute", "acquire_lock"};
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

static void name_set(name *n, const char *s)
{
    n->len = snprintf(n->s, sizeof n->s, "%s", s);
    if (n->len >= (int)sizeof n->s)
        n->len = (int)sizeof n->s - 1;
}

/* "recommendation" -> "Recommendation", "api-gateway" -> "ApiGateway". */
static void camel(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    int up = 1;
    for (; *src && n + 1 < cap; src++) {
        if (*src == '-') { up = 1; continue; }
        dst[n++] = up && *src >= 'a' && *src <= 'z' ? (char)(*src - 32) : *src;
        up = 0;
    }
    dst[n] = 0;
}

static void service_init(service *sv, int i, int nfront, rng *r)
{
    char buf[NAME_MAX_LEN * 2];
    if (i < nfront)
        snprintf(buf, sizeof buf, "%s", front_names[i]);
    else if (i - nfront < COUNT(back_names))
        snprintf(buf, sizeof buf, "%s", back_names[i - nfront]);
    else
        snprintf(buf, sizeof buf, "service-%d", i);
    name_set(&sv->name, buf);
    snprintf(buf, sizeof buf, "%s.events", sv->name.s);
    name_set(&sv->topic, buf);
    sv->consumer = -1;
    uint64_t host = rng_next(r);
    sv->resource_len = snprintf(sv->resource, sizeof sv->resource,
        "{\"service.name\":\"%s\",\"host.name\":\"%s-%08" PRIx64 "\",\"service.version\":\"%u.%u.%u\"}",
        sv->name.s, sv->name.s, host >> 32, 1 + rng_below(r, 3), rng_below(r, 20), rng_below(r, 10));
}

static void op_name(name *n, const service *sv, int i, int k, int nfront)
{
    char buf[NAME_MAX_LEN * 2], cam[NAME_MAX_LEN];
    if (i < nfront) {
        if (k < COUNT(routes))
            snprintf(buf, sizeof buf, "%s", routes[k]);
        else
            snprintf(buf, sizeof buf, "GET /api/v1/r%d", k);
    } else {
        camel(cam, sizeof cam, sv->name.s);
        if (k < COUNT(verbs))
            snprintf(buf, sizeof buf, "%sService/%s", cam, verbs[k]);
        else
            snprintf(buf, sizeof buf, "%sService/Op%d", cam, k);
    }
    name_set(n, buf);
}

/* Pick downstream operations: each call goes to a later backend. */
static int op_callees(operation *op, const catalog *c, int i, int fanout, rng *r)
{
    int first = i < c->nfront ? c->nfront : i + 1;
    int avail = c->nservices - first;
    int n = 0;
    if (avail > 0) {
        int most = fanout < avail ? fanout : avail;
        n = i < c->nfront ? 1 + (int)rng_below(r, (uint32_t)most) : (int)rng_below(r, (uint32_t)most + 1);
    }
    op->callees = calloc((size_t)fanout, sizeof(int)); /* room for catalog_cover() */
    if (!op->callees)
        return -1;
    for (int k = 0; k < n; k++) {
        int svc = first + (int)rng_below(r, (uint32_t)avail);
        op->callees[k] = svc * c->nops + (int)rng_below(r, (uint32_t)c->nops);
    }
    op->ncallees = n;
    return 0;
}

static int op_init(operation *op, const catalog *c, int i, int k, int fanout, rng *r)
{
    char buf[NAME_MAX_LEN * 2];
    op->service = i;
    op_name(&op->name, &c->services[i], i, k, c->nfront);
    const char *step = internal_steps[rng_below(r, COUNT(internal_steps))];
    snprintf(buf, sizeof buf, "%s %s", step, c->services[i].name.s);
    name_set(&op->internal, buf);
    op->median_ns = rng_logrange(r, 100000, 5); /* 0.1 .. 3.2 ms of own work */
    op->sigma_q = 24 + (int)rng_below(r, 40);
    op->internal_p = PROB(1 + rng_below(r, 7), 10);
    return op_callees(op, c, i, fanout, r);
}

/* Random plans leave some backend operations uncalled; give each one a
 * caller with room in its plan, so every operation shows up in traces. */
static void catalog_cover(catalog *c, int fanout, rng *r)
{
    int nops = c->nservices * c->nops;
    char *called = calloc((size_t)nops, 1);
    if (!called)
        return; /* coverage is a nicety; the catalogue is usable without it */
    for (int i = 0; i < nops; i++)
        for (int k = 0; k < c->ops[i].ncallees; k++)
            called[c->ops[i].callees[k]] = 1;
    for (int target = c->nfront * c->nops; target < nops; target++) {
        int callers = (target / c->nops) * c->nops; /* operations of earlier services */
        for (int tries = 0; !called[target] && tries < 4 * callers; tries++) {
            operation *op = &c->ops[rng_below(r, (uint32_t)callers)];
            if (op->ncallees < fanout) {
                op->callees[op->ncallees++] = target;
                called[target] = 1;
            }
        }
    }
    free(called);
}

static void catalog_free(catalog *c)
{
    if (c->ops)
        for (int i = 0; i < c->nservices * c->nops; i++)
            free(c->ops[i].callees);
    free(c->ops);
    free(c->services);
    memset(c, 0, sizeof *c);
}

static int catalog_new(catalog *c, const options *o, rng *r)
{
    memset(c, 0, sizeof *c);
    c->nservices = o->services;
    c->nops = o->ops;
    c->nfront = 1 + o->services / 12;
    if (c->nfront > COUNT(front_names))
        c->nfront = COUNT(front_names);
    if (c->nfront >= c->nservices)
        c->nfront = c->nservices > 1 ? c->nservices - 1 : 1;
    c->services = calloc((size_t)c->nservices, sizeof *c->services);
    c->ops = calloc((size_t)c->nservices * (size_t)c->nops, sizeof *c->ops);
    if (!c->services || !c->ops)
        goto fail;
    for (int i = 0; i < c->nservices; i++)
        service_init(&c->services[i], i, c->nfront, r);
    /* Every other backend publishes events consumed by another backend. */
    for (int i = c->nfront; i < c->nservices; i++)
        if (c->nservices - c->nfront > 1 && (i - c->nfront) % 2 == 0) {
            int w = c->nfront + (int)rng_below(r, (uint32_t)(c->nservices - c->nfront - 1));
            c->services[i].consumer = w >= i ? w + 1 : w;
        }
    for (int i = 0; i < c->nservices; i++)
        for (int k = 0; k < c->nops; k++)
            if (op_init(&c->ops[i * c->nops + k], c, i, k, o->fanout, r) != 0)
                goto fail;
    catalog_cover(c, o->fanout, r);
    return 0;
fail:
    catalog_free(c);
    return -1;
}

/* ---- One trace ----------------------------------------------------------- */

typedef struct node {
    uint64_t span_id;
    int64_t start, dur;     /* ns */
    int64_t pre, post;      /* own time before the first / after the last child */
    int64_t gap;            /* delay before this span within its parent (queue delay for a consumer) */
    int64_t acc;            /* children's total (sequential) or longest (parallel) extent */
    int64_t cursor;         /* where the next sequential child starts */
    int parent;             /* index in the trace, -1 for the root */
    int service;
    int op;                 /* server/client: operation index; else -1 */
    const name *opname;
    int remote;             /* client: callee's service; else -1 */
    unsigned char kind, depth, nchild, parallel, err;
    unsigned char msg;      /* index into error_messages */
} node;

typedef struct trace {
    int n;
    uint64_t id_hi, id_lo;
    node nodes[MAX_TRACE_SPANS];
} trace;

typedef struct gen {
    options opt;
    catalog cat;
    rng r;
    trace tr;
    uint64_t next_start;   /* start of the next trace */
    uint64_t gap_max;      /* 2 / rate seconds, in ns */
    uint64_t err_origin_p; /* chance that a span is where an error starts */
    char *buf;             /* output buffer */
    size_t len;
    size_t line_max;       /* bound on one output line */
    FILE *out;
} gen;

static const char *const error_messages[] = {
    "connection refused",
    "deadline exceeded after 5000ms",
    "upstream returned 503 Service Unavailable",
    "NullPointerException in request handler",
    "invalid \\\"currency\\\" code",             /* escaped quotes in JSON */
    "payment declined: carte refus\xc3\xa9" "e", /* UTF-8 */
    "too many open files",
    "deadlock detected",
};
#define MSG_DOWNSTREAM 250 /* msg value meaning "a call failed", see node_error_text */

static int node_add(trace *t, int parent, int kind, int service, int op, const name *opname)
{
    if (t->n >= MAX_TRACE_SPANS)
        return -1;
    node *nd = &t->nodes[t->n];
    memset(nd, 0, sizeof *nd);
    nd->parent = parent;
    nd->kind = (unsigned char)kind;
    nd->service = service;
    nd->op = op;
    nd->opname = opname;
    nd->remote = -1;
    nd->depth = parent < 0 ? 1 : (unsigned char)(t->nodes[parent].depth + 1);
    if (parent >= 0)
        t->nodes[parent].nchild++;
    return t->n++;
}

static int room(const gen *g, const node *nd, int depth_needed)
{
    return nd->nchild < g->opt.fanout && nd->depth + depth_needed <= g->opt.depth;
}

/* Calls a server (or consumer) span makes, in plan order; a call is
 * sometimes skipped and sometimes repeated (retries, N+1 queries). */
static void expand_calls(gen *g, int i)
{
    trace *t = &g->tr;
    const operation *op = &g->cat.ops[t->nodes[i].op];
    for (int k = 0; k < op->ncallees; k++) {
        if (!rng_chance(&g->r, PROB(85, 100)))
            continue;
        int times = rng_chance(&g->r, PROB(1, 10)) ? 2 + (int)rng_below(&g->r, 2) : 1;
        for (int j = 0; j < times && room(g, &t->nodes[i], 2); j++) {
            const operation *callee = &g->cat.ops[op->callees[k]];
            int c = node_add(t, i, KIND_CLIENT, t->nodes[i].service, op->callees[k], &callee->name);
            if (c < 0)
                return;
            t->nodes[c].remote = callee->service;
        }
    }
}

static void expand_messaging(gen *g, int i)
{
    trace *t = &g->tr;
    const service *sv = &g->cat.services[t->nodes[i].service];
    if (sv->consumer < 0 || !room(g, &t->nodes[i], 2) || !rng_chance(&g->r, PROB(8, 100)))
        return;
    node_add(t, i, KIND_PRODUCER, t->nodes[i].service, -1, &sv->topic);
}

static void expand(gen *g, int i)
{
    trace *t = &g->tr;
    node *nd = &t->nodes[i];
    switch (nd->kind) {
    case KIND_SERVER: {
        const operation *op = &g->cat.ops[nd->op];
        nd->parallel = rng_chance(&g->r, PROB(3, 10));
        expand_calls(g, i);
        expand_messaging(g, i);
        if (room(g, &t->nodes[i], 1) && rng_chance(&g->r, op->internal_p))
            node_add(t, i, KIND_INTERNAL, nd->service, nd->op, &op->internal);
        break;
    }
    case KIND_CLIENT:
        node_add(t, i, KIND_SERVER, g->cat.ops[nd->op].service, nd->op, &g->cat.ops[nd->op].name);
        break;
    case KIND_PRODUCER: {
        int w = g->cat.services[nd->service].consumer;
        node_add(t, i, KIND_CONSUMER, w, -1, nd->opname);
        break;
    }
    case KIND_CONSUMER:
        /* The consumer stores what it got: one internal step of its own. */
        if (room(g, nd, 1) && rng_chance(&g->r, PROB(6, 10)))
            node_add(t, i, KIND_INTERNAL, nd->service, -1,
                     &g->cat.ops[nd->service * g->cat.nops].internal);
        break;
    default:
        break;
    }
}

/* Build the tree breadth first: the node array is its own queue. */
static void build_tree(gen *g)
{
    trace *t = &g->tr;
    t->n = 0;
    int front = (int)rng_below(&g->r, (uint32_t)g->cat.nfront);
    int op = front * g->cat.nops + (int)rng_below(&g->r, (uint32_t)g->cat.nops);
    node_add(t, -1, KIND_SERVER, front, op, &g->cat.ops[op].name);
    for (int i = 0; i < t->n; i++)
        expand(g, i);
}

/* Own time of each span, and the gap before it. */
static void draw_times(gen *g)
{
    trace *t = &g->tr;
    for (int i = 0; i < t->n; i++) {
        node *nd = &t->nodes[i];
        uint64_t self;
        switch (nd->kind) {
        case KIND_SERVER:
            self = rng_lognormal(&g->r, g->cat.ops[nd->op].median_ns, g->cat.ops[nd->op].sigma_q);
            if (rng_chance(&g->r, PROB(1, 100)))
                self *= 8; /* the occasional slow request */
            nd->pre = (int64_t)self / 4;
            nd->post = (int64_t)self - nd->pre;
            break;
        case KIND_CLIENT: /* network each way */
            nd->pre = (int64_t)rng_lognormal(&g->r, 150000, 40);
            nd->post = (int64_t)rng_lognormal(&g->r, 150000, 40);
            break;
        case KIND_INTERNAL:
            nd->post = (int64_t)rng_lognormal(&g->r, 400000, 80);
            break;
        case KIND_PRODUCER:
            nd->post = (int64_t)rng_lognormal(&g->r, 80000, 30);
            break;
        default: /* consumer */
            self = rng_lognormal(&g->r, 1500000, 50);
            nd->pre = (int64_t)self / 3;
            nd->post = (int64_t)self - nd->pre;
            break;
        }
        nd->gap = nd->kind == KIND_CONSUMER ? (int64_t)rng_lognormal(&g->r, 3000000, 90)
                  : nd->kind == KIND_SERVER && nd->parent >= 0 ? 0 /* the client's pre is the gap */
                  : (int64_t)rng_lognormal(&g->r, 20000, 64);
    }
}

/* Durations bottom up (children have larger indexes than parents), then
 * start times top down. */
static void lay_out(trace *t, uint64_t start)
{
    for (int i = t->n - 1; i >= 0; i--) {
        node *nd = &t->nodes[i];
        nd->dur = nd->pre + nd->acc + nd->post;
        if (nd->parent < 0 || nd->kind == KIND_CONSUMER)
            continue; /* a consumer does not hold its producer open */
        node *p = &t->nodes[nd->parent];
        int64_t extent = nd->gap + nd->dur;
        if (!p->parallel)
            p->acc += extent;
        else if (extent > p->acc)
            p->acc = extent;
    }
    for (int i = 0; i < t->n; i++) {
        node *nd = &t->nodes[i];
        if (nd->parent < 0) {
            nd->start = (int64_t)start;
        } else {
            node *p = &t->nodes[nd->parent];
            if (nd->kind == KIND_CONSUMER) {
                nd->start = p->start + p->dur + nd->gap;
            } else {
                nd->start = p->cursor + nd->gap;
                if (!p->parallel)
                    p->cursor = nd->start + nd->dur;
            }
        }
        nd->cursor = nd->start + nd->pre;
    }
}

/* Errors start at server, internal and consumer spans; a failed server span
 * fails its client span, and a failed child fails its parent half the time. */
static void draw_errors(gen *g)
{
    trace *t = &g->tr;
    for (int i = t->n - 1; i >= 0; i--) {
        node *nd = &t->nodes[i];
        int origin_kind = nd->kind == KIND_SERVER || nd->kind == KIND_INTERNAL ||
                          nd->kind == KIND_CONSUMER;
        if (!nd->err && origin_kind && rng_chance(&g->r, g->err_origin_p)) {
            nd->err = 1;
            nd->msg = (unsigned char)rng_below(&g->r, COUNT(error_messages));
        }
        if (!nd->err || nd->parent < 0 || nd->kind == KIND_CONSUMER)
            continue;
        node *p = &t->nodes[nd->parent];
        if (p->err)
            continue;
        if (nd->kind == KIND_SERVER || rng_chance(&g->r, PROB(1, 2))) {
            p->err = 1;
            p->msg = nd->kind == KIND_SERVER ? nd->msg : MSG_DOWNSTREAM;
        }
    }
}

static void gen_trace(gen *g)
{
    g->tr.id_hi = rng_next(&g->r);
    g->tr.id_lo = rng_next(&g->r);
    build_tree(g);
    for (int i = 0; i < g->tr.n; i++)
        g->tr.nodes[i].span_id = rng_next(&g->r) | 1; /* never the all-zero invalid id */
    draw_times(g);
    lay_out(&g->tr, g->next_start);
    draw_errors(g);
    g->next_start += rng_next(&g->r) % g->gap_max;
}

/* ---- Output ---------------------------------------------------------------- */

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static char *put_mem(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

static char *put_name(char *p, const name *n) { return put_mem(p, n->s, (size_t)n->len); }

static char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        *p++ = tmp[--n];
    return p;
}

/* v as decimal with exactly `places` decimals of 10^places units. */
static char *put_fixed(char *p, uint64_t v, int places, uint64_t unit)
{
    p = put_u64(p, v / unit);
    *p++ = '.';
    uint64_t frac = v % unit;
    for (int i = places - 1; i >= 0; i--) {
        p[i] = (char)('0' + frac % 10);
        frac /= 10;
    }
    return p + places;
}

static char *put_hex64(char *p, uint64_t v)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 15; i >= 0; i--) {
        p[i] = hex[v & 15];
        v >>= 4;
    }
    return p + 16;
}

static const char *const kind_lower[] = {"unspecified", "internal", "server", "client", "producer", "consumer"};
static const char *const kind_upper[] = {"UNSPECIFIED", "INTERNAL", "SERVER", "CLIENT", "PRODUCER", "CONSUMER"};
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
static const char *const regions[] = {"eu-west-1", "us-east-1", "us-west-2", "ap-south-1"};

/* One attribute of the pool; the pool cycles string, int, float, bool so
 * any four consecutive entries hold one value of each type. */
static char *put_attr(gen *g, char *p, int key, const node *nd)
{
    rng *r = &g->r;
    switch (key) {
    case 0: p = PUT(p, "\"http.method\":\"");
        { const char *m = methods[rng_below(r, 4)];
          for (int i = 0; i < 4; i++) /* a route names its own method */
              if (strncmp(nd->opname->s, methods[i], strlen(methods[i])) == 0 &&
                  nd->opname->s[strlen(methods[i])] == ' ')
                  m = methods[i];
          p = put_mem(p, m, strlen(m)); }
        return PUT(p, "\"");
    case 1: p = PUT(p, "\"http.status_code\":");
        return put_u64(p, nd->err ? 500 + 3 * rng_below(r, 2) : rng_chance(r, PROB(3, 100)) ? 404 : 200);
    case 2: p = PUT(p, "\"sample.ratio\":"); return put_fixed(p, 1 + rng_below(r, 1000), 3, 1000);
    case 3: return rng_chance(r, PROB(7, 10)) ? PUT(p, "\"cache.hit\":true") : PUT(p, "\"cache.hit\":false");
    case 4: p = PUT(p, "\"user.id\":\"user-"); p = put_u64(p, rng_below(r, 100000)); return PUT(p, "\"");
    case 5: p = PUT(p, "\"payload.bytes\":"); return put_u64(p, rng_lognormal(r, 2048, 128));
    case 6: p = PUT(p, "\"cpu.ms\":"); return put_fixed(p, rng_lognormal(r, 1500, 96), 3, 1000);
    case 7: return rng_chance(r, PROB(1, 5)) ? PUT(p, "\"feature.flag\":true") : PUT(p, "\"feature.flag\":false");
    case 8: { const char *reg = regions[rng_below(r, 4)];
        p = PUT(p, "\"cloud.region\":\""); p = put_mem(p, reg, strlen(reg)); return PUT(p, "\""); }
    case 9: p = PUT(p, "\"request.seq\":"); return put_u64(p, (rng_next(r) >> 1) | (1ULL << 62));
    case 10: p = PUT(p, "\"queue.wait_ms\":"); return put_fixed(p, rng_lognormal(r, 800, 128), 3, 1000);
    default: return rng_chance(r, PROB(1, 20)) ? PUT(p, "\"retry\":true") : PUT(p, "\"retry\":false");
    }
}

static char *put_attrs(gen *g, char *p, const node *nd)
{
    int offset = nd->kind == KIND_SERVER ? 0 : nd->kind == KIND_INTERNAL || nd->kind == KIND_CONSUMER ? 8 : 4;
    *p++ = '{';
    for (int i = 0; i < g->opt.attrs; i++) {
        if (i)
            *p++ = ',';
        if (i < 12) {
            p = put_attr(g, p, (offset + i) % 12, nd);
        } else {
            p = PUT(p, "\"attr.");
            p = put_u64(p, (uint64_t)i);
            p = PUT(p, "\":");
            p = put_u64(p, rng_below(&g->r, 1000000));
        }
    }
    *p++ = '}';
    return p;
}

static const char *error_text(const node *nd, size_t *len)
{
    static const char downstream[] = "downstream call failed";
    const char *s = nd->msg == MSG_DOWNSTREAM ? downstream : error_messages[nd->msg];
    *len = strlen(s);
    return s;
}

static char *put_ids(const gen *g, char *p, const node *nd)
{
    const trace *t = &g->tr;
    p = PUT(p, "{\"trace_id\":\"");
    p = put_hex64(p, t->id_hi);
    p = put_hex64(p, t->id_lo);
    p = PUT(p, "\",\"span_id\":\"");
    p = put_hex64(p, nd->span_id);
    if (nd->parent < 0)
        return PUT(p, "\",\"parent_span_id\":null");
    p = PUT(p, "\",\"parent_span_id\":\"");
    p = put_hex64(p, t->nodes[nd->parent].span_id);
    return PUT(p, "\"");
}

static char *put_span_native(gen *g, char *p, const node *nd)
{
    const service *sv = &g->cat.services[nd->service];
    const char *kind = kind_lower[nd->kind];
    p = put_ids(g, p, nd);
    p = PUT(p, ",\"service\":\"");
    p = put_name(p, &sv->name);
    p = PUT(p, "\",\"operation\":\"");
    p = put_name(p, nd->opname);
    p = PUT(p, "\",\"kind\":\"");
    p = put_mem(p, kind, strlen(kind));
    if (nd->err) {
        size_t n;
        const char *m = error_text(nd, &n);
        p = PUT(p, "\",\"status\":\"error\",\"status_message\":\"");
        p = put_mem(p, m, n);
        p = PUT(p, "\"");
    } else if (nd->kind == KIND_SERVER || nd->kind == KIND_CONSUMER) {
        p = PUT(p, "\",\"status\":\"ok\"");
    } else {
        p = PUT(p, "\",\"status\":\"unset\"");
    }
    p = PUT(p, ",\"start_ns\":");
    p = put_u64(p, (uint64_t)nd->start);
    p = PUT(p, ",\"duration_ns\":");
    p = put_u64(p, (uint64_t)nd->dur);
    if (nd->remote >= 0) {
        p = PUT(p, ",\"remote_service\":\"");
        p = put_name(p, &g->cat.services[nd->remote].name);
        p = PUT(p, "\"");
    }
    p = PUT(p, ",\"attributes\":");
    p = put_attrs(g, p, nd);
    p = PUT(p, ",\"resource\":");
    p = put_mem(p, sv->resource, (size_t)sv->resource_len);
    return PUT(p, "}\n");
}

static char *put_span_tracagg(gen *g, char *p, const node *nd)
{
    const service *sv = &g->cat.services[nd->service];
    const char *kind = kind_upper[nd->kind];
    p = put_ids(g, p, nd);
    p = PUT(p, ",\"service_name\":\"");
    p = put_name(p, &sv->name);
    p = PUT(p, "\",\"operation_name\":\"");
    p = put_name(p, nd->opname);
    p = PUT(p, "\",\"kind\":\"");
    p = put_mem(p, kind, strlen(kind));
    p = PUT(p, "\",\"start_time\":");
    p = put_fixed(p, (uint64_t)nd->start, 9, 1000000000);
    p = PUT(p, ",\"duration\":");
    p = put_fixed(p, (uint64_t)nd->dur, 9, 1000000000);
    if (nd->err) {
        size_t n;
        const char *m = error_text(nd, &n);
        p = PUT(p, ",\"status\":\"ERROR\",\"error_message\":\"");
        p = put_mem(p, m, n);
        p = PUT(p, "\"");
    } else {
        p = PUT(p, ",\"status\":\"OK\"");
    }
    p = PUT(p, ",\"attributes\":");
    p = put_attrs(g, p, nd);
    return PUT(p, "}\n");
}

static int flush_out(gen *g)
{
    if (g->len && fwrite(g->buf, 1, g->len, g->out) != g->len)
        return -1;
    g->len = 0;
    return 0;
}

/* Write the first `limit` spans of the current trace. */
static int write_trace(gen *g, int limit)
{
    for (int i = 0; i < limit; i++) {
        if (g->len + g->line_max > OUT_BUF && flush_out(g) != 0)
            return -1;
        char *p = g->buf + g->len;
        p = g->opt.format == FMT_TRACAGG ? put_span_tracagg(g, p, &g->tr.nodes[i])
                                         : put_span_native(g, p, &g->tr.nodes[i]);
        g->len = (size_t)(p - g->buf);
    }
    return 0;
}

/* ---- Command line -------------------------------------------------------- */

static const char usage_text[] =
    "usage: spangen [OPTIONS]\n"
    "Write deterministic, realistic spans as JSON Lines (docs/formats.md).\n"
    "\n"
    "  -o, --output FILE     write to FILE instead of standard output\n"
    "      --seed N          random seed (default 1); same seed, same bytes\n"
    "      --spans N         total spans to write, exactly (default 1000)\n"
    "      --services N      services (default 12; the first 1-3 are frontends)\n"
    "      --ops N           server operations per service (default 6)\n"
    "      --depth N         maximum tree depth, root = 1 (default 6)\n"
    "      --fanout N        maximum children per span (default 4)\n"
    "      --error-rate F    approximate fraction of spans in error (default 0.02)\n"
    "      --attrs N         attributes per span (default 4; string/int/float/bool)\n"
    "      --start-ns T      start of the first trace, epoch ns (default 1700000000000000000)\n"
    "      --rate N          traces per second of simulated time (default 200)\n"
    "      --format F        spans (native, default) or tracagg (TracAgg field names)\n"
    "  -h, --help            this help\n";

static int parse_u64(const char *s, const char *opt, uint64_t lo, uint64_t hi, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || *s == '-' || v < lo || v > hi) {
        fprintf(stderr, "spangen: %s wants an integer in [%" PRIu64 ", %" PRIu64 "], got '%s'\n",
                opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_int(const char *s, const char *opt, int lo, int hi, int *out)
{
    uint64_t v;
    if (parse_u64(s, opt, (uint64_t)lo, (uint64_t)hi, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

/* Returns 0 to go on, 1 after --help, 2 on a usage error. */
static int parse_args(int argc, char **argv, options *o)
{
    enum { O_SEED = 256, O_SPANS, O_SERVICES, O_OPS, O_DEPTH, O_FANOUT, O_ERR, O_ATTRS,
           O_START, O_RATE, O_FORMAT };
    static const struct option longopts[] = {
        {"output", required_argument, 0, 'o'}, {"seed", required_argument, 0, O_SEED},
        {"spans", required_argument, 0, O_SPANS}, {"services", required_argument, 0, O_SERVICES},
        {"ops", required_argument, 0, O_OPS}, {"depth", required_argument, 0, O_DEPTH},
        {"fanout", required_argument, 0, O_FANOUT}, {"error-rate", required_argument, 0, O_ERR},
        {"attrs", required_argument, 0, O_ATTRS}, {"start-ns", required_argument, 0, O_START},
        {"rate", required_argument, 0, O_RATE}, {"format", required_argument, 0, O_FORMAT},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (options){.seed = 1, .spans = 1000, .start_ns = 1700000000000000000ULL, .rate = 200,
                   .services = 12, .ops = 6, .depth = 6, .fanout = 4, .attrs = 4,
                   .format = FMT_SPANS, .error_rate = 0.02, .output = NULL};
    int c, rc = 0;
    char *end;
    while (rc == 0 && (c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': o->output = optarg; break;
        case 'h': fputs(usage_text, stdout); return 1;
        case O_SEED: rc = parse_u64(optarg, "--seed", 0, UINT64_MAX, &o->seed); break;
        case O_SPANS: rc = parse_u64(optarg, "--spans", 0, UINT64_MAX, &o->spans); break;
        case O_SERVICES: rc = parse_int(optarg, "--services", 1, 10000, &o->services); break;
        case O_OPS: rc = parse_int(optarg, "--ops", 1, 1000, &o->ops); break;
        case O_DEPTH: rc = parse_int(optarg, "--depth", 1, 64, &o->depth); break;
        case O_FANOUT: rc = parse_int(optarg, "--fanout", 1, 64, &o->fanout); break;
        case O_ATTRS: rc = parse_int(optarg, "--attrs", 0, 1000, &o->attrs); break;
        case O_START: rc = parse_u64(optarg, "--start-ns", 0, (uint64_t)INT64_MAX / 2, &o->start_ns); break;
        case O_RATE: rc = parse_u64(optarg, "--rate", 1, 1000000000, &o->rate); break;
        case O_ERR:
            o->error_rate = strtod(optarg, &end);
            if (end == optarg || *end || !(o->error_rate >= 0 && o->error_rate <= 1)) {
                fprintf(stderr, "spangen: --error-rate wants a number in [0, 1], got '%s'\n", optarg);
                rc = -1;
            }
            break;
        case O_FORMAT:
            if (strcmp(optarg, "spans") == 0) o->format = FMT_SPANS;
            else if (strcmp(optarg, "tracagg") == 0) o->format = FMT_TRACAGG;
            else { fprintf(stderr, "spangen: --format is spans or tracagg, not '%s'\n", optarg); rc = -1; }
            break;
        default: rc = -1; break;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "spangen: unexpected argument '%s'\n", argv[optind]);
        rc = -1;
    }
    if (rc != 0) {
        fputs("Try 'spangen --help'.\n", stderr);
        return 2;
    }
    return 0;
}

static void gen_free(gen *g)
{
    catalog_free(&g->cat);
    free(g->buf);
    if (g->out && g->out != stdout)
        fclose(g->out);
    free(g);
}

static gen *gen_new(const options *o)
{
    gen *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->opt = *o;
    rng setup;
    rng_seed(&setup, o->seed ^ 0x5eed5eed5eed5eedULL); /* the catalogue has its own stream */
    rng_seed(&g->r, o->seed);
    g->buf = malloc(OUT_BUF);
    if (!g->buf || catalog_new(&g->cat, o, &setup) != 0) {
        gen_free(g);
        return NULL;
    }
    g->next_start = o->start_ns;
    g->gap_max = 2000000000ULL / o->rate;
    if (g->gap_max == 0)
        g->gap_max = 1;
    /* Each origin ends up failing about three spans (its client, and half
     * the time the caller above), and about half the spans can originate. */
    g->err_origin_p = (uint64_t)(o->error_rate * 4294967296.0 * 0.7);
    g->line_max = 1024 + (size_t)o->attrs * 64;
    return g;
}

int main(int argc, char **argv)
{
    options o;
    int rc = parse_args(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : 2;
    gen *g = gen_new(&o);
    if (!g) {
        fprintf(stderr, "spangen: out of memory\n");
        return 2;
    }
    g->out = o.output ? fopen(o.output, "wb") : stdout;
    if (!g->out) {
        fprintf(stderr, "spangen: %s: %s\n", o.output, strerror(errno));
        gen_free(g);
        return 2;
    }
    rc = 0;
    for (uint64_t left = o.spans; left > 0 && rc == 0;) {
        gen_trace(g);
        int n = (uint64_t)g->tr.n < left ? g->tr.n : (int)left;
        rc = write_trace(g, n);
        left -= (uint64_t)n;
    }
    if (rc == 0)
        rc = flush_out(g);
    if (rc == 0 && fflush(g->out) != 0)
        rc = -1;
    if (rc != 0)
        fprintf(stderr, "spangen: write error: %s\n", strerror(errno));
    gen_free(g);
    return rc ? 1 : 0;
}
