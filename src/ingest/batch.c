/* ingest/batch.c -- spans and events in transit from a parser to the writer; see batch.h. */
#include "ingest/batch.h"
#include "base/span.h"

#include <stdlib.h>
#include <string.h>

sl_batch *sl_batch_new(void)
{
    sl_batch *b = calloc(1, sizeof *b);
    if (!b) return NULL;
    b->cap = SL_BATCH_SPANS;
    b->spans = malloc(b->cap * sizeof *b->spans);
    b->lines = malloc(b->cap * sizeof *b->lines);
    b->hashes = malloc(b->cap * sizeof *b->hashes);
    b->ecap = SL_BATCH_SPANS;
    b->events = malloc(b->ecap * sizeof *b->events);
    sl_arena_init(&b->arena);
    if (!b->spans || !b->lines || !b->hashes || !b->events) {
        sl_batch_free(b);
        return NULL;
    }
    return b;
}

void sl_batch_free(sl_batch *b)
{
    if (!b) return;
    free(b->spans);
    free(b->lines);
    free(b->hashes);
    free(b->events);
    sl_arena_release(&b->arena);
    free(b);
}

void sl_batch_reset(sl_batch *b)
{
    b->nspans = b->nevents = 0;
    sl_arena_reset(&b->arena);
}

int sl_batch_full(const sl_batch *b)
{
    return b->nspans >= b->cap || b->nevents >= b->ecap;
}

/* Copy *src into the arena; 0, or -1 when a non-NULL string could not be copied. */
static int copy_str(sl_arena *a, const char **dst, const char *src)
{
    *dst = sl_arena_strdup(a, src);
    return (src && !*dst) ? -1 : 0;
}

int sl_batch_add(sl_batch *b, const sl_span *sp, uint64_t line)
{
    if (b->nspans >= b->cap) return -1;
    sl_span *d = &b->spans[b->nspans];
    *d = *sp;
    sl_arena *a = &b->arena;
    if (copy_str(a, &d->trace_id, sp->trace_id) || copy_str(a, &d->span_id, sp->span_id) ||
        copy_str(a, &d->parent_span_id, sp->parent_span_id) ||
        copy_str(a, &d->service, sp->service) || copy_str(a, &d->operation, sp->operation) ||
        copy_str(a, &d->remote_service, sp->remote_service) ||
        copy_str(a, &d->status_message, sp->status_message) ||
        copy_str(a, &d->attributes, sp->attributes) || copy_str(a, &d->resource, sp->resource) ||
        copy_str(a, &d->scope, sp->scope) || copy_str(a, &d->events, sp->events) ||
        copy_str(a, &d->links, sp->links))
        return -1;
    sl_span_normalize(d);
    b->hashes[b->nspans] = sl_span_hash(d);
    b->lines[b->nspans++] = line;
    return 0;
}

int sl_batch_add_event(sl_batch *b, const sl_event *ev)
{
    if (b->nevents >= b->ecap) return -1;
    sl_event *d = &b->events[b->nevents];
    *d = *ev;
    sl_arena *a = &b->arena;
    if (copy_str(a, &d->type, ev->type) || copy_str(a, &d->txn_id, ev->txn_id) ||
        copy_str(a, &d->body, ev->body))
        return -1;
    b->nevents++;
    return 0;
}
