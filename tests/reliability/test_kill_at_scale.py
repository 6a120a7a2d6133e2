"""kill -9 of a ~1,000-object apply with group commits, at enumerated points, then converge;
and of a 1,000-approval (~19,000-object) apply, the size of the throughput target.

One workspace of bench_scale.py's synthetic approvals (~1,000 cloud objects) is applied with 8
workers (so finished steps share state transactions) and killed three times in a row: inside a
transaction of created records (before an audit entry), right after a transaction committed,
and at the first write of the next run (adopting what the earlier kills left behind). After each
kill the cloud may hold only the objects of the steps in flight (at most one per worker) that
the state lacks; the state never names an object the cloud lacks. The last run converges: every
object once, recorded, no orphan, the audit chain intact, a no-op plan.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faulty_govcloud import run as gc

REPO = Path(__file__).resolve().parents[2]
WORKERS = 8
APPROVALS = 52            # ~19 objects each with bench_scale's generator


def _cloud(ws: Path) -> list[tuple[str, str | None]]:
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    try:
        return db.execute("SELECT id, address FROM objects").fetchall()
    finally:
        db.close()


def _state(ws: Path) -> dict[str, str]:
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    try:
        return dict(db.execute("SELECT address, cloud_id FROM resources").fetchall())
    finally:
        db.close()


def _workspace(tmp_path_factory, approvals: int, at_least: int) -> tuple[Path, int]:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_scale import generate
    ws = tmp_path_factory.mktemp("scale") / "ws"
    subprocess.run([sys.executable, "-m", "orchestrator.cli", "init", "--no-examples", str(ws)],
                   check=True, capture_output=True, cwd=REPO)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace("require_signatures = true",
                                           "require_signatures = false"))
    generate(ws / "approvals", approvals, dt.date.today(), seed=1)
    assert gc(ws, "compile", timeout=900).returncode == 0
    r = gc(ws, "plan", "--output", "json", timeout=900)
    total = json.loads(r.stdout)["summary"]["create"]
    assert total >= at_least, total
    return ws, total


@pytest.fixture(scope="module")
def big_ws(tmp_path_factory) -> tuple[Path, int]:
    return _workspace(tmp_path_factory, APPROVALS, 900)


def _after_kill(ws: Path, r: subprocess.CompletedProcess, total: int) -> None:
    assert r.returncode == -9, r.stdout[-2000:] + r.stderr[-2000:]
    cloud, state = _cloud(ws), _state(ws)
    ids = {oid for oid, _ in cloud}
    assert len(state) < total, "killed before the end"
    assert set(state.values()) <= ids, "the state names an object the cloud lacks"
    unrecorded = ids - set(state.values())
    # only the steps in flight (one per worker) may have made objects without their records
    assert len(unrecorded) <= WORKERS, len(unrecorded)


def _converges(ws: Path, total: int) -> None:
    r = gc(ws, "apply", "--auto-approve", "--parallelism", str(WORKERS), timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    cloud, state = _cloud(ws), _state(ws)
    addresses = [a for _, a in cloud]
    assert len(addresses) == len(set(addresses)) == total, "every object exactly once"
    assert set(state.values()) == {oid for oid, _ in cloud}, "no orphan, nothing missing"
    assert len(state) == total
    assert gc(ws, "audit", "verify").returncode == 0
    assert gc(ws, "plan", "--detailed-exitcode", timeout=900).returncode == 0


@pytest.mark.slow
def test_killed_twice_at_1000_approvals_converges(tmp_path_factory):
    """The throughput target's size (~19,000 objects, batches of 8 records and their cloud
    calls): killed inside a batch's state transaction half-way, then right after a batch
    committed; the last run adopts what each kill left unrecorded and converges."""
    ws, total = _workspace(tmp_path_factory, 1000, 18000)
    for point in (f"executor.state-written:create@{total // 2}",
                  f"executor.committed:create@{total // 4}"):
        r = gc(ws, "apply", "--auto-approve", "--parallelism", str(WORKERS),
               faults=["--crash-at", point], timeout=900)
        _after_kill(ws, r, total)
    _converges(ws, total)


@pytest.mark.slow
def test_killed_three_times_at_scale_converges_without_duplicates_or_orphans(big_ws):
    ws, total = big_ws
    kills = [f"executor.state-written:create@{total // 3}",   # mid-transaction, before audit
             f"executor.committed:create@{total // 3}",       # just after a transaction
             "executor.state-written@1"]                      # first write: adopting leftovers
    for point in kills:
        r = gc(ws, "apply", "--auto-approve", "--parallelism", str(WORKERS),
               faults=["--crash-at", point])
        _after_kill(ws, r, total)
    _converges(ws, total)
