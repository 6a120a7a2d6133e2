"""Every profile rule: one accepted and one rejected case, from the regulation's own numbers.

Rules checked on approvals go through `govcloud validate` (exit 1, the rule and its article
quoted in English and Chinese); clocks go through the pure lifecycle module with the shipped
working-day calendar; command rules (extend, platform-change, request-exit) through their
functions and, once each, the CLI.
"""
from __future__ import annotations

import pytest

from orchestrator.core import policy
from orchestrator.core.lifecycle import approval_status, warnings_to_send
from orchestrator.models.config import WorkspaceConfig
from orchestrator.core.policy import PolicyViolation
from tests.policy.builders import CAL, D, approval, model, profile, workspace, write

TODAY = D(2026, 11, 23)


def ev(**dates):
    return [{"kind": k.replace("_", "-"), "on": v, "detail": {}} for k, v in dates.items()]


def deadline(st, key):
    return next(d for d in st.deadlines if d.key == key)


# --- scope: 等保 and 涉密 ------------------------------------------------------------------------
def test_dengbao_level_3_accepted_4_refused_bozhou(tmp_path, cli):
    ok = approval("BZ-1")
    ok["system"]["dengbao_level"] = 3
    ws = workspace(tmp_path, "bozhou", ok)
    assert cli("validate", "-C", ws).exit_code == 0
    bad = approval("BZ-2", system="other")
    bad["system"]["dengbao_level"] = 4
    write(ws, bad)
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1
    assert "等保 level 4 exceeds the maximum level 3" in r.output and "第三、四条" in r.output


def test_classified_refused_unclassified_accepted_bozhou(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou", approval("BZ-1"))
    assert cli("validate", "-C", ws).exit_code == 0
    bad = approval("BZ-2", system="secret")
    bad["system"]["classified"] = True
    write(ws, bad)
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "涉密" in r.output and "第三、四条" in r.output


# --- temporary windows (亳州 第二十二条: 原则上不超过3个月) -----------------------------------------------
def test_window_of_exactly_3_months_is_accepted(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou", approval("BZ-W", term={
        "kind": "window", "start": "2026-06-20", "end": "2026-09-20"}))
    assert cli("validate", "-C", ws).exit_code == 0


def test_window_of_4_months_is_refused_quoting_the_article(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou", approval("BZ-W", term={
        "kind": "window", "start": "2026-06-20", "end": "2026-10-20"}))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1
    assert "approvals/BZ-W.yaml" in r.output and "term.end" in r.output
    assert "temporary window of 4 months (2026-06-20 to 2026-10-20) exceeds 3 months" in r.output
    assert "亳州市政务云管理办法（试行） 第二十二条" in r.output
    assert "临时扩容时间段为4个月，超过3个月" in r.output
    assert "Nothing was changed." in r.output


def test_window_one_day_over_3_months_is_refused():
    found = policy.term_findings(model(approval("BZ-W", term={
        "kind": "window", "start": "2026-06-20", "end": "2026-09-21"})), profile("bozhou"))
    assert [f.rule for f in found] == ["window_max_months"]
    assert "3 months 1 day" in found[0].message


def test_cities_without_a_window_maximum_accept_long_windows():
    a = model(approval("BZ-W", approved_on="2025-12-15", term={"kind": "window", "start": "2026-01-01", "end": "2026-12-01"}))
    for city in ("bazhong", "datong", "chongqing", "sichuan"):
        assert policy.term_findings(a, profile(city)) == []


# --- emergency resources ------------------------------------------------------------------------
def test_emergency_of_6_months_accepted_one_day_more_refused_bozhou():
    p = profile("bozhou")
    ok = model(approval("BZ-E", term={"kind": "emergency", "start": "2026-03-01", "end": "2026-09-01",
                                   "reason": "重大活动保障"}))
    assert policy.term_findings(ok, p) == []
    bad = model(approval("BZ-E", term={"kind": "emergency", "start": "2026-03-01",
                                    "end": "2026-09-02", "reason": "重大活动保障"}))
    found = policy.term_findings(bad, p)
    assert [f.rule for f in found] == ["emergency_max_months"]
    assert "第二十四条" in found[0].message and "不得超过6个月" in found[0].message


