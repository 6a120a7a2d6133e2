"""The exit process per city, from each profile's rules.exit_process (real CLI processes on the
local cloud): the order is enforced with the article in the refusal, the clocks start from the
event the article names (calendar months and working days), the billing stop date per city,
the old-system keep, the audited override, an orphaned system's exit, planted leftovers."""
from __future__ import annotations

import json
import os
from pathlib import Path

import yaml

from drivers.base import driver_class
from orchestrator.models.approval import MATERIALS
from orchestrator.usecases.init import init_workspace
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.clock import at
from tests.conftest import cloud_rows
from tests.faulty_govcloud import run as run_govcloud

NO = "EX-0001"


def gc(ws: Path, *args: str, faults: list[str] | None = None, env: dict | None = None):
    return run_govcloud(ws, *args, faults=faults, env=env)


def small(tmp_path: Path, city: str, no: str = NO, code: str = "exsys", **extra) -> Path:
    ws = tmp_path / city
    if not ws.exists():
        init_workspace(ws, city, examples=False)
    doc = {"approval_no": no, "department": {"code": "exd", "name": "退出局"},
           "system": {"code": code, "name": "退出系统", "dengbao_level": 2},
           "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
           "term": {"kind": "permanent"},
           "zones": {"internet": {"volumes": [{"name": "data", "type": "blk.ssd", "gb": 1}]}},
           # every application material any profile asks for (required_materials)
           "materials": {k: f"{zh} 1号" for k, (zh, _) in MATERIALS.items()},
           **extra}
    (ws / "approvals" / f"{no}.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True),
                                                encoding="utf-8")
    r = gc(ws, "compile")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return ws


def volumes(ws: Path, code: str = "exsys") -> list:
    return [x for x in cloud_rows(ws) if x[1] == "volume" and f"/{code}-" in (x[2] or "")]


def events(ws: Path, no: str = NO) -> list[dict]:
    store = open_state(Workspace.at(ws))
    try:
        return store.events(no)
    finally:
        store.close()


def kinds(ws: Path, no: str = NO) -> list[str]:
    return [e["kind"] for e in events(ws, no)]


def event(ws: Path, kind: str, no: str = NO) -> dict:
    return next(e for e in events(ws, no) if e["kind"] == kind)


def status_row(ws: Path, now: str, no: str = NO) -> dict:
    r = gc(ws, "status", "--now", now, "--output", "json")
    doc = json.loads(r.stdout)
    # exit 1 only for the missing 2027 holiday calendar (status says so once, not silently)
    assert r.returncode == 0 or (r.returncode == 1 and doc["calendar_missing"]), r.stderr
    return next(a for a in doc["approvals"] if a["approval_no"] == no)


def test_bazhong_transition_runs_three_calendar_months_from_the_written_request(tmp_path):
    ws = small(tmp_path, "bazhong")
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--backdated", "test", "--now", "2026-11-30")
    assert r.returncode == 1 and "第二十二条" in r.stderr and "exit-requested" in r.stderr
    assert volumes(ws), "a refusal changes nothing"
    r = gc(ws, "request-exit", NO, "--date", "2026-11-30", "--document", "巴教函〔2026〕7号")
    assert r.returncode == 0, r.stderr
    assert "2027-02-28" in r.stdout        # 11-30 + 3 calendar months: February has no 30th
    assert event(ws, "exit-requested")["detail"]["document"] == "巴教函〔2026〕7号"
    # backup and offline inside the 过渡期, the wipe after it: counted from the request, so a
    # decommission started a month later is still held until 2027-02-28 (not offline + 3)
    r = gc(ws, "decommission", "--auto-approve", "exsys", env=at("2026-12-30"))
    assert r.returncode == 0, r.stderr
    assert "until 2027-02-28, counted from exit-requested" in r.stdout and "第二十二条" in r.stdout
    assert kinds(ws)[-3:] == ["backed-up", "offline", "held-until"]
    assert status_row(ws, "2027-01-05")["state"] == "held"
    assert status_row(ws, "2027-01-05")["held_until"] == "2027-02-28"
    assert volumes(ws)
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--resume", env=at("2027-02-27"))
    assert r.returncode == 1 and "not before 2027-02-28" in r.stderr
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--resume", env=at("2027-02-28"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert not volumes(ws)
    assert kinds(ws)[-4:] == ["wiped", "verified", "reclaimed", "terminated"]
    term = event(ws, "terminated")["detail"]
    assert (term["billing_stop"], term["billing_article"]) == ("2027-02-28", "第二十二条")


