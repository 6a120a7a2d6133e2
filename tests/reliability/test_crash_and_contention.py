"""kill -9 half-way through an apply, crashes between create and state write, two applies at once.

These run the real `govcloud` console script in subprocesses against the embedded cloud, with
a simulated API latency so that a kill lands mid-apply.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import cloud_rows

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]


def slow(ws: Path, latency_ms: int = 25) -> None:
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('driver = "local"',
                                           f'driver = "local"\nlatency_ms = {latency_ms}'))


def gc(ws: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                          timeout=300, **kw)


def state_count(ws: Path) -> int:
    db = ws / ".govcloud" / "state.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(db, timeout=5)
        try:
            return con.execute("SELECT count(*) FROM resources").fetchone()[0]
        finally:
            con.close()
    except sqlite3.OperationalError:
        return 0


def assert_converged(ws: Path) -> None:
    rows = cloud_rows(ws)
    per_address = Counter(r[2] for r in rows)
    assert [a for a, n in per_address.items() if n > 1] == [], "duplicate cloud objects"
    assert len(rows) == 56
    r = gc(ws, "plan", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    assert gc(ws, "audit", "verify").returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [3, 20, 45])
def test_killed_apply_is_finished_by_the_next_apply_without_duplicates(ws, kill_after):
    slow(ws)
    assert gc(ws, "compile").returncode == 0
    proc = subprocess.Popen([*GOVCLOUD, "apply", "--auto-approve", "--parallelism", "3", "-C",
                             str(ws)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while state_count(ws) < kill_after:
        assert proc.poll() is None, "apply finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    recorded = state_count(ws)
    assert kill_after <= recorded < 56, "the kill must land half-way"
    # The OS freed the lock with the process; the next apply finishes the job.
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert_converged(ws)


def test_object_created_but_not_recorded_is_adopted(applied_ws):
    # The crash window between a create and its state write: the object exists, the state lost it.
    db = sqlite3.connect(applied_ws / ".govcloud" / "state.db")
    db.execute("DELETE FROM resources WHERE address LIKE 'server:%web-1' OR address LIKE 'volume:%archive'")
    db.commit()
    db.close()
    r = gc(applied_ws, "plan", "--output", "json")
    import json
    acts = [a for a in json.loads(r.stdout)["actions"] if a["action"] != "no-op"]
    assert sorted(a["action"] for a in acts) == ["adopt", "adopt"]
    assert gc(applied_ws, "apply", "--auto-approve").returncode == 0
    assert_converged(applied_ws)


@pytest.mark.slow
def test_two_applies_at_once_act_once(ws):
    slow(ws, 10)
    assert gc(ws, "compile").returncode == 0
    cmd = [*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "120", "-C", str(ws)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("Apply complete: 56 steps" in o for o in outs) == 1
    assert sum("No changes" in o for o in outs) == 1
    assert_converged(ws)
