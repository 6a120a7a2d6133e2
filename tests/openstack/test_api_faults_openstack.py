"""Faults in the OpenStack APIs (the test cloud behind one fault proxy per service endpoint,
tests/faults/os_harness.py): apply and decommission converge within a bounded number of runs
(faults at chosen call numbers), plan, apply and expire under a seeded random mix,
with exactly one object of each name (tagged or not: a create whose answer was lost, or whose
tag call failed, must be adopted, never made again) and nothing left after decommission.

One workspace for the module (the cloud is shared and slow); its objects are named ``f16p-``.
Fails without the cloud (scripts/openstack/up.sh)."""
from __future__ import annotations

import time

import pytest
import yaml

from tests.conftest import run_cli
from tests.faults.os_harness import PROXIED_CLOUD, proxied_cloud
from tests.faults.proxy import FaultPlan
from tests.openstack.cloud import CLOUD, purge_stale, require_cloud

DEPT, SYSTEM = "f16p-dept", "f16p-sys"
MAX_RUNS = 5
NAMES = {  # what the approval makes, by name: exactly one of each, whoever's tags it carries
    "server": ["f16p-app-1"], "network": [f"{SYSTEM}-internet-net"],
    "subnet": [f"{SYSTEM}-internet-subnet"], "router": [f"{SYSTEM}-internet-router"],
    "volume": ["f16p-app-1-data1"]}


@pytest.fixture(scope="module")
def cloud(tmp_path_factory):
    require_cloud()
    purge_stale(DEPT)
    tmp = tmp_path_factory.mktemp("f16p")
    plan = FaultPlan()
    plan.enabled = False
    with proxied_cloud(plan, tmp):
        ws = tmp / "ws"
        from orchestrator.usecases.init import init_workspace
        init_workspace(ws, "bozhou", examples=False)
        cfg = ws / "govcloud.toml"
        cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"') +
                       f'\n[targets.os]\ndriver = "openstack"\ncloud = "{PROXIED_CLOUD}"\n'
                       'api_timeout = 30\nwait_timeout = 180\n')
        approval = {
            "approval_no": "F16P-0001", "department": {"code": DEPT, "name": "故障测试局"},
            "system": {"code": SYSTEM, "name": "故障系统", "dengbao_level": 2},
            "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
            "term": {"kind": "permanent"},
            "materials": {"request_form": "附件1", "project_approval": "批复",
                          "construction_plan": "方案"},
            "zones": {"internet": {"servers": [{
                "name": "f16p-app", "flavor": "ecs.s1m2", "image": "kylin-v10-sp3",
                "system_disk": {"type": "blk.ssd", "gb": 1},
                "data_disks": [{"type": "blk.ssd", "gb": 1}]}]}}}
        (ws / "approvals" / "F16P-0001.yaml").write_text(
            yaml.safe_dump(approval, allow_unicode=True), encoding="utf-8")
        assert run_cli("compile", "-C", ws).exit_code == 0
        yield ws, plan
    assert purge_stale(DEPT) == []


def by_name() -> dict[str, dict[str, int]]:
    """How many objects of each expected name the cloud holds (admin view, all projects)."""
    import openstack
    c = openstack.connect(cloud=CLOUD, api_timeout=30)
    try:
        listers = {"server": lambda: c.compute.servers(all_projects=True),
                   "network": c.network.networks, "subnet": c.network.subnets,
                   "router": c.network.routers,
                   "volume": lambda: c.block_storage.volumes(all_projects=True)}
        out = {}
        for kind, names in NAMES.items():
            found = [o.name for o in listers[kind]()]
            out[kind] = {n: found.count(n) for n in names}
        return out
    finally:
        c.close()


def server_ports() -> list[dict]:
    """The admin view of the test server's ports (device, network, security groups)."""
    import openstack
    c = openstack.connect(cloud=CLOUD, api_timeout=30)
    try:
        ids = {s.id for s in c.compute.servers(all_projects=True) if s.name in NAMES["server"]}
        return [{"id": p.id, "device": p.device_id, "network": p.network_id,
                 "security_groups": p.security_group_ids} for p in c.network.ports()
                if p.device_id in ids]
    finally:
        c.close()


