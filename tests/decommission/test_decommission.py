"""Decommissioning on the local cloud: markers written through the cloud are gone after the
wipe, a partial wipe stops the workflow before any delete, kill -9 at every step resumes,
the transition hold, restore from backup, certificates and their verification."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from drivers.base import driver_class
from drivers.media import content_sha256, find_markers, sparse_copy
from orchestrator.decommission import STEPS
from orchestrator.usecases.init import init_workspace
from orchestrator.workspace import Workspace
from tests.clock import at
from tests.conftest import cloud_rows
from tests.faulty_govcloud import run as run_govcloud

SYSTEM = "edu-portal"


def gc(ws: Path, *args: str, faults: list[str] | None = None,
       env: dict | None = None) -> subprocess.CompletedProcess:
    return run_govcloud(ws, *args, faults=faults, env=env)


def local(ws: Path):
    return driver_class("local")("local", {}, ws, Workspace.at(ws).config.workspace.id)


def write_markers(ws: Path, count: int = 16) -> tuple[list[bytes], dict[str, Path]]:
    """Random markers written through the cloud across every medium of the system."""
    drv = local(ws)
    markers, paths = [], {}
    for o in drv.observe():
        if o.tags.get("govcloud.stack") != f"edu/{SYSTEM}" or o.kind not in ("volume", "server"):
            continue
        for m in drv.media(o):
            paths[m.id] = m.path
            for i in range(count):
                marker = os.urandom(24)
                markers.append(marker)
                offset = (m.size // count) * i + 4096 * i
                if o.kind == "volume":
                    drv.ex_write_volume(o.cloud_id, offset, marker * 64)
                else:
                    with open(m.path, "r+b") as f:
                        f.seek(offset)
                        f.write(marker * 64)
    drv.close()
    return markers, paths


@pytest.fixture
def dws(tmp_path) -> Path:
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    # 亳州 第二十三条: the department's 注销申请 comes first (tests/decommission/test_exit_process.py)
    assert gc(ws, "request-exit", "BZ-2026-0012").returncode == 0
    return ws


def test_dry_run_lists_and_changes_nothing(dws):
    before = cloud_rows(dws)
    r = gc(dws, "decommission", SYSTEM, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert "wipe+delete server:local/edu/edu-portal-internet/web-1" in r.stdout
    assert "Dry run: 24 objects, 8 media to wipe. Nothing was changed." in r.stdout
    assert cloud_rows(dws) == before
    r = gc(dws, "decommission", "--auto-approve", SYSTEM, "--max-deletes", "10")
    assert r.returncode == 1 and "more than --max-deletes 10" in r.stderr
    assert cloud_rows(dws) == before


def test_wipe_leaves_no_marker_and_backups_restore(dws):
    markers, paths = write_markers(dws)
    assert all(find_markers(p, markers) for p in paths.values())  # positive control
    r = gc(dws, "decommission", "--auto-approve", SYSTEM, faults=["--crash-after", "verify"])
    assert r.returncode == -9
    for p in paths.values():  # verified and not yet deleted: read the media directly
        assert find_markers(p, markers) == []
    r = gc(dws, "decommission", "--auto-approve", SYSTEM)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(p.exists() for p in paths.values())
    assert not [r for r in cloud_rows(dws) if "/edu-portal-" in (r[2] or "")]
    # every backup holds the original data, restorable to a new volume with the same hash
    doc = json.loads(gc(dws, "state", "list", "--output", "json").stdout)
    assert not [x for x in doc["resources"] if "/edu-portal-" in x["address"]]
    backups = sorted((dws / "backups").rglob("*.img"))
    assert len(backups) == 8
    restored = dws / "restored.img"
    volume_backup = next(b for b in backups if b.name.startswith("volume-"))
    sparse_copy(volume_backup, restored)
    assert content_sha256(restored) == content_sha256(volume_backup)
    assert find_markers(restored, markers)


def test_partial_wipe_fails_verification_and_deletes_nothing(dws):
    markers, paths = write_markers(dws)
    before = cloud_rows(dws)
    r = gc(dws, "decommission", "--auto-approve", SYSTEM, faults=["--wipe-fraction", "0.5"])
    assert r.returncode == 1
    assert "wipe verification failed" in r.stderr and "nothing was deleted" in r.stderr
    assert len(cloud_rows(dws)) == len(before) - 1  # only the public IP was released (offline)
    assert all(p.exists() for p in paths.values())
    assert any(find_markers(p, markers) for p in paths.values())
    entries = json.loads(gc(dws, "audit", "list", "--last", "0", "--output", "json").stdout)["entries"]
    assert "decommission-verify-failed" in [e["action"] for e in entries]
    assert "decommission-reclaim" not in [e["action"] for e in entries]
    r = gc(dws, "decommission", "--auto-approve", SYSTEM)  # fixed: the wipe is repeated and verified
    assert r.returncode == 0, r.stderr
    assert not any(p.exists() for p in paths.values())


@pytest.mark.slow
@pytest.mark.parametrize("step", [s for s in STEPS if s != "billing"])
def test_kill_9_after_each_step_resumes_safely(dws, step):
    markers, paths = write_markers(dws, 4)
    r = gc(dws, "decommission", "--auto-approve", SYSTEM, faults=["--crash-after", step])
    assert r.returncode == -9, r.stderr
    if STEPS.index(step) < STEPS.index("verify"):
        assert all(p.exists() for p in paths.values()), "deleted before the wipe was verified"
    r = gc(dws, "decommission", "--auto-approve", SYSTEM)
    assert r.returncode == 0, r.stdout + r.stderr
    assert not any(p.exists() for p in paths.values())
    assert len(sorted((dws / "backups").rglob("*.img"))) == 8
    certs = sorted((dws / "certificates").glob("*.json"))
    assert len(certs) == 1
    assert gc(dws, "certificate", "verify", str(certs[0])).returncode == 0
    assert gc(dws, "audit", "verify").returncode == 0
    assert gc(dws, "plan", "--detailed-exitcode").returncode == 0


def test_certificate_fields_and_tamper_detection(dws):
    assert gc(dws, "decommission", "--auto-approve", SYSTEM).returncode == 0
    cert = next((dws / "certificates").glob("*.json"))
    data = json.loads(cert.read_text())
    assert data["standard"] == "NIST SP 800-88 Rev.1 Appendix G"
    assert data["regulation"]["article"] == "第二十三条"
    assert len(data["media"]) == 8
    m = data["media"][0]
    assert m["method_type"] == "Clear" and m["verification_result"] == "pass"
    assert set(m) >= {"identifier", "type", "size_bytes", "technique", "verification_method",
                      "destination", "backup"}
    for f in (dws / "certificates").iterdir():
        assert gc(dws, "certificate", "verify", str(f)).returncode == 0
    html = cert.with_suffix(".html")
    html.write_text(html.read_text().replace("pass", "PASS", 1))
    r = gc(dws, "certificate", "verify", str(html))
    assert r.returncode == 1 and "was changed after it was issued" in r.stderr
    # the plan leaves the decommissioned system alone even though its approval is still there
    r = gc(dws, "plan", "--output", "json")
    assert not [a for a in json.loads(r.stdout)["actions"] if "/edu-portal-" in a["address"]]
    events = None
    from orchestrator.usecases.session import open_state
    store = open_state(Workspace.at(dws))
    events = store.events("BZ-2026-0012")
    store.close()
    # approved + provisioned come from the apply (lifecycle events, issue 5)
    assert [e["kind"] for e in events] == ["approved", "provisioned", "exit-requested", "backed-up",
                                           "offline", "wiped", "verified", "reclaimed", "terminated"]


def test_transition_hold_stops_and_resumes_after_the_date(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")  # 巴中 第二十二条: 3-month 过渡期
    gc(ws, "compile")
    gc(ws, "apply", "--auto-approve")
    # the 过渡期 runs from the written request (2026-11-23), not from the offline
    assert gc(ws, "request-exit", "BZ-2026-0012", "--date", "2026-11-23").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", SYSTEM, env=at("2026-12-20"))
    assert r.returncode == 0
    assert "held for the 3-month transition period until 2027-02-23" in r.stdout
    assert "第二十二条" in r.stdout
    assert [x for x in cloud_rows(ws) if x[1] == "volume" and "/edu-portal-" in x[2]]
    r = gc(ws, "decommission", "--auto-approve", SYSTEM, "--resume", env=at("2027-02-22"))
    assert r.returncode == 1 and "not before 2027-02-23" in r.stderr
    r = gc(ws, "decommission", "--auto-approve", SYSTEM, "--resume", env=at("2027-02-23"))
    assert r.returncode == 0, r.stderr
    assert not [x for x in cloud_rows(ws) if "/edu-portal-" in (x[2] or "")]


def test_apply_that_deletes_a_volume_wipes_it_first(dws):
    from tests.conftest import amend
    markers, paths = write_markers(dws, 2)
    # (亳州 第二十二条: removing all 1000 GB of 1860 would be a major change; a smaller volume
    # takes its place, so the change is -26.9 % of the storage)
    amend(dws / "approvals" / "BZ-2026-0012.yaml", lambda d: d["zones"]["extranet"].update(
        volumes=[{"name": "archive2", "type": "blk.sata", "gb": 500}]))
    assert gc(dws, "compile").returncode == 0
    archive = [r for r in cloud_rows(dws) if r[2].endswith("/archive")][0][0]
    path = paths[archive]
    assert find_markers(path, markers)
    r = gc(dws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert not path.exists()
    entries = json.loads(gc(dws, "audit", "list", "--last", "0", "--output", "json").stdout)["entries"]
    delete = next(e for e in entries if e["action"] == "delete" and e["target"].endswith("/archive"))
    assert delete["detail"]["sanitization"]["result"] == "verified"
    assert delete["detail"]["sanitization"]["media"][0]["verification"]["result"] == "pass"


def test_backups_go_to_s3_compatible_storage_when_configured(tmp_path):
    """[backup] kind = "s3": each medium is uploaded through libcloud to a real moto S3 on
    127.0.0.1, read back and compared; a restore from it has the original content."""
    from drivers.libcloud.backup import S3Backup
    from tests.libcloud.moto_server import KEY_ENV, SECRET_ENV, endpoint
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou", examples=False)
    cfg = ws / "govcloud.toml"
    opts = {"bucket": "govcloud-backups", "endpoint": endpoint(), "region": "us-east-1",
            "access_key_env": KEY_ENV, "secret_key_env": SECRET_ENV}
    cfg.write_text(cfg.read_text() + '\n[backup]\nkind = "s3"\n' +
                   "".join(f'{k} = "{v}"\n' for k, v in opts.items()))
    (ws / "approvals" / "A.yaml").write_text("""
