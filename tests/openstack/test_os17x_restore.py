"""Issue 17's day-two commands end to end on the OpenStack test cloud (scripts/openstack/up.sh),
through the CLI: `restore` of a decommission backup into a new Cinder volume (the bytes read back
from the Cinder share), `state mv` and a `moved:` record renaming a server in place (same Nova
server, same boot volume), `state rm` leaving a volume in the cloud untouched and nobody's, and
`import` of a volume and a server the department made by hand. Each test has a system of its own
in the module's workspace (department os17x-dept; everything of it, owned or not, is removed
before and after). Fails (never skips) without the cloud."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from drivers.media import content_sha256
from orchestrator.usecases.init import init_workspace
from tests.conftest import amend
from tests.openstack.cloud import CLOUD, OSBOX_DIR, purge_stale, require_cloud
from tests.policy.builders import approval, write

SHARE = OSBOX_DIR / "data" / "cinder" / "share"
IMAGES = OSBOX_DIR / "data" / "glance" / "images"
DEPT = ("os17x-dept", "第十七号测试局")
PREFIX = "os/os17x-dept"            # target/department
REPO = Path(__file__).resolve().parents[2]
SERVER = {"name": "app", "flavor": "ecs.s1m2", "image": "kylin-v10-sp3",
          "system_disk": {"type": "blk.ssd", "gb": 1}, "count": 1}


def _vol(name: str) -> dict:
    return {"name": name, "type": "blk.ssd", "gb": 1}


def _admin():
    import openstack
    return openstack.connect(cloud=CLOUD)


def _sweep() -> None:
    """Everything in the department's projects that no workspace owns any more (released by
    state rm, made by hand), then every workspace's objects of the department."""
    conn = _admin()
    try:
        doms = [d.id for d in conn.identity.domains() if d.name.startswith("os17x-")]
        projects = [p.id for p in conn.identity.projects() if p.domain_id in doms]
        for pid in projects:
            for s in conn.compute.servers(all_projects=True, project_id=pid):
                conn.compute.delete_server(s)
                conn.compute.wait_for_delete(s, wait=120)
            for v in conn.block_storage.volumes(all_projects=True, project_id=pid):
                if v.status in ("available", "error"):
                    conn.block_storage.delete_volume(v, ignore_missing=True)
    finally:
        conn.close()
    purge_stale(r"os17x-.*")


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    require_cloud()
    _sweep()
    ws = tmp_path_factory.mktemp("os17x") / "ws"
    init_workspace(ws, "bozhou", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   f'\n[targets.os]\ndriver = "openstack"\ncloud = "{CLOUD}"\n'
                   f'volume_files = "{SHARE}"\nimage_files = "{IMAGES}"\n')
    yield ws
    _sweep()


def gc(ws: Path, *args: str, now: str = "2026-06-20") -> subprocess.CompletedProcess:
    env = {**os.environ, "GOVCLOUD_TODAY": now}
    return subprocess.run([sys.executable, "-m", "orchestrator.cli", *args, "-C", str(ws)],
                          capture_output=True, text=True, timeout=900, cwd=REPO, env=env)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, r.stdout + r.stderr
    return r


def add(ws: Path, data: dict) -> None:
    write(ws, data)
    ok(gc(ws, "compile"))


def state_ids(ws: Path) -> dict[str, str]:
    doc = json.loads(ok(gc(ws, "state", "list", "--output", "json")).stdout)
    return {r["address"]: r["cloud_id"] for r in doc["resources"]}


def plan_actions(ws: Path, project: str) -> list[dict]:
    """The plan's actions on one project's objects (other tests' systems share the workspace)."""
    doc = json.loads(ok(gc(ws, "plan", "--output", "json")).stdout)
    return [a for a in doc["actions"] if f"/{project}/" in a["address"] or
            a["address"].endswith(f"/{project}")]


