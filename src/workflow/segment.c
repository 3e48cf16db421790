/*
 * workflow/segment.c -- packing and unpacking workflow events; see workflow/segment.h for the
 * layout and why it exists.
 */
#include "workflow/segment.h"
#include "base/hash.h"
#include "base/pyvalue.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slots of the last event that used a template, in this segment. */
struct sl_wfseg_last {
    uint32_t template_id;
    sl_wfseg_slot *slots;
    size_t n, cap;
};

void sl_wfseg_ctx_init(sl_wfseg_ctx *c) { memset(c, 0, sizeof *c); }

void sl_wfseg_ctx_reset(sl_wfseg_ctx *c)
{
    c->prev_ref = c->prev_ts = 0;
    if (c->nlast > 64) { /* many templates: lookups are linear, start over */
        for (size_t i = 0; i < c->nlast; i++) free(c->last[i].slots);
        c->nlast = 0;
    }
    for (size_t i = 0; i < c->nlast; i++) c->last[i].n = 0;
}

void sl_wfseg_ctx_free(sl_wfseg_ctx *c)
{
    for (size_t i = 0; i < c->nlast; i++) free(c->last[i].slots);
    free(c->last);
    memset(c, 0, sizeof *c);
}

/* The last-slots entry of template id, created empty when new; NULL on OOM. */
static struct sl_wfseg_last *last_of(sl_wfseg_ctx *c, uint32_t id)
{
    for (size_t i = 0; i < c->nlast; i++)
        if (c->last[i].template_id == id) return &c->last[i];
    if (sl_array_reserve(&c->last, &c->caplast, c->nlast + 1, sizeof *c->last, 16)) return NULL;
    struct sl_wfseg_last *l = &c->last[c->nlast++];
    memset(l, 0, sizeof *l);
    l->template_id = id;
    return l;
}

static int last_set(struct sl_wfseg_last *l, const sl_wfseg_slot *slots, size_t n)
{
    if (n > l->cap) {
        sl_wfseg_slot *s = realloc(l->slots, n * sizeof *s);
        if (!s) return -1;
        l->slots = s;
        l->cap = n;
    }
    if (n) memcpy(l->slots, slots, n * sizeof *slots);
    l->n = n;
    return 0;
}

/* ---- varints ---- */

void sl_wfseg_put_uv(sl_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (uint8_t)v;
    sl_buf_append(b, t, n);
}

void sl_wfseg_put_sv(sl_buf *b, int64_t v)
{
    sl_wfseg_put_uv(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

int sl_wfseg_get_uv(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    const uint8_t *q = *p;
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (q >= end) return -1;
        uint8_t c = *q++;
        x |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *v = x;
            *p = q;
            return 0;
        }
    }
    return -1;
}