def test_datong_reclaim_two_working_days_from_the_exit_approval_billing_stops_on_time(tmp_path):
    ws = small(tmp_path, "datong")
    assert gc(ws, "approve-exit", NO, "--date", "2026-11-27").returncode == 1   # no request yet
    assert gc(ws, "request-exit", NO, "--date", "2026-11-23").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--backdated", "test", "--now", "2026-11-27")
    assert r.returncode == 1 and "第十六条" in r.stderr and "exit-approved" in r.stderr
    assert "exit-requested" not in r.stderr.split("not recorded")[0]   # only the missing one
    assert volumes(ws)
    # Friday 2026-11-27 + 2 working days = Tuesday 12-01 (the request's date does not count)
    r = gc(ws, "approve-exit", NO, "--date", "2026-11-27", "--document", "同数审〔2026〕9号",
           "--output", "json")
    assert r.returncode == 0, r.stderr
    reclaim = next(d for d in json.loads(r.stdout)["deadlines"] if d["key"] == "reclaim")
    assert (reclaim["due"], reclaim["from"]) == ("2026-12-01", "exit-approved")
    assert status_row(ws, "2026-11-30")["state"] == "exit-approved"
    # the provider is late (Thursday 12-03): billing still stops on the deadline, flagged late
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--backdated", "test", "--now", "2026-12-03")
    assert r.returncode == 0, r.stdout + r.stderr
    term = event(ws, "terminated")["detail"]
    assert (term["billing_stop"], term["billing_article"]) == ("2026-12-01", "第十六条")
    row = status_row(ws, "2026-12-10")
    assert row["state"] == "terminated"
    assert "reclaim late: due 2026-12-01, done 2026-12-03" in row["flags"]   # kept after termination


def test_sichuan_backup_and_offline_before_the_written_request(tmp_path):
    ws = small(tmp_path, "sichuan")
    r = gc(ws, "request-exit", NO)     # a running, never backed-up system
    assert r.returncode == 1 and "第十八条" in r.stderr
    assert "backed-up" in r.stderr and "offline" in r.stderr
    assert "exit-requested" not in kinds(ws)
    r = gc(ws, "decommission", "--auto-approve", "exsys")   # backs up, takes offline, then waits for the request
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[wait]" in r.stdout and "exit-requested" in r.stdout and "第十八条" in r.stdout
    assert kinds(ws)[-2:] == ["backed-up", "offline"] and volumes(ws)
    assert status_row(ws, "2026-12-02")["state"] == "offline"
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--resume")
    assert r.returncode == 1 and "exit-requested" in r.stderr and volumes(ws)
    assert gc(ws, "request-exit", NO, "--document", "川数退〔2026〕1号").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--resume")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not volumes(ws)
    order = [k for k in kinds(ws) if k not in ("approved", "provisioned")]
    assert order == ["backed-up", "offline", "exit-requested", "wiped", "verified", "reclaimed",
                     "terminated"]


def test_bozhou_billing_stops_at_offline_and_every_byte_is_read_back(tmp_path):
    ws = small(tmp_path, "bozhou")
    assert gc(ws, "request-exit", NO, "--date", "2026-11-20").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--verify", "sample")
    assert r.returncode == 1 and "第二十三条" in r.stderr and "--verify full" in r.stderr
    drv = driver_class("local")("local", {}, ws, Workspace.at(ws).config.workspace.id)
    vol = next(o for o in drv.observe() if o.kind == "volume")
    for offset in (0, drv.volume_path(vol.cloud_id).stat().st_size - 4096):   # two extents:
        drv.ex_write_volume(vol.cloud_id, offset, os.urandom(4096))      # the fault skips one
    drv.close()
    # offline on 11-24; the wipe fails its verification: status says so, not "provisioned"
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--backdated", "test", "--now", "2026-11-24", faults=["--wipe-fraction", "0.5"])
    assert r.returncode == 1 and "wipe verification failed" in r.stderr
    assert status_row(ws, "2026-11-25")["state"] == "wipe-failed"
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--backdated", "test", "--now", "2026-11-26")
    assert r.returncode == 0, r.stdout + r.stderr
    assert status_row(ws, "2026-11-27")["state"] == "terminated"
    assert event(ws, "offline")["on"] == "2026-11-24"
    term = event(ws, "terminated")
    assert term["on"] == "2026-11-26"
    assert (term["detail"]["billing_stop"], term["detail"]["billing_article"]) == \
        ("2026-11-24", "第二十三条")


def test_decommission_keeps_a_migrated_systems_old_copy_three_months(tmp_path):
    ws = small(tmp_path, "bozhou", "OLD-1", "oldsys")
    ws = small(tmp_path, "bozhou", "NEW-1", "newsys",
               migration={"from_approval": "OLD-1", "cutover_on": "2026-11-30"})
    r = gc(ws, "decommission", "--auto-approve", "oldsys", "--override-exit-order", "test", env=at("2027-02-27"))
    assert r.returncode == 1 and "第二十一条" in r.stderr and "2027-02-28" in r.stderr
    assert volumes(ws, "oldsys")


def test_override_is_explicit_and_audited(tmp_path):
    ws = small(tmp_path, "bozhou")
    r = gc(ws, "decommission", "--auto-approve", "exsys", "--override-exit-order", "申请表 lost in the mail; "
           "bureau confirmed by phone")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "[override]" in r.stdout and not volumes(ws)
    entries = json.loads(gc(ws, "audit", "list", "--last", "0", "--output", "json").stdout)["entries"]
    o = next(e for e in entries if e["action"] == "decommission-override")
    assert o["detail"]["missing"] == ["exit-requested"] and "phone" in o["detail"]["reason"]


