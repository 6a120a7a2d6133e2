"""Isolation proven against the whole cloud (issue 18), on the real OpenStack test cloud.

Two departments (``osiso-a`` with a system in both zones and a server in the internet zone,
``osiso-b`` with one project); each break is made by hand as the cloud admin with openstacksdk,
then `verify-isolation` must FAIL naming it and `plan` show the drift line where the change
hangs on a managed object; undone, both are clean again. Fails (not skips) without the cloud.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from orchestrator.usecases.init import init_workspace
from tests.openstack.cloud import CLOUD, purge_stale, require_cloud

GOVCLOUD = [sys.executable, "-m", "orchestrator.cli"]
STALE = r"osiso-(a|b)"


def approval(no, dept, system, zones):
    def zone(servers, port):
        return {"servers": [{"name": "app", "flavor": "ecs.s1m2", "image": "kylin-v10-sp3",
                             "system_disk": {"type": "blk.ssd", "gb": 1}}] * servers,
                "public_ips": 1, "bandwidth_mbps": 5,
                "inbound": [{"protocol": "tcp", "port": port, "source": "0.0.0.0/0"}]}
    return {"approval_no": no, "department": {"code": dept, "name": dept},
            "system": {"code": system, "name": system, "dengbao_level": 2},
            "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
            "term": {"kind": "permanent"},
            # 巴中 第十六条: a new system's application materials
            "materials": {"demand_assessment": "论证表", "basis": "建设依据", "deployment_mode": "双区"},
            "zones": {z: zone(n, 443) for z, n in zones.items()}}


def gc(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GOVCLOUD, *args, "-C", str(ws)], capture_output=True, text=True,
                          timeout=900, env=os.environ.copy())


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    require_cloud()
    purge_stale(STALE)
    ws = tmp_path_factory.mktemp("osiso") / "ws"
    init_workspace(ws, "bazhong", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                   f'\n[targets.os]\ndriver = "openstack"\ncloud = "{CLOUD}"\n')
    for a in (approval("OSISO-0001", "osiso-a", "isoa", {"internet": 1, "extranet": 0}),
              approval("OSISO-0002", "osiso-b", "isob", {"internet": 0})):
        (ws / "approvals" / f"{a['approval_no']}.yaml").write_text(
            yaml.safe_dump(a, allow_unicode=True), encoding="utf-8")
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    yield ws
    purge_stale(STALE)


@pytest.fixture(scope="module")
def conn(ws):
    import openstack
    c = openstack.connect(cloud=CLOUD)
    yield c
    c.close()


def verify(ws) -> tuple[int, list[dict]]:
    r = gc(ws, "verify-isolation", "--no-probe", "--output", "json")
    return r.returncode, json.loads(r.stdout)["checks"]


def failed(checks) -> list[tuple[str, str, str]]:
    return [(c["check"], c["subject"], c["detail"]) for c in checks if c["status"] == "FAIL"]


def drift(ws) -> list[tuple[str, str, list[str], str]]:
    plan = json.loads(gc(ws, "plan", "--output", "json").stdout)
    return [(a["action"], a["address"], sorted(a["changes"]), a["reason"]) for a in plan["actions"]
            if a["action"] != "no-op"]


def clean(ws):
    code, checks = verify(ws)
    assert code == 0 and not failed(checks), failed(checks)
    assert drift(ws) == []


def obj(conn, kind: str, name: str):
    return {"project": lambda: conn.identity.find_project(name, domain_id=_dom(conn, name)),
            "network": lambda: conn.network.find_network(name),
            "subnet": lambda: conn.network.find_subnet(name),
            "router": lambda: conn.network.find_router(name),
            "sg": lambda: conn.network.find_security_group(name)}[kind]()


def _dom(conn, project: str):
    return conn.identity.find_domain("osiso-a" if project.startswith("isoa") else "osiso-b").id


def test_a_clean_deployment_passes_and_counts_what_it_looked_at(ws):
    code, checks = verify(ws)
    assert code == 0, failed(checks)
    kinds = {c["check"]: c for c in checks if c["subject"] == "os"}
    for check in ("foreign-routers", "port-security-groups", "rbac-policies", "role-assignments",
                  "floating-ips", "default-security-group"):
        assert kinds[check]["status"] == "PASS" and "looked at" in kinds[check]["detail"] \
            or check == "port-security-groups", (check, kinds.get(check))
    assert "1 managed server ports" in kinds["port-security-groups"]["detail"]
    assert kinds["cross-project"]["status"] == "N/A"               # --no-probe: not performed
    r = gc(ws, "verify-isolation", "--no-probe")
    assert "passed with" in r.stdout and "not performed" in r.stdout
    ports = [c for c in checks if c["check"] == "network-ports"]
    assert len(ports) == 3 and all(c["status"] == "PASS" for c in ports)
    assert drift(ws) == []


def test_another_departments_user_given_a_role_on_a_project(ws, conn):
    project = obj(conn, "project", "isoa-internet")
    b_user = conn.identity.find_user("isob-ops", domain_id=_dom(conn, "isob"))
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, b_user, member)
    try:
        code, checks = verify(ws)
        assert code == 1
        bad = failed(checks)
        assert [c for c, s, d in bad if c == "role-assignments" and "isoa-internet" in s
                and "member for user isob-ops@osiso-b" in d], bad
        lines = drift(ws)
        assert [x for x in lines if x[1].startswith("project:os/osiso-a/isoa-internet")
                and x[2] == ["role_assignments"] and "remove it" in x[3]
                and "isob-ops@osiso-b" in x[3]], lines
    finally:
        conn.identity.unassign_project_role_from_user(project, b_user, member)
    clean(ws)


def test_an_untagged_admin_router_joining_both_zones_subnets(ws, conn):
    bridge = conn.network.create_router(name="osiso-bridge")     # in the admin's project
    ports = []
    try:
        for zone in ("internet", "extranet"):
            sub = obj(conn, "subnet", f"isoa-{zone}-subnet")
            port = conn.network.create_port(network_id=sub.network_id, fixed_ips=[{"subnet_id": sub.id}])
            conn.network.add_interface_to_router(bridge, port_id=port.id)
            ports.append(port)
        code, checks = verify(ws)
        assert code == 1
        bad = failed(checks)
        router_rows = [d for c, s, d in bad if c == "foreign-routers" and bridge.id in s]
        assert router_rows and "isoa-internet/subnet" in router_rows[0] \
            and "isoa-extranet/subnet" in router_rows[0] \
            and "a direct path between the zones extranet and internet" in router_rows[0], bad
        assert {s for c, s, _ in bad if c == "network-ports"} == {
            "network:os/osiso-a/isoa-internet/net", "network:os/osiso-a/isoa-extranet/net"}
        lines = drift(ws)
        nets = {x[1] for x in lines if x[2] == ["foreign_ports"] and bridge.id in x[3]
                and "remove the interface" in x[3]}
        assert nets == {"network:os/osiso-a/isoa-internet/net",
                        "network:os/osiso-a/isoa-extranet/net"}, lines
    finally:
        for port in ports:
            conn.network.remove_interface_from_router(bridge, port_id=port.id)
        conn.network.delete_router(bridge)
    clean(ws)


def test_tcp_22_in_the_default_group_attached_to_a_managed_servers_port(ws, conn):
    project = obj(conn, "project", "isoa-internet")
    default = next(g for g in conn.network.security_groups(project_id=project.id) if g.name == "default")
    rule = conn.network.create_security_group_rule(
        security_group_id=default.id, direction="ingress", protocol="tcp", port_range_min=22,
        port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    server = next(conn.compute.servers(all_projects=True, project_id=project.id))
    port = next(conn.network.ports(device_id=server.id))
    before = list(port.security_group_ids)
    conn.network.update_port(port, security_group_ids=before + [default.id])
    try:
        code, checks = verify(ws)
        assert code == 1
        bad = failed(checks)
        att = [d for c, s, d in bad if c == "port-security-groups" and "isoa-internet/app-1" in s]
        assert att and "default" in att[0] and "tcp 22 from 0.0.0.0/0" in att[0], bad
        assert [d for c, s, d in bad if c == "default-security-group" and default.id in s
                and "tcp 22 from 0.0.0.0/0" in d and port.id in d], bad
        lines = drift(ws)
        assert [x for x in lines if x[1] == "server:os/osiso-a/isoa-internet/app-1"
                and x[2] == ["security_groups"] and "default" in x[3] and "detach it" in x[3]], lines
        assert [x for x in lines if x[1] == "project:os/osiso-a/isoa-internet"
                and "default_group" in x[2] and "tcp 22 from 0.0.0.0/0" in x[3]
                and "delete the rule" in x[3]], lines
    finally:
        conn.network.update_port(port, security_group_ids=before)
        conn.network.delete_security_group_rule(rule)
    clean(ws)


def test_the_already_caught_breaks_still_fail_and_show_in_the_plan(ws, conn):
    a_int, b_int = obj(conn, "project", "isoa-internet"), obj(conn, "project", "isob-internet")
    net = obj(conn, "network", "isoa-internet-net")
    ext = conn.network.find_network("internet")
    shared = conn.network.create_rbac_policy(object_type="network", object_id=net.id,
                                             action="access_as_shared", target_project_id=b_int.id)
    other = conn.network.create_rbac_policy(object_type="network", object_id=ext.id,
                                            action="access_as_external",
                                            target_project_id=obj(conn, "project", "isoa-extranet").id)
    try:
        bad = failed(verify(ws)[1])
        assert {"no-shared-network", "external-access", "rbac-policies"} <= {c for c, _, _ in bad}, bad
        # the share hangs on a managed network: the plan shows it, with the fix
        every = drift(ws)
        lines = [x for x in every if x[1] == "network:os/osiso-a/isoa-internet/net"]
        assert lines and lines[0][0] == "update" and "rbac_policies" in lines[0][2] \
            and shared.id in lines[0][3] and "delete the policy" in lines[0][3], lines
        # the other zone's external network offered to the extranet project: drift on it
        lines = [x for x in every if x[1] == "project:os/osiso-a/isoa-extranet"]
        assert lines and "rbac_policies" in lines[0][2] and other.id in lines[0][3], every
    finally:
        conn.network.delete_rbac_policy(shared)
        conn.network.delete_rbac_policy(other)
    # an internet router's interface on the extranet subnet; tcp 22 in a managed group; a port
    # of another project on a managed network
    router = obj(conn, "router", "isoa-internet-router")
    ext_sub = obj(conn, "subnet", "isoa-extranet-subnet")
    iface = conn.network.create_port(network_id=ext_sub.network_id, fixed_ips=[{"subnet_id": ext_sub.id}])
    conn.network.add_interface_to_router(router, port_id=iface.id)
    sg = obj(conn, "sg", "isoa-internet-sg")
    rule = conn.network.create_security_group_rule(
        security_group_id=sg.id, direction="ingress", protocol="tcp", port_range_min=22,
        port_range_max=22, remote_ip_prefix="0.0.0.0/0")
    stray = conn.network.create_port(network_id=net.id, project_id=b_int.id, name="osiso-stray")
    try:
        bad = failed(verify(ws)[1])
        assert [d for c, s, d in bad if c == "router-interfaces" and "isoa-extranet/subnet" in d], bad
        assert [d for c, s, d in bad if c == "security-groups" and "'port_min': 22" in d], bad
        assert [d for c, s, d in bad if c == "network-ports" and stray.id in d], bad
        lines = drift(ws)
        r = [x for x in lines if x[1] == "router:os/osiso-a/isoa-internet/router"]
        assert r and r[0][0] == "update" and "interfaces" in r[0][2] \
            and "extra interface on subnet:os/osiso-a/isoa-extranet/subnet" in r[0][3] \
            and "remove the interface" in r[0][3] and "replace" not in r[0][3], lines
        assert [x for x in lines if x[1] == "security_group:os/osiso-a/isoa-internet/sg"
                and "rules" in x[2]], lines
        assert [x for x in lines if x[1] == "network:os/osiso-a/isoa-internet/net"
                and stray.id in x[3]], lines
    finally:
        conn.network.remove_interface_from_router(router, port_id=iface.id)
        conn.network.delete_security_group_rule(rule)
        conn.network.delete_port(stray)
    clean(ws)


def test_apply_undoes_the_drift_it_shows(ws, conn):
    """The plan's fix is what apply does: the extra role, the foreign port, the network's RBAC
    share and the default group's rule are gone after one apply, and the next plan is empty."""
    project = obj(conn, "project", "isoa-extranet")
    b_user = conn.identity.find_user("isob-ops", domain_id=_dom(conn, "isob"))
    member = conn.identity.find_role("member")
    conn.identity.assign_project_role_to_user(project, b_user, member)
    net = obj(conn, "network", "isoa-extranet-net")
    stray = conn.network.create_port(network_id=net.id, name="osiso-stray2")
    default = next(g for g in conn.network.security_groups(project_id=project.id) if g.name == "default")
    conn.network.create_security_group_rule(
        security_group_id=default.id, direction="ingress", protocol="tcp", port_range_min=3389,
        port_range_max=3389, remote_ip_prefix="0.0.0.0/0")
    share = conn.network.create_rbac_policy(
        object_type="network", object_id=net.id, action="access_as_shared",
        target_project_id=obj(conn, "project", "isob-internet").id)
    # the project (role, default group), the network (port, share), and the project the
    # network is shared to (the same policy names it)
    lines = drift(ws)
    assert len(lines) == 3, lines
    assert [x for x in lines if x[1] == "project:os/osiso-b/isob-internet"
            and "rbac_policies" in x[2] and share.id in x[3]], lines
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert conn.network.find_port(stray.id) is None
    assert share.id not in {x.id for x in conn.network.rbac_policies(object_id=net.id)}
    clean(ws)