def test_emergency_needs_the_city_government_bazhong(tmp_path, cli):
    term = {"kind": "emergency", "start": "2026-05-11", "end": "2026-06-11", "reason": "防汛应急"}
    ws = workspace(tmp_path, "bazhong", approval("BZ-E", term=term, org="巴中市人民政府"))
    assert cli("validate", "-C", ws).exit_code == 0
    write(ws, approval("BZ-E", term=term, org="市政务服务和大数据管理局"))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "approvers" in r.output
    assert "emergency resources need the approval of 市人民政府" in r.output
    assert "第十四条" in r.output and "报市人民政府审定同意" in r.output


def _ev(*items):
    return [{"kind": k, "on": at[:10], "detail": {"at": at}} for k, at in items]


CQ_EMERGENCY = approval("CQ-E", approved_on="2026-05-11", term={
    "kind": "emergency", "start": "2026-05-11", "end": "2026-06-11", "reason": "应急"})


def test_chongqing_fast_track_is_no_provider_deadline():
    """重庆 第二十五条: 「24小时内配置」 says which needs may use the fast track; no provision
    deadline, no overdue flag, whenever the resources come (it used to be a start+1 day SLA)."""
    p = profile("chongqing")
    st = approval_status(model(CQ_EMERGENCY), "", p, CAL, [], D(2026, 5, 20))
    assert [d for d in st.deadlines if d.key == "provision"] == [] and not st.overdue


def test_chongqing_configuration_needs_the_prior_filing():
    p, a = profile("chongqing"), model(CQ_EMERGENCY)
    ok = approval_status(a, "", p, CAL, _ev(("emergency-filed", "2026-05-11T09:30+08:00"),
                                            ("configuration-completed", "2026-05-11T21:00+08:00")),
                         D(2026, 5, 20))
    assert ok.flags == []
    none = approval_status(a, "", p, CAL, _ev(("configuration-completed", "2026-05-11T21:00+08:00")),
                           D(2026, 5, 20))
    assert any("without the prior 报备" in f and "第二十五条" in f and "record-event" in f
               for f in none.flags), none.flags
    after = approval_status(a, "", p, CAL, _ev(("configuration-completed", "2026-05-11T21:00+08:00"),
                                               ("emergency-filed", "2026-05-11T22:00+08:00")),
                            D(2026, 5, 20))
    assert any("without the prior 报备" in f for f in after.flags)
    # known by its day only (the provisioned event of an apply): the same day's 报备 is before it
    day = approval_status(a, "", p, CAL, _ev(("emergency-filed", "2026-05-11T09:30+08:00")) +
                          [{"kind": "provisioned", "on": "2026-05-11", "detail": {}}], D(2026, 5, 20))
    assert day.flags == []


def test_chongqing_fast_track_beyond_24_hours_is_flagged():
    p, a = profile("chongqing"), model(CQ_EMERGENCY)
    late = approval_status(a, "", p, CAL, _ev(("emergency-filed", "2026-05-11T09:30+08:00"),
                                              ("configuration-completed", "2026-05-12T09:31+08:00")),
                           D(2026, 5, 20))
    assert any("beyond 24 hours" in f and "24 h 01 min" in f for f in late.flags), late.flags
    edge = approval_status(a, "", p, CAL, _ev(("emergency-filed", "2026-05-11T09:30+08:00"),
                                              ("configuration-completed", "2026-05-12T09:30+08:00")),
                           D(2026, 5, 20))
    assert edge.flags == []        # exactly 24 h is still 「24小时内」


