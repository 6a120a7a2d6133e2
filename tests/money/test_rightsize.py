"""Right-sizing rules per city, one case on each side of every threshold (the article's own
comparison word decides the boundary), over series with exact values (core/rightsize.py)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from orchestrator.calendar_files import workspace_calendar
from orchestrator.core.rightsize import CHINA, Disk, Flavor, ServerFacts, recommend
from orchestrator.workspace import load_profile

UNTIL = int(dt.datetime(2026, 6, 30, 12, tzinfo=CHINA).timestamp())
FLAVORS = [Flavor("ecs.s2m4", 2, 4, Decimal("160.00")), Flavor("ecs.s4m8", 4, 8, Decimal("320.00")),
           Flavor("ecs.s8m16", 8, 16, Decimal("640.00"))]
SRV = "server:local/edu/edu-portal-internet/app-1"
SRV2 = "server:local/edu/edu-portal-internet/app-2"
CAL = workspace_calendar(None)


def facts(address=SRV, disk_gb=1000):
    return ServerFacts(address, "edu/edu-portal", "A-1", FLAVORS[1], 40, Decimal("0.20"),
                       (Disk(address.replace("server:", "volume:") + "-data1", disk_gb,
                             Decimal("0.20")),))


def flat(value, days, step=300, until=UNTIL):
    return [(t, float(value)) for t in range(until - days * 86400 + step, until + 1, step)]


def run(city, samples, servers=None, until=UNTIL, clocks=None):
    servers = servers or [facts()]
    return recommend(load_profile(city), servers, samples, until, FLAVORS, CAL, clocks)


def rules(recs):
    return sorted(r.rule for r in recs)


# --- 巴中 第二十四条 ------------------------------------------------------------------------------
@pytest.mark.parametrize("peak, expect", [(70.0, []), (70.5, ["expand-over-70"])])
def test_bazhong_expand_over_70_is_exclusive(peak, expect):
    samples = {SRV: {"cpu_pct": flat(50, 7)[:-1] + [(UNTIL, peak)]}}
    recs = run("bazhong", samples)
    assert rules(recs) == expect
    if expect:
        assert recs[0].proposal["flavor"] == {"from": "ecs.s4m8", "to": "ecs.s8m16"}
        assert recs[0].fee_delta == Decimal("320.00") and recs[0].article == "第二十四条（一）"
        (ev,) = [e for e in recs[0].evidence if e.met]
        assert (ev.metric, ev.statistic, ev.value, ev.threshold, ev.word) == (
            "cpu_pct", "max", 70.5, 70, "超过")


@pytest.mark.parametrize("peak, expect", [(30.0, ["shrink-vcpu-quarter-peak"]), (30.5, [])])
def test_bazhong_vcpu_quarter_peak_not_over_30_is_inclusive(peak, expect):
    samples = {SRV: {"cpu_pct": flat(10, 91)[:-1] + [(UNTIL, peak)]}}
    recs = run("bazhong", samples)
    assert rules(recs) == expect
    if expect:
        assert recs[0].fee_delta == Decimal("-160.00")        # s4m8 -> s2m4
        assert recs[0].evidence[0].window_from.startswith("2026-03-31")   # 91 days


@pytest.mark.parametrize("peak, expect", [(30.0, ["shrink-memory-quarter-peak"]), (30.1, [])])
def test_bazhong_memory_quarter_peak(peak, expect):
    samples = {SRV: {"mem_pct": flat(20, 91)[:-1] + [(UNTIL, peak)]}}
    assert rules(run("bazhong", samples)) == expect


@pytest.mark.parametrize("free, expect", [(500.0, []), (620.0, ["shrink-data-disk-year-free"])])
def test_bazhong_data_disk_free_over_500_gb_for_a_year(free, expect):
    samples = {SRV: {"disk_free_gb": flat(900, 365, step=3600)[:-1] + [(UNTIL, free)]}}
    recs = run("bazhong", samples)
    assert rules(recs) == expect
    if expect:
        assert recs[0].proposal["gb"] == {"from": 1000, "to": 880}      # keeps 500 GB free
        assert recs[0].fee_delta == Decimal("-24.00")                    # 120 GB x 0.20


# --- 亳州 第二十六条 ------------------------------------------------------------------------------
@pytest.mark.parametrize("mean, expect", [(70.0, []), (70.01, ["expand-memory-week-mean"])])
def test_bozhou_memory_week_mean_above_70(mean, expect):
    assert rules(run("bozhou", {SRV: {"mem_pct": flat(mean, 7)}})) == expect


def _spikes(times_min, value):
    base = flat(60, 7)
    start = UNTIL - 6 * 3600
    spikes = {start + 60 * m: value for m in times_min}
    return sorted({**dict(base), **spikes}.items())


@pytest.mark.parametrize("minutes, value, expect", [
    ([0, 20, 59], 81.0, ["expand-memory-spikes"]),      # 3 within one hour
    ([0, 20, 59], 80.0, []),                            # at 80: not 超过
    ([0, 30, 60], 81.0, []),                            # 3 over 60 minutes: 2 in any hour
])
def test_bozhou_three_spikes_over_80_within_an_hour(minutes, value, expect):
    assert rules(run("bozhou", {SRV: {"mem_pct": _spikes(minutes, value)}})) == expect


@pytest.mark.parametrize("used, expect", [(70.0, []), (71.0, ["expand-storage"])])
def test_bozhou_storage_above_70(used, expect):
    assert rules(run("bozhou", {SRV: {"disk_used_pct": flat(used, 7)}})) == expect


@pytest.mark.parametrize("mean, peak, expect", [
    (30.0, 50.0, ["shrink-memory-low"]),                # both at the bound: 及以下 includes it
    (30.0, 50.5, []),                                   # peak too high
    (30.5, 40.0, []),                                   # average too high
])
def test_bozhou_shrink_only_when_average_and_peak_are_low(mean, peak, expect):
    pts = flat(mean, 7)
    # keep the mean exact: one sample at `peak`, balanced by one at 2*mean - peak
    pts[0] = (pts[0][0], peak)
    pts[1] = (pts[1][0], 2 * mean - peak)
    assert rules(run("bozhou", {SRV: {"mem_pct": pts}})) == expect


@pytest.mark.parametrize("last_up, expect", [("2026-03-30", []), ("2026-03-29", ["reclaim-idle-host"])])
def test_bozhou_idle_host_stopped_more_than_3_months(last_up, expect):
    t_up = int(dt.datetime.fromisoformat(last_up + "T12:00").replace(tzinfo=CHINA).timestamp())
    up = [(t, 1.0 if t <= t_up else 0.0) for t, _ in flat(0, 120, step=3600)]
    recs = run("bozhou", {SRV: {"up": up}})
    assert rules(recs) == expect
    if expect:
        assert recs[0].fee_delta == -(Decimal("320.00") + Decimal("8.00") + Decimal("200.00"))


# --- 重庆 第十七条 --------------------------------------------------------------------------------
@pytest.mark.parametrize("mem, expect", [(70.0, []), (69.0, ["idle-over-redundancy"])])
def test_chongqing_idle_over_the_redundancy_ratio(mem, expect):
    samples = {SRV: {"mem_pct": flat(mem, 30)}, SRV2: {"mem_pct": flat(mem, 30)}}
    recs = run("chongqing", samples, [facts(), facts(SRV2)])
    assert rules(recs) == expect
    if expect:
        assert recs[0].escalation["stage"] == "remind" and recs[0].server is None


@pytest.mark.parametrize("today, urged, stage", [
    ("2026-07-01", None, "reminded"),                  # one month from 06-01: not 超过 yet
    ("2026-07-02", None, "urge"),
    ("2026-07-09", "2026-07-02", "urged"),            # 5 working days from 07-02: 07-09
    ("2026-07-10", "2026-07-02", "bureau-may-shrink"),
])
def test_chongqing_escalation_clock(today, urged, stage):
    until = int(dt.datetime.fromisoformat(today + "T12:00").replace(tzinfo=CHINA).timestamp())
    samples = {SRV: {"mem_pct": flat(40, 30, until=until)}}
    clocks = {"edu/edu-portal": {"reminded": dt.date(2026, 6, 1),
                                 **({"urged": dt.date.fromisoformat(urged)} if urged else {})}}
    (rec,) = run("chongqing", samples, until=until, clocks=clocks)
    assert rec.escalation["stage"] == stage


# --- 大同 第二十七条 ------------------------------------------------------------------------------
@pytest.mark.parametrize("cpu, expect", [(5.0, ["idle-system"]), (5.1, [])])
def test_datong_idle_system(cpu, expect):
    samples = {SRV: {"cpu_pct": flat(cpu, 90), "mem_pct": flat(10, 90)},
               SRV2: {"cpu_pct": flat(1, 90), "mem_pct": flat(20, 90)}}
    recs = run("datong", samples, [facts(), facts(SRV2)])
    assert rules(recs) == expect
    if expect:
        assert recs[0].proposal == {"remove": "edu/edu-portal"} and recs[0].setting
        assert recs[0].fee_delta == -2 * (Decimal("320.00") + Decimal("8.00") + Decimal("200.00"))


def test_no_metrics_no_recommendation():
    assert run("bazhong", {}) == [] and run("datong", {SRV: {"cpu_pct": flat(1, 90)}}) == []


def test_a_series_shorter_than_the_window_is_not_judged():
    """A quarterly peak of 10 % seen over 30 days only: no shrink, and the evidence says why."""
    from orchestrator.core.rightsize import evaluate
    rule = next(r for r in load_profile("bazhong").rightsizing if r.key == "shrink-vcpu-quarter-peak")
    ev, held = evaluate(rule, [{"cpu_pct": flat(10, 30)}], UNTIL)
    assert not held and ev[0].value is None and ev[0].samples == 30 * 288
    ev, held = evaluate(rule, [{"cpu_pct": flat(10, 91)}], UNTIL)
    assert held and ev[0].value == 10.0


def test_server_facts_come_from_the_index_compile_keeps_and_follow_an_edited_spec(tmp_path):
    """rightsize/report read the servers from .govcloud/spec-servers.json (compile writes it
    with the spec cache) while every spec file matches it; a spec changed by hand afterwards
    is read from the specs themselves."""
    from orchestrator.usecases.rightsize import facts as server_facts
    from orchestrator.workspace import Workspace, _server_rows
    from tests.money.helpers import _compile, small, ws_with
    servers = [{"name": "app", "flavor": "ecs.s4m8", "image": "kylin-v10-sp3",
                "system_disk": {"type": "blk.ssd", "gb": 40},
                "data_disks": [{"type": "blk.ssd", "gb": 100}], "count": 2},
               {"name": "db", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
                "system_disk": {"type": "blk.ssd", "gb": 50}}]
    ws = ws_with(tmp_path, "bazhong", small("BZ-1", servers=servers),
                 small("BZ-2", system="hr", servers=servers[1:]))
    _compile(ws)
    w = Workspace.at(ws)
    assert w.server_index_path.is_file()
    from_specs = [row for s in w.load_specs() for row in _server_rows(s.stack, s.resources, getattr)]
    assert w.server_rows() == from_specs
    assert [(r["address"].rsplit("/", 1)[1], r["flavor"], len(r["disks"])) for r in from_specs] \
        == [("app-1", "ecs.s4m8", 1), ("app-2", "ecs.s4m8", 1), ("db-1", "ecs.s2m4", 0),
            ("db-1", "ecs.s2m4", 0)]
    assert from_specs[0]["disks"][0][1:] == [100, "ssd"]          # the provisioned volume type
    got, _ = server_facts(w)
    assert [f.system_disk_gb for f in got] == [40, 40, 50, 50]
    assert got[0].data_disks[0].gb == 100 and got[0].data_disks[0].unit_price == Decimal("0.20")
    # Edited after compile: the index no longer matches that file, so the specs are read.
    spec = w.spec_path("edu/edu-portal")
    spec.write_text(spec.read_text(encoding="utf-8").replace("ecs.s4m8", "ecs.s8m16"),
                    encoding="utf-8")
    assert [r["flavor"] for r in w.server_rows()][:2] == ["ecs.s8m16", "ecs.s8m16"]
    assert [f.flavor.code for f in server_facts(w)[0]][:2] == ["ecs.s8m16", "ecs.s8m16"]