def test_a_hand_raised_quota_is_explained_and_not_lowered_under_usage(ws, conn):
    project = obj(conn, "project", "isoa-extranet")
    conn.network.update_quota(project.id, floating_ips=3)
    decoy = conn.network.create_ip(floating_network_id=conn.network.find_network("extranet").id,
                                   project_id=project.id)
    try:
        lines = drift(ws)
        q = [x for x in lines if x[1] == "quota:os/osiso-a/isoa-extranet/quota"]
        assert q and "floating_ips raised outside the approval (approved 1, cloud 3)" in q[0][3], lines
        r = gc(ws, "apply", "--auto-approve")
        assert r.returncode == 1
        out = r.stdout + r.stderr
        assert "cannot be lowered" in out and decoy.floating_ip_address in out \
            and "not govcloud's" in out, out[-3000:]
        assert conn.network.get_quota(project.id).floating_ips == 3      # the cloud was not asked
    finally:
        conn.network.delete_ip(decoy)
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert conn.network.get_quota(project.id).floating_ips == 1
    clean(ws)


def test_deleting_the_projects_leaves_no_default_group_and_the_census_counts_it(ws, conn):
    """The last test: the module's objects are deleted here (as decommission's executor does,
    driver.delete in dependency order); Neutron's default group goes with each project."""
    from drivers.base import driver_class
    from orchestrator.workspace import Workspace
    from tests.openstack.cloud import purge
    owner = Workspace.at(ws).config.workspace.id
    drv = driver_class("openstack")("os", {"cloud": CLOUD}, ws, owner)
    try:
        projects = {o.cloud_id: o.tags["govcloud.stack"] for o in drv.observe() if o.kind == "project"}
        defaults = {g.id for g in conn.network.security_groups() if g.project_id in projects
                    and g.name == "default"}
        assert len(defaults) == len(projects) == 3
        counted = {o.cloud_id for stack in set(projects.values())
                   for o in drv.census(stack, [p for p, s in projects.items() if s == stack])}
        assert defaults <= counted                 # positive control: the census sees them
        errors: list = []
        purge(drv, errors)
        assert not errors, errors
        assert not [g for g in conn.network.security_groups() if g.project_id in projects]
        for stack in set(projects.values()):
            assert drv.census(stack, [p for p, s in projects.items() if s == stack]) == []
    finally:
        drv.close()
