#!/usr/bin/env python3
"""rollup_quantiles.py -- property test: quantiles read from merged rollup
sketches equal the exact percentiles within the sketch's stated bound, for
every group size from 1 to 10,000 and several distributions.

Random groups (fixed seed) of sizes 1, 2, 3, ... up to 10,000, drawn from
uniform, lognormal, bimodal and constant distributions of durations (ns,
integers >= 0), each spread over random "hours" as the rollups spread spans.
Per group and quantile q:

    got   = sketch_quantile(sketch_merge(<one sketch() per hour>), q)
    exact = linear interpolation between the closest ranks, computed here
            (and percentile(x, 100q) in SQL must equal it)

The bound (analysis/sketch.c, Requirement 13): with h = q*(n-1), i =
floor(h), f = h-i, the sketch interpolates between its estimates e[i] and
e[i+1], each within alpha of the true v[i], v[i+1] (the extremes exactly), so

    |got - exact| <= (1-f)*alpha*v[i] + f*alpha*v[i+1] = alpha*exact

since durations are >= 0.  alpha = 0.01, the rollups' accuracy.  The check
allows 1e-9 relative more for floating-point rounding, nothing else.

SQL runs as in stats_reference.py: the loadable extension ($SPANLITE_EXT) or
`$SPANLITE sql` on a file; skip (77) without either.
"""

import math
import os
import random
import sqlite3
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import stats_reference as sr  # noqa: E402  (its SQL runners)

SEED = 20261208
ALPHA = 0.01
QS = [0, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 1]
SIZES = [1, 1, 2, 2, 2, 3, 4, 5, 7, 10, 13, 20, 31, 50, 99, 100, 101, 257, 1000, 3001, 10000]


def draw(rng, dist, n):
    if dist == "uniform":
        return [rng.randint(1000, 10**9) for _ in range(n)]
    if dist == "lognormal":
        return [max(1, int(rng.lognormvariate(math.log(2e6), 1.5))) for _ in range(n)]
    if dist == "bimodal":  # fast cache hits and slow misses, three orders apart
        return [max(1, int(rng.gauss(2e5, 2e4) if rng.random() < 0.7 else rng.gauss(3e8, 5e7))) for _ in range(n)]
    if dist == "constant":
        c = rng.choice([0, 1, 12345, 10**9])
        return [c] * n
    raise ValueError(dist)


def exact(a, q):
    """(value, i, f) of linear interpolation at h = q*(n-1) in sorted a."""
    n = len(a)
    h = q * (n - 1)
    i = min(math.floor(h), n - 1)
    f = h - i
    j = min(i + 1, n - 1)
    return (a[i] + (a[j] - a[i]) * f if f else float(a[i])), i, f


def main():
    mode, arg = sr.choose_mode()
    rng = random.Random(SEED)
    groups = []  # (gid, dist, values, hours)
    for dist in ("uniform", "lognormal", "bimodal", "constant"):
        for n in SIZES + [rng.randint(1, 10000) for _ in range(4)]:
            groups.append((len(groups), dist, draw(rng, dist, n), rng.randint(1, 6)))
    print("%d groups, %d values" % (len(groups), sum(len(g[2]) for g in groups)))

    fails = []
    tmproot = os.environ.get("TMPROOT") or None
    with tempfile.TemporaryDirectory(dir=tmproot, prefix="rollup_q.") as tmp:
        path = os.path.join(tmp, "q.db")
        if mode == "cli":
            subprocess.run([arg, "--db", path, "init"], capture_output=True, timeout=60)
        con = sqlite3.connect(path)
        with con:
            con.execute("CREATE TABLE rq(gid INTEGER, hour INTEGER, x INTEGER)")
            for gid, _, vals, hours in groups:
                con.executemany("INSERT INTO rq VALUES (?, ?, ?)", [(gid, rng.randrange(hours), v) for v in vals])
        con.close()
        db = sr.open_runner(mode, arg, path)
        try:
            sk = ", ".join("sketch_quantile(sketch_merge(b), %r)" % q for q in QS)
            got_rows = db.query("SELECT gid, sketch_count(sketch_merge(b)), %s FROM"
                                " (SELECT gid, hour, sketch(x) AS b FROM rq GROUP BY gid, hour)"
                                " GROUP BY gid ORDER BY gid" % sk)
            pc = ", ".join("percentile(x, %r)" % (100 * q) for q in QS)
            pc_rows = db.query("SELECT gid, %s FROM rq GROUP BY gid ORDER BY gid" % pc)
        finally:
            db.close()

    checked = 0
    for (gid, dist, vals, hours), grow, prow in zip(groups, got_rows, pc_rows):
        a = sorted(vals)
        n = len(a)
        if int(grow[0]) != gid or int(grow[1]) != n or int(prow[0]) != gid:
            fails.append("group %d: rows %r / %r" % (gid, grow[:2], prow[:1]))
            continue
        for q, got, pct in zip(QS, grow[2:], prow[1:]):
            want, i, f = exact(a, q)
            checked += 1
            if not sr.close(float(pct), want, 1e-12):
                fails.append("%s n=%d q=%r: percentile() %r, exact %r" % (dist, n, q, pct, want))
            bound = ALPHA * ((1 - f) * a[i] + f * a[min(i + 1, n - 1)]) * (1 + 1e-9)
            if abs(float(got) - want) > bound:
                fails.append("%s n=%d hours=%d q=%r: sketch %r, exact %r (bound %.6g, off %.6g)"
                             % (dist, n, hours, q, got, want, bound, abs(float(got) - want)))
    for f in fails[:30]:
        print("FAIL:", f)
    if fails:
        print("%d of %d checks failed" % (len(fails), checked))
        return 1
    print("all %d checks passed" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
