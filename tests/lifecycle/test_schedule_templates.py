"""The shipped schedule templates (templates/schedule/) render for a workspace, and the command
they schedule really is the expiry job: the cron line, run as cron would, expires a window."""
from __future__ import annotations

import os
import shlex
import subprocess

import yaml

from tests.conftest import cloud_rows
from tests.policy.builders import approval, kinds, workspace

WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"})


def test_cron_line_runs_the_expiry_job(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", WINDOW)
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    cli("apply", "-C", ws, "--auto-approve")
    log = tmp_path / "notices.jsonl"
    r = cli("schedule", "show", "cron", "-C", ws, "--every", "10", "--notify", f"jsonl:{log}",
            "--user", "govcloud")
    assert r.exit_code == 0, r.output
    line = [x for x in r.output.splitlines() if x.startswith("*/10 * * * * govcloud ")][0]
    command = shlex.split(line.split(" govcloud ", 1)[1].split(" >> ")[0])
    assert command[1:4] == ["expire", "-C", str(ws)]
    env = {**os.environ, "GOVCLOUD_TODAY": "2026-07-20"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "expired: BZ-W" in done.stdout and log.is_file()
    assert not [r for r in cloud_rows(ws) if r[1] == "server"] and "expired" in kinds(ws, "BZ-W")


def test_systemd_and_kubernetes_files(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou")
    out = tmp_path / "units"
    r = cli("schedule", "show", "systemd", "-C", ws, "--write", out, "--notify", "https://h.example/x")
    assert r.exit_code == 0
    service = (out / "govcloud-expire.service").read_text()
    timer = (out / "govcloud-expire.timer").read_text()
    assert "Type=oneshot" in service and f"expire -C {ws}" in service
    assert 'Environment="GOVCLOUD_NOTIFY=https://h.example/x"' in service
    assert "OnCalendar=*-*-* *:00/5:00 Asia/Shanghai" in timer and "Persistent=true" in timer
    k = cli("schedule", "show", "kubernetes", "-C", ws, "--output", "json").json()["files"]
    job = yaml.safe_load(k["govcloud-expire.cronjob.yaml"])
    assert job["kind"] == "CronJob" and job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["timeZone"] == "Asia/Shanghai" and job["spec"]["schedule"] == "*/5 * * * *"
    c = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert c["args"][:3] == ["expire", "-C", "/workspace"]
    r = cli("schedule", "show", "cron", "-C", ws, "--every", "7")
    assert r.exit_code == 1 and "divides 60" in r.output
