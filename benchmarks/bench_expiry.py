"""The expiry tick over many temporary terms on PostgreSQL when nothing is due: the term
index (one range read on ``govcloud_term_due (ws, due_on)`` plus the inputs' fingerprint)
against a full scan of every term measured in the same run.

    python benchmarks/bench_expiry.py [--terms 100000] [--rounds 5]
                                      [--pg postgresql://postgres@127.0.0.1:5432/postgres]

Setup (not timed): a workspace made by `govcloud init` whose approvals/ holds ``--terms`` files,
the state in a fresh PostgreSQL
database (h15c_bench_*, dropped at the end) holding ``--terms`` index rows due from tomorrow
on. Timed, best of ``--rounds``:
  tick:  `govcloud expire` as the scheduler runs it, in-process (open the state, take the
         workspace lock, guard the audit checkpoint, consult the index, stop);
  index: the index check alone (expire_index.nothing_due);
  scan:  the baseline: read every term's row and test whether it is due (what any tick that
         looks at every approval does at least; the job before the index also parsed every
         approval file and planned, far slower still).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestrator.usecases import expire_index  # noqa: E402
from orchestrator.usecases.expire import expire  # noqa: E402
from orchestrator.usecases.session import open_state  # noqa: E402
from orchestrator.workspace import Workspace  # noqa: E402


def best(rounds: int, fn) -> float:
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return min(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--terms", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pg", default=os.environ.get("GOVCLOUD_TEST_PG_URL",
                                                   "postgresql://postgres@127.0.0.1:5432/postgres"))
    a = ap.parse_args(argv)
    name = "h15c_bench_" + os.urandom(4).hex()
    with psycopg.connect(a.pg, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    p = urlsplit(a.pg)
    url = urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))
    try:
        with tempfile.TemporaryDirectory(prefix="h15c-bench-expiry-") as tmp:
            root = Path(tmp) / "ws"
            subprocess.run([sys.executable, "-m", "orchestrator.cli", "init", str(root),
                            "--profile", "bazhong"], check=True, capture_output=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
            cfg = root / "govcloud.toml"
            cfg.write_text(cfg.read_text().replace('url = "sqlite:///.govcloud/state.db"',
                                                   f'url = "{url}"'))
            apps = root / "approvals"
            for f in apps.iterdir():
                f.unlink()
            for i in range(a.terms):   # a province's approvals/ (the tick does not read them)
                (apps / f"SC-2026-{i:06d}.yaml").write_text(f"approval_no: SC-2026-{i:06d}\n")
            ws = Workspace.at(root)
            today = dt.date(2026, 12, 3)
            with open_state(ws) as store:
                rows = [(f"SC-2026-{i:06d}",
                         (today + dt.timedelta(days=1 + i % 700)).isoformat())
                        for i in range(a.terms)]
                t0 = time.perf_counter()
                store.replace_term_due(rows, expire_index.fingerprint(ws, store, today))
                build = time.perf_counter() - t0
                store._conn.execute("ANALYZE govcloud_term_due")

                def scan():
                    got = store._query("SELECT approval, due_on FROM govcloud_term_due "
                                       "WHERE ws = %s", (store.workspace_id,))
                    due = [r for r in got if dt.date.fromisoformat(r[1]) <= today]
                    assert len(got) == a.terms and not due

                def index():
                    assert expire_index.nothing_due(ws, store, today)

                t_scan, t_index = best(a.rounds, scan), best(a.rounds, index)
                plan = store._query("EXPLAIN SELECT approval, due_on FROM govcloud_term_due "
                                    "WHERE ws = %s AND due_on <= %s ORDER BY due_on LIMIT 1",
                                    (store.workspace_id, today.isoformat()))
            now = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

            def tick():
                assert expire(ws, now).nothing_due

            t_tick = best(a.rounds, tick)
    finally:
        with psycopg.connect(a.pg, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{a.terms} terms on PostgreSQL, nothing due (best of {a.rounds}); index built in "
          f"{build:.2f} s")
    print(f"  expire tick (end to end): {t_tick * 1000:8.1f} ms   (target < 1000 ms)")
    print(f"  index check alone       : {t_index * 1000:8.1f} ms")
    print(f"  full scan of every term : {t_scan * 1000:8.1f} ms")
    print(f"  scan / index            : {t_scan / t_index:8.1f}x")
    print(f"  query plan: {plan[0][0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
