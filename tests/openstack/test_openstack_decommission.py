"""Decommissioning on the real OpenStack test cloud: volume data (random markers in the Cinder
backing files) and a snapshot; decommission wipes and verifies the backing files (the volume,
the server's boot volume, the snapshot overlay), deletes everything, and the census finds
nothing of the system in Nova, Cinder, Neutron or Keystone. Fails without the cloud."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drivers.media import find_markers
from orchestrator.service import init_workspace
from tests.openstack.cloud import OSBOX_DIR, purge_stale, require_cloud

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
SHARE = OSBOX_DIR / "data" / "cinder" / "share"


def gc(ws: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                          timeout=900, env={**os.environ, **(env or {})})


@pytest.fixture
def ws(tmp_path):
    require_cloud()
    purge_stale(r"osdec-dept")
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   f'\n[targets.os]\ndriver = "openstack"\ncloud = "govcloud-admin"\n'
                   f'volume_files = "{SHARE}"\n')
    approval = {
        "approval_no": "OS-DEC-0001", "department": {"code": "osdec-dept", "name": "退出测试局"},
        "system": {"code": "leaving", "name": "退出系统", "dengbao_level": 2},
        "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
        "term": {"kind": "permanent"},
        "zones": {"internet": {
            "servers": [{"name": "app", "flavor": "ecs.s1m2", "image": "kylin-v10-sp3",
                         "system_disk": {"type": "blk.ssd", "gb": 1},
                         "data_disks": [{"type": "blk.ssd", "gb": 1}]}],
            "volumes": [{"name": "archive", "type": "blk.sata", "gb": 1}],
            "inbound": [{"protocol": "tcp", "port": 443, "source": "0.0.0.0/0"}]}}}
    (ws / "approvals" / "OS-DEC-0001.yaml").write_text(yaml.safe_dump(approval, allow_unicode=True))
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    return ws


def test_decommission_wipes_backing_files_and_leaves_nothing(ws):
    import openstack
    conn = openstack.connect(cloud="govcloud-admin")
    vols = {v.name: v for v in conn.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("govcloud.stack") == "osdec-dept/leaving"}
    assert set(vols) == {"app-1-data1", "archive"}
    markers = [os.urandom(24) for _ in range(8)]
    files = {name: SHARE / f"volume-{v.id}" for name, v in vols.items()}
    for i, (name, path) in enumerate(sorted(files.items())):
        with open(path, "r+b") as f:
            for k, m in enumerate(markers):
                f.seek((k + 1) * (64 << 20) + i * 4096)
                f.write(m * 16)
    # a snapshot of the archive volume: Cinder turns the active image into a qcow2 overlay
    project = vols["archive"].project_id
    snap = conn.block_storage.create_snapshot(volume_id=vols["archive"].id, name="dept-snap", force=True)
    conn.block_storage.wait_for_status(snap, "available", failures=["error"], wait=120)
    data_files = lambda vid: [p for p in SHARE.glob(f"volume-{vid}*") if p.suffix != ".info"]  # noqa
    assert len(data_files(vols["archive"].id)) == 2   # the base image and the snapshot overlay
    assert all(find_markers(p, markers) for p in files.values())   # positive control

    r = gc(ws, "decommission", "leaving", env={"GOVCLOUD_CRASH_AFTER": "verify"})
    assert r.returncode == -9, r.stdout + r.stderr
    doc = json.loads(gc(ws, "state", "list", "--output", "json").stdout)
    assert doc["resources"], "nothing may be deleted before the wipe is verified"
    media = data_files(vols["archive"].id) + [files["app-1-data1"]]
    assert len(media) == 3 and all(find_markers(p, markers) == [] for p in media)

    r = gc(ws, "decommission", "leaving")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "census: leftovers=0" in r.stdout
    cert = json.loads(next((ws / "certificates").glob("*.json")).read_text())
    kinds = sorted(m["type"] for m in cert["media"])
    assert kinds == ["root-disk", "snapshot", "volume", "volume", "volume"] or \
        set(kinds) >= {"root-disk", "snapshot", "volume"}
    assert all(m["verification_result"] == "pass" for m in cert["media"])
    # nothing of the system anywhere
    assert not [p for p in SHARE.glob("volume-*") if any(v.id in p.name for v in vols.values())]
    assert not [s for s in conn.compute.servers(all_projects=True) if s.name == "app-1"
                and s.project_id == project]
    assert not [s for s in conn.block_storage.snapshots(all_projects=True) if s.name == "dept-snap"]
    assert not [p for p in conn.identity.projects() if p.name == "leaving-internet"]
    assert not [n for n in conn.network.networks() if n.name == "leaving-internet-net"]
    assert gc(ws, "certificate", "verify", str(next((ws / "certificates").glob("*.md")))).returncode == 0
