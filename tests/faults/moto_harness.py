"""apply, expire and decommission on the EC2 target (the moto server) through the fault proxy,
each re-run until it converges; what the cloud holds afterwards, counted per EC2 object type.

Shared by tests/faults/test_api_faults_moto.py and benchmarks/bench_api_faults.py. A workspace
has two systems: ``edu-portal`` (permanent: a server with a data disk; decommissioned at the end)
and ``burst`` (a 30-day window: a server; removed by ``expire``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.clock import at
from tests.conftest import run_cli
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.libcloud import moto_server as ms
from tests.policy.builders import approval, workspace

# Calls that change the cloud (libcloud sends EC2's Action in the query): the lost-* faults
# only matter there; reads get faults through the random mix.
MUTATING = (r"Action=(Create|Run|Allocate|Associate|Attach|Authorize|Revoke|Delete|Terminate|"
            r"Release|Detach|Disassociate|Stop|Start|Modify|Replace)")
APPLY_DAY, EXPIRE_AT, EXIT_DAY = "2026-06-20", "2026-07-20T00:05", "2027-06-01"
MAX_RUNS = 5

# EC2 object types: (Describe action, item path, id field, "alive" test)
TYPES = {
    "vpc": ("DescribeVpcs", "vpcSet/item", "vpcId", None),
    "subnet": ("DescribeSubnets", "subnetSet/item", "subnetId", None),
    "security_group": ("DescribeSecurityGroups", "securityGroupInfo/item", "groupId", None),
    "route_table": ("DescribeRouteTables", "routeTableSet/item", "routeTableId", None),
    "internet_gateway": ("DescribeInternetGateways", "internetGatewaySet/item", "internetGatewayId", None),
    "volume": ("DescribeVolumes", "volumeSet/item", "volumeId", None),
    "address": ("DescribeAddresses", "addressesSet/item", "allocationId", None),
    "instance": ("DescribeInstances", "reservationSet/item/instancesSet/item", "instanceId",
                 ("instanceState/name", ("pending", "running", "stopping", "stopped"))),
}


def cloud_objects() -> dict[str, dict[str, dict[str, str]]]:
    """Every live object of each type in moto: {type: {id: tags}}."""
    from drivers.libcloud.ec2xml import items, tags, text
    ec2 = ms.raw_ec2()
    out: dict[str, dict[str, dict[str, str]]] = {}
    for kind, (action, path, idf, alive) in TYPES.items():
        body = ec2.connection.request("/", params={"Action": action}).object
        out[kind] = {text(i, idf): tags(i) for i in items(body, path)
                     if alive is None or text(i, alive[0]) in alive[1]}
    return out


def new_since(before: dict, after: dict) -> dict[str, dict[str, dict[str, str]]]:
    return {k: {i: t for i, t in after[k].items() if i not in before[k]} for k in after}


def counts(objs: dict) -> dict[str, int]:
    return {k: len(v) for k, v in objs.items()}


def duplicates(objs: dict) -> list[str]:
    """Addresses that more than one live object of a type carries (govcloud.address tag)."""
    from drivers.base import ADDRESS_TAG
    dup = []
    for kind, found in objs.items():
        seen: dict[str, int] = {}
        for t in found.values():
            if ADDRESS_TAG in t:
                seen[t[ADDRESS_TAG]] = seen.get(t[ADDRESS_TAG], 0) + 1
        dup += [f"{kind} {a} x{n}" for a, n in seen.items() if n > 1]
    return dup


def make_workspace(tmp: Path, endpoint: str) -> Path:
    server = {"name": "app", "flavor": "ecs.s4m8", "image": "kylin-v10-sp3",
              "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1,
              "data_disks": [{"type": "blk.ssd", "gb": 20}]}
    burst = {"name": "burst", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
             "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}
    ws = workspace(tmp, "bazhong",
                   approval("BZ-F1", approved_on="2026-06-01", servers=[server]),
                   approval("BZ-FW", approved_on="2026-06-01", system="burst",
                            term={"kind": "window", "start": APPLY_DAY, "end": "2026-07-19"},
                            servers=[burst]))
    cfg = ws / "govcloud.toml"
    # timeout: one HTTP request (the proxy's hang holds 2 s); wait_seconds: every wait's bound
    cfg.write_text(cfg.read_text(encoding="utf-8").replace('target = "local"', 'target = "aws"')
                   + ms.aws_config(endpoint) + "timeout = 1\nwait_seconds = 20\n",
                   encoding="utf-8")
    r = run_cli("compile", "-C", ws)
    assert r.exit_code == 0, r.output
    return ws


@dataclass
class Phase:
    """One command re-run until it converges: its runs, exit codes, calls and faults."""
    name: str
    runs: int = 0
    exit_codes: list[int] = field(default_factory=list)
    calls: int = 0
    faults: int = 0
    seconds: float = 0.0
    outputs: list[str] = field(default_factory=list)

    @property
    def converged(self) -> bool:
        return bool(self.exit_codes) and self.exit_codes[-1] == 0


def converge(name: str, plan: FaultPlan, *args: str, env: dict | None = None,
             settled=None, max_runs: int = MAX_RUNS) -> Phase:
    """Run ``govcloud *args`` until it exits 0 and ``settled()`` holds (or ``max_runs``)."""
    ph = Phase(name)
    calls0, faults0 = plan.calls, plan.faults_injected
    t0 = time.monotonic()
    while ph.runs < max_runs:
        ph.runs += 1
        r = run_cli(*args, env=env)
        ph.exit_codes.append(r.exit_code)
        ph.outputs.append(r.output[-3000:])
        if r.exit_code == 0 and (settled is None or settled()):
            break
    ph.seconds = time.monotonic() - t0
    ph.calls, ph.faults = plan.calls - calls0, plan.faults_injected - faults0
    return ph


def lifecycle(tmp: Path, plan: FaultPlan) -> dict:
    """apply, expire, decommission of a fresh workspace through a proxy under ``plan`` (each
    phase starts its call numbers anew). Returns the phases and what the cloud held after each."""
    ms.reset()
    base = cloud_objects()
    proxy = FaultProxy(ms.endpoint(), plan).start()
    try:
        ws = make_workspace(tmp, proxy.url)
        day = {"GOVCLOUD_TODAY": APPLY_DAY}

        def no_changes() -> bool:
            return run_cli("plan", "-C", ws, "--detailed-exitcode", env=day).exit_code == 0

        def phase(name, *args, env=None, settled=None):
            plan.matched = 0          # call numbers count per phase
            plan.enabled = True
            ph = converge(name, plan, *args, env=env, settled=_quiet(plan, settled))
            plan.enabled = False
            return ph, new_since(base, cloud_objects())

        applied, after_apply = phase("apply", "apply", "-C", ws, "--auto-approve", env=day,
                                     settled=no_changes)
        expired, after_expire = phase("expire", "expire", "-C", ws, env=at(EXPIRE_AT),
                                      settled=lambda: not _live(ws, "/burst-"))
        plan.enabled = False
        r = run_cli("request-exit", "BZ-F1", "-C", ws, env=day)
        assert r.exit_code == 0, r.output
        first, _ = phase("decommission", "decommission", "edu-portal", "-C", ws, "--auto-approve",
                         "--operator", "tester", env=day)
        resumed, after_exit = phase("decommission", "decommission", "edu-portal", "-C", ws,
                                    "--auto-approve", "--resume", "--operator", "tester",
                                    env=at(EXIT_DAY))
        for f in ("runs", "calls", "faults", "seconds"):
            setattr(resumed, f, getattr(first, f) + getattr(resumed, f))
        resumed.exit_codes = first.exit_codes + resumed.exit_codes
        resumed.outputs = first.outputs + resumed.outputs
        return {"ws": ws, "phases": [applied, expired, resumed],
                "after": {"apply": after_apply, "expire": after_expire, "decommission": after_exit}}
    finally:
        proxy.stop()


def _quiet(plan: FaultPlan, settled):
    """``settled`` checked with the faults off (the check is the test's, not the product's)."""
    if settled is None:
        return None

    def check():
        was, plan.enabled = plan.enabled, False
        try:
            return settled()
        finally:
            plan.enabled = was
    return check


def _live(ws: Path, fragment: str) -> list[str]:
    from drivers.base import ADDRESS_TAG
    objs = cloud_objects()
    return [t.get(ADDRESS_TAG, "") for kind in ("instance", "volume") for t in objs[kind].values()
            if fragment in t.get(ADDRESS_TAG, "") or fragment in t.get("govcloud.root-of", "")]


def row(fault: str, result: dict, baseline: dict | None = None) -> dict:
    """The figures of one lifecycle: per phase calls, faults, runs; duplicates; wall seconds."""
    phases = result["phases"]
    dup = sum(len(duplicates(a)) for a in result["after"].values())
    extra = 0
    if baseline is not None:   # objects beyond what the fault-free run holds (duplicates, orphans)
        for name, after in result["after"].items():
            want = counts(baseline["after"][name])
            extra += sum(max(0, n - want[k]) for k, n in counts(after).items())
    return {"fault": fault, "calls": sum(p.calls for p in phases),
            "faults": sum(p.faults for p in phases),
            "runs": "/".join(str(p.runs) for p in phases),
            "converged": all(p.converged for p in phases),
            "duplicates": dup + extra, "seconds": sum(p.seconds for p in phases)}


def table(rows: list[dict]) -> str:
    head = (f"{'fault':<12} {'calls':>6} {'faults':>6} {'runs a/e/d':>11} {'converged':>9} "
            f"{'duplicates':>10} {'wall s':>7}")
    lines = [head, "-" * len(head)]
    for r in rows:
        lines.append(f"{r['fault']:<12} {r['calls']:>6} {r['faults']:>6} {r['runs']:>11} "
                     f"{'yes' if r['converged'] else 'NO':>9} {r['duplicates']:>10} "
                     f"{r['seconds']:>7.1f}")
    return "\n".join(lines)
