"""core/exit.py over the shipped profiles (pure): where each city's clocks start, the billing
stop per city, the missing events per stage, the exit state; and the byte progress meter."""
from __future__ import annotations

from datetime import date

import pytest

from orchestrator.calendar_files import workspace_calendar
from orchestrator.core import exit as exitp
from orchestrator.progress import ByteMeter
from orchestrator.workspace import load_profile

CAL = workspace_calendar(None)
D = date.fromisoformat


def ev(**kinds: str) -> dict[str, date]:
    return {k.replace("_", "-"): D(v) for k, v in kinds.items()}


def test_each_city_orders_its_exit_with_the_article():
    got = {c: (load_profile(c).rules.exit_process.article, load_profile(c).rules.exit_process.value.order)
           for c in ("bazhong", "datong", "sichuan", "bozhou")}
    assert got["bazhong"][0] == "第二十二条" and got["bazhong"][1][0] == "exit-requested"
    assert got["datong"][0] == "第十六条" and got["datong"][1][:2] == ["exit-requested", "exit-approved"]
    assert got["sichuan"][0] == "第十八条" and got["sichuan"][1][:3] == ["backed-up", "offline",
                                                                      "exit-requested"]
    assert got["bozhou"][0] == "第二十三条"


@pytest.mark.parametrize("city,stage,have,absent", [
    ("bazhong", "start", {}, ["exit-requested"]),
    ("bazhong", "start", ev(exit_requested="2026-11-02"), []),
    ("datong", "start", ev(exit_requested="2026-11-02"), ["exit-approved"]),
    ("sichuan", "start", {}, []),
    ("sichuan", "request", ev(backed_up="2026-11-02"), ["offline"]),
    ("sichuan", "wipe", ev(backed_up="2026-11-02", offline="2026-11-02"), ["exit-requested"]),
    ("bozhou", "start", {}, ["exit-requested"]),
    ("chongqing", "start", {}, []),
])
def test_missing_events_per_stage(city, stage, have, absent):
    assert exitp.missing(load_profile(city), stage, have) == absent


def test_refusal_names_the_article_and_the_event():
    err = exitp.refusal(load_profile("datong"), "start", "cannot decommission x", ["exit-approved"])
    assert "第十六条" in err.summary and "exit-approved" in err.summary
    assert "approve-exit" in err.issues[0].message


def test_bazhong_transition_is_calendar_months_from_the_request_not_the_offline():
    p = load_profile("bazhong")
    until, start = exitp.transition_until(p, ev(exit_requested="2026-11-30", offline="2027-01-15"))
    assert (until, start) == (D("2027-02-28"), "exit-requested")     # month end: no 02-30
    assert exitp.transition_until(p, ev(offline="2027-01-15")) == (None, "exit-requested")


def test_datong_reclaim_counts_working_days_from_the_approval():
    p = load_profile("datong")
    on = ev(exit_requested="2026-09-25", exit_approved="2026-09-30")
    # 2026-09-30 (Wed) + 2 working days: 10-01..10-08 are the National Day holiday, 10-09 works
    assert exitp.reclaim_due(p, on, CAL) == (CAL.add_workdays(D("2026-09-30"), 2), "exit-approved")
    assert CAL.add_workdays(D("2026-09-30"), 2) > D("2026-10-08")
    assert exitp.reclaim_due(p, ev(exit_requested="2026-09-25"), CAL) == (None, "exit-approved")


@pytest.mark.parametrize("city,events,stop,article", [
    # 大同: on the reclaim deadline even when the provider reclaimed late ...
    ("datong", ev(exit_approved="2026-11-27", reclaimed="2026-12-03", terminated="2026-12-03"),
     "2026-12-01", "第十六条"),
    # ... and with the reclaim when it was early
    ("datong", ev(exit_approved="2026-11-27", reclaimed="2026-11-30", terminated="2026-11-30"),
     "2026-11-30", "第十六条"),
    ("bozhou", ev(offline="2026-11-24", terminated="2026-11-26"), "2026-11-24", "第二十三条"),
    ("bazhong", ev(offline="2026-11-24", reclaimed="2027-02-28", terminated="2027-02-28"),
     "2027-02-28", "第二十二条"),
    ("sichuan", ev(offline="2026-11-01", reclaimed="2026-11-20", terminated="2026-11-21"),
     "2026-11-20", "第十八条"),
    ("chongqing", ev(offline="2026-11-01", terminated="2026-11-21"), "2026-11-21", "第三十条"),
])
def test_billing_stop_per_city(city, events, stop, article):
    assert exitp.billing_stop(load_profile(city), events, CAL) == (D(stop), article)


def test_exit_state():
    assert exitp.exit_state({}) is None
    assert exitp.exit_state(ev(exit_requested="2026-11-01")) == "exit-requested"
    assert exitp.exit_state(ev(exit_requested="2026-11-01", held_until="2026-11-02")) == "held"
    failed = ev(exit_requested="2026-11-01", wiped="2026-11-02", wipe_failed="2026-11-02")
    assert exitp.exit_state(failed) == "wipe-failed"
    assert exitp.exit_state({**failed, "verified": D("2026-11-03")}) == "verified"
    assert exitp.exit_state({**failed, "terminated": D("2026-11-04")}) == "terminated"


def test_byte_meter_lines_and_live_redraws():
    t = [0.0]
    lines, live = [], []
    m = ByteMeter("wipe", 100 << 20, lines.append, None, every=10, clock=lambda: t[0])
    for _ in range(10):
        t[0] += 3
        m(10 << 20)
    m.finish()
    assert len(lines) == 2 + 1        # at 12 s and 24 s (10 s apart at least), then the last
    assert "100.0 MiB of 100.0 MiB (100%)" in lines[-1] and "ETA 0 s" in lines[-1]
    assert "3.3 MiB/s" in lines[0] and "ETA" in lines[0]
    m = ByteMeter("verify", 10, lines.append, live.append, clock=lambda: t[0])
    t[0] += 1
    m(5)
    assert live and "50%" in live[-1] and "ETA 1 s" in live[-1]
