"""Destroying decommission backups past their retention (`govcloud backup list | destroy`), on a
decommissioned embedded-cloud system with the clock moved by GOVCLOUD_NOW: never early (refused with the
date and the retention rule, nothing changed), a wipe-and-verify that deletes the file and
records it on the system (workflow, `backup-destroyed` events, audit) once, kill -9 at each new
point resumes, and a backup altered or missing since it was made is refused, not destroyed."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from drivers.base import driver_class
from drivers.media import content_sha256, find_markers
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.clock import at
from tests.decommission.test_exit_process import NO, gc, small

STACK = "exd/exsys"
DECOMMISSIONED = "2026-07-01"     # 亳州's backup_retention_months 6: destroy on 2027-01-01
DUE, BEFORE = "2027-01-01", "2026-12-31"


@pytest.fixture
def bws(tmp_path) -> tuple[Path, list[bytes]]:
    """A bozhou system with two data volumes holding markers, decommissioned on 2026-07-01."""
    ws = small(tmp_path, "bozhou", zones={"internet": {"volumes": [
        {"name": "data", "type": "blk.ssd", "gb": 1}, {"name": "logs", "type": "blk.ssd", "gb": 1}]}})
    drv = driver_class("local")("local", {}, ws, Workspace.at(ws).config.workspace.id)
    markers = [os.urandom(24) for _ in range(4)]
    for o in drv.observe():
        if o.kind == "volume":
            for i, m in enumerate(markers):
                drv.ex_write_volume(o.cloud_id, (i * 7 + 1) << 20, m * 32)
    drv.close()
    assert gc(ws, "request-exit", NO).returncode == 0
    r = gc(ws, "decommission", "exsys", "--auto-approve", "--backdated", "test", "--now", DECOMMISSIONED)
    assert r.returncode == 0, r.stdout + r.stderr
    return ws, markers


def files(ws: Path) -> list[Path]:
    return sorted((ws / "backups").rglob("*.img"))


def listed(ws: Path, now: str) -> list[dict]:
    r = gc(ws, "backup", "list", "--output", "json", "--now", now)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["backups"]


def record(ws: Path) -> tuple[dict, list[dict], list[str]]:
    """The workflow document, the approval's events and the audit actions."""
    store = open_state(Workspace.at(ws))
    try:
        return (store.get_workflow(f"decommission:{STACK}"), store.events(NO),
                [e.action for e in store.audit_entries()])
    finally:
        store.close()


def destroy(ws: Path, *args: str, now: str = DUE, faults: list[str] | None = None):
    return gc(ws, "backup", "destroy", *args, "--auto-approve", faults=faults, env=at(now))


def test_before_its_date_a_backup_is_never_destroyed_and_nothing_changes(bws):
    ws, markers = bws
    before = ({p: content_sha256(p) for p in files(ws)}, record(ws))
    assert len(before[0]) == 2 and all(find_markers(p, markers) for p in files(ws))
    assert {(b["state"], b["destroy_on"]) for b in listed(ws, BEFORE)} == {("held", DUE)}
    r = destroy(ws, "exsys", now=BEFORE)
    assert r.returncode == 1, r.stdout
    assert "2 backups of exsys may not be destroyed on 2026-12-31" in r.stderr
    assert "kept until 2027-01-01" in r.stderr and "backup_retention_months 6" in r.stderr
    assert "亳州市政务云管理办法" in r.stderr and "Nothing was changed." in r.stderr
    r = destroy(ws, "--due", now=BEFORE)              # --due: the early ones are only kept
    assert r.returncode == 0 and "0 backups to destroy. Nothing was changed." in r.stdout
    assert "kept until 2027-01-01" in r.stdout
    r = destroy(ws, "--due", "--dry-run")              # on the day: listed, still untouched
    assert r.returncode == 0 and r.stdout.count("wipe+delete") == 2, r.stdout
    assert ({p: content_sha256(p) for p in files(ws)}, record(ws)) == before
    r = gc(ws, "backup", "destroy", "--due", env=at(DUE))   # not a terminal: no confirmation
    assert r.returncode == 1 and "--auto-approve" in r.stderr
    r = gc(ws, "backup", "destroy", env=at(DUE))
    assert r.returncode == 1 and "needs a SYSTEM or --due" in r.stderr
    assert ({p: content_sha256(p) for p in files(ws)}, record(ws)) == before


