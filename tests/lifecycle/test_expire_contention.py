"""The scheduled job under contention: two `govcloud expire` processes started together act once
(the workspace lock), on the real console entry point in subprocesses, with a slow cloud."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import cloud_rows
from tests.policy.builders import approval, kinds, workspace

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"},
                  servers=[{"name": "burst", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
                            "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 3}])


def test_two_expire_runs_at_once_act_once(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", approval("BZ-P", approved_on="2026-06-01"), WINDOW)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    cfg = ws / "govcloud.toml"   # a slow cloud so that the two runs overlap
    cfg.write_text(cfg.read_text().replace('driver = "local"', 'driver = "local"\nlatency_ms = 150'))
    env = {**os.environ, "GOVCLOUD_TODAY": "2026-07-20"}
    args = [*GOVCLOUD, "expire", "-C", str(ws), "--backdated", "test", "--now", "2026-07-20T00:05", "--output", "json",
            "--lock-timeout", "60"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=env) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    reports = [json.loads(o[0]) for o in outs]
    acted = [r for r in reports if r["deletes"]]
    assert len(acted) == 1, reports                       # one removed, the other found nothing
    assert len(acted[0]["deletes"]) == 3 and acted[0]["failed"] == 0
    assert [r for r in cloud_rows(ws) if r[1] == "server" and "/burst-" in r[2]] == []
    assert kinds(ws, "BZ-W").count("expired") == 1
    audit = cli("audit", "list", "-C", ws, "--last", "0", "--output", "json").json()["entries"]
    assert [e["action"] for e in audit].count("expire-start") == 1
    assert len([e for e in audit if e["action"] == "delete"]) == 3
    assert cli("audit", "verify", "-C", ws).exit_code == 0


def test_a_run_that_cannot_get_the_lock_skips_and_says_so(tmp_path, cli, monkeypatch):
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    ws = workspace(tmp_path, "bozhou", WINDOW)
    cli("compile", "-C", ws)
    store = open_state(Workspace.at(ws))
    try:
        with store.locked("apply", 1):
            r = subprocess.run([*GOVCLOUD, "expire", "-C", str(ws), "--backdated", "test", "--now", "2026-07-20",
                                "--lock-timeout", "0.2"], capture_output=True, text=True, timeout=60)
    finally:
        store.close()
    assert r.returncode == 0 and "Skipped at 2026-07-20T00:00:00+08:00" in r.stdout
    assert "locked" in r.stdout and "'apply'" in r.stdout