def converge(ws, plan, faults: dict, *args, settled=None):
    """Run ``govcloud *args`` with ``faults`` on until it exits 0 and ``settled()``."""
    plan.at, plan.matched, plan.enabled = faults, 0, True
    calls0, faults0, t0 = plan.calls, dict(plan.injected), time.monotonic()
    codes, outs = [], []
    try:
        for _ in range(MAX_RUNS):
            r = run_cli(*args, "-C", ws)
            codes.append(r.exit_code)
            outs.append(r.output[-2500:])
            if r.exit_code == 2 and args[0] == "plan":   # a change under faults: the read or the cloud?
                plan.enabled = False
                outs[-1] += f"\n[fault-free plan right after: exit {run_cli(*args, '-C', ws).exit_code}; " \
                            f"the server's ports: {server_ports()}]"
                plan.enabled = True
            if r.exit_code == 0:
                plan.enabled = False
                if settled is None or settled():
                    break
                plan.enabled = True
    finally:
        plan.enabled = False
    injected = {f: n - faults0.get(f, 0) for f, n in plan.injected.items() if n > faults0.get(f, 0)}
    print(f"\n{args[0]}: runs={len(codes)} exit codes={codes} calls={plan.calls - calls0} "
          f"faults={injected} wall={time.monotonic() - t0:.0f}s")
    assert codes[-1] == 0, "\n---\n".join(outs)
    return codes


def test_apply_with_lost_and_failed_creates_makes_each_object_once(cloud):
    ws, plan = cloud
    no_changes = lambda: run_cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0  # noqa: E731
    # POSTs are the creates (Keystone's token POSTs count too): answers lost after the create
    # took effect, connections reset before and after, a 503.
    plan.methods = ("POST",)
    plan.path = r"^/(?!v3/auth/tokens)"
    codes = converge(ws, plan, {2: "lost-500", 4: "lost-reset", 6: "503", 8: "reset",
                                10: "lost-500", 12: "lost-500"},
                     "apply", "--auto-approve", settled=no_changes)
    assert plan.faults_injected >= 6 and len(codes) <= MAX_RUNS
    assert by_name() == {k: {n: 1 for n in v} for k, v in NAMES.items()}


def test_plan_apply_and_expire_converge_under_a_seeded_random_mix(cloud):
    """Every method, reads included, at random (seeded): a quarter of the calls get one of 500,
    503, lost-500, reset, lost-reset or added latency. The applied system stays as it is: each
    command ends in exit 0 within the bound, the plan is a no-op, and no object is made twice."""
    ws, plan = cloud
    no_changes = lambda: run_cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0  # noqa: E731
    plan.methods, plan.path = None, r"^/(?!v3/auth/tokens)"
    plan.rate, plan.fault, plan.seed = 0.25, "mix", 16
    plan.mix = ("500", "503", "lost-500", "reset", "lost-reset", "latency")
    plan._rng.seed(16)
    assert no_changes(), "the applied system had drifted before any fault was injected"
    try:
        converge(ws, plan, {}, "plan", "--detailed-exitcode")
        converge(ws, plan, {}, "apply", "--auto-approve", settled=no_changes)
        converge(ws, plan, {}, "expire")     # a permanent system: nothing is due, all is read
    finally:
        plan.rate = 0.0
    assert by_name() == {k: {n: 1 for n in v} for k, v in NAMES.items()}


def test_decommission_with_failed_deletes_leaves_nothing(cloud):
    ws, plan = cloud
    assert run_cli("request-exit", "F16P-0001", "-C", ws).exit_code == 0
    plan.methods, plan.path = ("DELETE", "POST", "PUT"), r"^/(?!v3/auth/tokens)"
    converge(ws, plan, {1: "500", 3: "lost-reset", 5: "503"},
             "decommission", SYSTEM, "--auto-approve", "--operator", "tester")
    converge(ws, plan, {2: "reset", 4: "lost-500", 6: "500"},
             "decommission", SYSTEM, "--auto-approve", "--resume", "--now", "2027-06-01",
             "--operator", "tester")
    assert by_name() == {k: {n: 0 for n in v} for k, v in NAMES.items()}
