#!/usr/bin/env python3
"""workflow_report.py -- `spanlite report workflows` against aggregate_workflows.py.

The reference is the user's script itself ($SPANLITE_SHARED/seeds/
aggregate_workflows.py; the test skips with 77 when it is absent).  Seeded
generators (stdlib only) write event files that exercise every rule of the
script; each file is imported with `spanlite import --format workflow` and
the report, with the same options, must equal the script's stdout and CSV
files byte for byte.  Also: re-imports add nothing, a grown file adds only
its new lines, rejected lines are kept out, events the script would crash on
are counted under their type only, and the filters equal the script run on
a filtered file.
"""
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile

SPANLITE = os.environ.get("SPANLITE")
SHARED = os.environ.get("SPANLITE_SHARED", "")
SCRIPT = os.path.join(SHARED, "seeds", "aggregate_workflows.py")

FAILS = []
PASSES = 0


def check(cond, what):
    global PASSES
    if cond:
        PASSES += 1
    else:
        FAILS.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(args, stdin=None):
    p = subprocess.run(args, input=stdin, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def dumps(ev, compact=False):
    if compact:
        return json.dumps(ev, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(ev, ensure_ascii=False)


# ---------------------------------------------------------------------------
# Event generators.  Each returns the file's text (lines as the script reads
# them); none of them holds an event the script would crash on unless the
# name says so.
# ---------------------------------------------------------------------------

def simulate(rng, samples, steps=5, outlier_prob=0.05, workflows=None, start=1_700_000_000_000,
             failure_prob=0.0, concurrency=6):
    """Interleaved transactions shaped like simulate_workflows.py's."""
    txns = []
    t0 = start
    for i in range(samples):
        tid = "txn_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
        wf = rng.choice(workflows) if workflows else None
        evs = []
        t = t0 + rng.randint(0, 5000)
        extra = {"workflow": wf} if wf else {}
        evs.append((t, {"type": "transaction_open", "txn_id": tid, "ts_ms": t,
                        "meta": {"timezone": "Europe/Berlin", "sim_version": "1.0.0"}, **extra}))
        for s in range(1, steps + 1):
            pre = rng.randint(100, 2000)
            t += pre
            evs.append((t, {"type": "step_open", "txn_id": tid, "step": s, "ts_ms": t,
                            "pre_delay_ms": pre, **extra}))
            t += rng.choice((0, 1, 2))
            evs.append((t, {"type": "step_done", "txn_id": tid, "step": s, "ts_ms": t, **extra}))
            if s < steps:
                inter = rng.randint(200, 1200)
                out = rng.random() < outlier_prob
                if out:
                    inter += 15000
                evs.append((t, {"type": "inter_step_wait", "txn_id": tid, "from_step": s,
                                "to_step": s + 1, "planned_wait_ms": inter,
                                "outlier_injected": out, "ts_ms": t, **extra}))
                t += inter
        if rng.random() >= failure_prob:
            evs.append((t, {"type": "transaction_close", "txn_id": tid, "ts_ms": t,
                            "duration_ms": t - evs[0][0], "steps": steps, **extra}))
        txns.append(evs)
        t0 += rng.randint(0, 3000) // max(1, concurrency // 3)
    allev = [e for evs in txns for e in evs]
    allev.sort(key=lambda x: x[0])  # stable: a transaction's own order is kept
    return [ev for _, ev in allev]


def tricky_values(rng):
    """Lines for every value rule: ts_ms and planned_wait_ms spellings, odd
    types, numeric and repeated txn ids, junk, blanks, odd whitespace and
    line ends.  Returned as raw text lines (with their own line ends)."""
    lines = []
    base = 1_700_000_100_000

    def add(ev, end="\n", compact=False, pad=("", "")):
        lines.append(pad[0] + dumps(ev, compact) + pad[1] + end)

    ts_forms = [
        lambda t: t, lambda t: str(t), lambda t: f" {t} ", lambda t: f"+{t}",
        lambda t: f"{t:_}", lambda t: t + 0.75, lambda t: float(t), lambda t: str(t) + "\t",
        lambda t: "\u0661\u0667" + str(t)[2:],  # Arabic-Indic digits read by int()
    ]
    planned_forms = [
        lambda v: v, lambda v: str(v), lambda v: v + 0.5, lambda v: f" {v}.25 ",
        lambda v: f"{v}e0", lambda v: True, lambda v: f"{v:_}", lambda v: -v,
        lambda v: None, lambda v: 0, lambda v: "-0", lambda v: -0.0,
    ]
    for i in range(120):
        tid = f"t{i % 37}"
        t = base + i * 1000
        form = ts_forms[i % len(ts_forms)]
        kind = i % 6
        if kind == 0:
            add({"type": "transaction_open", "txn_id": tid, "ts_ms": form(t)})
        elif kind == 1:
            add({"type": "transaction_close", "txn_id": tid, "ts_ms": form(t + rng.randint(0, 9000))})
        elif kind == 2:
            v = rng.randint(100, 30000)
            ev = {"type": "inter_step_wait", "txn_id": tid, "ts_ms": t,
                  "planned_wait_ms": planned_forms[i % len(planned_forms)](v)}
            o = [True, False, 1, 0, "yes", "", None, [], {"a": 1}, 0.0][i % 10]
            if i % 11:
                ev["outlier_injected"] = o
            add(ev)
        elif kind == 3:
            add({"type": "step_done", "txn_id": tid, "ts_ms": form(t), "step": i % 5})
        elif kind == 4:
            add({"type": "step_open", "txn_id": tid, "ts_ms": form(t + 5), "step": i % 5})
        else:
            add({"type": "inter_step_wait", "txn_id": tid, "ts_ms": t})  # no planned: no gap
    # types the script only counts
    for i, ty in enumerate(["heartbeat", "TRANSACTION_OPEN", None, 42, 1.5, True, ["a", 'b"'],
                            {"k": [1, None]}, "", "zzz", "transaction_opened", 1e16, "é", "\u2028x"]):
        ev = {"txn_id": f"u{i}", "ts_ms": base + i}
        if ty is not None or i % 2:
            ev["type"] = ty
        add(ev)
    # numeric txn ids: 5, 5.0 and true are one key to a dict; "5" is another
    add({"type": "transaction_open", "txn_id": 5, "ts_ms": base})
    add({"type": "transaction_close", "txn_id": 5.0, "ts_ms": base + 777})
    add({"type": "transaction_open", "txn_id": "5", "ts_ms": base + 1})
    add({"type": "transaction_close", "txn_id": "5", "ts_ms": base + 50})
    add({"type": "transaction_open", "txn_id": True, "ts_ms": base + 3})
    add({"type": "transaction_close", "txn_id": 1, "ts_ms": base + 90})
    add({"type": "transaction_open", "txn_id": None, "ts_ms": base + 4})
    add({"type": "transaction_close", "txn_id": None, "ts_ms": base + 44})
    add({"type": "transaction_open", "txn_id": 1e20, "ts_ms": base + 4})
    add({"type": "transaction_close", "txn_id": 100000000000000000000, "ts_ms": base + 45})
    add({"type": "transaction_open", "txn_id": -0.0, "ts_ms": base + 4})
    add({"type": "transaction_close", "txn_id": 0, "ts_ms": base + 46})
    lines.append('{"type": "transaction_open", "txn_id": NaN, "ts_ms": %d}\n' % (base + 5))
    lines.append('{"type": "transaction_close", "txn_id": NaN, "ts_ms": %d}\n' % (base + 65))
    # reopened and reclosed
    add({"type": "transaction_open", "txn_id": "re", "ts_ms": base})
    add({"type": "transaction_close", "txn_id": "re", "ts_ms": base + 100})
    add({"type": "transaction_open", "txn_id": "re", "ts_ms": base + 10})
    add({"type": "transaction_close", "txn_id": "re", "ts_ms": base + 400})
    add({"type": "transaction_close", "txn_id": "re", "ts_ms": base + 300})
    add({"type": "transaction_close", "txn_id": "never_opened", "ts_ms": base + 300})
    # escapes, duplicate names, unicode ids, big numbers
    lines.append('{"type": "transaction_\\u006fpen", "txn_id": "\\u00e9t\\u00e9", "ts_ms": %d}\n' % base)
    lines.append('{"type": "transaction_close", "txn_id": "\u00e9t\u00e9", "ts_ms": %d}\n' % (base + 1234))
    lines.append('{"type": "step_open", "type": "transaction_open", "txn_id": "dupkey", "ts_ms": 1, "ts_ms": %d}\n' % base)
    lines.append('{"type":"transaction_close","txn_id":"dupkey","ts_ms":%d,"extra":{"deep":[1,2,{"x":null}]}}\n' % (base + 99))
    lines.append('{"type": "inter_step_wait", "txn_id": "big", "ts_ms": %d, "planned_wait_ms": 12345678901234567890}\n' % base)
    lines.append('{"type": "inter_step_wait", "txn_id": "big", "ts_ms": %d, "planned_wait_ms": 1e16}\n' % base)
    lines.append('{"type": "inter_step_wait", "txn_id": "big", "ts_ms": %d, "planned_wait_ms": 1}\n' % base)
    lines.append('{"type": "inter_step_wait", "txn_id": "big", "ts_ms": %d, "planned_wait_ms": -1e16}\n' % base)
    lines.append('{"type": "inter_step_wait", "txn_id": "big", "ts_ms": %d, "planned_wait_ms": 0.1}\n' % base)
    # junk the script skips, blank lines, whitespace, line ends
    for junk in ["not json", "{bad", '{"a":1,}', "[1,2", '{"type": "x"} trailing', "\x0b", "{'a': 1}",
                 '{"a": 01}', '{"a": 1.}', '{"a": "\x01"}', '{"a": "\\x"}', "\ufeff{}", "-NaN", "nul"]:
        lines.append(junk + "\n")
    lines += ["\n", "   \n", "\t\n", "\u3000\n", "\r\n"]
    add({"type": "transaction_open", "txn_id": "ws", "ts_ms": base}, pad=("\u00a0 ", " \u2003"))
    add({"type": "transaction_close", "txn_id": "ws", "ts_ms": base + 5}, end="\r\n", compact=True)
    # a lone \r ends a line in Python's text mode
    lines.append(dumps({"type": "transaction_open", "txn_id": "cr", "ts_ms": base}) + "\r" +
                 dumps({"type": "transaction_close", "txn_id": "cr", "ts_ms": base + 7}) + "\n")
    # identical lines are two events
    same = dumps({"type": "transaction_close", "txn_id": "t3", "ts_ms": base + 500}) + "\n"
    lines += [same, same]
    rng.shuffle(lines)
    return lines


def exact_mean_case():
    """Gaps whose float sum loses the answer; durations with a .x5 mean."""
    evs = []
    for i, v in enumerate([1e16, 1.0, -1e16, 0.1, 0.2, 0.3, 2.5, 2.5]):
        evs.append({"type": "inter_step_wait", "txn_id": "m", "ts_ms": i, "planned_wait_ms": v})
    for i, d in enumerate([0, 0, 0, 1]):  # mean 0.25 -> "0.2" (ties to even)
        evs.append({"type": "transaction_open", "txn_id": f"d{i}", "ts_ms": 1000})
        evs.append({"type": "transaction_close", "txn_id": f"d{i}", "ts_ms": 1000 + d})
    return [dumps(e) + "\n" for e in evs]


def rank_case(n_txn, n_gaps, rng, tie=False):
    """Exactly n_txn closed transactions and n_gaps gaps, so that p/100*n
    lands on .5 for some p (round half to even decides the rank)."""
    evs = []
    durs = [rng.randint(1, 50) for _ in range(n_txn)]
    if tie:
        durs = [rng.choice((500, 700, 700, 900)) for _ in range(n_txn)]
    for i, d in enumerate(durs):
        evs.append({"type": "transaction_open", "txn_id": f"r{i}", "ts_ms": 10 * i})
        evs.append({"type": "transaction_close", "txn_id": f"r{i}", "ts_ms": 10 * i + d})
    for i in range(n_gaps):
        evs.append({"type": "inter_step_wait", "txn_id": "g", "ts_ms": i,
                    "planned_wait_ms": rng.choice([rng.randint(1, 40), rng.randint(1, 40) + 0.5])})
    return [dumps(e) + "\n" for e in evs]


def inf_case():
    """An infinite gap: the text is fine (the gap CSV is where int() raises)."""
    evs = [{"type": "inter_step_wait", "txn_id": "i", "ts_ms": 1, "planned_wait_ms": v}
           for v in (5, "inf", 7, "-infinity", 9)]
    return [dumps(e) + "\n" for e in evs] + ['{"type": "inter_step_wait", "planned_wait_ms": 1e999}\n']


def crashers():
    """Events the script raises on; it would print no report at all."""
    return [
        '{"type": "transaction_open", "ts_ms": 5}\n',                      # KeyError txn_id
        '{"type": "transaction_open", "txn_id": "a"}\n',                    # KeyError ts_ms
        '{"type": "transaction_close", "txn_id": "a", "ts_ms": "soon"}\n',  # ValueError
        '{"type": "transaction_close", "txn_id": ["a"], "ts_ms": 5}\n',     # TypeError: unhashable
        '{"type": "inter_step_wait", "planned_wait_ms": "lots"}\n',         # ValueError
        '{"type": "inter_step_wait", "planned_wait_ms": [1]}\n',            # TypeError
        '{"type": "transaction_open", "txn_id": "a", "ts_ms": 1.5e300}\n',  # beyond int64 (our limit)
    ]


def derive_crashers():
    """Events that raise only with --derive-inter-step."""
    return [
        '{"type": "step_open", "txn_id": "z", "ts_ms": "x"}\n',
        '{"type": "step_done", "ts_ms": 5}\n',
    ]


# ---------------------------------------------------------------------------

class Case:
    def __init__(self, work, name, lines):
        self.name = name
        self.path = os.path.join(work, name + ".jsonl")
        with open(self.path, "w", encoding="utf-8", newline="") as f:
            f.writelines(lines)
        self.db = os.path.join(work, name + ".db")
        self.work = work


def script(path, opts, work, tag, csv=True):
    txn = os.path.join(work, tag + ".py.txn.csv")
    gap = os.path.join(work, tag + ".py.gap.csv")
    extra = ["--txn-csv", txn, "--gap-csv", gap] if csv else []
    rc, out, err = run([sys.executable, SCRIPT, "--file", path, *opts, *extra])
    return rc, out, err, txn, gap


def ours(db, opts, work, tag, csv=True):
    txn = os.path.join(work, tag + ".sl.txn.csv")
    gap = os.path.join(work, tag + ".sl.gap.csv")
    extra = ["--txn-csv", txn, "--gap-csv", gap] if csv else []
    rc, out, err = run([SPANLITE, "--db", db, "report", "workflows", *opts, *extra])
    return rc, out, err, txn, gap


def read(p):
    try:
        with open(p, "rb") as f:
            return f.read()
    except OSError:
        return None


def compare(case, opts, tag, csv=True, filters=()):
    """The script over case.path and our report over case.db, with opts;
    filters are spanlite-only options (case.path then holds what they select)."""
    prc, pout, perr, ptxn, pgap = script(case.path, opts, case.work, tag, csv)
    check(prc == 0, f"{tag}: the script itself failed: {perr.decode()[-300:]}")
    orc, oout, oerr, otxn, ogap = ours(case.db, [*opts, *filters], case.work, tag, csv)
    check(orc == 0, f"{tag}: report exit {orc}: {oerr.decode()[-300:]}")
    check(oout == pout, f"{tag}: text differs\n--- script\n{pout.decode()}\n--- spanlite\n{oout.decode()}")
    if csv:
        check(read(otxn) == read(ptxn), f"{tag}: txn CSV differs")
        check(read(ogap) == read(pgap), f"{tag}: gap CSV differs")
    return pout


def import_file(db, path, fmt="workflow", expect_rc=None, extra=()):
    rc, out, err = run([SPANLITE, "--db", db, "import", "--format", fmt, *extra, path])
    if expect_rc is not None:
        check(rc == expect_rc, f"import {os.path.basename(path)}: exit {rc}, wanted {expect_rc}: "
                               f"{err.decode()[-300:]}")
    return rc, err.decode()


def summary_counts(err):
    """(read, imported, duplicates, rejected) from the import summary line."""
    import re
    m = re.search(r"(\d+) read, (\d+) imported, (\d+) duplicates skipped, (\d+) rejected", err)
    return tuple(int(x) for x in m.groups()) if m else None


OPTION_SETS = [
    [],
    ["--derive-inter-step"],
    ["--outlier-ms", "3000"],
    ["--outlier-ms", "0", "--derive-inter-step"],
    ["--outlier-ms", "-5"],
    ["--outlier-ms", " 1_000"],
    ["--outlier-ms", "1000000000000000"],
]


def main():
    if not SPANLITE:
        print("SPANLITE is not set", file=sys.stderr)
        return 2
    if not os.path.isfile(SCRIPT):
        print("SKIP: aggregate_workflows.py not found under $SPANLITE_SHARED/seeds")
        return 77
    root = os.environ.get("TMPROOT") or tempfile.gettempdir()
    os.makedirs(root, exist_ok=True)
    work = tempfile.mkdtemp(prefix="wfreport.", dir=root)
    rng = random.Random(20240501)

    # 1. Every option set over every scenario.
    cases = [
        Case(work, "sim", [dumps(e) + "\n" for e in simulate(rng, 120, failure_prob=0.1)]),
        Case(work, "tricky", tricky_values(rng)),
        Case(work, "exact", exact_mean_case()),
        Case(work, "rank5", rank_case(5, 10, rng)),
        Case(work, "rank50", rank_case(50, 150, rng)),
        Case(work, "rank150", rank_case(150, 50, rng)),
        Case(work, "ties", rank_case(37, 3, rng, tie=True)),
        Case(work, "empty", ["\n", "junk\n"]),
    ]
    for c in cases:
        import_file(c.db, c.path)
        for i, opts in enumerate(OPTION_SETS):
            compare(c, opts, f"{c.name}.{i}")

    # Infinite gaps: the text matches; the gap CSV stops where int() raises.
    c = Case(work, "inf", inf_case())
    import_file(c.db, c.path, expect_rc=0)
    compare(c, [], "inf", csv=False)
    prc, _, _, _, pgap = script(c.path, [], work, "inf.csv")
    orc, _, _, _, ogap = ours(c.db, [], work, "inf.csv")
    check(prc != 0 and orc == 1, f"inf: the gap CSV must fail in both (script {prc}, ours {orc})")
    check(read(ogap) == read(pgap), "inf: the gap CSV must hold the same lines up to the failure")

    # 2. Re-import adds nothing; the report is unchanged.
    sim = cases[0]
    before = ours(sim.db, [], work, "sim.again")[1]
    rc, err = import_file(sim.db, sim.path, expect_rc=0)
    counts = summary_counts(err)
    check(counts and counts[1] == 0 and counts[2] == counts[0], f"re-import added events: {err}")
    check(ours(sim.db, [], work, "sim.again2")[1] == before, "re-import changed the report")
    # the same events through stdin, gzip-compressed, add nothing either
    gz = os.path.join(work, "sim.jsonl.gz")
    with open(sim.path, "rb") as f, gzip.open(gz, "wb") as g:
        g.write(f.read())
    with open(gz, "rb") as f:
        rc, out, err = run([SPANLITE, "--db", sim.db, "import", "--format", "workflow", "-"], f.read())
    counts = summary_counts(err.decode())
    check(rc == 0 and counts and counts[1] == 0, f"gzip stdin re-import added events: {err.decode()}")

    # 3. A grown file adds only its new lines (also when the cut splits equal lines).
    tricky = cases[1]
    with open(tricky.path, encoding="utf-8", newline="") as f:
        all_lines = f.readlines()
    for cut in (len(all_lines) // 3, len(all_lines) // 2 + 1):
        part = Case(work, f"grow{cut}", all_lines[:cut])
        import_file(part.db, part.path)
        full = Case(work, f"grow{cut}full", all_lines)
        full.db = part.db
        rc, err = import_file(full.db, full.path)
        counts_full = summary_counts(err)
        check(counts_full is not None, "grown import printed no summary")
        compare(full, [], f"grow{cut}")
        compare(full, ["--derive-inter-step"], f"grow{cut}.d")
    # equal lines: importing a file twice as long (the file followed by itself) adds one copy
    doubled = Case(work, "doubled", all_lines + all_lines)
    doubled.db = tricky.db
    rc, err = import_file(doubled.db, doubled.path)
    counts = summary_counts(err)
    first = summary_counts(import_file(os.path.join(work, "fresh.db"), tricky.path)[1])
    check(counts and first and counts[1] == first[1] and counts[2] == first[1],
          f"doubled file: {counts} after {first}")
    compare(doubled, [], "doubled")

    # 4. Lines the script dies on (not an object, not UTF-8) are rejected.
    rej = os.path.join(work, "rejects.txt")
    good = [dumps(e) + "\n" for e in simulate(rng, 10)]
    bad_lines = ["[1, 2]\n", "42\n", '"text"\n', "null\n"]
    mixed = good[:5] + bad_lines + good[5:]
    c = Case(work, "rejects", mixed)
    rc, err = import_file(c.db, c.path, expect_rc=1, extra=("--rejects", rej))
    check(read(rej) == "".join(bad_lines).encode(), "rejected lines must be kept verbatim in --rejects")
    clean = Case(work, "rejects_clean", good)
    clean.db = c.db
    compare(clean, [], "rejects")
    with open(os.path.join(work, "latin1.jsonl"), "wb") as f:
        f.write(b'{"type": "caf\xe9", "txn_id": "x", "ts_ms": 1}\n' + good[0].encode())
    rc, err = import_file(os.path.join(work, "latin1.db"), os.path.join(work, "latin1.jsonl"), expect_rc=1)
    check("UTF-8" in err, f"not-UTF-8 line: {err}")

    # 5. Events the script would crash on: counted under their type only, and said so.
    #    (ts_ms 1.5e300 is ours, not the script's: int() past int64 is our limit.)
    base = [dumps(e) + "\n" for e in simulate(rng, 15)]
    ref = Case(work, "crash_ref", base)
    plain = Case(work, "crash", base[:20] + crashers() + base[20:])
    both = Case(work, "crash_d", base[:20] + crashers() + derive_crashers() + base[20:])
    import_file(plain.db, plain.path, expect_rc=0)
    import_file(both.db, both.path, expect_rc=0)
    for case, opts, counted in ((plain, [], crashers()),
                                (both, [], crashers() + derive_crashers()),
                                (both, ["--derive-inter-step"], crashers() + derive_crashers())):
        _, pout, _, _, _ = script(ref.path, opts, work, "crash_ref", csv=False)
        orc, oout, oerr, _, _ = ours(case.db, opts, work, "crash", csv=False)
        expected = adjust_counts(pout.decode(), counted)
        check(oout.decode() == expected, f"crash {opts}: got\n{oout.decode()}\nwanted\n{expected}")
        n_bad = len(crashers()) + (len(derive_crashers()) if opts else 0)
        check(orc == 0 and f"{n_bad} events" in oerr.decode(),
              f"crash {opts}: wanted a warning about {n_bad} events: {oerr.decode()}")

    # 6. Filters equal the script over the filtered file.
    evs = simulate(rng, 200, workflows=["checkout", "refund", "söhne"])
    for e in evs[::7]:
        e.pop("workflow", None)  # events that name no workflow belong to their txn's
    c = Case(work, "filters", [dumps(e) + "\n" for e in evs])
    import_file(c.db, c.path)
    ts = sorted(e["ts_ms"] for e in evs)
    lo, hi = ts[len(ts) // 4], ts[3 * len(ts) // 4]
    sel = Case(work, "filters_time", [dumps(e) + "\n" for e in evs if lo <= e["ts_ms"] < hi])
    sel.db = c.db
    window = ("--since", str(lo), "--until", str(hi))
    compare(sel, [], "since_until", filters=window)
    compare(sel, ["--derive-inter-step"], "since_until.d", filters=window)
    first_wf = {}
    for e in evs:
        if "workflow" in e:
            first_wf.setdefault(e["txn_id"], e["workflow"])
    for wf in ("refund", "söhne"):
        keep = [e for e in evs if e.get("workflow", first_wf.get(e["txn_id"])) == wf]
        sel = Case(work, "filters_wf", [dumps(e) + "\n" for e in keep])
        sel.db = c.db
        compare(sel, [], f"workflow.{wf}", filters=("--workflow", wf))
    rc, out, err = run([SPANLITE, "--db", c.db, "report", "workflows", "--workflow", "nope"])
    check(rc == 0 and b"Total events: 0\n" in out, "unknown workflow: an empty report")

    # 7. JSON has the same figures.
    rc, out, err = run([SPANLITE, "--db", cases[0].db, "report", "workflows", "--format", "json"])
    check(rc == 0, f"json: exit {rc}")
    j = json.loads(out)
    text = ours(cases[0].db, [], work, "json.text", csv=False)[1].decode()
    check(f"Total events: {j['total_events']}\n" in text, "json: total_events")
    check(f"Transactions closed: {j['transactions']['closed']}\n" in text, "json: closed")
    check(f"  p95:  {j['transactions']['p95_ms']:.1f} ms" in text, "json: p95")
    check(f"  avg:  {j['inter_step_gaps']['avg_ms']:.1f} ms" in text, "json: gap avg")

    # 8. Every stored event comes back whole (workflow_events), in order.
    events = script_events(cases[1].path)
    rc, out, err = run([SPANLITE, "--db", os.path.join(work, "fresh.db"), "sql", "--format", "jsonl",
                        "SELECT seq, body FROM workflow_events ORDER BY seq"])
    check(rc == 0, "workflow_events: " + err.decode()[-300:] +
          " (the view needs sl_workflow_register() on every connection)")
    if rc == 0:
        rows = [json.loads(x) for x in out.decode().split("\n") if x]  # not splitlines: U+2028
        check([r["seq"] for r in rows] == list(range(1, len(events) + 1)), "workflow_events: seq 1..n")
        got = [json.loads(r["body"]) for r in rows]
        want = [nan_to_none(e) for e in events]
        check(got == want, "workflow_events: bodies differ from the events read")

    # 9. Help and usage.
    rc, out, err = run([SPANLITE, "report", "workflows", "--help"])
    check(rc == 0 and b"--derive-inter-step" in out, "report workflows --help")
    rc, out, err = run([SPANLITE, "--db", cases[0].db, "report", "workflows", "--outlier-ms", "1.5"])
    check(rc == 2, "--outlier-ms 1.5 is a usage error, as argparse says")

    print(f"{PASSES} passed, {len(FAILS)} failed")
    return 1 if FAILS else 0


def script_events(path):
    """The events aggregate_workflows.py reads from path, in order."""
    out = []
    with open(path, "r", encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            out.append(ev)
    return out


def nan_to_none(v):
    """NaN is stored as null (SQLite's JSON has no NaN)."""
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, list):
        return [nan_to_none(x) for x in v]
    if isinstance(v, dict):
        return {k: nan_to_none(x) for k, x in v.items()}
    return v


def adjust_counts(text, extra_lines):
    """The script's text over the clean file, with the crashing events added
    to the counts as our report counts them (under their type)."""
    add = {}
    for line in extra_lines:
        ev = json.loads(line)
        key = str(ev.get("type"))
        add[key] = add.get(key, 0) + 1
    lines = text.split("\n")
    out, counts, in_counts = [], {}, False
    for ln in lines:
        if ln.startswith("Total events: "):
            out.append(f"Total events: {int(ln.split(': ')[1]) + sum(add.values())}")
            continue
        if ln == "Event counts:":
            in_counts = True
            out.append(ln)
            continue
        if in_counts:
            if ln.startswith("  "):
                k, v = ln[2:].rsplit(": ", 1)
                counts[k] = int(v)
                continue
            for k, v in add.items():
                counts[k] = counts.get(k, 0) + v
            out += [f"  {k}: {counts[k]}" for k in sorted(counts)]
            in_counts = False
        out.append(ln)
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
