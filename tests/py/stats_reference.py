#!/usr/bin/env python3
"""stats_reference.py -- spanlite's statistical SQL functions against an
independent computation in Python (stdlib only).

What it checks, on random data sets drawn with a fixed seed:
  * percentile(x,p), percentile_cont(x,p/100), median(x) against linear
    interpolation between closest ranks written here by hand (numpy's default
    'linear' method: h = (n-1)*p/100, a[lo] + (h-lo)*(a[lo+1]-a[lo]));
  * percentile_nr(x,p) against pct() imported from the user's
    aggregate_workflows.py ($SPANLITE_SHARED/seeds/), or, when that file is
    absent, a re-implementation of it (said so on stdout);
  * both again as window functions over a sliding frame (xInverse);
  * sketch(): on 100,000 lognormal values, every sketch_quantile() within
    relative error alpha of percentile_cont(x, q) (linear interpolation, the
    bound of sketch_bound()); and
    sketch_merge() over 10 partitions byte-identical to one sketch().

How the SQL runs:
  * SPANLITE_EXT set: the loadable extension, entry point
    sqlite3_spanlite_init, in this process.  Python's sqlite3 module when it
    was built with extension loading, otherwise libsqlite3 through ctypes
    (the same shared library the module links).  Loading it is itself a check.
  * otherwise SPANLITE set: `$SPANLITE --db FILE sql --format json "..."` on a
    warehouse file into which this script writes its own table.
  * neither: skip (exit 77).
STATS_REFERENCE_MODE=cli forces the second way when both are available.
"""

import ctypes
import ctypes.util
import importlib.util
import json
import math
import os
import random
import sqlite3
import struct
import subprocess
from collections import Counter
import sys
import tempfile

SEED = 20240611
FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        if len(FAILS) <= 30:
            print("FAIL:", what)


def close(a, b, rel=1e-9):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


# ---------------------------------------------------------------------------
# Reference computations
# ---------------------------------------------------------------------------

def ref_linear(vals, p):
    """numpy's 'linear' percentile, p in 0..100; None for no values."""
    a = sorted(vals)
    n = len(a)
    if n == 0:
        return None
    h = (n - 1) * (p / 100.0)
    lo = math.floor(h)
    hi = min(lo + 1, n - 1)
    return a[lo] + (h - lo) * (a[hi] - a[lo])


def sketch_bound(a, q, alpha):
    """(exact, bound) for sketch_quantile(q) of the sorted values a: the
    exact interpolation x at h = (n-1)*q and the error the sketch allows,
    alpha*((1-f)*|a[lo]| + f*|a[hi]|) (alpha*|x| when a[lo], a[hi] have the
    same sign; analysis/sketch.c, Requirement 13)."""
    n = len(a)
    h = q * (n - 1)
    lo = min(math.floor(h), n - 1)
    hi = min(lo + 1, n - 1)
    f = h - lo
    x = a[lo] + (a[hi] - a[lo]) * f if f else a[lo]
    return x, alpha * ((1 - f) * abs(a[lo]) + f * abs(a[hi])) * (1 + 1e-9) + 1e-300


