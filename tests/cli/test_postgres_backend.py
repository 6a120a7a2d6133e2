"""End to end on the embedded local cloud with the state in PostgreSQL (`[state] url =
"postgresql://..."`): init, compile, apply, a no-op plan, audit verify, state list; the lock
two applies at once act once; kill -9 mid-apply. Uses the session's fresh test database.
(tests/cli/test_workflow.py runs its lock, state and taint tests on both backends too.)"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import cloud_rows
from tests.pg_support import pg_execute, set_state_url

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]


@pytest.fixture
def pg_ws(tmp_path, cli, pg_url) -> Path:
    ws = tmp_path / "ws"
    r = cli("init", ws, "--profile", "bazhong")
    assert r.exit_code == 0, r.output
    set_state_url(ws, pg_url)
    return ws


def workspace_id(ws: Path) -> str:
    from orchestrator.workspace import Workspace
    return Workspace.at(ws).config.workspace.id


def test_apply_plan_audit_and_state_on_postgres(pg_ws, cli, pg_url):
    assert cli("compile", "-C", pg_ws).exit_code == 0
    r = cli("apply", "-C", pg_ws, "--auto-approve")
    assert r.exit_code == 0 and "Apply complete: 56 steps" in r.output, r.output
    r = cli("plan", "-C", pg_ws, "--detailed-exitcode")
    assert r.exit_code == 0, r.output
    r = cli("audit", "verify", "-C", pg_ws)
    assert r.exit_code == 0 and "intact" in r.output, r.output
    listing = cli("state", "list", "-C", pg_ws, "--output", "json").json()
    assert len(listing["resources"]) == 56 and listing["lock"] is None
    # The state really is in PostgreSQL, under this workspace's id, and not in a SQLite file.
    assert not (pg_ws / ".govcloud" / "state.db").exists()
    ws_id = workspace_id(pg_ws)
    assert pg_execute(pg_url, "SELECT count(*) FROM govcloud_resources WHERE ws=%s",
                      (ws_id,)) == [(56,)]
    creates = pg_execute(pg_url, "SELECT count(*) FROM govcloud_audit WHERE ws=%s AND "
                                 "action='create'", (ws_id,))
    assert creates == [(56,)]
    # Tampering with the audit table is caught.
    pg_execute(pg_url, "UPDATE govcloud_audit SET actor='mallory@x' WHERE ws=%s AND seq=7", (ws_id,))
    r = cli("audit", "verify", "-C", pg_ws)
    assert r.exit_code == 1 and "entry 7" in r.output


def test_two_applies_at_once_act_once(pg_ws):
    cfg = pg_ws / "govcloud.toml"   # a little API latency so that the two really overlap
    cfg.write_text(cfg.read_text().replace('driver = "local"', 'driver = "local"\nlatency_ms = 5'))
    run = lambda *a: subprocess.run([*GOVCLOUD, *a, "-C", str(pg_ws)], capture_output=True,
                                    text=True, timeout=300)
    assert run("compile").returncode == 0
    cmd = [*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "120", "-C", str(pg_ws)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=300)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("Apply complete: 56 steps" in o for o in outs) == 1, outs
    assert sum("No changes" in o for o in outs) == 1, outs
    rows = cloud_rows(pg_ws)
    assert len(rows) == 56 and len({r[2] for r in rows}) == 56
    r = run("plan", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout + r.stderr
    r = run("audit", "verify")
    assert r.returncode == 0, r.stdout + r.stderr


def test_killed_apply_frees_the_lock_and_the_next_apply_finishes(pg_ws, pg_url):
    import os
    import signal
    import time
    cfg = pg_ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('driver = "local"', 'driver = "local"\nlatency_ms = 10'))
    ws_id = workspace_id(pg_ws)
    count = lambda: pg_execute(pg_url, "SELECT count(*) FROM govcloud_resources WHERE ws=%s",
                               (ws_id,))[0][0]
    assert subprocess.run([*GOVCLOUD, "compile", "-C", str(pg_ws)]).returncode == 0
    proc = subprocess.Popen([*GOVCLOUD, "apply", "--auto-approve", "--parallelism", "3", "-C",
                             str(pg_ws)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while count() < 15:
        assert proc.poll() is None, "apply finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 15 <= count() < 56, "the kill must land half-way"
    # PostgreSQL ended the dead apply's session: the lock is free at once, no `state unlock`.
    r = subprocess.run([*GOVCLOUD, "apply", "--auto-approve", "--lock-timeout", "5", "-C",
                        str(pg_ws)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    rows = cloud_rows(pg_ws)
    assert len(rows) == 56 and len({r[2] for r in rows}) == 56
    assert subprocess.run([*GOVCLOUD, "plan", "--detailed-exitcode", "-C", str(pg_ws)]
                          ).returncode == 0
    assert subprocess.run([*GOVCLOUD, "audit", "verify", "-C", str(pg_ws)]).returncode == 0
