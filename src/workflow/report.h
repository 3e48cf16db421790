/*
 * workflow/report.h -- aggregate_workflows.py's report, computed from the
 * stored workflow events.
 *
 * sl_wfreport_run() replays the events in arrival order through a C port
 * of the script's Aggregator.on_event(); the text, the CSVs and the JSON are
 * then written from the replayed state.  The contract (docs/workflows.md):
 *
 *   1. Over the same events, sl_wfreport_text() is byte for byte what
 *      `aggregate_workflows.py --file F` prints, and the CSV writers are byte
 *      for byte its --txn-csv and --gap-csv files, for every option.
 *   2. The figures follow the script's definitions exactly: int() of ts_ms
 *      (string, float or int), float() of planned_wait_ms, nearest-rank
 *      percentiles with round-half-even, statistics.median, the exact
 *      (fraction-based) statistics.mean rounded once to a double, Python's
 *      "%.1f"/"%.3f" (correctly rounded), the top 10 by a stable sort,
 *      dictionary order for the transaction CSV.
 *   3. An event on which the script would raise (a transaction event without
 *      txn_id or a readable ts_ms, a planned_wait_ms float() rejects) is
 *      counted under its type, as the script counts it before raising, and
 *      has no other effect; sl_wfreport_unprocessable() says how many there
 *      were, since the script itself would have stopped with a traceback.
 *   4. Filters (not in the script) select the events replayed: ts_ms in
 *      [since, until) (events without a readable ts_ms are then left out), and
 *      a workflow (the event's own "workflow", else its transaction's).
 */
#ifndef SL_WORKFLOW_REPORT_H
#define SL_WORKFLOW_REPORT_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "base/buf.h"

typedef struct sl_wfreport_opts {
    int64_t outlier_ms;       /* --outlier-ms (the script's default: 15000) */
    int derive_inter_step;    /* --derive-inter-step */
    int has_since, has_until;
    int64_t since_ms, until_ms;
    const char *workflow;     /* only this workflow, or NULL */
} sl_wfreport_opts;

#define SL_WFREPORT_DEFAULT_OUTLIER_MS 15000

typedef struct sl_wfreport sl_wfreport;

/* Replay the warehouse's events.  0 and *out (free with sl_wfreport_free),
 * or -1 with a message in err. */
int sl_wfreport_run(sqlite3 *db, const sl_wfreport_opts *opts, sl_wfreport **out, char *err,
                    size_t errlen);
void sl_wfreport_free(sl_wfreport *r);

/* The script's stdout: summarize() and print()'s newline. */
void sl_wfreport_text(const sl_wfreport *r, sl_buf *out);
/* The same figures as one JSON object (docs/workflows.md). */
void sl_wfreport_json(const sl_wfreport *r, sl_buf *out);
/* --txn-csv and --gap-csv.  0, or -1 with err set: a write error, or (gap
 * CSV) a gap that is not finite, where the script's int() raises; the lines
 * before it are written, as the script leaves them. */
int sl_wfreport_txn_csv(sl_wfreport *r, FILE *f, char *err, size_t errlen);
int sl_wfreport_gap_csv(const sl_wfreport *r, FILE *f, char *err, size_t errlen);

/* Events the script would have raised on, and the seq of the first. */
uint64_t sl_wfreport_unprocessable(const sl_wfreport *r, int64_t *first_seq);

/* ---- the arithmetic, exposed for tests ---- */

/* pct(): 1-based nearest rank, max(1, round-half-even(p / 100.0 * n)). */
size_t sl_wfreport_rank(double p, size_t n);
/* statistics.mean of integers and of finite-or-not floats: the exact mean
 * rounded once to the nearest double (ties to even). */
double sl_wfreport_mean_i64(const int64_t *v, size_t n);
double sl_wfreport_mean_f64(const double *v, size_t n);
/* Sort as Python's sorted() does (stable; -0.0 equals 0.0). */
void sl_wfreport_sort_i64(int64_t *v, size_t n);
void sl_wfreport_sort_f64(double *v, size_t n);
/* statistics.median of sorted values; integers average exactly. */
double sl_wfreport_median_i64(const int64_t *sorted, size_t n);
double sl_wfreport_median_f64(const double *sorted, size_t n);
/* f"{x:.{prec}f}" */
void sl_wfreport_fmt(sl_buf *out, double x, int prec);
/* gap >= threshold, compared exactly as Python compares a float and an int. */
int sl_wfreport_ge(double gap, int64_t threshold);

#endif
