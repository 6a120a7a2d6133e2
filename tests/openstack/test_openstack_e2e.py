"""End to end on the real OpenStack test cloud (scripts/openstack/up.sh): two departments, each
with one system in both zones -> compile -> apply -> verify-isolation -> change -> exact plan ->
apply -> no-op; deliberate isolation breaks are caught; quotas refuse usage beyond approval;
credentials never reach plans, state, audit or output. Fails (not skips) without the cloud."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.usecases.init import init_workspace
from tests.conftest import amend
from tests.openstack.cloud import purge_stale, require_cloud

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]


def approval(no, dept, dept_name, system):
    zone = lambda flavor, port, source: {  # noqa: E731
        "servers": [{"name": "app", "flavor": flavor, "image": "kylin-v10-sp3",
                     "system_disk": {"type": "blk.ssd", "gb": 1},
                     "data_disks": [{"type": "blk.ssd", "gb": 1}]}],
        "public_ips": 1, "bandwidth_mbps": 5,
        "inbound": [{"protocol": "tcp", "port": port, "source": source}]}
    return {"approval_no": no, "department": {"code": dept, "name": dept_name},
            "system": {"code": system, "name": system, "dengbao_level": 2},
            "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
            "term": {"kind": "permanent"},
            # 巴中 第十六条: a new system's application materials
            "materials": {"demand_assessment": "论证表", "basis": "建设依据", "deployment_mode": "双区"},
            "zones": {"internet": zone("ecs.s1m2", 443, "0.0.0.0/0"),
                      "extranet": zone("ecs.s1m2", 8443, "zone:extranet")}}


@pytest.fixture(scope="module")
def osws(tmp_path_factory):
    require_cloud()
    purge_stale(r"ose2e-(edu|hr)")
    ws = tmp_path_factory.mktemp("os") / "ws"
    init_workspace(ws, "bazhong", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   '\n[targets.os]\ndriver = "openstack"\ncloud = "govcloud-admin"\n')
    for a in (approval("OS-E2E-0001", "ose2e-edu", "市教育局", "portal"),
              approval("OS-E2E-0002", "ose2e-hr", "市人社局", "hrsys")):
        (ws / "approvals" / f"{a['approval_no']}.yaml").write_text(
            yaml.safe_dump(a, allow_unicode=True), encoding="utf-8")
    yield ws
    # leave the shared test cloud clean (removing the approvals would only orphan the systems:
    # govcloud deletes a system only through the exit process)
    purge_stale(r"ose2e-(edu|hr)")


def gc(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                          timeout=900, env=os.environ.copy())


def test_apply_verify_change_noop(osws):
    ws = osws
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve", "--parallelism", "4")
    assert r.returncode == 0, r.stdout + r.stderr
    r = gc(ws, "plan", "--detailed-exitcode")
    assert r.returncode == 0, r.stdout
    r = gc(ws, "verify-isolation", "--output", "json")
    assert r.returncode == 0, r.stdout
    checks = json.loads(r.stdout)["checks"]
    kinds = {c["check"] for c in checks}
    assert {"router-gateway", "router-interfaces", "external-access", "no-shared-network",
            "security-groups", "cross-project"} <= kinds
    probes = [c for c in checks if c["check"] == "cross-project"]
    assert len(probes) == 4 * 4  # 4 projects: a positive control and 3 alternates each
    # change (by a change document: an applied approval is never edited in place): one more
    # server in one zone -> exactly that change
    amend(ws / "approvals" / "OS-E2E-0001.yaml",
          lambda d: d["zones"]["internet"]["servers"][0].update(count=2))
    assert gc(ws, "compile").returncode == 0
    plan = json.loads(gc(ws, "plan", "--output", "json").stdout)
    changes = sorted((a["action"], a["address"].split("/", 3)[-1]) for a in plan["actions"]
                     if a["action"] != "no-op")
    assert changes == [("create", "app-2"), ("create", "app-2-data1"), ("create", "app-2-data1"),
                       ("update", "quota")]
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert gc(ws, "plan", "--detailed-exitcode").returncode == 0


def _quota_reads(stderr: str) -> int:
    """Nova's and Cinder's quota-set GETs in a ``--debug`` API log."""
    return sum(1 for line in stderr.splitlines() if "GET" in line and "os-quota-sets" in line)


def test_auto_refresh_takes_unchanged_quotas_from_the_state_between_full_checks(osws):
    ws = osws   # after test_apply_verify_change_noop: applied, no changes
    full = gc(ws, "--debug", "plan", "--refresh=full", "--detailed-exitcode", "--output", "json")
    assert full.returncode == 0, full.stdout + full.stderr
    assert json.loads(full.stdout)["refresh"] == []           # nothing chosen: all read
    assert _quota_reads(full.stderr) == 2 * 4                 # Nova + Cinder for 4 projects
    # a full plan is a full check on record; without one, auto reads everything and marks it
    assert (ws / ".govcloud" / "refresh.json").exists()
    (ws / ".govcloud" / "refresh.json").unlink()
    first = gc(ws, "--debug", "plan", "--detailed-exitcode", "--output", "json")
    assert first.returncode == 0, first.stdout + first.stderr
    (scope,) = json.loads(first.stdout)["refresh"]
    assert scope["full"] and "no full check on record" in scope["reason"]
    assert _quota_reads(first.stderr) == 8
    auto = gc(ws, "--debug", "plan", "--detailed-exitcode", "--output", "json")
    assert auto.returncode == 0, auto.stdout + auto.stderr
    (scope,) = json.loads(auto.stdout)["refresh"]
    assert not scope["full"] and len(scope["from_state"]) == 4, scope
    assert _quota_reads(auto.stderr) == 0
    # What auto does not see until the next full check: a quota changed outside govcloud.
    # --refresh=full sees it (and a plan puts it back), which is why the period exists.
    conn = _admin()
    pid = next(p.id for n, p in _projects(conn).items() if n == "portal-internet")
    before = conn.compute.get_quota_set(pid).cores
    conn.compute.update_quota_set(pid, cores=before + 7)
    try:
        assert gc(ws, "plan", "--detailed-exitcode").returncode == 0          # trusted
        r = gc(ws, "plan", "--refresh=full", "--detailed-exitcode", "--output", "json")
        assert r.returncode == 2, r.stdout + r.stderr
        ups = [a for a in json.loads(r.stdout)["actions"] if a["action"] == "update"]
        assert [a["kind"] for a in ups] == ["quota"] and "portal" in ups[0]["address"]
        # a period of 0 makes every plan a full one
        cfg = ws / "govcloud.toml"
        text = cfg.read_text()
        cfg.write_text(text + "\n[plan]\nfull_refresh_hours = 0\n")
        try:
            assert gc(ws, "plan", "--detailed-exitcode").returncode == 2
        finally:
            cfg.write_text(text)
    finally:
        conn.compute.update_quota_set(pid, cores=before)


def _admin():
    import openstack
    return openstack.connect(cloud="govcloud-admin")


def _projects(conn):
    return {p.name: p for p in conn.identity.projects() if p.name.startswith(("portal-", "hrsys-"))}


def test_verify_isolation_catches_each_deliberate_break(osws):
    ws = osws
    conn = _admin()
    projects = _projects(conn)
    edu_int, hr_ext = projects["portal-internet"], projects["hrsys-extranet"]
    net = next(n for n in conn.network.networks(project_id=edu_int.id) if n.name == "portal-internet-net")
    breaks = []
    # 1. an extra RBAC share of one department's network to another department
    breaks.append(("no-shared-network", conn.network.create_rbac_policy(
        object_type="network", object_id=net.id, action="access_as_shared",
        target_project_id=hr_ext.id)))
    # 2. the internet zone's external network offered to an extranet project
    ext = conn.network.find_network("internet")
    breaks.append(("external-access", conn.network.create_rbac_policy(
        object_type="network", object_id=ext.id, action="access_as_external",
        target_project_id=hr_ext.id)))
    try:
        r = gc(ws, "verify-isolation", "--no-probe", "--output", "json")
        assert r.returncode == 1
        failed = {c["check"] for c in json.loads(r.stdout)["checks"] if c["status"] == "FAIL"}
        # each break is caught by its zone check and by the whole-cloud RBAC survey
        assert failed == {"no-shared-network", "external-access", "rbac-policies"}
    finally:
        for _, pol in breaks:
            conn.network.delete_rbac_policy(pol)
    # 3. a router interface into the other zone's subnet
    router = next(iter(conn.network.routers(project_id=edu_int.id)))
    sub = next(iter(conn.network.subnets(project_id=projects["portal-extranet"].id)))
    port = conn.network.create_port(network_id=sub.network_id, fixed_ips=[{"subnet_id": sub.id}])
    conn.network.add_interface_to_router(router, port_id=port.id)
    # 4. an inbound rule nobody approved
    sg = next(g for g in conn.network.security_groups(project_id=hr_ext.id) if g.name == "hrsys-extranet-sg")
    rule = conn.network.create_security_group_rule(security_group_id=sg.id, direction="ingress",
                                                   protocol="tcp", port_range_min=22,
                                                   port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    try:
        r = gc(ws, "verify-isolation", "--no-probe", "--output", "json")
        assert r.returncode == 1
        bad = [c for c in json.loads(r.stdout)["checks"] if c["status"] == "FAIL"]
        # the interface: on govcloud's router (router-interfaces) and in the whole-cloud survey,
        # a router joining two projects' networks and a port the other network cannot explain
        assert {c["check"] for c in bad} == {"router-interfaces", "security-groups",
                                             "foreign-routers", "network-ports"}
        assert any("portal-extranet/subnet" in c["detail"] for c in bad)
        assert any("'port_min': 22" in c["detail"] for c in bad)
    finally:
        conn.network.remove_interface_from_router(router, port_id=port.id)
        conn.network.delete_security_group_rule(rule)
    assert gc(ws, "verify-isolation", "--no-probe").returncode == 0


def test_the_cloud_refuses_usage_beyond_the_approval(osws):
    conn = _admin()
    project = _projects(conn)["hrsys-extranet"]
    pc = conn.connect_as(project_id=project.id, project_domain_id=project.domain_id)
    from openstack import exceptions as ox
    with pytest.raises(ox.HttpException) as exc:   # quota: volumes = approved count exactly
        pc.block_storage.create_volume(size=1, name="not-approved")
    assert exc.value.status_code == 413 or "quota" in str(exc.value).lower()


def test_credentials_never_reach_plans_state_audit_or_output(osws, tmp_path):
    ws = osws
    secret = yaml.safe_load(Path(os.environ["OS_CLIENT_CONFIG_FILE"]).read_text())[
        "clouds"]["govcloud-admin"]["auth"]["password"]
    plan = tmp_path / "p.json"
    outputs = [gc(ws, "plan", "-o", str(plan)), gc(ws, "state", "list", "--output", "json"),
               gc(ws, "audit", "list", "--last", "0", "--output", "json")]
    blobs = [o.stdout + o.stderr for o in outputs] + [plan.read_text()]
    blobs.append((ws / ".govcloud" / "state.db").read_bytes().decode("utf-8", "replace"))
    assert len(secret) >= 5
    assert not [b for b in blobs if secret in b]


def test_each_project_gets_an_application_credential_for_its_department(osws):
    import openstack
    creds = sorted((osws / ".govcloud" / "credentials").glob("*.json"))
    assert len(creds) == 4
    assert all((c.stat().st_mode & 0o777) == 0o600 for c in creds)
    seen = {}
    for c in creds:
        data = json.loads(c.read_text())
        conn = openstack.connect(auth_type=data["auth_type"], auth=data["auth"],
                                 region_name=data["region_name"])
        assert conn.current_project_id == data["project_id"]  # scoped to its own project
        seen[data["project_name"]] = {(v.id, v.project_id) for v in conn.block_storage.volumes()}
        conn.close()
    # each department's credential sees its own project's volumes and nobody else's
    projects = {json.loads(c.read_text())["project_name"]: json.loads(c.read_text())["project_id"]
                for c in creds}
    for name, vols in seen.items():
        assert vols, name
        assert {pid for _, pid in vols} == {projects[name]}
    assert not {v for v, _ in seen["portal-internet"]} & {v for v, _ in seen["hrsys-extranet"]}
