"""`govcloud restore`: a decommission backup back into an approved volume, SHA-256 checked."""
from __future__ import annotations

from drivers.base import driver_class
from orchestrator.workspace import Workspace
from tests.clock import at
from tests.policy.builders import approval, workspace, write

OLD = approval("BZ-P", approved_on="2026-06-01", volumes=[{"name": "data", "type": "blk.ssd", "gb": 1}])
NEW = approval("BZ-Q", approved_on="2026-06-01", system="edu-new", servers=[],
               volumes=[{"name": "restore", "type": "blk.ssd", "gb": 1},
                        {"name": "tiny", "type": "blk.ssd", "gb": 1}])
DATA = b"department records \xe6\x95\xb0\xe6\x8d\xae " * 1000


def _driver(ws):
    w = Workspace.at(ws)
    return driver_class("local")("local", {}, w.root, w.config.workspace.id)


def test_restore_writes_the_backup_into_an_approved_volume(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    ws = workspace(tmp_path, "bozhou", OLD)
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    d = _driver(ws)
    vol = d.find("volume:local/edu/edu-portal-internet/data")
    d.ex_write_volume(vol.cloud_id, 4096, DATA)
    assert cli("request-exit", "BZ-P", "-C", ws).exit_code == 0   # 亳州 第二十三条: the request first
    done = cli("decommission", "edu-portal", "-C", ws, "--auto-approve", "--output", "json").json()
    if done["status"] == "held":
        done = cli("decommission", "edu-portal", "-C", ws, "--resume", "--output", "json",
                   env=at("2027-06-20")).json()
    assert done["status"] == "finished", done
    (m,) = [m for m in done["workflow"]["media"] if m["id"] == vol.cloud_id]
    backup = m["backup"]["uri"][len("file://"):]
    write(ws, NEW)
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    into = "volume:local/edu/edu-new-internet/restore"
    # a volume no approval grants: refused
    r = cli("restore", "edu/edu-portal", "--from", backup, "--into",
            "volume:local/edu/edu-portal-internet/data", "-C", ws)
    assert r.exit_code == 1 and "not a volume of an approved system" in r.output
    r = cli("restore", "edu/edu-portal", "--from", backup, "--into", into, "-C", ws,
            "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json()["sha256"] == m["backup"]["sha256"]
    target = d.find(into)
    assert d.ex_read_volume(target.cloud_id, 4096, len(DATA)) == DATA
    entries = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert entries[-1]["action"] == "restore" and entries[-1]["target"] == into
    # once written, the volume is not empty: a second restore into it is refused
    r = cli("restore", "edu/edu-portal", "--from", backup, "--into", into, "-C", ws)
    assert r.exit_code == 1 and "not empty" in r.output
    # an altered backup is refused before anything is written
    with open(backup, "r+b") as f:
        f.seek(4096)
        f.write(b"X")
    tiny = "volume:local/edu/edu-new-internet/tiny"
    r = cli("restore", "edu/edu-portal", "--from", backup, "--into", tiny, "-C", ws)
    assert r.exit_code == 1 and "does not match the SHA-256" in r.output
    assert d.ex_read_volume(d.find(tiny).cloud_id, 4096, 10) == bytes(10)


def test_restore_needs_a_decommissioned_system(ws, cli):
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("restore", "edu/edu-portal", "--from", "x.img", "--into", "volume:local/x/y/z", "-C", ws)
    assert r.exit_code == 1 and "no decommission record" in r.output