def plain_sha256(path: Path, size: int | None = None) -> str:
    """SHA-256 of the bytes as they are (not govcloud's hole-skipping content hash)."""
    h, left = hashlib.sha256(), path.stat().st_size if size is None else size
    with open(path, "rb") as f:
        while left > 0:
            block = f.read(min(left, 8 << 20))
            if not block:
                break
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def test_restore_writes_a_decommission_backup_into_a_new_cinder_volume(ws, tmp_path):
    old = approval("OS17X-R1", approved_on="2026-06-01", dept=DEPT, system="leaving",
                   servers=[], volumes=[_vol("archive")])
    add(ws, old)
    ok(gc(ws, "apply", "--auto-approve"))
    archive = f"volume:{PREFIX}/leaving-internet/archive"
    vid = state_ids(ws)[archive]
    src = SHARE / f"volume-{vid}"
    # the department's data: two extents of random bytes in the volume's backing file
    data = [os.urandom(1 << 20), os.urandom(300_000)]
    with open(src, "r+b") as f:
        f.seek(4096)
        f.write(data[0])
        f.seek(64 << 20)
        f.write(data[1])
    original = plain_sha256(src)

    ok(gc(ws, "request-exit", "OS17X-R1"))   # 亳州 第二十三条: the written request first
    done = json.loads(ok(gc(ws, "decommission", "leaving", "--auto-approve",
                            "--output", "json")).stdout)
    if done["status"] == "held":             # the transition period (过渡期)
        done = json.loads(ok(gc(ws, "decommission", "leaving", "--resume", "--output", "json",
                                now="2027-06-20")).stdout)
    assert done["status"] == "finished", done
    assert not src.exists() or plain_sha256(src) != original   # the volume's bytes are gone
    (m,) = [m for m in done["workflow"]["media"] if m["id"] == vid]
    backup = Path(m["backup"]["uri"][len("file://"):])
    assert plain_sha256(backup) == original                  # the backup holds them

    new = approval("OS17X-R2", approved_on="2026-06-01", dept=DEPT, system="back",
                   servers=[], volumes=[_vol("restore"), _vol("tiny")])
    add(ws, new)
    ok(gc(ws, "apply", "--auto-approve"))
    into = f"volume:{PREFIX}/back-internet/restore"
    tiny = f"volume:{PREFIX}/back-internet/tiny"
    ids = state_ids(ws)
    # the decommissioned system's own volume is no approved system's volume: refused
    r = gc(ws, "restore", "os17x-dept/leaving", "--from", str(backup), "--into", archive)
    assert r.returncode == 1 and "not a volume of an approved system" in r.stdout + r.stderr

    r = ok(gc(ws, "restore", "os17x-dept/leaving", "--from", str(backup), "--into", into,
              "--output", "json"))
    doc = json.loads(r.stdout)
    assert doc["sha256"] == m["backup"]["sha256"] and doc["cloud_id"] == ids[into]
    # read back through the Cinder share: the new volume holds exactly the backed-up bytes
    dest = SHARE / f"volume-{ids[into]}"
    size = backup.stat().st_size
    assert plain_sha256(dest, size) == original
    assert content_sha256(dest, size) == m["backup"]["sha256"]
    with open(dest, "rb") as f:
        f.seek(64 << 20)
        assert f.read(len(data[1])) == data[1]
    conn = _admin()
    try:
        v = conn.block_storage.get_volume(ids[into])
        assert v.status == "available" and v.name == "restore"   # Cinder still has it as it was
    finally:
        conn.close()
    entries = json.loads(ok(gc(ws, "audit", "list", "--output", "json")).stdout)["entries"]
    assert entries[-1]["action"] == "restore" and entries[-1]["target"] == into

    # written once, the volume is not empty: a second restore into it is refused
    r = gc(ws, "restore", "os17x-dept/leaving", "--from", str(backup), "--into", into)
    assert r.returncode == 1 and "not empty" in r.stdout + r.stderr
    # an altered backup is refused before anything is written
    with open(backup, "r+b") as f:
        f.seek(4096)
        f.write(b"X")
    r = gc(ws, "restore", "os17x-dept/leaving", "--from", str(backup), "--into", tiny)
    assert r.returncode == 1 and "does not match the SHA-256" in r.stdout + r.stderr
    tiny_file, empty = SHARE / f"volume-{ids[tiny]}", tmp_path / "empty"
    with open(empty, "wb") as f:
        f.truncate(tiny_file.stat().st_size)
    assert content_sha256(tiny_file) == content_sha256(empty)   # nothing written into it


