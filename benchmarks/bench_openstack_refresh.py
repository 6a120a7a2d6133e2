"""API calls and wall time of a no-op plan's refresh on the OpenStack test cloud:
govcloud's batched, tag-filtered refresh -- full (every quota set read) and auto (the default
between full checks: the quotas the plan does not change taken from the state) -- versus a
per-resource GET refresh of the same objects (the way Terraform refreshes each resource in
state), measured in one run; each batched refresh twice, its reads one by one
(``read_concurrency = 1``) and at once (the target's ``read_concurrency``, default 4).

    bash scripts/openstack/up.sh
    OS_CLIENT_CONFIG_FILE=/var/tmp/govcloud-osbox/clouds.yaml \\
      .venv/bin/python benchmarks/bench_openstack_refresh.py [--systems 50] [--keep]

Builds a workspace of N systems (10 departments, alternating zones; network infrastructure
plus two volumes each, no servers, so that the setup stays a few minutes), applies it, checks
that the plan is a no-op, then times both refreshes three times each, and deletes everything.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orchestrator.usecases.init import init_workspace  # noqa: E402
from orchestrator.usecases.session import open_drivers  # noqa: E402
from orchestrator.usecases.state import state_list  # noqa: E402
from orchestrator.workspace import Workspace  # noqa: E402

GC = [sys.executable, "-m", "orchestrator.cli"]


def approvals(n: int) -> list[dict]:
    out = []
    for i in range(n):
        zone = "internet" if i % 2 == 0 else "extranet"
        out.append({
            "approval_no": f"BENCH-{i:04d}", "department": {"code": f"bench-d{i % 10}", "name": f"部门{i % 10}"},
            "system": {"code": f"sys{i:03d}", "name": f"系统{i}", "dengbao_level": 2},
            "approvers": [{"name": "王敏", "org": "大数据局"}], "approved_on": "2026-03-02",
            "term": {"kind": "permanent"},
            "materials": {"demand_assessment": "论证表", "basis": "建设依据", "deployment_mode": zone},
            "zones": {zone: {"volumes": [{"name": "data", "type": "blk.ssd", "gb": 1},
                                         {"name": "logs", "type": "blk.sata", "gb": 1}],
                             "inbound": [{"protocol": "tcp", "port": 443, "source": "zone:" + zone}]}}})
    return out


def gc(ws: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*GC, *args, "-C", str(ws)], capture_output=True, text=True)


def per_resource_refresh(drv, records) -> int:
    """One GET per object in state (three for a quota: compute, volume, network)."""
    before = drv.api_calls
    from drivers.base import Observed
    for r in records:
        drv._live(Observed(r.address, r.kind, r.cloud_id, {}, {}, {}))
        if r.kind == "quota":
            pid = r.cloud_id.split("/")[0]
            with drv._api():
                drv.conn.compute.get_quota_set(pid)
                drv.conn.block_storage.get_quota_set(pid)
                drv.conn.network.get_quota(pid)
            drv.api_calls += 2
    return drv.api_calls - before


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--systems", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave the workspace and its objects")
    ap.add_argument("--reuse", type=Path, metavar="WS",
                    help="measure again in a workspace an earlier --keep run left (no setup)")
    a = ap.parse_args()
    if a.reuse:
        ws = a.reuse.resolve()
        a.keep = True
    else:
        ws = Path(tempfile.mkdtemp(prefix="govcloud-bench-os-")) / "ws"
        setup(ws, a.systems)
    r = gc(ws, "plan", "--detailed-exitcode")
    if r.returncode != 0:
        sys.exit("the plan after apply is not a no-op (exit %d):\n%s%s" % (
            r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    measure(ws, a)


def setup(ws: Path, systems: int) -> None:
    init_workspace(ws, "bazhong", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace('target = "local"', 'target = "os"')
                   + '\n[targets.os]\ndriver = "openstack"\ncloud = "govcloud-admin"\n')
    for ap_ in approvals(systems):
        (ws / "approvals" / f"{ap_['approval_no']}.yaml").write_text(yaml.safe_dump(ap_, allow_unicode=True))
    t = time.perf_counter()
    assert gc(ws, "compile").returncode == 0
    r = gc(ws, "apply", "--auto-approve", "--parallelism", "6")
    print(f"setup: apply of {systems} systems took {time.perf_counter() - t:.0f} s (exit {r.returncode})")
    if r.returncode != 0:
        print(r.stdout[-3000:] + r.stderr[-2000:])


def measure(ws: Path, a) -> None:
    w = Workspace.at(ws)
    records = state_list(w).records   # what `govcloud state list` reads
    # what a no-op `plan` (--refresh=auto, the default) takes from the state between full
    # checks: every quota it does not change -- in a no-op plan, all of them (checked below)
    from drivers.base import Observed
    known = {r.cloud_id: Observed(r.address, r.kind, r.cloud_id, r.properties, r.refs, {})
             for r in records if r.kind == "quota"}
    batched, auto, single = [], [], []
    serial_full, serial_auto = [], []      # the same reads one by one (read_concurrency = 1)
    with open_drivers(w, {"os"}) as drivers:
        drv = drivers["os"]
        concurrency = drv.read_concurrency
        for _ in range(a.rounds):
            for runs, full, conc in ((serial_full, True, 1), (serial_auto, False, 1),
                                     (batched, True, concurrency), (auto, False, concurrency)):
                drv.read_concurrency = conc
                before, t = drv.api_calls, time.perf_counter()
                n_obs = len(drv.observe() if full else drv.observe_trusting(known))
                runs.append((drv.api_calls - before, time.perf_counter() - t))
            t = time.perf_counter()
            calls = per_resource_refresh(drv, records)
            single.append((calls, time.perf_counter() - t))
    gc(ws, "plan", "--refresh=full")   # a full check on record, then the plan the CLI makes
    import json
    shown = json.loads(gc(ws, "plan", "--output", "json").stdout)["refresh"]
    taken = sum(len(s["from_state"]) for s in shown)
    bc, bt = batched[0][0], statistics.median(x[1] for x in batched)
    ac, at = auto[0][0], statistics.median(x[1] for x in auto)
    sc, st = single[0][0], statistics.median(x[1] for x in single)
    print(f"objects in state: {len(records)} ({len(known)} quotas); observed by the batched "
          f"refresh: {n_obs}; `plan` (auto) took {taken} quotas from the state")
    sfc, sft = serial_full[0][0], statistics.median(x[1] for x in serial_full)
    sac, sat = serial_auto[0][0], statistics.median(x[1] for x in serial_auto)
    print(f"batched, full, one by one: {sfc:5d} API calls, {sft:6.2f} s (median of {a.rounds})")
    print(f"batched, auto, one by one: {sac:5d} API calls, {sat:6.2f} s (median of {a.rounds})")
    print(f"reads at once ({concurrency}):   full {sft / bt:.2f}x, auto {sat / at:.2f}x less wall time")
    print(f"batched refresh, full:     {bc:5d} API calls, {bt:6.2f} s (median of {a.rounds})")
    print(f"batched refresh, auto:     {ac:5d} API calls, {at:6.2f} s (median of {a.rounds})")
    print(f"per-resource refresh:      {sc:5d} API calls, {st:6.2f} s (median of {a.rounds})")
    print(f"ratio full:  {sc / bc:.1f}x fewer API calls, {st / bt:.1f}x less wall time")
    print(f"ratio auto:  {sc / ac:.1f}x fewer API calls, {st / at:.1f}x less wall time "
          f"(target: >= 10x calls)")
    if not a.keep:
        # an admin purge: removing the approvals only orphans the systems (destroy guard)
        from tests.openstack.cloud import purge_stale
        errors = purge_stale(r"bench-d\d+")
        print(f"teardown: {'ok' if not errors else '; '.join(errors)}")
    else:
        print(f"kept {ws} (measure again with --reuse {ws})")


if __name__ == "__main__":
    main()