def test_an_orphaned_system_leaves_through_the_exit_process(tmp_path):
    ws = small(tmp_path, "bozhou")
    (ws / "approvals" / f"{NO}.yaml").unlink()
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    assert volumes(ws), "the destroy guard keeps it"
    r = gc(ws, "decommission", "--auto-approve", "exsys")
    assert r.returncode == 1 and "exit-requested" in r.stderr     # the process still applies
    r = gc(ws, "request-exit", NO, "--output", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["orphaned"] is True
    r = gc(ws, "decommission", "--auto-approve", "exsys")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "orphaned" in r.stdout and not volumes(ws)
    assert kinds(ws)[-1] == "terminated"
    assert not (ws / "approvals" / f"{NO}.yaml").exists()   # never restored
    assert "[orphaned]" not in gc(ws, "status").stdout


def test_census_finds_planted_root_disk_volume_and_backing_files(tmp_path):
    ws = small(tmp_path, "bozhou")
    drv = driver_class("local")("local", {}, ws, Workspace.at(ws).config.workspace.id)
    try:
        vdir = drv.volume_dir
        assert drv.census("exd/nothing", ["srv-x", "vol-y"]) == []   # negative control
        for name in ("srv-x-root.img", "vol-y.img", "vol-y-snap-1.img"):
            (vdir / name).write_bytes(os.urandom(16))
        found = {(o.kind, o.cloud_id) for o in drv.census("exd/nothing", ["srv-x", "vol-y"])}
        assert found == {("root-disk-file", "srv-x-root"), ("volume-file", "vol-y"),
                         ("volume-file", "vol-y-snap-1")}
    finally:
        drv.close()


def test_leftover_root_disk_volume_and_backing_files_fail_the_census_step_naming_each(tmp_path):
    """Files the object table no longer knows, planted after the reclaim: a server's root disk,
    a volume's file and an orphan backing file of that volume. The census step fails naming
    each, issues no certificate, and passes once they are gone."""
    ws = tmp_path / "bozhou"
    init_workspace(ws, "bozhou")   # the example: servers with root disks
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    assert gc(ws, "request-exit", "BZ-2026-0012").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", "edu-portal", faults=["--crash-after", "reclaim"])
    assert r.returncode == -9
    store = open_state(Workspace.at(ws))
    doc = store.get_workflow("decommission:edu/edu-portal")
    store.close()
    root = next(m for m in doc["media"] if m["kind"] == "root-disk")
    volume = next(m for m in doc["media"] if m["kind"] == "volume")
    backing = Path(volume["path"]).with_name(f"{volume['id']}-snap-1.img")
    planted = [Path(root["path"]), Path(volume["path"]), backing]
    assert not any(p.exists() for p in planted)      # the reclaim removed them
    for p in planted:
        p.write_bytes(b"left behind")
    r = gc(ws, "decommission", "--auto-approve", "edu-portal")
    assert r.returncode == 1 and "census found 3 objects" in r.stderr, r.stderr
    for line in (f"local: root-disk-file {root['id']}-root", f"local: volume-file {volume['id']}",
                 f"local: volume-file {volume['id']}-snap-1"):
        assert line in r.stderr, r.stderr
    assert not list((ws / "certificates").glob("*.json")) if (ws / "certificates").exists() else True
    for p in planted:
        p.unlink()
    r = gc(ws, "decommission", "--auto-approve", "edu-portal")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "census: leftovers=0" in r.stdout


def test_confirmation_on_a_terminal_and_auto_approve_in_a_pipeline(tmp_path):
    import pty
    import subprocess
    import sys
    ws = small(tmp_path, "bozhou")
    assert gc(ws, "request-exit", NO).returncode == 0
    r = run_govcloud(ws, "decommission", "exsys")          # stdin is not a terminal
    assert r.returncode == 1 and "not a terminal" in r.stderr and "--auto-approve" in r.stderr
    assert "Nothing was changed" in r.stderr and volumes(ws)
    store = open_state(Workspace.at(ws))
    assert store.get_workflow("decommission:exd/exsys") is None   # nothing recorded
    store.close()
    # on a terminal: the plan, then the question; "n" cancels
    master, slave = pty.openpty()
    p = subprocess.Popen([sys.executable, "-m", "orchestrator.cli", "decommission", "exsys",
                          "-C", str(ws)], stdin=slave, stdout=slave, stderr=slave,
                         cwd=Path(__file__).resolve().parents[2], close_fds=True)
    os.close(slave)
    out = b""
    while b"objects?" not in out:
        chunk = os.read(master, 4096)
        assert chunk, out
        out += chunk
    os.write(master, b"n\n")
    assert p.wait(timeout=120) == 1
    try:
        while True:
            chunk = os.read(master, 4096)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    os.close(master)
    text = out.decode(errors="replace")
    assert "wipe+delete volume:local/exd/exsys-internet/data" in text
    assert "Back up, wipe and delete these 7 objects?" in text and "cancelled" in text
    assert volumes(ws)
