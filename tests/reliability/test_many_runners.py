"""Many runners, one PostgreSQL: real `govcloud apply` processes on the embedded cloud.

8 applies at once over 4 departments (two per department, each cut to its stack with -target):
different departments apply at the same time (their steps interleave in the one audit chain),
the two of a department never overlap (one applies, the other finds nothing to do), nothing is
made twice and the audit chain is intact. And a runner whose database session is terminated
mid-apply stops before its next write (LockLost, exit 1), so a second apply cannot overlap it.
"""
from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import cloud_rows
from tests.pg_support import pg_execute, scratch_database, set_state_url

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
DEPTS = {"edu": "edu-portal", "hrss": "social-insurance", "edu2": "edu-portal",
         "hrss2": "social-insurance"}


@pytest.fixture
def h15c_db():
    with scratch_database("h15c_runners_") as url:
        yield url


def four_department_workspace(tmp_path: Path, url: str, latency_ms: int) -> Path:
    ws = tmp_path / "ws"
    r = subprocess.run([*GOVCLOUD, "init", str(ws), "--profile", "bazhong"], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    set_state_url(ws, url)
    cfg = ws / "govcloud.toml"
    text = cfg.read_text().replace("require_signatures = true", "require_signatures = false")
    cfg.write_text(text.replace('driver = "local"', f'driver = "local"\nlatency_ms = {latency_ms}'))
    apps = ws / "approvals"
    for sig in apps.glob("*.sig"):
        sig.unlink()
    for src, dept, no in (("BZ-2026-0012", "edu", "BZ-2026-0112"),
                          ("BZ-2026-0031", "hrss", "BZ-2026-0131")):
        text = (apps / f"{src}.yaml").read_text(encoding="utf-8")
        text = text.replace(f"approval_no: {src}", f"approval_no: {no}")
        text = re.sub(rf"department: {{code: {dept}, name: ([^}}]+)}}",
                      rf"department: {{code: {dept}2, name: \g<1>二}}", text)
        (apps / f"{no}.yaml").write_text(text, encoding="utf-8")
    r = subprocess.run([*GOVCLOUD, "compile", "-C", str(ws)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return ws


def audit(url: str) -> list[tuple]:
    return pg_execute(url, "SELECT seq, action, target FROM govcloud_audit ORDER BY seq")


def test_eight_applies_over_four_departments(tmp_path, h15c_db):
    ws = four_department_workspace(tmp_path, h15c_db, latency_ms=40)   # applies long enough to overlap
    procs = []
    for dept, system in list(DEPTS.items()) * 2:
        cmd = [*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "300", "-target",
               f"{dept}/{system}", "-C", str(ws)]
        procs.append((dept, subprocess.Popen(cmd, stdout=subprocess.PIPE,
                                             stderr=subprocess.STDOUT, text=True)))
    outs = [(dept, p.communicate(timeout=600)[0], p.returncode) for dept, p in procs]
    for dept, out, rc in outs:   # shown in full under "Captured stdout" (a repr is cut short)
        if rc:
            print(f"--- runner for {dept} exited {rc}:\n{out}")
    assert [rc for _, _, rc in outs] == [0] * 8, [rc for _, _, rc in outs]
    for dept in DEPTS:   # per department: one applied, the other found nothing left to do
        mine = [o for d, o, _ in outs if d == dept]
        assert sum("Apply complete:" in o and ", 0 failed" in o for o in mine) == 1, mine
        assert sum("No changes" in o for o in mine) == 1, mine
    rows = cloud_rows(ws)
    addresses = [r[2] for r in rows]
    assert len(addresses) == len(set(addresses)) == 4 * 28   # nothing made twice
    entries = audit(h15c_db)
    creates = [t for _, a, t in entries if a == "create"]
    assert len(creates) == len(set(creates)) == len(rows)
    # Different departments overlapped: another department's create falls inside an apply.
    starts = [i for i, (_, a, _) in enumerate(entries) if a == "apply-start"]
    ends = [i for i, (_, a, _) in enumerate(entries) if a == "apply-end"]
    assert len(starts) == len(ends) == 4
    assert starts[1] < ends[0], ("the four applies ran one after another", entries)
    r = subprocess.run([*GOVCLOUD, "audit", "verify", "-C", str(ws)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
    r = subprocess.run([*GOVCLOUD, "plan", "--detailed-exitcode", "-C", str(ws)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_runner_whose_session_ends_stops_before_its_next_write(tmp_path, h15c_db):
    ws = four_department_workspace(tmp_path, h15c_db, latency_ms=60)
    cmd = [*GOVCLOUD, "apply", "--auto-approve", "--parallelism", "1", "-C", str(ws)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:   # mid-apply: some objects made and recorded
            if sum(1 for _, a, _ in audit(h15c_db) if a == "create") >= 5:
                break
            time.sleep(0.05)
        holder = pg_execute(h15c_db, "SELECT backend_pid FROM govcloud_locks")
        assert holder, "no lock row while applying"
        assert pg_execute(h15c_db, "SELECT pg_terminate_backend(%s)", (holder[0][0],)) == [(True,)]
        killed_at = len(audit(h15c_db))
        out = proc.communicate(timeout=120)[0]
    finally:
        proc.kill()
    assert proc.returncode == 1, out
    assert "lost the state lock" in out and "stopped before the next write" in out, out
    assert len(audit(h15c_db)) == killed_at          # not one more write after the session ended
    assert pg_execute(h15c_db, "SELECT count(*) FROM govcloud_locks") == [(1,)]   # stale row
    # A second apply takes the lock at once and finishes the job: nothing made twice.
    r = subprocess.run([*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "5", "-C",
                        str(ws)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and "Apply complete:" in r.stdout, r.stdout + r.stderr
    addresses = [row[2] for row in cloud_rows(ws)]
    assert len(addresses) == len(set(addresses)) == 4 * 28
    r = subprocess.run([*GOVCLOUD, "audit", "verify", "-C", str(ws)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0 and "intact" in r.stdout, r.stdout + r.stderr
