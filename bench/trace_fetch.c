/*
 * trace_fetch.c -- latency of fetching one trace by id through the public
 * API (sl_open read-only, sl_get_trace, sl_trace_free), for bench/ingest.
 *
 *   trace_fetch WAREHOUSE.db COUNT TRACE_ID [TRACE_ID...]
 *
 * Fetches COUNT times in all, cycling through the given ids, after one
 * untimed warm-up fetch of each id (which also checks that every id is
 * found).  Prints one line to stdout:
 *   trace_fetch: COUNT fetches of IDS traces (SPANS spans each on average):
 *   mean MEAN us, max MAX us
 * Exit status 0, 1 if an id is not in the warehouse, 2 on other errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "spanlite.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* One fetch; returns its span count, or -1 with the reason on stderr. */
static long fetch(sl_db *db, const char *id)
{
    sl_trace *t = NULL;
    int rc = sl_get_trace(db, id, &t);
    if (rc != SL_OK) {
        fprintf(stderr, "trace_fetch: %s: %s\n", id, sl_errmsg(db));
        return -1;
    }
    long n = (long)t->nspans;
    sl_trace_free(t);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: trace_fetch WAREHOUSE.db COUNT TRACE_ID [TRACE_ID...]\n");
        return 2;
    }
    long count = strtol(argv[2], NULL, 10);
    int nids = argc - 3;
    char **ids = argv + 3;
    if (count < 1) {
        fprintf(stderr, "trace_fetch: COUNT must be a positive integer\n");
        return 2;
    }
    sl_db *db = NULL;
    int rc = sl_open(argv[1], SL_OPEN_READONLY, &db);
    if (rc != SL_OK) {
        fprintf(stderr, "trace_fetch: %s: %s\n", argv[1], sl_errmsg(db));
        sl_close(db);
        return 2;
    }
    for (int i = 0; i < nids && rc == 0; i++)
        if (fetch(db, ids[i]) < 0)
            rc = 1;
    double total = 0, worst = 0;
    long spans = 0;
    for (long i = 0; i < count && rc == 0; i++) {
        double t0 = now_us();
        long n = fetch(db, ids[i % nids]);
        double dt = now_us() - t0;
        if (n < 0) {
            rc = 1;
            break;
        }
        spans += n;
        total += dt;
        if (dt > worst)
            worst = dt;
    }
    if (rc == 0)
        printf("trace_fetch: %ld fetches of %d traces (%.1f spans each on average): mean %.1f us, max %.1f us\n",
               count, nids, (double)spans / count, total / count, worst);
    sl_close(db);
    return rc;
}
