"""Decommissioning on the real OpenStack test cloud, with the department's data written through
the cloud: the department (its application credential) uploads an image of random bytes, re-images
its volume from it (Cinder writes it into the backing file) and uploads an image from the
volume (Glance stores a copy); the provider snapshots the volume. Decommission wipes and verifies every copy (the volume's
backing file, the snapshot overlay, the server's boot volume, both Glance image files), deletes
everything, and the census finds nothing of the system in Keystone, Nova, Cinder, Glance or
Neutron. Fails without the cloud."""
from __future__ import annotations

import io
import json
import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from drivers.media import find_markers
from orchestrator.usecases.init import init_workspace
from tests.faulty_govcloud import run as run_govcloud
from tests.openstack.cloud import OSBOX_DIR, purge_stale, require_cloud

SHARE = OSBOX_DIR / "data" / "cinder" / "share"
IMAGES = OSBOX_DIR / "data" / "glance" / "images"


def gc(ws: Path, *args: str, faults: list[str] | None = None) -> subprocess.CompletedProcess:
    return run_govcloud(ws, *args, faults=faults, timeout=900)


@pytest.fixture
def ws(tmp_path):
    require_cloud()
    purge_stale(r"osdec-dept")
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   f'\n[targets.os]\ndriver = "openstack"\ncloud = "govcloud-admin"\n'
                   f'volume_files = "{SHARE}"\nimage_files = "{IMAGES}"\n')
    approval = {
        "approval_no": "OS-DEC-0001", "department": {"code": "osdec-dept", "name": "退出测试局"},
        "system": {"code": "leaving", "name": "退出系统", "dengbao_level": 2},
        "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
        "term": {"kind": "permanent"},
        # 亳州 第十七条: 申请表 + 建设批复 + 建设方案
        "materials": {"request_form": "附件1", "project_approval": "批复", "construction_plan": "方案"},
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


def department_conn(ws: Path, project_name: str):
    """The department's own access: the application credential govcloud issued for the project."""
    import openstack
    cred = json.loads(next((ws / ".govcloud" / "credentials").glob(f"*__{project_name}.json")).read_text())
    return openstack.connect(auth_type=cred["auth_type"], auth=cred["auth"],
                             region_name=cred["region_name"])


def wait_for(get, done, what: str, timeout: float = 180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        obj = get()
        if done(obj):
            return obj
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def random_image(markers: list[bytes], size: int = 16 << 20) -> bytes:
    data = bytearray(os.urandom(size))
    for k, m in enumerate(markers):   # each marker 16 times, spread over the image
        at = k * (size // len(markers)) + 4096
        data[at:at + 16 * len(m)] = m * 16
    return bytes(data)


def test_decommission_wipes_every_copy_and_leaves_nothing(ws):
    import openstack
    conn = openstack.connect(cloud="govcloud-admin")
    vols = {v.name: v for v in conn.block_storage.volumes(details=True, all_projects=True)
            if (v.metadata or {}).get("govcloud.stack") == "osdec-dept/leaving"}
    assert set(vols) == {"app-1-data1", "archive"}
    archive = vols["archive"]
    project = archive.project_id

    # The department writes its data through the cloud.
    dept = department_conn(ws, "leaving-internet")
    markers = [os.urandom(24) for _ in range(8)]
    src = dept.image.create_image(name="dept-data", data=io.BytesIO(random_image(markers)),
                                  disk_format="raw", container_format="bare", allow_duplicates=True)
    src = wait_for(lambda: dept.image.get_image(src.id), lambda i: i.status == "active", "image upload")
    assert src.owner == project
    r = dept.block_storage.post(f"/volumes/{archive.id}/action", microversion="3.68",
                                json={"os-reimage": {"image_id": src.id, "reimage_reserved": False}})
    assert r.status_code == 202, r.text
    time.sleep(2)
    wait_for(lambda: conn.block_storage.get_volume(archive.id), lambda v: v.status == "available",
             "the re-imaged volume")
    archive_file = SHARE / f"volume-{archive.id}"
    assert find_markers(archive_file, markers), "the image's bytes did not reach the volume's file"
    # an image uploaded from the volume: Glance keeps a copy of the data (before the snapshot:
    # Cinder refuses to upload a qcow2 overlay with a backing file, "failed safety check")
    up = dept.block_storage.upload_volume_to_image(archive, "dept-archive-image",
                                                   disk_format="raw", container_format="bare")
    copy = wait_for(lambda: conn.image.get_image(up["image_id"]),
                    lambda i: i.status in ("active", "killed"), "the image upload from the volume")
    assert copy.status == "active" and copy.owner == project
    wait_for(lambda: conn.block_storage.get_volume(archive.id), lambda v: v.status == "available",
             "the volume after the upload")
    # a snapshot taken by the provider (the department's snapshot quota is the approved 0; it is
    # counted in the admin project): Cinder turns the active image into a qcow2 overlay
    snap = conn.block_storage.create_snapshot(volume_id=archive.id, name="dept-snap", force=True)
    wait_for(lambda: conn.block_storage.get_snapshot(snap.id), lambda s: s.status == "available",
             "the snapshot")
    data_files = lambda vid: [p for p in SHARE.glob(f"volume-{vid}*") if p.suffix != ".info"]  # noqa
    assert len(data_files(archive.id)) == 2   # the base image and the snapshot overlay
    image_files = {i.id: IMAGES / i.id for i in (src, copy)}
    # the admin's unfiltered list (what the census reads) shows the department's private images
    assert set(image_files) <= {i.id for i in conn.image.images()}
    assert all(find_markers(p, markers) for p in image_files.values())   # positive control
    dept.close()

    r = gc(ws, "decommission", "leaving", "--dry-run")
    assert r.returncode == 0, r.stdout + r.stderr
    assert src.id in r.stdout and copy.id in r.stdout, r.stdout   # the plan names the images

    r = gc(ws, "decommission", "leaving", faults=["--crash-after", "verify"])
    assert r.returncode == -9, r.stdout + r.stderr
    doc = json.loads(gc(ws, "state", "list", "--output", "json").stdout)
    assert doc["resources"], "nothing may be deleted before the wipe is verified"
    assert {i.id for i in conn.image.images(owner=project)} == set(image_files)
    media = data_files(archive.id) + [SHARE / f"volume-{vols['app-1-data1'].id}",
                                      *image_files.values()]
    assert len(media) == 5 and all(find_markers(p, markers) == [] for p in media)

    r = gc(ws, "decommission", "leaving")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "census: leftovers=0" in r.stdout
    cert = json.loads(next((ws / "certificates").glob("*.json")).read_text())
    kinds = sorted(m["type"] for m in cert["media"])
    assert kinds == ["image", "image", "root-disk", "snapshot", "volume", "volume"], kinds
    assert all(m["verification_result"] == "pass" for m in cert["media"])
    # nothing of the system anywhere
    assert not [p for p in SHARE.glob("volume-*") if any(v.id in p.name for v in vols.values())]
    assert not [p for p in image_files.values() if p.exists()]
    assert not [i for i in conn.image.images() if i.owner == project or i.id in image_files]
    assert not [s for s in conn.compute.servers(all_projects=True) if s.name == "app-1"
                and s.project_id == project]
    assert not [s for s in conn.block_storage.snapshots(all_projects=True) if s.name == "dept-snap"]
    assert not [p for p in conn.identity.projects() if p.name == "leaving-internet"]
    assert not [n for n in conn.network.networks() if n.name == "leaving-internet-net"]
    assert gc(ws, "certificate", "verify", str(next((ws / "certificates").glob("*.md")))).returncode == 0