def test_chongqing_trial_notice_is_the_bureaus_duty_not_a_provider_sla():
    """重庆 第二十条: 2 wd from the bureau's receipt of the application to its notice to the
    provider. Not a provider deadline from the approval: no provision deadline, never overdue."""
    p = profile("chongqing")
    assert p.rules.provision_deadline_workdays is None
    assert p.reference["bureau_trial_notice_workdays"].article == "第二十条"
    st = approval_status(model(approval("CQ-P", approved_on="2026-02-13")), "", p, CAL, [],
                         D(2026, 3, 20))
    assert not st.overdue and [d for d in st.deadlines if d.key == "provision"] == []
    # nor does a settlement deduct for it (a leftover `provision` deduction citing 第二十条)
    s = p.billing.settlement
    assert [d for d in s.deductions if d.deadline == "provision" or d.article == "第二十条"] == []
    cited = [(k, r.article) for k, r in p.rules if getattr(r, "article", None) == "第二十条"]
    assert cited == [], cited      # only the reference entry and the trial obligation cite it
    assert [o.key for o in p.obligations if o.article == "第二十条"] == ["trial"]


def test_emergency_backfill_within_2_workdays_of_the_project_approval_chongqing():
    p = profile("chongqing")

    def term(**kw):
        return {"kind": "emergency", "start": "2026-09-01", "end": "2026-12-01", "reason": "应急",
                "project_approved_on": "2026-09-30", **kw}
    # 2026-09-30 + 2 working days = 2026-10-09 (国庆节 10-01..10-07; 10-08 is the first)
    ok = approval_status(model(approval("BZ-E", term=term(backfilled_on="2026-10-09"))), "", p, CAL,
                         [], D(2026, 10, 12))
    assert deadline(ok, "backfill").due == D(2026, 10, 9) and ok.flags == []
    late = approval_status(model(approval("BZ-E", term=term(backfilled_on="2026-10-10"))), "", p, CAL,
                           [], D(2026, 10, 12))
    assert any(f.startswith("backfill late: due 2026-10-09, filed 2026-10-10") for f in late.flags)
    missing = approval_status(model(approval("BZ-E", term=term())), "", p, CAL, [], D(2026, 10, 12))
    assert deadline(missing, "backfill").overdue and missing.overdue
    assert "第二十五条" in deadline(missing, "backfill").citation


# --- provisioning, deployment, change deadlines (工作日) ----------------------------------------
@pytest.mark.parametrize("city,approved,due", [
    ("bazhong", "2026-03-02", D(2026, 3, 5)),     # 3 wd (第十八条)
    ("datong", "2026-09-30", D(2026, 10, 9)),     # 2 wd over 国庆节 (第十三条)
])
def test_provision_deadline_met_and_missed(city, approved, due):
    p = profile(city)
    a = model(approval("BZ-A", approved_on=approved))
    on_time = approval_status(a, "", p, CAL, ev(provisioned=due.isoformat()), due)
    assert deadline(on_time, "provision").due == due and not deadline(on_time, "provision").late
    waiting = approval_status(a, "", p, CAL, [], due)
    assert deadline(waiting, "provision").workdays_left == 0 and not waiting.overdue
    after = CAL.next_workday(due)
    missed = approval_status(a, "", p, CAL, [], after)
    assert missed.overdue and missed.next_deadline.key == "provision"
    assert missed.next_deadline.workdays_left == -1


def test_approval_made_on_a_holiday_counts_from_the_next_working_day():
    a = model(approval("BZ-A", approved_on="2026-10-03"))        # 国庆节
    st = approval_status(a, "", profile("datong"), CAL, [], D(2026, 10, 3))
    assert deadline(st, "provision").due == D(2026, 10, 9)


def test_deploy_within_5_workdays_of_configuration_bazhong():
    p = profile("bazhong")
    a = model(approval("BZ-A"))
    ok = approval_status(a, "", p, CAL, ev(provisioned="2026-03-05", delivery_confirmed="2026-03-12"),
                         D(2026, 3, 20))
    assert deadline(ok, "deploy").due == D(2026, 3, 12) and not deadline(ok, "deploy").late
    late = approval_status(a, "", p, CAL, ev(provisioned="2026-03-05",
                                             delivery_confirmed="2026-03-13"), D(2026, 3, 20))
    assert deadline(late, "deploy").late
    assert not [d for d in approval_status(a, "", profile("bozhou"), CAL, ev(provisioned="2026-03-05"),
                                           D(2026, 3, 20)).deadlines if d.key == "deploy"]