int sl_wfseg_get_sv(const uint8_t **p, const uint8_t *end, int64_t *v)
{
    uint64_t u;
    if (sl_wfseg_get_uv(p, end, &u)) return -1;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

/* ---- hot records ---- */

void sl_wfseg_put_hot(sl_buf *cols, sl_wfseg_ctx *c, const sl_wfseg_rec *r)
{
    sl_wfseg_put_uv(cols, r->type_id);
    sl_wfseg_put_uv(cols, r->flags);
    if (r->flags & SL_WFSEG_TXN) {
        sl_wfseg_put_sv(cols, (int64_t)((uint64_t)r->ref - (uint64_t)c->prev_ref));
        c->prev_ref = r->ref;
    }
    if (r->flags & SL_WFSEG_TS_OK) {
        sl_wfseg_put_sv(cols, (int64_t)((uint64_t)r->ts - (uint64_t)c->prev_ts));
        c->prev_ts = r->ts;
    }
    unsigned pl = SL_WFSEG_PLANNED(r->flags);
    if (pl == SL_WFSEG_PL_INT) sl_wfseg_put_sv(cols, r->planned_i);
    else if (pl == SL_WFSEG_PL_REAL) sl_buf_append(cols, &r->planned_d, sizeof r->planned_d);
    if (r->flags & SL_WFSEG_WORKFLOW) sl_wfseg_put_uv(cols, r->workflow_id);
    if (r->flags & SL_WFSEG_ALT) {
        sl_wfseg_put_uv(cols, r->alt_len);
        sl_buf_append(cols, r->alt, r->alt_len);
    }
}

int sl_wfseg_get_hot(const uint8_t **pp, const uint8_t *end, sl_wfseg_ctx *c, sl_wfseg_rec *r)
{
    const uint8_t *p = *pp;
    uint64_t u;
    int64_t d;
    if (sl_wfseg_get_uv(&p, end, &u)) return -1;
    r->type_id = (uint32_t)u;
    if (sl_wfseg_get_uv(&p, end, &u)) return -1;
    r->flags = (uint32_t)u;
    if (r->flags & SL_WFSEG_TXN) {
        if (sl_wfseg_get_sv(&p, end, &d)) return -1;
        r->ref = c->prev_ref = (int64_t)((uint64_t)c->prev_ref + (uint64_t)d);
    }
    if (r->flags & SL_WFSEG_TS_OK) {
        if (sl_wfseg_get_sv(&p, end, &d)) return -1;
        r->ts = c->prev_ts = (int64_t)((uint64_t)c->prev_ts + (uint64_t)d);
    }
    unsigned pl = SL_WFSEG_PLANNED(r->flags);
    if (pl == SL_WFSEG_PL_INT) {
        if (sl_wfseg_get_sv(&p, end, &r->planned_i)) return -1;
    } else if (pl == SL_WFSEG_PL_REAL) {
        if (end - p < (ptrdiff_t)sizeof r->planned_d) return -1;
        memcpy(&r->planned_d, p, sizeof r->planned_d);
        p += sizeof r->planned_d;
    }
    if (r->flags & SL_WFSEG_WORKFLOW) {
        if (sl_wfseg_get_uv(&p, end, &u)) return -1;
        r->workflow_id = (uint32_t)u;
    }
    if (r->flags & SL_WFSEG_ALT) {
        if (sl_wfseg_get_uv(&p, end, &u) || (uint64_t)(end - p) < u) return -1;
        r->alt = (const char *)p;
        r->alt_len = (size_t)u;
        p += u;
    }
    *pp = p;
    return 0;
}

/* ---- templates ---- */

/* True when an integer token is the canonical text of an int64 (so that
 * printing the value gives the token back). */
static int canonical_int(const char *p, size_t n, int64_t *v)
{
    if (n == 0 || n > 20) return 0;
    if (n == 2 && p[0] == '-' && p[1] == '0') return 0;
    sl_wfj_val t = {SL_WFJ_INT, p, n};
    return sl_wfj_py_int(&t, v) == 0;
}

void sl_wfseg_walk_free(sl_wfseg_walk_out *o)
{
    sl_buf_free(&o->tmpl);
    free(o->toks);
    free(o->mem);
    free(o->stack);
    memset(o, 0, sizeof *o);
}

/*
 * Walk the compact text token by token with a container stack so names and
 * values can be told apart.  A top-level member is recorded when its name
 * is read and completed when its value ends (at once for a scalar, at the
 * matching bracket for a container).
 */
int sl_wfseg_walk(const char *body, size_t len, sl_wfseg_walk_out *o)
{
    const char *p = body, *end = body + len;
    const char *run = body; /* start of the text not yet copied to the template */
    size_t depth = 0; /* open containers, their brackets in o->stack */
    int expect_key = 0, rc = 0;
    sl_buf *t = &o->tmpl;
    if (sl_buf_reserve(t, len + 1)) return -1;
    t->len = 0;
    o->ntoks = o->nmem = 0;
    sl_wfseg_member *cur = NULL; /* top-level member whose value is being read */
    while (p < end) {
        char c = *p;
        switch (c) {
        case '{':
        case '[':
            if (sl_array_reserve(&o->stack, &o->capstack, depth + 1, 1, 64)) {
                rc = -1;
                goto done;
            }
            if (depth == 1 && cur) cur->p = p;
            o->stack[depth++] = c;
            expect_key = c == '{';
            p++;
            continue;
        case '}':
        case ']':
            depth--;
            expect_key = 0;
            p++;
            if (depth == 1 && cur) {
                cur->n = (size_t)(p - cur->p);
                cur->kind = c == '}' ? SL_WFJ_OBJECT : SL_WFJ_ARRAY;
                cur = NULL;
            }
            continue;
        case ',':
            expect_key = depth && o->stack[depth - 1] == '{';
            p++;
            continue;
        case ':':
            p++;
            continue;
        }
        int kind;
        const char *q;
        if (c == '"') {
            /* inline: most strings are short and free of escapes */
            q = p + 1;
            while (q < end && *q != '"' && *q != '\\') q++;
            if (q < end && *q == '"') q++;
            else q = sl_wfj_skip(p, end, &kind);
            kind = SL_WFJ_STRING;
        } else {
            q = sl_wfj_skip(p, end, &kind);
        }
        size_t n = (size_t)(q - p);
        if (expect_key) {
            expect_key = 0;
            if (depth == 1) {
                if (sl_array_reserve(&o->mem, &o->capmem, o->nmem + 1, sizeof *o->mem, 16)) {
                    rc = -1;
                    goto done;
                }
                cur = &o->mem[o->nmem++];
                cur->key = p;
                cur->key_n = n;
                cur->tok = -1;
            }
            p = q;
            continue;
        }
        long tok = -1;
        if (kind == SL_WFJ_STRING || kind == SL_WFJ_INT || kind == SL_WFJ_REAL) {
            if (sl_array_reserve(&o->toks, &o->captoks, o->ntoks + 1, sizeof *o->toks, 16)) {
                rc = -1;
                goto done;
            }
            /* the text since the last value goes in as it is, then the marker */
            memcpy(t->p + t->len, run, (size_t)(p - run));
            t->len += (size_t)(p - run);
            sl_wfseg_tok *k = &o->toks[o->ntoks];
            k->p = p;
            k->n = n;
            k->kind = kind;
            k->at = t->len;
            tok = (long)o->ntoks++;
            t->p[t->len++] = SL_WFSEG_M_SLOT;
            run = q;
        }
        if (depth == 1 && cur) {
            cur->p = p;
            cur->n = n;
            cur->kind = kind;
            cur->tok = tok;
            cur = NULL;
        }
        p = q;
    }
    memcpy(t->p + t->len, run, (size_t)(end - run));
    t->len += (size_t)(end - run);
    t->p[t->len] = '\0';
done:
    return rc;
}

int sl_wfseg_slots(const sl_wfseg_walk_out *o, sl_wfseg_slot **slots, size_t *nslots,
                   size_t *capslots)
{
    if (sl_array_reserve(slots, capslots, o->ntoks, sizeof **slots, 16)) return -1;
    size_t n = 0;
    for (size_t i = 0; i < o->ntoks; i++) {
        const sl_wfseg_tok *k = &o->toks[i];
        if (o->tmpl.p[k->at] != SL_WFSEG_M_SLOT) continue;
        sl_wfseg_slot *s = &(*slots)[n++];
        s->i = 0;
        if (k->kind == SL_WFJ_STRING) {
            s->kind = 1;
            s->p = k->p + 1;
            s->n = k->n - 2;
        } else if (k->kind == SL_WFJ_INT && canonical_int(k->p, k->n, &s->i)) {
            s->kind = 2;
            s->p = NULL;
            s->n = 0;
        } else {
            s->kind = 3;
            s->p = k->p;
            s->n = k->n;
        }
    }
    *nslots = n;
    return 0;
}

/* End of the template value at p (markers are one byte). */
static const char *template_value_end(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c <= SL_WFSEG_M_WORKFLOW) return p + 1;
    int kind;
    return sl_wfj_skip(p, end, &kind);
}

