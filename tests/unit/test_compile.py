"""Compile: deterministic specs with isolated projects per zone and quotas equal to approvals."""
import ipaddress
from decimal import Decimal

import pytest
import yaml

from orchestrator.errors import GovcloudError
from orchestrator.core.ipam import allocate
from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.workspace import Workspace
from tests.conftest import edit_yaml


def _specs(ws):
    return {p.relative_to(ws): p.read_bytes() for p in sorted((ws / "stacks").rglob("*.yaml"))}


def test_compile_twice_is_byte_identical(ws):
    compile_workspace(Workspace.at(ws), today())
    first = _specs(ws)
    rep = compile_workspace(Workspace.at(ws), today())
    assert _specs(ws) == first
    assert rep.written == [] and len(rep.unchanged) == 2


def test_same_inputs_in_another_workspace_give_same_bytes(ws, tmp_path):
    import shutil
    other = tmp_path / "copy"
    shutil.copytree(ws, other)
    compile_workspace(Workspace.at(ws), today())
    compile_workspace(Workspace.at(other), today())
    assert _specs(ws) == _specs(other)


def _load(ws, stack):
    return yaml.safe_load((ws / "stacks" / f"{stack}.yaml").read_text(encoding="utf-8"))


def test_one_isolated_project_per_zone_and_nothing_crosses_zones(ws):
    compile_workspace(Workspace.at(ws), today())
    spec = _load(ws, "edu/edu-portal")
    assert set(spec["zones"]) == {"internet", "extranet"}
    by_addr = {r["address"]: r for r in spec["resources"]}
    projects = [r for r in spec["resources"] if r["kind"] == "project"]
    assert sorted(p["name"] for p in projects) == ["edu-portal-extranet", "edu-portal-internet"]
    for r in spec["resources"]:
        for ref in r["refs"].values():
            target = by_addr[ref]
            if target["kind"] != "domain":  # the department's domain is the only shared parent
                assert target["zone"] == r["zone"], (r["address"], ref)
    routers = {r["zone"]: r for r in spec["resources"] if r["kind"] == "router"}
    assert routers["internet"]["properties"]["external_network"] == "internet"
    assert routers["extranet"]["properties"]["external_network"] == "extranet"


def test_security_group_admits_only_approved_rules(ws):
    compile_workspace(Workspace.at(ws), today())
    spec = _load(ws, "edu/edu-portal")
    sgs = {r["zone"]: r["properties"]["rules"] for r in spec["resources"]
           if r["kind"] == "security_group"}
    assert {(r["protocol"], r["port_min"]) for r in sgs["internet"]} == {("tcp", 443), ("tcp", 80)}
    # zone:extranet resolves to the extranet's own address range from govcloud.toml
    assert {r["remote_ip_prefix"] for r in sgs["extranet"]} == {"59.192.0.0/10"}
    assert all(r["direction"] == "ingress" for rules in sgs.values() for r in rules)


def test_quota_equals_the_approved_totals(ws):
    compile_workspace(Workspace.at(ws), today())
    spec = _load(ws, "hrss/social-insurance")
    q = {r["zone"]: r["properties"] for r in spec["resources"] if r["kind"] == "quota"}
    ext = q["extranet"]
    # 3 x c8m16 + 2 x m8m64
    assert ext["cores"] == 3 * 8 + 2 * 8
    assert ext["ram_mb"] == (3 * 16 + 2 * 64) * 1024
    assert ext["instances"] == 5
    assert ext["volumes"] == 5 + 2 * 2          # system disks + 2 data disks on each db
    assert ext["gigabytes"] == 3 * 50 + 2 * (50 + 1000 + 200)
    assert ext["floating_ips"] == 1 and ext["snapshots"] == 0
    assert ext["ports"] == 5 + 2
    assert q["internet"]["instances"] == 2 and q["internet"]["floating_ips"] == 2