def test_state_mv_and_moved_rename_a_server_in_place_and_state_rm_lets_a_volume_go(ws):
    data = approval("OS17X-M1", approved_on="2026-06-01", dept=DEPT, system="web",
                    servers=[SERVER], volumes=[_vol("keep"), _vol("spare")])
    add(ws, data)
    ok(gc(ws, "apply", "--auto-approve"))
    p = f"{PREFIX}/web-internet"
    ids = state_ids(ws)
    sid = ids[f"server:{p}/app-1"]
    conn = _admin()
    try:
        before = conn.compute.get_server(sid)
        boot = sorted(v["id"] for v in before.attached_volumes)

        # renamed in the approval (a change document): without a move it is a replacement
        path = ws / "approvals" / "OS17X-M1.yaml"
        amend(path, lambda d: d["zones"]["internet"]["servers"][0].update(name="api"))
        ok(gc(ws, "compile"))
        (a,) = [a for a in plan_actions(ws, "web-internet") if a["address"] == f"server:{p}/api-1"]
        assert a["action"] == "create"                         # and app-1 is deleted
        r = ok(gc(ws, "state", "mv", f"server:{p}/app-1", f"server:{p}/api-1"))
        s = conn.compute.get_server(sid)                       # the same Nova server
        assert s.name == "api-1" and s.status == "ACTIVE"
        assert s.metadata["govcloud.address"] == f"server:{p}/api-1"
        assert sorted(v["id"] for v in s.attached_volumes) == boot
        assert state_ids(ws)[f"server:{p}/api-1"] == sid
        assert f"server:{p}/app-1" not in state_ids(ws)
        assert all(a["action"] == "no-op" for a in plan_actions(ws, "web-internet")), r.stdout

        # the reviewed way: a moved: record in the next change document, applied
        ch = amend(path, lambda d: d["zones"]["internet"]["servers"][0].update(name="web"))
        doc = yaml.safe_load(ch.read_text())
        doc["moved"] = [{"from": f"server:{p}/api-1", "to": f"server:{p}/web-1"}]
        ch.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
        ok(gc(ws, "compile"))
        (a,) = [a for a in plan_actions(ws, "web-internet") if a["action"] != "no-op"]
        assert (a["address"], a["action"], a["cause"]) == (f"server:{p}/web-1", "update", "moved")
        ok(gc(ws, "apply", "--auto-approve"))
        s = conn.compute.get_server(sid)
        assert s.name == "web-1" and s.metadata["govcloud.address"] == f"server:{p}/web-1"
        assert sorted(v["id"] for v in s.attached_volumes) == boot
        assert all(a["action"] == "no-op" for a in plan_actions(ws, "web-internet"))
        audit = json.loads(ok(gc(ws, "audit", "list", "--output", "json")).stdout)["entries"]
        assert [e["target"] for e in audit if e["action"] == "move"] == \
            [f"server:{p}/api-1", f"server:{p}/web-1"]

        # state rm: refused while the approval wants the volume; then the volume stays,
        # untouched and nobody's
        spare = f"volume:{p}/spare"
        r = gc(ws, "state", "rm", spare)
        assert r.returncode == 1 and "still wanted" in r.stdout + r.stderr
        vid = ids[spare]
        v0 = conn.block_storage.get_volume(vid)
        with open(SHARE / f"volume-{vid}", "r+b") as f:
            f.seek(1 << 20)
            f.write(b"kept by the department")
        bytes_before = content_sha256(SHARE / f"volume-{vid}")
        amend(path, lambda d: d["zones"]["internet"].update(volumes=[_vol("keep")]))
        ok(gc(ws, "compile"))
        (gone,) = [a for a in plan_actions(ws, "web-internet") if a["address"] == spare]
        assert gone["action"] == "delete"                       # the negative control
        ok(gc(ws, "state", "rm", spare))
        v = conn.block_storage.get_volume(vid)
        assert (v.name, v.size, v.status, v.project_id) == (v0.name, v0.size, v0.status,
                                                            v0.project_id)
        assert content_sha256(SHARE / f"volume-{vid}") == bytes_before
        md = v.metadata or {}
        assert "govcloud.workspace" not in md and "govcloud.address" not in md
        assert md["govcloud.released-from"].startswith("ws-")
        actions = plan_actions(ws, "web-internet")
        assert not [a for a in actions if a["address"] == spare or
                    (a.get("prior") or {}).get("cloud_id") == vid]
        inv = json.loads(ok(gc(ws, "inventory", "--system", "web", "--output", "json")).stdout)
        (unowned,) = [u for s in inv["systems"] for u in s["unowned"] if u["cloud_id"] == vid]
        assert "released" in unowned["why"]
        # the kept volume still counts against the quota, which the approval lowered: once the
        # department deletes it, the lower quota applies (and the workspace converges again)
        conn.block_storage.delete_volume(vid)
        conn.block_storage.wait_for_delete(v, wait=120)
        ok(gc(ws, "apply", "--auto-approve"))
        assert all(a["action"] == "no-op" for a in plan_actions(ws, "web-internet"))
    finally:
        conn.close()