int sl_wfseg_template_member(const char *shape, size_t len, const char *name, size_t *slot,
                             const char **lit, size_t *litn)
{
    /* the last member of that name wins, as in a Python dict */
    const char *p = shape + 1, *end = shape + len - 1;
    size_t nname = strlen(name), slots_before = 0;
    int found = 0;
    while (p < end) {
        if (*p == ',') p++;
        if (p >= end || *p != '"') break;
        int kind;
        const char *k = p;
        p = sl_wfj_skip(p, end, &kind);
        int match = (size_t)(p - k) == nname + 2 && memcmp(k + 1, name, nname) == 0;
        p++; /* ':' */
        const char *v = p;
        p = template_value_end(p, end);
        if (match) {
            unsigned char c = (unsigned char)*v;
            if (c == SL_WFSEG_M_SLOT) {
                *slot = slots_before;
                found = 1;
            } else if (c <= SL_WFSEG_M_WORKFLOW) {
                found = -1;
            } else {
                *lit = v;
                *litn = (size_t)(p - v);
                found = 2;
            }
        }
        for (const char *q = v; q < p; q++) slots_before += *q == SL_WFSEG_M_SLOT;
    }
    return found;
}

size_t sl_wfseg_template_slots(const char *shape, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += shape[i] == SL_WFSEG_M_SLOT;
    return n;
}