def test_change_applied_within_2_workdays_datong():
    p = profile("datong")
    change = model(approval("DT-C", approved_on="2026-04-30", change_of="DT-A1"))
    # 劳动节 05-01..05-05: 05-06 is the first working day, 05-07 the second
    ok = approval_status(change, "", p, CAL, ev(provisioned="2026-05-07"), D(2026, 5, 8))
    d = deadline(ok, "provision")
    assert (d.rule, d.due, d.late) == ("change_deadline_workdays", D(2026, 5, 7), False)
    late = approval_status(change, "", p, CAL, ev(provisioned="2026-05-08"), D(2026, 5, 8))
    assert deadline(late, "provision").late


# --- exit ----------------------------------------------------------------------------------------
def test_reclaim_within_2_workdays_of_the_exit_datong():
    # 大同 第十六条: 2 working days from the bureau's approval of the exit (审核通过), not the request
    st = approval_status(model(approval("BZ-A")), "", profile("datong"), CAL,
                         ev(provisioned="2026-03-03", exit_requested="2026-09-29",
                            exit_approved="2026-09-30"), D(2026, 10, 9))
    d = deadline(st, "reclaim")
    assert d.due == D(2026, 10, 9) and not d.overdue
    st = approval_status(model(approval("BZ-A")), "", profile("datong"), CAL,
                         ev(provisioned="2026-03-03", exit_requested="2026-09-29",
                            exit_approved="2026-09-30"), D(2026, 10, 10))
    assert deadline(st, "reclaim").overdue
    done = approval_status(model(approval("BZ-A")), "", profile("datong"), CAL,
                           ev(exit_requested="2026-09-30", terminated="2026-10-09"), D(2026, 10, 12))
    assert done.state == "terminated" and not done.overdue


def test_three_month_transition_after_the_exit_bazhong():
    st = approval_status(model(approval("BZ-A")), "", profile("bazhong"), CAL,
                         ev(provisioned="2026-01-05", exit_requested="2026-03-31"), D(2026, 4, 1))
    d = deadline(st, "transition")
    assert d.due == D(2026, 6, 30) and d.citation.endswith("第二十二条")


# --- migration: the old system is kept 3 months after the cut-over -----------------------------
@pytest.mark.parametrize("city", ["bozhou", "bazhong"])
def test_old_system_kept_three_months_after_cutover(tmp_path, cli, monkeypatch, city):
    old = approval("OLD-1", system="legacy-portal")
    new = approval("NEW-1", migration={"from_approval": "OLD-1", "cutover_on": "2026-08-01"})
    ws = workspace(tmp_path, city, old, new)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-10-31")
    r = cli("request-exit", "OLD-1", "-C", ws, "--date", "2026-10-31")
    assert r.exit_code == 1 and "keep it until 2026-11-01" in r.output
    assert "原系统应至少保留3个月" in r.output
    (ws / "approvals" / "OLD-1.yaml").unlink()          # removing it would delete it at apply
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "migration.from_approval" in r.output and "until 2026-11-01" in r.output
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-11-01")
    assert cli("validate", "-C", ws).exit_code == 0
    write(ws, old)
    r = cli("request-exit", "OLD-1", "-C", ws, "--date", "2026-11-01")
    assert r.exit_code == 0 and "exit of OLD-1 requested on 2026-11-01" in r.output


def test_no_keep_rule_no_refusal():
    old, new = model(approval("OLD-1", system="legacy")), model(approval("NEW-1", migration={
        "from_approval": "OLD-1", "cutover_on": "2026-08-01"}))
    policy.check_exit(old, [old, new], profile("datong"), D(2026, 8, 2))   # datong: no such rule


# --- major change (亳州 第二十二条 超过50%; 四川 第十六条: operator setting) --------------------------
BASE = approval("BZ-A", approved_on="2026-03-02")     # 2 x ecs.s4m8: 8 vCPU, 16 GB, 80 GB; ¥656.00


def _change(**kw):
    return approval("BZ-C", approved_on="2026-05-06", change_of="BZ-A", **kw)