def test_past_its_date_a_backup_is_wiped_verified_deleted_and_recorded_once(bws):
    ws, _ = bws
    doc, events, audit = record(ws)
    r = destroy(ws, "--due")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Destroyed 2 backups on 2027-01-01" in r.stdout
    assert files(ws) == [] and not (ws / "backups" / "exd__exsys").exists()
    rows = listed(ws, DUE)
    assert [(b["state"], b["destroyed_on"], b["verification"]) for b in rows] == \
        [("destroyed", DUE, "pass")] * 2
    after, events2, audit2 = record(ws)
    for m in after["media"]:
        d = m["backup"]["destruction"]
        assert d["state"] == "destroyed" and d["method"] == "overwrite-zeros"
        assert d["verification"]["method"].startswith("full read-back")
        assert d["bytes_overwritten"] >= 4 * 24 * 32          # every marker's extent
    new = [e for e in events2[len(events):]]
    assert [e["kind"] for e in new] == ["backup-destroyed"] * 2
    assert {e["detail"]["medium"] for e in new} == {m["id"] for m in after["media"]}
    assert audit2[len(audit):].count("backup-destroyed") == 2
    assert audit2[len(audit):].count("backup-wipe") == 2
    assert gc(ws, "audit", "verify").returncode == 0
    # a second run finds nothing to do and records nothing
    r = destroy(ws, "--due")
    assert r.returncode == 0 and "0 backups to destroy" in r.stdout
    assert record(ws)[1:] == (events2, audit2)
    # the certificate issued at the decommission still verifies (it is sealed as issued), and
    # the way back is closed with the date
    cert = next((ws / "certificates").glob("*.json"))
    assert gc(ws, "certificate", "verify", str(cert)).returncode == 0
    r = gc(ws, "restore", STACK, "--from", after["media"][0]["id"], "--into", "volume:x")
    assert r.returncode == 1 and "was destroyed on 2027-01-01" in r.stderr


@pytest.mark.parametrize("point", ["backup.wiped@2", "backup.deleted@1", "backup.recorded@2"])
def test_kill_9_in_the_middle_of_a_destroy_resumes_safely(bws, point):
    """backup.wiped: after the overwrite, before its read-back; backup.deleted: after the delete,
    before the record; backup.recorded: inside the record's transaction, before its audit entry
    (the transaction is lost whole)."""
    ws, markers = bws
    _, events, _ = record(ws)
    r = destroy(ws, "--due", faults=["--crash-at", point])
    assert r.returncode == -9, r.stdout + r.stderr
    left = files(ws)
    states = sorted(b["state"] for b in listed(ws, DUE))
    if point.startswith("backup.wiped"):
        assert states == ["destroyed", "destroying"] and len(left) == 1
        assert find_markers(left[0], markers) == []          # wiped before anything else
    elif point.startswith("backup.deleted"):
        assert states == ["destroying", "due"] and len(left) == 1   # the second not begun
    else:
        assert states == ["destroyed", "destroying"] and left == []
    assert gc(ws, "audit", "verify").returncode == 0
    r = destroy(ws, "--due")
    assert r.returncode == 0, r.stdout + r.stderr
    assert files(ws) == []
    assert [(b["state"], b["verification"]) for b in listed(ws, DUE)] == [("destroyed", "pass")] * 2
    _, events2, audit2 = record(ws)
    assert [e["kind"] for e in events2[len(events):]] == ["backup-destroyed"] * 2   # once each
    assert audit2.count("backup-destroyed") == 2
    assert gc(ws, "audit", "verify").returncode == 0


def test_a_backup_altered_or_missing_since_it_was_made_is_refused_not_destroyed(bws):
    ws, markers = bws
    first, second = files(ws)
    original = first.read_bytes()[1 << 20:(1 << 20) + 1]
    with open(first, "r+b") as f:                     # one byte of the data changed
        f.seek(1 << 20)
        f.write(bytes([original[0] ^ 0xFF]))
    before = record(ws)
    r = destroy(ws, "--due")
    assert r.returncode == 1, r.stdout
    assert "1 of the 2 backups due cannot be destroyed" in r.stderr
    assert f"{first} was altered since the backup was made" in r.stderr
    assert "Nothing was changed." in r.stderr
    assert files(ws) == [first, second] and find_markers(second, markers)   # the intact one too
    assert record(ws) == before
    with open(first, "r+b") as f:                     # negative control: put back, it goes
        f.seek(1 << 20)
        f.write(original)
    second.unlink()                                   # ...but a missing one is refused too
    r = destroy(ws, "--due")
    assert r.returncode == 1 and f"{second} is missing" in r.stderr, r.stderr
    assert record(ws) == before and files(ws) == [first]
    r = destroy(ws, "exsys")                          # the system named: the same refusal
    assert r.returncode == 1 and f"{second} is missing" in r.stderr


def test_a_wipe_that_fails_its_read_back_deletes_nothing_and_is_repeated(bws):
    ws, markers = bws
    r = destroy(ws, "--due", faults=["--wipe-fraction", "0.5"])
    assert r.returncode == 1 and "wipe verification failed for backup" in r.stderr, r.stderr
    assert "not deleted" in r.stderr
    left = files(ws)
    assert len(left) == 2 and any(find_markers(p, markers) for p in left)
    assert sorted(b["state"] for b in listed(ws, DUE)) == ["destroying", "due"]
    _, events, audit = record(ws)
    assert "backup-wipe-failed" in audit and "backup-destroyed" not in audit
    assert "backup-destroyed" not in [e["kind"] for e in events]
    r = destroy(ws, "--due")                          # fixed: wiped again, verified, deleted
    assert r.returncode == 0, r.stdout + r.stderr
    assert files(ws) == []
    assert [b["verification"] for b in listed(ws, DUE)] == ["pass", "pass"]