static int slot_eq(const sl_wfseg_slot *a, const sl_wfseg_slot *b)
{
    if (a->kind != b->kind) return 0;
    if (a->kind == 2) return a->i == b->i;
    return a->n == b->n && memcmp(a->p, b->p, a->n) == 0;
}

int sl_wfseg_put_vals(sl_buf *vals, sl_wfseg_ctx *c, uint32_t template_id,
                      const sl_wfseg_slot *slots, size_t nslots)
{
    struct sl_wfseg_last *l = last_of(c, template_id);
    if (!l) return -1;
    sl_wfseg_put_uv(vals, template_id);
    for (size_t i = 0; i < nslots; i++) {
        const sl_wfseg_slot *s = &slots[i];
        if (i < l->n && slot_eq(s, &l->slots[i])) {
            sl_buf_putc(vals, 0);
            continue;
        }
        sl_buf_putc(vals, (char)s->kind);
        if (s->kind == 2) {
            sl_wfseg_put_sv(vals, s->i);
        } else {
            sl_wfseg_put_uv(vals, s->n);
            sl_buf_append(vals, s->p, s->n);
        }
    }
    return last_set(l, slots, nslots) || vals->oom ? -1 : 0;
}

int sl_wfseg_get_slots(const uint8_t **pp, const uint8_t *end, sl_wfseg_ctx *c,
                       uint32_t template_id, sl_wfseg_slot *slots, size_t nslots)
{
    struct sl_wfseg_last *l = last_of(c, template_id);
    if (!l) return -1;
    const uint8_t *p = *pp;
    for (size_t i = 0; i < nslots; i++) {
        if (p >= end) return -1;
        int tag = *p++;
        sl_wfseg_slot *s = &slots[i];
        if (tag == 0) {
            if (i >= l->n) return -1;
            *s = l->slots[i];
            continue;
        }
        s->kind = tag;
        if (tag == 2) {
            if (sl_wfseg_get_sv(&p, end, &s->i)) return -1;
            s->p = NULL;
            s->n = 0;
        } else if (tag == 1 || tag == 3) {
            uint64_t n;
            if (sl_wfseg_get_uv(&p, end, &n) || (uint64_t)(end - p) < n) return -1;
            s->p = (const char *)p;
            s->n = (size_t)n;
            s->i = 0;
            p += n;
        } else {
            return -1;
        }
    }
    *pp = p;
    return last_set(l, slots, nslots);
}

/* ---- identity ---- */

