"""plan --refresh=auto's choice (orchestrator/core/refresh_scope.py): which quotas come from the
state, and when everything is read."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestrator.core.refresh_scope import decide, unchanged_quotas
from orchestrator.models.state import StateRecord

NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.timezone.utc)
LIMITS = {"cores": 4, "ram_mb": 8192, "gigabytes": 100}


def rec(addr, target="os", status="ok", **props):
    return StateRecord(addr, "quota", target, f"{addr}-id/quota", status, "d/s", "A-1",
                       {**LIMITS, **props})


RECORDS = {"quota:a": rec("quota:a"), "quota:b": rec("quota:b", cores=2),
           "quota:c": rec("quota:c", status="tainted"), "quota:d": rec("quota:d", target="other"),
           "quota:gone": rec("quota:gone"),
           "network:a": StateRecord("network:a", "network", "os", "n1", "ok")}
DESIRED = {"quota:a": dict(LIMITS), "quota:b": dict(LIMITS), "quota:c": dict(LIMITS),
           "quota:d": dict(LIMITS)}


def test_only_quotas_the_plan_leaves_as_they_are_are_trusted():
    # b: the approval asks for 4 cores, the state records 2 (the plan changes it: read it);
    # c: tainted; d: another target; gone: no longer approved; the network is no quota
    assert sorted(r.address for r in unchanged_quotas(DESIRED, RECORDS, "os").values()) == ["quota:a"]


def test_a_recent_full_check_lets_auto_trust_and_says_so():
    s = decide("os", "auto", NOW - dt.timedelta(hours=3), NOW, 24, DESIRED, RECORDS)
    assert not s.full and list(s.trusted) == ["quota:a-id/quota"]
    assert s.to_dict()["from_state"] == ["quota:a"] and "--refresh=full" in s.reason


@pytest.mark.parametrize("mode,last,hours,why", [
    ("full", NOW - dt.timedelta(hours=1), 24, "--refresh=full"),
    ("auto", None, 24, "no full check on record"),
    ("auto", NOW - dt.timedelta(hours=24), 24, "24.0 h old"),
    ("auto", NOW + dt.timedelta(hours=1), 24, "-1.0 h old"),      # a clock set back: read all
    ("auto", NOW - dt.timedelta(minutes=1), 0, "full_refresh_hours = 0"),
])
def test_everything_is_read_when_the_check_is_due(mode, last, hours, why):
    s = decide("os", mode, last, NOW, hours, DESIRED, RECORDS)
    assert s.full and not s.trusted and why in s.reason


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="none of auto, full"):
        decide("os", "partial", None, NOW, 24, DESIRED, RECORDS)