def test_import_takes_a_volume_and_a_server_made_by_hand(ws):
    data = approval("OS17X-I1", approved_on="2026-06-01", dept=DEPT, system="migr",
                    servers=[SERVER], volumes=[_vol("data")])
    add(ws, data)
    p = f"{PREFIX}/migr-internet"
    # everything but the server and the volume, which the department makes itself
    ok(gc(ws, "apply", "--auto-approve", "-target", f"router:{p}/router",
          "-target", f"security_group:{p}/sg"))
    ids = state_ids(ws)
    assert f"server:{p}/app-1" not in ids and f"volume:{p}/data" not in ids
    conn = _admin()
    made: list = []
    try:
        pid = ids[f"project:{p}"]
        dom = conn.identity.get_project(pid).domain_id
        dept = _department(ws, dom, "migr-internet")
        image = conn.image.find_image("kylin-v10-sp3", ignore_missing=False)
        flavor = conn.compute.find_flavor("ecs.s1m2", ignore_missing=False)
        group = conn.network.get_security_group(ids[f"security_group:{p}/sg"])
        vol = dept.block_storage.create_volume(size=1, name="data", volume_type="ssd")
        made.append(("volume", vol.id))
        srv = dept.compute.create_server(
            name="app-1", flavor_id=flavor.id, networks=[{"uuid": ids[f"network:{p}/net"]}],
            security_groups=[{"name": group.name}],
            block_device_mapping=[{"boot_index": 0, "uuid": image.id, "source_type": "image",
                                   "destination_type": "volume", "volume_size": 1,
                                   "volume_type": "ssd", "delete_on_termination": True}])
        made.append(("server", srv.id))
        dept.block_storage.wait_for_status(vol, "available", failures=["error"], wait=120)
        srv = dept.compute.wait_for_server(srv, status="ACTIVE", failures=["ERROR"], wait=300)
        before = {a["address"]: a for a in plan_actions(ws, "migr-internet")
                  if a["action"] != "no-op"}
        assert {(a, x["action"]) for a, x in before.items()} == {
            (f"server:{p}/app-1", "create"), (f"volume:{p}/data", "create"),
            (f"network:{p}/net", "update")}
        # until it is imported, the server's port is a foreign port on the approved network
        assert set(before[f"network:{p}/net"]["changes"]) == {"foreign_ports"}

        # the server's boot volume is no "data" volume: refused, naming the difference
        (boot,) = [v["id"] for v in conn.compute.get_server(srv.id).attached_volumes]
        r = gc(ws, "import", f"volume:{p}/data", boot, "--output", "json")
        assert r.returncode == 1 and "does not match" in json.loads(r.stdout)["error"], r.stdout
        assert [i["field"] for i in json.loads(r.stdout)["issues"]] == ["name"]
        assert "govcloud.workspace" not in (conn.block_storage.get_volume(boot).metadata or {})
        ok(gc(ws, "import", f"volume:{p}/data", vol.id))
        ok(gc(ws, "import", f"server:{p}/app-1", srv.id))
        made = []                                       # ours now: the sweep removes them
        after = state_ids(ws)
        assert after[f"volume:{p}/data"] == vol.id and after[f"server:{p}/app-1"] == srv.id
        assert all(a["action"] == "no-op" for a in plan_actions(ws, "migr-internet"))
        s = conn.compute.get_server(srv.id)
        assert s.metadata["govcloud.address"] == f"server:{p}/app-1"
        assert any(t.startswith("govcloud.workspace=") for t in s.tags or [])
        # imported once: a second import is refused
        r = gc(ws, "import", f"volume:{p}/data", vol.id)
        assert r.returncode == 1 and "managed already" in r.stdout + r.stderr
        dept.close()
    finally:
        for kind, oid in reversed(made):        # not imported: nobody else removes them
            if kind == "server":
                conn.compute.delete_server(oid, ignore_missing=True)
            else:
                conn.block_storage.delete_volume(oid, ignore_missing=True)
        conn.close()


def _department(ws: Path, domain_id: str, project: str):
    """The department's own access: the application credential govcloud wrote for it."""
    import openstack
    cred = json.loads((ws / ".govcloud" / "credentials" / f"{domain_id}__{project}.json").read_text())
    return openstack.connect(auth_type=cred["auth_type"], auth=cred["auth"],
                             region_name=cred["region_name"])