def test_change_of_exactly_50_percent_is_accepted(tmp_path, cli):
    # +1 x ecs.s4m8 with 40 GB: vCPU, memory, storage and fee (¥328 of ¥656) all +50%, not 超过
    ws = workspace(tmp_path, "bozhou", BASE, _change(servers=[{**BASE["zones"]["internet"]["servers"][0],
                                                               "name": "more", "count": 1}]))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 0, r.output


def test_change_over_50_percent_of_resources_is_a_major_change(tmp_path, cli):
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 1,
           "system_disk": {"type": "blk.ssd", "gb": 41}}
    ws = workspace(tmp_path, "bozhou", BASE, _change(servers=[srv]))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1
    assert "grows the system's storage GB by 51.25% (80 -> 121)" in r.output
    assert "major change (重大变更)" in r.output and "第二十二条" in r.output
    assert "应按照上云申请工作流程办理" in r.output


def test_change_over_50_percent_of_the_fee_is_a_major_change():
    change = model(_change(servers=[], volumes=[{"name": "logs", "type": "blk.sata", "gb": 10}],
                           services=[{"item": "sec.waf"}]))
    from orchestrator.workspace import SHIPPED_CATALOG
    from orchestrator.inputs import load
    from orchestrator.models.catalog import Catalog
    catalog = load(Catalog, SHIPPED_CATALOG / "services.yaml")
    found = policy.change_findings(change, [model(BASE), change], catalog, profile("bozhou"),
                                   WorkspaceConfig.model_validate({"workspace": {
                                       "id": "ws-000000000000", "name": "t", "profile": "bozhou"}}))
    assert [f.rule for f in found] == ["major_change"]
    assert "raises the monthly fee by ≈591.616% (¥656.00 -> ¥4537.00" in found[0].message
    # the same change under sichuan: refused, and the message says the 50% is a setting
    found = policy.change_findings(change, [model(BASE), change], catalog, profile("sichuan"),
                                   WorkspaceConfig.model_validate({"workspace": {
                                       "id": "ws-000000000000", "name": "t", "profile": "sichuan"}}))
    assert "profile setting" in found[0].message and "第十六条" in found[0].message


def test_change_of_compares_exactly_not_a_rounded_percent(tmp_path, cli):
    # 4000 GB + 2001 GB is +50.025 %: "50.0 %" once rounded to 0.1 %, yet 超过50% (exclusive)
    base = approval("BZ-A", approved_on="2026-03-02", servers=[],
                    volumes=[{"name": "data", "type": "blk.sata", "gb": 4000}])
    for gb, refused in ((2000, False), (2001, True)):
        ws = workspace(tmp_path / str(gb), "bozhou", base, _change(
            servers=[], volumes=[{"name": "more", "type": "blk.sata", "gb": gb}]))
        r = cli("validate", "-C", ws)
        assert r.exit_code == (1 if refused else 0), r.output
        assert ("grows the system's storage GB by 50.025% (4000 -> 6001)" in r.output) == refused


def test_major_change_module_is_exact_and_reads_reductions():
    from decimal import Decimal
    from orchestrator.core import major_change as mc
    assert not mc.over(4000, 6000, 50, "超过") and mc.over(4000, 6001, 50, "超过")
    assert mc.over(4000, 1600, 50, "超过") and not mc.over(4000, 2000, 50, "超过")   # -60 %, -50 %
    hit = mc.resource_change({"disk_gb": 4000}, {"disk_gb": 1600}, ["disk_gb"], 50, "超过")
    assert (hit.way, hit.percent) == ("reduces", "60%")
    # the fee counts growth only (「云服务费增长」): a 60 % cheaper system is no major change by its fee
    assert mc.fee_growth(Decimal("1000.00"), Decimal("400.00"), 50, "超过") is None
    assert mc.fee_growth(Decimal("1000.00"), Decimal("1500.01"), 50, "超过").percent == "50.001%"
    assert mc.fee_growth(Decimal("0.00"), Decimal("1.00"), 50, "超过").ratio is None   # from nothing