approval_no: BK-0001
department: {code: bk, name: 备份局}
system: {code: bksys, name: 备份系统, dengbao_level: 2}
approvers: [{name: 王敏, org: 大数据局}]
approved_on: 2026-03-02
term: {kind: permanent}
materials: {request_form: 附件1, project_approval: 亳发改〔2026〕1号, construction_plan: 建设方案}
zones: {internet: {volumes: [{name: data, type: blk.ssd, gb: 1}]}}
""", encoding="utf-8")
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    drv = local(ws)
    vol = next(o for o in drv.observe() if o.kind == "volume")
    marker = os.urandom(32)
    drv.ex_write_volume(vol.cloud_id, 12345, marker)
    original = content_sha256(drv.volume_path(vol.cloud_id))
    drv.close()
    assert gc(ws, "request-exit", "BK-0001").returncode == 0
    r = gc(ws, "decommission", "--auto-approve", "bksys")
    assert r.returncode == 0, r.stdout + r.stderr
    from orchestrator.usecases.session import open_state
    store = open_state(Workspace.at(ws))
    doc = store.get_workflow("decommission:bk/bksys")
    store.close()
    backup = doc["media"][0]["backup"]
    assert backup["uri"].startswith("s3://govcloud-backups/bk__bksys/")
    s3 = S3Backup(opts)
    key = backup["uri"].split("/", 3)[3]
    restored = tmp_path / "restored.img"
    s3.get_file(key, restored, expected_sha256=backup["object_sha256"])
    assert content_sha256(restored) == original == backup["sha256"]
    assert find_markers(restored, [marker])


def test_media_a_cloud_gives_no_access_to_are_n_a_never_pass(tmp_path):
    import datetime as dt
    from orchestrator.certificate import record
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou", examples=False)
    doc = {"stack": "d/s", "department": {"code": "d", "name": "D"},
           "system": {"code": "s", "name": "S", "dengbao_level": 2}, "approvals": ["A-1"],
           "started": "2026-11-23", "media": [],
           "media_unreachable": [{"address": "volume:aws/d/s-internet/v", "kind": "volume",
                                  "id": "vol-1", "target": "aws"}]}
    cert = record(Workspace.at(ws), doc, dt.date(2026, 11, 23), "op", "org", "0")
    assert [(m["identifier"], m["verification_result"], m["method_type"]) for m in cert["media"]] \
        == [("vol-1", "n/a", "N/A")]