def test_a_moved_system_is_renamed_in_keystone_neutron_and_cinder_in_place(ws):
    """Every kind's rename: the project (Keystone name and tags; its quota goes with it), the
    network, subnet, router and group (Neutron names and tags) and the volume (Cinder metadata)
    keep their cloud ids; the department's credential file follows the project's name."""
    old = approval("OS17X-S1", approved_on="2026-06-01", dept=DEPT, system="sysold",
                   servers=[], volumes=[_vol("files")])
    add(ws, old)
    ok(gc(ws, "apply", "--auto-approve"))
    before = {a: c for a, c in state_ids(ws).items() if "/sysold-internet" in a}
    assert len(before) == 7       # project, quota, network, subnet, router, group, volume
    (ws / "approvals" / "OS17X-S1.yaml").unlink()   # a renamed system is a new approval
    add(ws, {**old, "approval_no": "OS17X-S2", "system": {**old["system"], "code": "sysnew"},
             "moved": [{"from": "os17x-dept/sysold", "to": "os17x-dept/sysnew"}]})
    acts = plan_actions(ws, "sysnew-internet")
    assert {a["action"] for a in acts} == {"update"} and {a["cause"] for a in acts} == {"moved"}
    assert not [a for a in plan_actions(ws, "sysold-internet") if a["action"] != "no-op"]
    ok(gc(ws, "apply", "--auto-approve"))
    after = {a: c for a, c in state_ids(ws).items() if "/sysnew-internet" in a}
    assert sorted(after.values()) == sorted(before.values())
    assert not [a for a in state_ids(ws) if "/sysold-internet" in a]
    conn = _admin()
    try:
        p = conn.identity.get_project(after[f"project:{PREFIX}/sysnew-internet"])
        assert p.name == "sysnew-internet"
        assert f"govcloud.address=project:{PREFIX.replace('/', '|')}|sysnew-internet" in p.tags
        net = conn.network.get_network(after[f"network:{PREFIX}/sysnew-internet/net"])
        assert net.name == "sysnew-internet-net"
        v = conn.block_storage.get_volume(after[f"volume:{PREFIX}/sysnew-internet/files"])
        assert v.metadata["govcloud.address"] == f"volume:{PREFIX}/sysnew-internet/files"
        assert v.metadata["govcloud.stack"] == "os17x-dept/sysnew"
    finally:
        conn.close()
    creds = ws / ".govcloud" / "credentials"
    assert list(creds.glob("*__sysnew-internet.json")) and not list(creds.glob("*__sysold-*"))
    assert all(a["action"] == "no-op" for a in plan_actions(ws, "sysnew-internet"))


def test_a_domain_is_owned_by_its_mark_only(tmp_path):
    """A Keystone domain has no tags: its description's mark says whose it is. Another
    workspace's driver may neither change nor delete it; released, it is nobody's (its note
    instead of the mark) and another workspace may take it under management."""
    import uuid

    from drivers.base import ADDRESS_TAG, OWNER_TAG, NotOwned, Request, driver_class
    from tests.openstack.cloud import purge
    require_cloud()
    a, b = (driver_class("openstack")("x", {"cloud": CLOUD}, tmp_path, f"ws-{uuid.uuid4().hex[:12]}")
            for _ in range(2))
    name = f"os17x-d{uuid.uuid4().hex[:8]}"
    address = f"domain:x/{name}"

    def req(owner):
        return Request(address, "domain", name, {"name": name, "description": "部门"}, {},
                       {OWNER_TAG: owner, ADDRESS_TAG: address})
    try:
        dom = a.create(req(a.owner))
        assert b.lookup("domain", dom.cloud_id).tags[OWNER_TAG] == a.owner
        with pytest.raises(NotOwned):
            b.update(dom, req(b.owner), {"description"})
        with pytest.raises(NotOwned):
            b.delete(dom)
        with pytest.raises(NotOwned):
            b.claim(b.lookup("domain", dom.cloud_id), req(b.owner))
        a.release(dom, {"govcloud.released-from": a.owner})
        seen = b.lookup("domain", dom.cloud_id)
        assert seen.tags == {} and seen.address == "" and seen.properties["description"] == "部门"
        assert a.find(address) is None
        got = b.claim(seen, req(b.owner))
        assert got.tags[OWNER_TAG] == b.owner and b.find(address).cloud_id == dom.cloud_id
        with pytest.raises(NotOwned):        # now a's driver is the stranger
            a.delete(dom)
    finally:
        for d in (a, b):
            purge(d)
            d.close()