def test_monthly_fee_is_priced_from_the_catalog(ws):
    compile_workspace(Workspace.at(ws), today())
    spec = _load(ws, "edu/edu-portal")
    lines = spec["billing"]
    assert sum(Decimal(l["amount"]) for l in lines) == Decimal(spec["monthly_fee"])
    web = next(l for l in lines if l["description"] == "internet/web x2")
    assert (web["item"], web["unit_price"], web["amount"]) == ("ecs.s2m4", "160.00", "320.00")
    # 2 x 160 + 80 GB x 0.20 + 200 GB x 0.20 + 320 + 728 + 40*0.2 + 40*0.2 + 500*0.3 + 1000*0.1
    # + 20 (EIP) + 20 Mbps x 25 + 1500 (等保二级包) + 2000 (DM8)
    expected = (Decimal(320) + Decimal("16") + Decimal("40") + 320 + 728 + 8 + 8 + 150 + 100
                + 20 + 500 + 1500 + 2000)
    assert Decimal(spec["monthly_fee"]) == expected


def test_subnets_never_overlap_within_a_zone(ws):
    compile_workspace(Workspace.at(ws), today())
    nets = {}
    for stack in ("edu/edu-portal", "hrss/social-insurance"):
        for zone, lay in _load(ws, stack)["zones"].items():
            nets.setdefault(zone, []).append(ipaddress.ip_network(lay["cidr"]))
    for zone, cidrs in nets.items():
        assert len(cidrs) == 2 and not cidrs[0].overlaps(cidrs[1])


def test_adding_a_system_never_moves_another_ones_subnet():
    pools = {"internet": ("10.64.0.0/10", 24)}
    first = allocate({}, {"internet": ["b/x", "d/y"]}, pools)
    second = allocate(first, {"internet": ["a/new", "b/x", "d/y"]}, pools)
    assert second["internet"]["b/x"] == first["internet"]["b/x"]
    assert second["internet"]["d/y"] == first["internet"]["d/y"]
    assert second["internet"]["a/new"] == "10.64.2.0/24"
    # a freed block is reused by the next newcomer
    third = allocate(second, {"internet": ["a/new", "d/y", "z/z"]}, pools)
    assert third["internet"]["z/z"] == first["internet"]["b/x"]


def test_exhausted_pool_is_a_clear_error():
    with pytest.raises(GovcloudError, match="no free /24"):
        allocate({}, {"internet": ["a/1", "a/2", "a/3"]}, {"internet": ("10.0.0.0/23", 24)})


def test_window_approval_marks_its_resources_with_the_window(ws):
    edit_yaml(ws / "approvals" / "BZ-2026-0012.yaml", lambda d: None)
    extra = ws / "approvals" / "BZ-2026-0040.yaml"
    extra.write_text("""
approval_no: BZ-2026-0040
department: {code: edu, name: 市教育局}
system: {code: edu-portal, name: 教育服务门户, dengbao_level: 2}
approvers: [{name: 王敏, org: 市政务服务和大数据管理局}]
approved_on: 2026-06-01
term: {kind: window, start: 2026-06-20, end: 2026-07-19}
materials: {demand_assessment: 论证表, basis: 建设依据, deployment_mode: 互联网区}
zones:
  internet:
    servers:
      - {name: burst, flavor: ecs.s4m8, image: kylin-v10-sp3, system_disk: {type: blk.ssd, gb: 40}, count: 2}
""", encoding="utf-8")
    compile_workspace(Workspace.at(ws), today())
    spec = _load(ws, "edu/edu-portal")
    burst = [r for r in spec["resources"] if r["name"].startswith("burst-")]
    assert len(burst) == 2
    assert all(r["not_before"] == "2026-06-20" and r["expires_on"] == "2026-07-20" for r in burst)
    web = next(r for r in spec["resources"] if r["name"] == "web-1")
    assert web["not_before"] is None and web["expires_on"] is None
    q = next(r for r in spec["resources"] if r["kind"] == "quota" and r["zone"] == "internet")
    # The permanent quota, plus the window's increment for its window only (raised, then lowered).
    assert q["properties"]["instances"] == 2
    assert q["windows"] == [{"approval": "BZ-2026-0040", "start": "2026-06-20", "end": "2026-07-19",
                             "add": {"cores": 8, "ram_mb": 16384, "instances": 2, "volumes": 2,
                                     "gigabytes": 80, "ports": 2}}]