def load_pct():
    shared = os.environ.get("SPANLITE_SHARED")
    path = os.path.join(shared, "seeds", "aggregate_workflows.py") if shared else None
    if path and os.path.isfile(path):
        spec = importlib.util.spec_from_file_location("aggregate_workflows", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        print("pct() imported from", path)
        return mod.pct

    def pct(vals, p):  # re-implementation of aggregate_workflows.pct
        if not vals:
            return 0.0
        arr = sorted(vals)
        k = max(1, int(round(p / 100.0 * len(arr))))
        return float(arr[k - 1])

    print("aggregate_workflows.py not found: using a re-implementation of its pct()")
    return pct


# ---------------------------------------------------------------------------
# Ways of running SQL: each returns rows as lists of Python values
# ---------------------------------------------------------------------------

class CtypesSQLite:
    """Just enough of the SQLite C API through ctypes to load an extension,
    for a Python whose sqlite3 module was built without extension loading."""

    def __init__(self, path, ext):
        name = ctypes.util.find_library("sqlite3")
        if not name:
            raise RuntimeError("libsqlite3 not found")
        lib = ctypes.CDLL(name)
        vp, cp, ci = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
        lib.sqlite3_open_v2.argtypes = [cp, ctypes.POINTER(vp), ci, cp]
        lib.sqlite3_enable_load_extension.argtypes = [vp, ci]
        lib.sqlite3_load_extension.argtypes = [vp, cp, cp, ctypes.POINTER(vp)]
        lib.sqlite3_prepare_v2.argtypes = [vp, cp, ci, ctypes.POINTER(vp), ctypes.POINTER(cp)]
        lib.sqlite3_step.argtypes = [vp]
        lib.sqlite3_finalize.argtypes = [vp]
        lib.sqlite3_column_count.argtypes = [vp]
        lib.sqlite3_column_type.argtypes = [vp, ci]
        lib.sqlite3_column_int64.argtypes = [vp, ci]
        lib.sqlite3_column_int64.restype = ctypes.c_int64
        lib.sqlite3_column_double.argtypes = [vp, ci]
        lib.sqlite3_column_double.restype = ctypes.c_double
        lib.sqlite3_column_blob.argtypes = [vp, ci]
        lib.sqlite3_column_blob.restype = vp
        lib.sqlite3_column_bytes.argtypes = [vp, ci]
        lib.sqlite3_errmsg.argtypes = [vp]
        lib.sqlite3_errmsg.restype = cp
        lib.sqlite3_free.argtypes = [vp]
        lib.sqlite3_close.argtypes = [vp]
        self.lib = lib
        self.db = vp()
        if lib.sqlite3_open_v2(path.encode(), ctypes.byref(self.db), 1, None) != 0:  # READONLY
            raise RuntimeError("cannot open " + path)
        lib.sqlite3_enable_load_extension(self.db, 1)
        err = vp()
        rc = lib.sqlite3_load_extension(self.db, ext.encode(), b"sqlite3_spanlite_init", ctypes.byref(err))
        if rc != 0:
            msg = ctypes.cast(err, cp).value if err.value else b"?"
            lib.sqlite3_free(err)
            raise RuntimeError("load_extension failed: " + msg.decode())

    def query(self, sql):
        lib = self.lib
        st = ctypes.c_void_p()
        if lib.sqlite3_prepare_v2(self.db, sql.encode(), -1, ctypes.byref(st), None) != 0:
            raise RuntimeError(lib.sqlite3_errmsg(self.db).decode() + ": " + sql)
        rows = []
        try:
            while True:
                rc = lib.sqlite3_step(st)
                if rc == 101:  # SQLITE_DONE
                    break
                if rc != 100:  # SQLITE_ROW
                    raise RuntimeError(lib.sqlite3_errmsg(self.db).decode() + ": " + sql)
                rows.append([self._column(st, i) for i in range(lib.sqlite3_column_count(st))])
        finally:
            lib.sqlite3_finalize(st)
        return rows

    def _column(self, st, i):
        lib = self.lib
        t = lib.sqlite3_column_type(st, i)
        if t == 1:
            return lib.sqlite3_column_int64(st, i)
        if t == 2:
            return lib.sqlite3_column_double(st, i)
        if t == 5:
            return None
        p = lib.sqlite3_column_blob(st, i)
        data = ctypes.string_at(p, lib.sqlite3_column_bytes(st, i)) if p else b""
        return data.decode() if t == 3 else data

    def close(self):
        self.lib.sqlite3_close(self.db)


class ModuleSQLite:
    def __init__(self, path, ext):
        self.con = sqlite3.connect(path)
        self.con.enable_load_extension(True)
        self.con.load_extension(ext, entrypoint="sqlite3_spanlite_init") if sys.version_info >= (3, 12) \
            else self.con.load_extension(ext)
        self.con.enable_load_extension(False)

    def query(self, sql):
        return [list(r) for r in self.con.execute(sql)]

    def close(self):
        self.con.close()


def rows_from_json(text):
    """Rows from `spanlite sql --format json`: an array of objects keyed by
    column name.  Objects are read as lists of their values, in order, so
    duplicate column names cannot hide a column."""
    text = text.strip()
    if not text:
        return []
    as_list = lambda pairs: [v for _, v in pairs]
    try:
        doc = json.loads(text, object_pairs_hook=as_list)
        return doc if not doc or isinstance(doc[0], list) else [doc]
    except ValueError:  # one object per line
        return [json.loads(line, object_pairs_hook=as_list) for line in text.splitlines() if line.strip()]


class CliSQLite:
    def __init__(self, path, exe):
        self.path, self.exe = path, exe

    def query(self, sql):
        r = subprocess.run([self.exe, "--db", self.path, "sql", "--format", "json", sql],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("spanlite sql failed (%d): %s: %s" % (r.returncode, r.stderr.strip(), sql))
        return rows_from_json(r.stdout)

    def close(self):
        pass


def num(v):
    return None if v is None else float(v)


# ---------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------

def make_sets(rng):
    """Data sets: list of value lists (ints and floats, ties, negatives)."""
    sets = []
    for n in (1, 2, 3, 4, 5, 7, 10, 16, 33, 100, 1000, 4999):
        sets.append([rng.randint(0, 100) for _ in range(n)])                  # many ties
        sets.append([rng.lognormvariate(13.0, 1.5) for _ in range(n)])        # durations
        sets.append([rng.gauss(0.0, 50.0) for _ in range(n)])                 # both signs
        sets.append([rng.randint(1, 10**12) for _ in range(n)])               # ns integers
    return sets


def write_data(path, sets, sk_vals, win_vals):
    con = sqlite3.connect(path)
    with con:
        con.execute("DROP TABLE IF EXISTS stats_data")
        con.execute("DROP TABLE IF EXISTS stats_sketch")
        con.execute("DROP TABLE IF EXISTS stats_window")
        con.execute("CREATE TABLE stats_data(set_id INTEGER, x)")
        con.execute("CREATE TABLE stats_sketch(i INTEGER PRIMARY KEY, part INTEGER, slice INTEGER, x REAL)")
        con.execute("CREATE TABLE stats_window(i INTEGER PRIMARY KEY, x)")
        for sid, vals in enumerate(sets):
            con.executemany("INSERT INTO stats_data VALUES (?, ?)", [(sid, v) for v in vals])
            con.executemany("INSERT INTO stats_data VALUES (?, NULL)", [(sid,)] * (sid % 3))
        con.execute("INSERT INTO stats_data VALUES (?, NULL)", (len(sets),))  # a set of NULLs only
        n = len(sk_vals)
        con.executemany("INSERT INTO stats_sketch VALUES (?, ?, ?, ?)",
                        [(i, i % 10, i * 10 // n, v) for i, v in enumerate(sk_vals)])
        con.executemany("INSERT INTO stats_window VALUES (?, ?)", list(enumerate(win_vals)))
    con.close()


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

PS = [0, 0.1, 1, 5, 10, 12.5, 15, 20, 25, 30, 33.3, 35, 45, 50, 55, 65, 66.7, 70, 75, 85, 90, 95,
      99, 99.9, 100]


def check_exact(db, sets, pct):
    for p in PS:
        rows = db.query("SELECT set_id, percentile(x, %r), percentile_nr(x, %r), percentile_cont(x, %r),"
                        " median(x) FROM stats_data GROUP BY set_id ORDER BY set_id" % (p, p, p / 100.0))
        check(len(rows) == len(sets) + 1, "p=%r: %d groups, wanted %d" % (p, len(rows), len(sets) + 1))
        for sid, got_lin, got_nr, got_cont, got_med in rows:
            sid = int(sid)
            vals = sets[sid] if sid < len(sets) else []
            want_lin = ref_linear(vals, p)
            want_nr = pct(vals, p) if vals else None  # NULL in SQL where pct() says 0.0
            check(close(num(got_lin), want_lin), "percentile set %d p=%r: %r vs %r" % (sid, p, got_lin, want_lin))
            check(close(num(got_cont), want_lin), "percentile_cont set %d p=%r: %r vs %r" % (sid, p, got_cont, want_lin))
            check(close(num(got_nr), want_nr, 1e-12), "percentile_nr set %d p=%r: %r vs %r" % (sid, p, got_nr, want_nr))
            check(close(num(got_med), ref_linear(vals, 50)), "median set %d: %r" % (sid, got_med))


def check_window(db, win_vals, pct):
    frame = 25
    rows = db.query("SELECT i, percentile(x, 90) OVER w, percentile_nr(x, 90) OVER w, median(x) OVER w"
                    " FROM stats_window WINDOW w AS (ORDER BY i ROWS BETWEEN %d PRECEDING AND 3 FOLLOWING)"
                    " ORDER BY i" % frame)
    check(len(rows) == len(win_vals), "window: %d rows" % len(rows))
    for i, got_lin, got_nr, got_med in rows:
        i = int(i)
        vals = [v for v in win_vals[max(0, i - frame):i + 4] if v is not None]
        check(close(num(got_lin), ref_linear(vals, 90)), "window percentile row %d: %r" % (i, got_lin))
        check(close(num(got_nr), pct(vals, 90) if vals else None, 1e-12), "window percentile_nr row %d: %r" % (i, got_nr))
        check(close(num(got_med), ref_linear(vals, 50)), "window median row %d: %r" % (i, got_med))


QS = [0, 0.0001, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.995, 0.999, 0.9999, 1]


def check_sketch(db, sk_vals):
    n = len(sk_vals)
    a = sorted(sk_vals)
    for alpha in (0.01, 0.05):
        sel = ", ".join("sketch_quantile(b, %r)" % q for q in QS)
        rows = db.query("SELECT sketch_count(b), %s FROM (SELECT sketch(x, %r) AS b FROM stats_sketch)" % (sel, alpha))
        check(int(rows[0][0]) == n, "sketch_count %r" % rows[0][0])
        for q, got in zip(QS, rows[0][1:]):
            v, bound = sketch_bound(a, q, alpha)
            err = abs(float(got) - v) / abs(v)
            check(abs(float(got) - v) <= bound, "sketch alpha %r q %r: %r vs exact %r (rel err %.3g)" % (alpha, q, got, v, err))
    for col in ("part", "slice"):
        rows = db.query("SELECT (SELECT sketch(x) FROM stats_sketch) ="
                        " (SELECT sketch_merge(b) FROM (SELECT sketch(x) AS b FROM stats_sketch GROUP BY %s)),"
                        " (SELECT count(DISTINCT %s) FROM stats_sketch)" % (col, col))
        check(int(rows[0][0]) == 1 and int(rows[0][1]) == 10, "sketch_merge over 10 partitions by %s: %r" % (col, rows))
    # Quantiles of the merge, not only its bytes.
    rows = db.query("SELECT sketch_quantile(sketch_merge(b), 0.99) FROM"
                    " (SELECT sketch(x) AS b FROM stats_sketch GROUP BY slice)")
    v, bound = sketch_bound(a, 0.99, 0.01)
    check(abs(float(rows[0][0]) - v) <= bound, "merged p99 %r vs %r" % (rows[0][0], v))


def decode_sketch(blob):
    """The version-1 encoding as docs/sql.md describes it."""
    magic, version, flags, reserved, alpha, n, zero, vmin, vmax = struct.unpack_from("<4sBBHdQQdd", blob, 0)
    off = 48
    stores = []
    for _ in range(2):
        lo, m = struct.unpack_from("<iI", blob, off)
        off += 8
        counts = {}
        j = 0
        while j < m:
            c, off = read_varint(blob, off)
            run = 1
            if c == 0:
                run, off = read_varint(blob, off)
            if c:
                counts[lo + j] = c
            j += run
        stores.append(counts)
    assert off == len(blob), "trailing bytes"
    return dict(magic=magic, version=version, flags=flags, reserved=reserved, alpha=alpha, n=n,
                zero=zero, min=vmin, max=vmax, neg=stores[0], pos=stores[1])


def read_varint(b, off):
    v = shift = 0
    while True:
        byte = b[off]
        off += 1
        v |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return v, off


def check_sketch_encoding(db, sk_vals, sets):
    """Decode sketch() BLOBs here and compare every bucket with DDSketch's
    mapping computed in Python: bucket ceil(log|x| / log((1+a)/(1-a)))."""
    sid = max((i for i in range(len(sets)) if i % 4 == 2), key=lambda i: len(sets[i]))
    signed = [0.0 if abs(x) < 10 else x for x in sets[sid]]
    cases = [(sk_vals, "SELECT hex(sketch(x)) FROM stats_sketch", 0.01),
             (sk_vals, "SELECT hex(sketch(x, 0.05)) FROM stats_sketch", 0.05),
             (signed, "SELECT hex(sketch(CASE WHEN abs(x) < 10 THEN 0 ELSE x END)) FROM stats_data"
                      " WHERE set_id = %d" % sid, 0.01)]
    for vals, sql, alpha in cases:
        d = decode_sketch(bytes.fromhex(db.query(sql)[0][0]))
        ln_gamma = math.log1p(2 * alpha / (1 - alpha))
        want_pos = Counter(math.ceil(math.log(v) / ln_gamma) for v in vals if v > 0)
        want_neg = Counter(math.ceil(math.log(-v) / ln_gamma) for v in vals if v < 0)
        head = (d["magic"], d["version"], d["flags"], d["reserved"], d["alpha"], d["n"], d["zero"], d["min"], d["max"])
        want_head = (b"SLQS", 1, 0, 0, alpha, len(vals), sum(1 for v in vals if v == 0), min(vals), max(vals))
        check(head == want_head, "sketch header %r, wanted %r" % (head, want_head))
        check(d["pos"] == dict(want_pos), "positive buckets differ from Python's mapping (%s)" % sql)
        check(d["neg"] == dict(want_neg), "negative buckets differ from Python's mapping (%s)" % sql)


def check_sketch_collapsed(db, sk_vals):
    """alpha 0.0005: 2048 buckets span only e^(2048*log(gamma)) ~ 7.8x, so the
    positive store collapses (flag 2).  Above the lowest kept bucket the
    guarantee holds; below it every value is estimated by that bucket, i.e.
    over-estimated, never under."""
    alpha = 0.0005
    n = len(sk_vals)
    a = sorted(sk_vals)
    ln_gamma = math.log1p(2 * alpha / (1 - alpha))
    floor_idx = math.ceil(math.log(a[-1]) / ln_gamma) - 2047
    kept_from = math.exp(floor_idx * ln_gamma)  # upper edge of the lowest kept bucket
    top = sum(1 for v in a if v > kept_from)
    qs = QS + [(n - 1 - k) / (n - 1) for k in range(1, top, max(1, top // 8))]
    sel = ", ".join("sketch_quantile(b, %r)" % q for q in qs)
    rows = db.query("SELECT hex(substr(b, 6, 1)), sketch_count(b), %s FROM"
                    " (SELECT sketch(x, %r) AS b FROM stats_sketch)" % (sel, alpha))
    flags, cnt = rows[0][0], int(rows[0][1])
    check(flags == "02" and cnt == n, "collapsed sketch flags %r count %r" % (flags, cnt))
    above = 0
    for q, got in zip(qs, rows[0][2:]):
        v, bound = sketch_bound(a, q, alpha)
        got = float(got)
        if q in (0, 1) or a[math.floor(q * (n - 1))] > kept_from * (1 + 1e-9):
            above += q not in (0, 1)
            check(abs(got - v) <= bound, "collapsed sketch q %r: %r vs %r" % (q, got, v))
        else:
            check(got >= v * (1 - alpha), "collapsed range q %r: %r under-estimates %r" % (q, got, v))
    check(above >= 3, "collapsed sketch: only %d quantiles above the collapsed range" % above)
    rows = db.query("SELECT (SELECT sketch(x, %r) FROM stats_sketch) = (SELECT sketch_merge(b) FROM"
                    " (SELECT sketch(x, %r) AS b FROM stats_sketch GROUP BY part))" % (alpha, alpha))
    check(int(rows[0][0]) == 1, "collapsed sketch_merge over 10 partitions differs from one sketch")


def check_sketch_signed(db, sets):
    """Zeros and both signs: the largest gauss set, |x| < 10 made 0."""
    sid = max((i for i in range(len(sets)) if i % 4 == 2), key=lambda i: len(sets[i]))
    vals = sorted(0.0 if abs(x) < 10 else x for x in sets[sid])
    n = len(vals)
    sel = ", ".join("sketch_quantile(b, %r)" % q for q in QS)
    rows = db.query("SELECT sketch_count(b), %s FROM (SELECT sketch(CASE WHEN abs(x) < 10 THEN 0 ELSE x END) AS b"
                    " FROM stats_data WHERE set_id = %d)" % (sel, sid))
    check(int(rows[0][0]) == n, "signed sketch_count %r vs %d" % (rows[0][0], n))
    for q, got in zip(QS, rows[0][1:]):
        v, bound = sketch_bound(vals, q, 0.01)
        check(abs(float(got) - v) <= bound, "signed sketch q %r: %r vs %r" % (q, got, v))


def choose_mode():
    ext = os.environ.get("SPANLITE_EXT")
    exe = os.environ.get("SPANLITE")
    if ext and os.environ.get("STATS_REFERENCE_MODE") != "cli":
        if not os.path.isfile(ext):
            print("FAIL: SPANLITE_EXT=%s does not exist" % ext)
            sys.exit(1)
        return "ext", ext
    if exe:
        return "cli", exe
    print("SKIP: neither SPANLITE_EXT nor SPANLITE is set")
    sys.exit(77)


def open_runner(mode, arg, path):
    if mode == "cli":
        print("running through `%s sql`" % arg)
        return CliSQLite(path, arg)
    if hasattr(sqlite3.Connection, "enable_load_extension"):
        print("running through the extension, loaded by Python's sqlite3 module")
        return ModuleSQLite(path, arg)
    print("running through the extension, loaded with ctypes (this Python's sqlite3 module cannot load extensions)")
    return CtypesSQLite(path, arg)


def main():
    mode, arg = choose_mode()
    rng = random.Random(SEED)
    pct = load_pct()
    sets = make_sets(rng)
    sk_vals = [rng.lognormvariate(math.log(2e6), 1.8) for _ in range(100000)]
    win_vals = [None if rng.random() < 0.05 else rng.choice([rng.randint(0, 20), rng.uniform(-5, 500)])
                for _ in range(600)]

    tmproot = os.environ.get("TMPROOT") or None
    with tempfile.TemporaryDirectory(dir=tmproot, prefix="stats_ref.") as tmp:
        path = os.path.join(tmp, "stats.db")
        if mode == "cli":
            # A warehouse first, in case `sql` insists on one; our tables go in beside.
            r = subprocess.run([arg, "--db", path, "init"], capture_output=True, text=True, timeout=60)
            if r.returncode != 0:
                print("note: `spanlite init` failed (%s); using a plain SQLite file" % r.stderr.strip())
        write_data(path, sets, sk_vals, win_vals)
        db = open_runner(mode, arg, path)
        try:
            check(num(db.query("SELECT percentile(1, 50)")[0][0]) == 1.0, "functions registered")
            check_exact(db, sets, pct)
            check_window(db, win_vals, pct)
            check_sketch(db, sk_vals)
            check_sketch_encoding(db, sk_vals, sets)
            check_sketch_collapsed(db, sk_vals)
            check_sketch_signed(db, sets)
        finally:
            db.close()

    if FAILS:
        print("%d check(s) failed" % len(FAILS))
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
