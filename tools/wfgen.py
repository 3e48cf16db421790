#!/usr/bin/env python3
"""wfgen.py -- generate workflow events like simulate_workflows.py does.

Writes JSON Lines in the simulator's exact shape (json.dumps defaults,
ensure_ascii=False): transaction_open (with meta), step_open (step,
pre_delay_ms), step_done, inter_step_wait (from_step, to_step,
planned_wait_ms, outlier_injected), transaction_close (duration_ms, steps).
Time is simulated, not slept: CONCURRENCY transactions run interleaved on a
virtual clock, so output is in ts_ms order like the real simulator's.

  tools/wfgen.py --events 1000000 --seed 1 > events.jsonl
  tools/wfgen.py --samples 100 --failure-prob 0.05 --workflows checkout,refund

Options beyond the simulator: --events N (stop after N events, closing
nothing more), --workflows A,B (add a "workflow" field to every event of a
transaction), --start-ms T (virtual clock start).
"""
import argparse
import heapq
import json
import random
import string
import sys


def rand_id(rng, prefix="txn", n=12):
    s = "".join(rng.choices(string.ascii_lowercase + string.digits, k=n))
    return f"{prefix}_{s}"


def transaction(rng, txn_id, start, a, workflow):
    """Yield (ts_ms, payload) for one transaction; sleeps advance the clock."""
    t = start
    extra = {"workflow": workflow} if workflow else {}
    yield t, {"type": "transaction_open", "txn_id": txn_id, "ts_ms": t,
              "meta": {"timezone": "Europe/Berlin", "sim_version": "1.0.0"}, **extra}
    will_fail = rng.random() < a.failure_prob
    for step in range(1, a.steps + 1):
        pre = rng.randint(a.pre_min, a.pre_max)
        t += pre
        yield t, {"type": "step_open", "txn_id": txn_id, "step": step, "ts_ms": t,
                  "pre_delay_ms": pre, **extra}
        t += rng.choice((0, 0, 1, 2))
        yield t, {"type": "step_done", "txn_id": txn_id, "step": step, "ts_ms": t, **extra}
        if step < a.steps:
            inter = rng.randint(a.inter_min, a.inter_max)
            outlier = rng.random() < a.outlier_prob
            if outlier:
                inter += a.outlier_ms
            yield t, {"type": "inter_step_wait", "txn_id": txn_id, "from_step": step,
                      "to_step": step + 1, "planned_wait_ms": inter,
                      "outlier_injected": outlier, "ts_ms": t, **extra}
            t += inter
    if not will_fail:
        yield t, {"type": "transaction_close", "txn_id": txn_id, "ts_ms": t,
                  "duration_ms": t - start, "steps": a.steps, **extra}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=None, help="transactions (default: enough for --events)")
    p.add_argument("--events", type=int, default=None, help="stop after this many events")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--pre-min", type=int, default=100)
    p.add_argument("--pre-max", type=int, default=2000)
    p.add_argument("--inter-min", type=int, default=200)
    p.add_argument("--inter-max", type=int, default=1200)
    p.add_argument("--outlier-ms", type=int, default=15000)
    p.add_argument("--outlier-prob", type=float, default=0.01)
    p.add_argument("--failure-prob", type=float, default=0.0)
    p.add_argument("--concurrency", type=int, default=20)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--start-ms", type=int, default=1700000000000)
    p.add_argument("--workflows", type=str, default="")
    a = p.parse_args()
    if a.samples is None and a.events is None:
        a.samples = 100
    rng = random.Random(a.seed)
    workflows = [w for w in a.workflows.split(",") if w]
    out = sys.stdout
    write = out.write
    dumps = json.dumps
    # Heap of (next_ts, seq, generator, payload): the earliest pending event first.
    heap = []
    seq = 0
    started = 0
    emitted = 0

    def start_one(at):
        nonlocal seq, started
        wf = rng.choice(workflows) if workflows else None
        g = transaction(rng, rand_id(rng), at, a, wf)
        ts, ev = next(g)
        heapq.heappush(heap, (ts, seq, g, ev))
        seq += 1
        started += 1

    def more():
        return a.samples is None or started < a.samples

    for _ in range(a.concurrency):
        if more():
            start_one(a.start_ms + rng.randint(0, 50))
    while heap:
        ts, _, g, ev = heapq.heappop(heap)
        write(dumps(ev, ensure_ascii=False) + "\n")
        emitted += 1
        if a.events is not None and emitted >= a.events:
            break
        nxt = next(g, None)
        if nxt is not None:
            heapq.heappush(heap, (nxt[0], seq, g, nxt[1]))
            seq += 1
        elif more():
            start_one(ts + rng.randint(0, 20))


if __name__ == "__main__":
    main()