def test_no_major_change_rule_no_refusal(tmp_path, cli):
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 5}
    ws = workspace(tmp_path, "datong", BASE, _change(servers=[srv]))
    assert cli("validate", "-C", ws).exit_code == 0


# --- sichuan: an expansion stays with the same provider (第十六条) --------------------------------
def _two_targets(ws):
    cfg = ws / "govcloud.toml"
    text = cfg.read_text()
    text = text.replace('[zones.extranet]            # 电子政务外网区\ntarget = "local"',
                        '[zones.extranet]            # 电子政务外网区\ntarget = "other"')
    cfg.write_text(text + '\n[targets.other]\ndriver = "local"\ndata_dir = ".govcloud/other-cloud"\n')


def test_expansion_with_the_same_provider_accepted_another_refused(tmp_path, cli):
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 1}
    ws = workspace(tmp_path, "sichuan", BASE, _change(servers=[srv]))
    _two_targets(ws)
    assert cli("validate", "-C", ws).exit_code == 0, cli("validate", "-C", ws).output
    write(ws, _change(servers=[srv], zone="extranet"))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "zones.extranet" in r.output
    assert "would use cloud target 'other'" in r.output and "同一系统的资源扩容原则上由同一云服务商提供" in r.output


def test_change_of_must_name_an_earlier_approval_of_the_same_system(tmp_path, cli):
    ws = workspace(tmp_path, "bozhou", BASE, _change(servers=[SRV1 := {**BASE["zones"]["internet"]["servers"][0],
                                                                      "name": "more", "count": 1}]))
    write(ws, approval("BZ-C", approved_on="2026-05-06", change_of="BZ-X", servers=[SRV1]))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "change_of: 'BZ-X' is not an approval" in r.output


# --- extensions (亳州 第二十二、二十四条: 提前7个工作日) -----------------------------------------------
WINDOW = approval("BZ-W", approved_on="2026-06-01", term={"kind": "window", "start": "2026-06-20",
                                                          "end": "2026-07-20"})
EMERGENCY = approval("BZ-E", approved_on="2026-03-02", term={
    "kind": "emergency", "start": "2026-03-02", "end": "2026-09-01", "reason": "重大活动保障"})


def test_window_extension_requested_7_workdays_ahead_is_accepted():
    # 2026-07-20 (Mon) minus 7 working days = 2026-07-09 (Thu)
    assert CAL.workdays_between(D(2026, 7, 9), D(2026, 7, 20)) == 7
    c = policy.check_extension(model(WINDOW), D(2026, 7, 20), D(2026, 9, 20), D(2026, 7, 9),
                               D(2026, 7, 9), profile("bozhou"), CAL)
    assert c.notice_workdays == 7 and c.latest_request == D(2026, 7, 9)


def test_window_extension_requested_6_workdays_ahead_is_refused():
    with pytest.raises(PolicyViolation) as exc:
        policy.check_extension(model(WINDOW), D(2026, 7, 20), D(2026, 8, 20), D(2026, 7, 10),
                               D(2026, 7, 10), profile("bozhou"), CAL)
    msg = exc.value.issues[0].message
    assert "6 working days before the end 2026-07-20" in msg and "(by 2026-07-09)" in msg
    assert "第二十二条" in msg and "应提前7个工作日提出" in msg


def test_window_extension_longer_than_3_months_is_refused_as_a_setting():
    policy.check_extension(model(WINDOW), D(2026, 7, 20), D(2026, 10, 20), D(2026, 7, 1),
                           D(2026, 7, 1), profile("bozhou"), CAL)
    with pytest.raises(PolicyViolation) as exc:
        policy.check_extension(model(WINDOW), D(2026, 7, 20), D(2026, 10, 21), D(2026, 7, 1),
                               D(2026, 7, 1), profile("bozhou"), CAL)
    msg = exc.value.issues[0].message
    assert "exceeds 3 months" in msg and "profile setting" in msg