/* The identity of an event: base/hash.h over its fields, a word at a time
 * (sl_hash_step64), byte strings with their length first.  Identities are compared within
 * one writer's session (the claims saved in temp.wf_claim are dropped when
 * a writer starts), never stored in the warehouse, so the function may
 * change freely. */
typedef struct hstate {
    uint64_t h;
} hstate;

static void h_word(hstate *s, uint64_t k) { s->h = sl_hash_step64(s->h, k); }

static void h_bytes(hstate *s, const void *p, size_t n)
{
    h_word(s, n);
    s->h = sl_hash_bytes(s->h, p, n);
}

uint64_t sl_wfseg_hash(const sl_wfseg_rec *r, uint32_t template_id, const sl_wfseg_slot *slots,
                       size_t nslots)
{
    hstate s = {SL_HASH_INIT};
    h_word(&s, ((uint64_t)r->type_id << 32) | r->flags);
    h_word(&s, template_id);
    if (r->flags & SL_WFSEG_TXN) h_word(&s, (uint64_t)r->ref);
    if (r->flags & SL_WFSEG_TS_OK) h_word(&s, (uint64_t)r->ts);
    unsigned pl = SL_WFSEG_PLANNED(r->flags);
    if (pl == SL_WFSEG_PL_INT) h_word(&s, (uint64_t)r->planned_i);
    if (pl == SL_WFSEG_PL_REAL) {
        uint64_t bits;
        memcpy(&bits, &r->planned_d, 8);
        h_word(&s, bits);
    }
    if (r->flags & SL_WFSEG_WORKFLOW) h_word(&s, r->workflow_id);
    if (r->flags & SL_WFSEG_ALT) h_bytes(&s, r->alt, r->alt_len);
    for (size_t i = 0; i < nslots; i++) {
        h_word(&s, (uint64_t)slots[i].kind);
        if (slots[i].kind == 2) h_word(&s, (uint64_t)slots[i].i);
        else h_bytes(&s, slots[i].p, slots[i].n);
    }
    return sl_hash_mix64(s.h);
}

/* ---- bodies ---- */

static void put_quoted(sl_buf *out, const char *s, size_t n)
{
    sl_buf_putc(out, '"');
    sl_buf_append(out, s, n);
    sl_buf_putc(out, '"');
}

int sl_wfseg_body(const char *shape, size_t len, const sl_wfseg_rec *r, const sl_wfseg_slot *slots,
                  size_t nslots, const sl_wfseg_names *names, sl_buf *out)
{
    size_t k = 0;
    const char *run = shape;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)shape[i];
        if (c > SL_WFSEG_M_WORKFLOW) continue;
        sl_buf_append(out, run, (size_t)(shape + i - run));
        run = shape + i + 1;
        switch (c) {
        case SL_WFSEG_M_SLOT: {
            if (k >= nslots) return -1;
            const sl_wfseg_slot *s = &slots[k++];
            if (s->kind == 1) put_quoted(out, s->p, s->n);
            else if (s->kind == 2) sl_buf_printf(out, "%lld", (long long)s->i);
            else sl_buf_append(out, s->p, s->n);
            break;
        }
        case SL_WFSEG_M_TYPE:
            if (!names->type) return -1;
            put_quoted(out, names->type, strlen(names->type));
            break;
        case SL_WFSEG_M_TXN:
            if (!names->txn) return -1;
            put_quoted(out, names->txn, names->txn_len);
            break;
        case SL_WFSEG_M_TS:
            if (!(r->flags & SL_WFSEG_TS_OK)) return -1;
            sl_buf_printf(out, "%lld", (long long)r->ts);
            break;
        case SL_WFSEG_M_WORKFLOW:
            if (!names->workflow) return -1;
            put_quoted(out, names->workflow, strlen(names->workflow));
            break;
        default: return -1;
        }
    }
    sl_buf_append(out, run, (size_t)(shape + len - run));
    return k == nslots ? 0 : -1;
}
