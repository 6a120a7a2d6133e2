"""Faults in the EC2 API (moto behind tests/faults/proxy.py): for each fault type, at chosen call
numbers of the calls that change the cloud, and for a seeded random mix over every call, apply,
expire and decommission converge within a bounded number of runs, and the cloud then holds
exactly what the fault-free run of the same module holds: no duplicate, no orphan.

The figures (calls, faults, runs, duplicates, seconds per fault type) print with ``-s``;
benchmarks/bench_api_faults.py prints the same table."""
from __future__ import annotations

import pytest

from tests.faults import moto_harness as h
from tests.faults.proxy import FaultPlan

AT = (2, 5, 9)        # the 2nd, 5th and 9th changing call of each phase
ROWS: list[dict] = []


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    plan = FaultPlan()
    res = h.lifecycle(tmp_path_factory.mktemp("clean"), plan)
    ROWS.append(h.row("none", res))
    yield res
    print("\n" + h.table(ROWS))


def test_fault_free_run_is_the_reference(baseline):
    """The negative control: no fault, one run per phase, and the cloud as the plan says."""
    assert [p.runs for p in baseline["phases"]] == [1, 1, 2]          # decommission: hold, resume
    assert all(p.faults == 0 and p.converged for p in baseline["phases"])
    after = baseline["after"]
    assert h.counts(after["apply"])["instance"] == 2 and h.counts(after["expire"])["instance"] == 1
    assert not any(h.counts(after["decommission"]).values())
    assert not any(h.duplicates(a) for a in after.values())


def check(res, baseline, fault):
    r = h.row(fault, res, baseline)
    ROWS.append(r)
    for ph in res["phases"]:
        assert ph.converged, f"{fault}: {ph.name} did not converge in {h.MAX_RUNS} runs:\n" + \
            "\n---\n".join(ph.outputs)
    for name, after in res["after"].items():
        assert h.counts(after) == h.counts(baseline["after"][name]), (fault, name, after)
        assert h.duplicates(after) == [], (fault, name)
    assert r["duplicates"] == 0
    return r


@pytest.mark.parametrize("fault", ["500", "503", "lost-500", "reset", "lost-reset", "hang",
                                   "latency"])
def test_fault_at_chosen_calls(fault, baseline, tmp_path):
    plan = FaultPlan(at={n: fault for n in AT}, path=h.MUTATING, hang_seconds=2.0, latency_ms=300)
    res = h.lifecycle(tmp_path, plan)
    r = check(res, baseline, fault)
    assert r["faults"] >= 6, r        # every phase met its faults (decommission: hold + resume)


def test_random_mix_at_a_seed(baseline, tmp_path):
    plan = FaultPlan(rate=0.08, fault="mix", seed=16, hang_seconds=2.0, latency_ms=200)
    res = h.lifecycle(tmp_path, plan)
    r = check(res, baseline, "mix@16")
    assert r["faults"] >= 10 and len(plan.injected) >= 4, plan.injected


@pytest.mark.parametrize("action, kind", [("AttachInternetGateway", "internet_gateway"),
                                          ("AssociateRouteTable", "subnet")])
def test_half_made_object_of_a_retried_create_is_not_left_behind(action, kind, tmp_path):
    """The create's first call succeeds (the object exists, tagged), its follow-up fails once:
    the retry must not leave the half-made object beside the new one. Before the executor
    removed it, an internet gateway was made twice and a subnet's retry failed with
    InvalidSubnet.Conflict (its CIDR taken by the half-made one)."""
    from tests.faults.proxy import FaultProxy
    from tests.libcloud import moto_server as ms
    ms.reset()
    base = h.cloud_objects()
    plan = FaultPlan(at={1: "500"}, path=f"Action={action}&")
    with FaultProxy(ms.endpoint(), plan) as proxy:
        ws = h.make_workspace(tmp_path, proxy.url)
        r = h.run_cli("apply", "-C", ws, "--auto-approve", env={"GOVCLOUD_TODAY": h.APPLY_DAY})
    assert plan.injected == {"500": 1}
    assert r.exit_code == 0, r.output[-3000:]
    new = h.new_since(base, h.cloud_objects())
    assert h.duplicates(new) == [] and h.counts(new)[kind] == 2, h.counts(new)   # 2 systems
