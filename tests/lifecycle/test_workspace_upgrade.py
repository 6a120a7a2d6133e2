"""`govcloud workspace upgrade`: a workspace made by the version where a term's ``end`` was the
first day WITHOUT resources keeps working. The old workspace is made by that version's own CLI
(its code taken from git at LEGACY, run in a subprocess): init, a window approval written the
old way (end 2026-07-20 = resources through 07-19), apply, an extension (--until 2026-08-20),
an expiry warning sent. The current version refuses it until upgraded; after the upgrade
`status` and `expire` give the same service days as the old version did, the warning already
sent is not sent again, the signed approval's bytes are unchanged, and a second run changes
nothing."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.clock import at
from tests.conftest import REPO, cloud_rows
from tests.policy.builders import approval, events, write

LEGACY = "3540a34"      # main before `end` became the last day of service
WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-07-20"},  # old format
                  servers=[{"name": "burst", "flavor": "ecs.s4m8", "image": "kylin-v10-sp3",
                            "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])


@pytest.fixture(scope="module")
def legacy_code(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("legacy-code")
    try:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", LEGACY, "orchestrator",
                                  "catalog", "drivers"], check=True, capture_output=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"the legacy version {LEGACY} is not in this checkout's git history: {exc}")
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out


def old(code: Path, *args: str, today: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1",
           "GOVCLOUD_TODAY": today}
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args], env=env,
                          capture_output=True, text=True, timeout=120, cwd=code)


def servers(ws: Path) -> list[str]:
    return sorted(r[2] for r in cloud_rows(ws) if r[1] == "server" and r[3] != "deleted")


def _old_workspace(code: Path, tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    assert old(code, "init", str(ws), "--profile", "bozhou", "--no-examples", "--no-signatures",
               today="2026-06-01").returncode == 0
    write(ws, WINDOW)
    for args, today in [(("compile",), "2026-06-20"), (("apply", "--auto-approve"), "2026-06-20"),
                        (("extend", "BZ-W", "--until", "2026-08-20", "--request-date",
                          "2026-07-09"), "2026-07-09"),
                        (("compile",), "2026-07-09"),
                        (("expire", "--notify", f"jsonl:{tmp_path}/n.jsonl", "--now",
                          "2026-08-11"), "2026-08-11")]:
        r = old(code, *args, "-C", str(ws), today=today)
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return ws


def test_a_workspace_of_the_old_version_is_refused_then_upgraded(legacy_code, tmp_path, cli,
                                                                 monkeypatch):
    ws = _old_workspace(legacy_code, tmp_path)
    assert "[dates]" not in (ws / "govcloud.toml").read_text()
    before = json.loads(old(legacy_code, "status", "-C", str(ws), "--now", "2026-08-19",
                            "--output", "json", today="2026-08-19").stdout)
    assert before["approvals"][0]["end"] == "2026-08-20"          # old: the first day without
    signed = (ws / "approvals" / "BZ-W.yaml").read_bytes()
    warned = [e for e in events(ws, "BZ-W") if e["kind"] == "warning-sent"]
    assert warned and warned[0]["detail"]["end"] == "2026-08-20"

    # The current version refuses to read its dates, naming the upgrade; nothing changes.
    r = cli("status", "-C", ws, "--now", "2026-08-19")
    assert r.exit_code == 1 and "govcloud workspace upgrade" in r.output and "[dates]" in r.output
    r = cli("expire", "-C", ws, env=at("2026-08-20"))
    assert r.exit_code == 1 and "govcloud workspace upgrade" in r.output, r.output
    assert len(servers(ws)) == 1

    r = cli("workspace", "upgrade", "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    rep = r.json()
    assert rep["format"] == "govcloud-workspace-upgrade/1" and rep["upgraded"] and rep["recompiled"]
    assert list(rep["legacy_approvals"]) == ["BZ-W"] and rep["extensions"] == ["extensions/BZ-W.yaml"]
    assert (ws / "approvals" / "BZ-W.yaml").read_bytes() == signed     # never rewritten
    ext = yaml.safe_load((ws / "extensions" / "BZ-W.yaml").read_text())["extensions"][0]
    assert (str(ext["previous_end"]), str(ext["until"])) == ("2026-07-19", "2026-08-19")
    assert any(e.action == "workspace-upgrade" for e in _audit(ws))

    # Same service days: the last day is 08-19 (old: first day without 08-20).
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-08-19")
    st = cli("status", "-C", ws, "--now", "2026-08-19", "--output", "json")
    assert st.exit_code == 0, st.output
    a = st.json()["approvals"][0]
    assert a["end"] == "2026-08-19" and a["start"] == before["approvals"][0]["start"]
    assert a["state"] == before["approvals"][0]["state"]
    # The warning sent before the upgrade is not sent again.
    r = cli("expire", "-C", ws, "--notify", f"jsonl:{tmp_path}/n2.jsonl", "--backdated", "test", "--now", "2026-08-12")
    assert r.exit_code == 0, r.output
    assert not (tmp_path / "n2.jsonl").exists()
    r = cli("expire", "-C", ws, "--now", "2026-08-19T23:50")
    assert r.exit_code == 0 and len(servers(ws)) == 1               # the last day: still there
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-08-20")
    r = cli("expire", "-C", ws, "--now", "2026-08-20T00:05")
    assert r.exit_code == 0, r.output
    assert servers(ws) == []                                        # removed on 08-20, as before
    assert [e["on"] for e in events(ws, "BZ-W") if e["kind"] == "expired"] == ["2026-08-20"]

    # Idempotent.
    toml = (ws / "govcloud.toml").read_bytes()
    r = cli("workspace", "upgrade", "-C", ws, "--output", "json")
    assert r.exit_code == 0 and not r.json()["upgraded"]
    assert (ws / "govcloud.toml").read_bytes() == toml


def test_an_edited_legacy_approval_is_read_as_the_new_format(legacy_code, tmp_path, cli):
    ws = tmp_path / "ws"
    assert old(legacy_code, "init", str(ws), "--profile", "bozhou", "--no-examples", "--no-signatures",
               today="2026-06-01").returncode == 0
    write(ws, WINDOW)
    assert cli("workspace", "upgrade", "-C", ws).exit_code == 0
    st = cli("status", "-C", ws, "--now", "2026-06-21", "--output", "json").json()
    assert st["approvals"][0]["end"] == "2026-07-19"                # legacy bytes: end - 1
    write(ws, {**WINDOW, "term": {**WINDOW["term"], "end": "2026-07-31"}})   # a new file
    st = cli("status", "-C", ws, "--now", "2026-06-21", "--output", "json").json()
    assert st["approvals"][0]["end"] == "2026-07-31"                # read as written


def test_a_new_workspace_is_current_and_an_old_one_without_dates_is_not_refused(tmp_path, cli):
    """init writes the format; a workspace without [dates] but with no dated input (only
    permanent approvals) has nothing to misread and keeps working."""
    ws = tmp_path / "new"
    assert cli("init", ws, "--profile", "bozhou", "--no-signatures").exit_code == 0
    assert 'term_end = "last-day"' in (ws / "govcloud.toml").read_text()
    r = cli("workspace", "upgrade", "-C", ws, "--output", "json")
    assert r.exit_code == 0 and not r.json()["upgraded"]
    cfg = ws / "govcloud.toml"
    cfg.write_text("\n".join(line for line in cfg.read_text().splitlines()
                             if not line.startswith(("[dates]", "term_end"))) + "\n")
    assert cli("validate", "-C", ws).exit_code == 0                 # permanent examples only
    write(ws, {**WINDOW, "term": {**WINDOW["term"], "end": "2026-07-19"}})
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "govcloud workspace upgrade" in r.output   # negative control


def _audit(ws: Path):
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    with open_state(Workspace.at(ws)) as store:
        return store.audit_entries()
