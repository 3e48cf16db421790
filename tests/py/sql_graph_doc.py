#!/usr/bin/env python3
"""sql_graph_doc.py -- every example of docs/sql-graph.md gives the output
the page shows.

The page's first code block of JSON lines is imported into a fresh
warehouse, with tests/data/workflow/two_txns.jsonl as workflow events, as
the page says.  Then each ```sql block that is followed by a plain ```
block is run with `spanlite sql --format csv` and its output compared with
that block, line by line.  A ```sql block marked by an HTML comment
`<!-- sqlite3 -->` on the line before it runs in the sqlite3 shell with the
loadable extension instead (skipped, and said so, without SPANLITE_EXT or
a sqlite3 binary).  A block whose output differs, or a page with fewer
examples than the checks below expect, fails the test.

Environment: SPANLITE (the CLI), SPANLITE_SRC (the source tree), TMPROOT,
SPANLITE_EXT (optional).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

MIN_EXAMPLES = 10  # the page has more; fewer means the parser lost some


def blocks(text):
    """(info, body, marker) of each fenced block; marker is the line before."""
    out = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^```(\w*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i + 1
        while j < len(lines) and lines[j].strip() != "```":
            j += 1
        prev = lines[i - 1].strip() if i > 0 else ""
        out.append((m.group(1), "\n".join(lines[i + 1:j]), prev, i, j))
        i = j + 1
    return out


def main():
    spanlite = os.environ.get("SPANLITE")
    src = os.environ.get("SPANLITE_SRC")
    if not spanlite or not src:
        print("SKIP: SPANLITE and SPANLITE_SRC must be set")
        return 77
    ext = os.environ.get("SPANLITE_EXT")
    shell = shutil.which("sqlite3")
    doc = open(os.path.join(src, "docs", "sql-graph.md"), encoding="utf-8").read()
    bl = blocks(doc)
    work = tempfile.mkdtemp(dir=os.environ.get("TMPROOT"))
    db = os.path.join(work, "demo.db")
    try:
        data = next(b for b in bl if b[0] == "" and b[1].startswith('{"trace_id"'))
        spans = os.path.join(work, "spans.jsonl")
        with open(spans, "w") as f:
            f.write(data[1] + "\n")
        for args in (["import", spans],
                     ["import", "--format", "workflow",
                      os.path.join(src, "tests", "data", "workflow", "two_txns.jsonl")]):
            subprocess.run([spanlite, "--db", db] + args, check=True, capture_output=True)
        fails = checked = skipped = 0
        for k in range(len(bl) - 1):
            info, sql, prev, _, end = bl[k]
            ninfo, want, _, nstart, _ = bl[k + 1]
            # the output block must follow the SQL directly
            between = doc.split("\n")[end + 1:nstart]
            if info != "sql" or ninfo != "" or any(line.strip() for line in between):
                continue
            if prev == "<!-- sqlite3 -->":
                if not ext or not shell:
                    print("skipped (no extension or sqlite3 shell):", sql.split("\n")[0])
                    skipped += 1
                    continue
                load = os.path.splitext(ext)[0]
                r = subprocess.run([shell, db, ".load " + load, sql], capture_output=True, text=True)
            else:
                r = subprocess.run([spanlite, "--db", db, "sql", "--format", "csv", sql],
                                   capture_output=True, text=True)
            checked += 1
            got = r.stdout.rstrip("\n")
            if r.returncode != 0 or got != want.rstrip("\n"):
                fails += 1
                print("FAIL: %s\n  exit %d, stderr %s\n  got:\n%s\n  want:\n%s"
                      % (sql, r.returncode, r.stderr.strip(), got, want), file=sys.stderr)
        print("%d examples checked, %d skipped, %d failed" % (checked, skipped, fails))
        if checked + skipped < MIN_EXAMPLES:
            print("FAIL: only %d examples found" % (checked + skipped), file=sys.stderr)
            return 1
        return 1 if fails else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