def test_emergency_extension_notice_7_workdays():
    # 2026-09-01 (Tue) minus 7 working days = 2026-08-21 (Fri)
    policy.check_extension(model(EMERGENCY), D(2026, 9, 1), D(2026, 12, 1), D(2026, 8, 21),
                           D(2026, 8, 21), profile("bozhou"), CAL)
    with pytest.raises(PolicyViolation, match="extension of BZ-E"):
        policy.check_extension(model(EMERGENCY), D(2026, 9, 1), D(2026, 12, 1), D(2026, 8, 24),
                               D(2026, 8, 24), profile("bozhou"), CAL)


def test_emergency_extension_longer_than_6_months_is_refused_as_a_setting():
    with pytest.raises(PolicyViolation) as exc:
        policy.check_extension(model(EMERGENCY), D(2026, 9, 1), D(2027, 3, 2), D(2026, 8, 1),
                               D(2026, 8, 1), profile("bozhou"), CAL)
    assert "emergency_extension_max_months" in [f.rule for f in exc.value.findings]


def test_extension_after_the_end_is_refused():
    with pytest.raises(PolicyViolation, match="extension of BZ-W"):
        policy.check_extension(model(WINDOW), D(2026, 7, 20), D(2026, 8, 20), D(2026, 7, 21),
                               D(2026, 7, 21), profile("bozhou"), CAL)


def test_permanent_terms_have_nothing_to_extend():
    from orchestrator.errors import GovcloudError
    with pytest.raises(GovcloudError, match="permanent"):
        policy.check_extension(model(BASE), D(2026, 7, 20), D(2026, 8, 20), D(2026, 7, 1),
                               D(2026, 7, 1), profile("bozhou"), CAL)


# --- provider's planned platform change (大同 第十八条: 提前3个工作日) -----------------------------------
def test_platform_change_notice_3_workdays_datong(tmp_path, cli):
    ws = workspace(tmp_path, "datong")
    # change on 2026-10-09: notified 09-29 -> 09-30, 10-08, 10-09 = 3 working days
    r = cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29",
            "--summary", "存储扩容", "--plan", "存储扩容调整方案")
    assert r.exit_code == 0 and "3 working days ahead" in r.output
    r = cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-30")
    assert r.exit_code == 1
    assert "2 working days before the change" in r.output and "第十八条" in r.output
    assert "应提前3个工作日通知使用部门" in r.output


def test_platform_change_notice_in_bozhou_is_a_setting():
    with pytest.raises(PolicyViolation) as exc:
        policy.check_platform_notice(D(2026, 10, 9), D(2026, 10, 8), profile("bozhou"), CAL)
    assert "profile setting" in exc.value.issues[0].message and "第二十八条" in exc.value.issues[0].message


# --- operation logs kept 6 months (巴中 第二十九条, 四川 第三十一条) -------------------------------------
@pytest.mark.parametrize("city", ["bazhong", "sichuan"])
def test_audit_entries_younger_than_6_months_are_never_pruned(city):
    p = profile(city)
    assert policy.log_retention_cutoff(p, TODAY) == D(2026, 5, 23)
    policy.check_audit_prune(D(2026, 5, 23), TODAY, p)          # older entries only: allowed
    with pytest.raises(PolicyViolation, match="pruning audit entries"):
        policy.check_audit_prune(D(2026, 5, 24), TODAY, p)


# --- warnings ahead of the end (profile setting: 7 and 1 working days) --------------------------
def test_expiry_warnings_at_7_and_1_workdays():
    p, a = profile("bozhou"), model(WINDOW)
    quiet = approval_status(a, "", p, CAL, ev(provisioned="2026-06-20"), D(2026, 7, 8))
    assert quiet.end_workdays_left == 8 and quiet.warnings == []
    assert warnings_to_send(quiet, p, set()) == []
    seven = approval_status(a, "", p, CAL, ev(provisioned="2026-06-20"), D(2026, 7, 9))
    assert seven.warnings == ["window ends on 2026-07-20: 7 working days left"]
    assert warnings_to_send(seven, p, set()) == [7]
    assert warnings_to_send(seven, p, {(7, "2026-07-20")}) == []
    one = approval_status(a, "", p, CAL, ev(provisioned="2026-06-20"), D(2026, 7, 17))
    assert warnings_to_send(one, p, {(7, "2026-07-20")}) == [1]
