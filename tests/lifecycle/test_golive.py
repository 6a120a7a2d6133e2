"""Go-live gates (巴中 第二十条, 大同 第十四条, 重庆 第二十一条, 亳州 第二十、二十一条) and
`govcloud record-event`: results and milestones recorded with their documents, on the embedded
local cloud. Every gate has its negative control: the same step is accepted once the result is
recorded, and a city without the gate accepts it at once."""
from __future__ import annotations

import pytest

from tests.policy.builders import approval, events, kinds, workspace


def provisioned(tmp_path, cli, monkeypatch, city: str, *approvals: dict, today="2026-06-02"):
    ws = workspace(tmp_path, city, *approvals)
    monkeypatch.setenv("GOVCLOUD_TODAY", today)
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    return ws


def rec(cli, ws, no, kind, *args):
    return cli("record-event", no, kind, "-C", ws, *args)


def test_bozhou_confirm_delivery_and_go_live_need_trial_and_security(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "bozhou", approval("BZ-P", approved_on="2026-06-01"))
    for step in (["confirm-delivery", "BZ-P", "-C", ws], ["record-event", "BZ-P", "went-live", "-C", ws]):
        r = cli(*step)
        assert r.exit_code == 1, r.output
        assert "第二十、二十一条" in r.output and "trial test passed, security test passed" in r.output
        assert "govcloud record-event BZ-P trial-passed --document" in r.output
    assert kinds(ws, "BZ-P") == ["approved", "provisioned"]          # nothing recorded
    assert rec(cli, ws, "BZ-P", "trial-passed", "--document", "试运行测试报告 2026-06").exit_code == 0
    r = cli("confirm-delivery", "BZ-P", "-C", ws)
    assert r.exit_code == 1 and "security test passed not recorded" in r.output
    assert rec(cli, ws, "BZ-P", "security-tested", "--document", "入云安全检测报告").exit_code == 0
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-06-02T11:00")      # --at is not later than now
    assert rec(cli, ws, "BZ-P", "went-live", "--at", "2026-06-02T10:30").exit_code == 0
    assert cli("confirm-delivery", "BZ-P", "-C", ws).exit_code == 0
    live = [e for e in events(ws, "BZ-P") if e["kind"] == "went-live"][0]
    assert live["on"] == "2026-06-02" and live["detail"]["at"] == "2026-06-02T10:30+08:00"
    tested = [e for e in events(ws, "BZ-P") if e["kind"] == "security-tested"][0]
    assert tested["detail"]["document"] == "入云安全检测报告"
    audit = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert {"trial-passed", "security-tested", "went-live"} <= {e["action"] for e in audit}


def test_datong_online_only_after_the_security_test_delivery_not_gated(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "datong", approval("DT-1", approved_on="2026-06-01"))
    assert cli("confirm-delivery", "DT-1", "-C", ws).exit_code == 0   # 交付确认 comes first
    r = rec(cli, ws, "DT-1", "went-live")
    assert r.exit_code == 1 and "大同市政务云管理办法 第十四条" in r.output
    assert "安全测试（入云安全检测）通过后方可正式上线" in r.output
    assert rec(cli, ws, "DT-1", "security-tested", "--document", "安全测试报告").exit_code == 0
    assert rec(cli, ws, "DT-1", "went-live").exit_code == 0


def test_a_result_dated_after_the_step_does_not_open_the_gate(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "datong", approval("DT-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    assert rec(cli, ws, "DT-1", "security-tested", "--document", "R", "--date", "2026-06-08").exit_code == 0
    r = rec(cli, ws, "DT-1", "went-live", "--date", "2026-06-05")
    assert r.exit_code == 1 and "recorded on 2026-06-08, after 2026-06-05" in r.output
    assert rec(cli, ws, "DT-1", "went-live", "--date", "2026-06-08").exit_code == 0


def test_chongqing_opened_and_confirmed_only_after_the_trial_test(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "chongqing", approval("CQ-1", approved_on="2026-06-01"))
    r = cli("confirm-delivery", "CQ-1", "-C", ws)
    assert r.exit_code == 1 and "重庆市电子政务云平台管理暂行办法 第二十一条" in r.output
    assert rec(cli, ws, "CQ-1", "trial-passed", "--document", "性能和功能测试报告").exit_code == 0
    assert cli("confirm-delivery", "CQ-1", "-C", ws).exit_code == 0


def test_sichuan_has_no_gate(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "sichuan", approval("SC-1", approved_on="2026-06-01"))
    assert cli("confirm-delivery", "SC-1", "-C", ws).exit_code == 0
    assert rec(cli, ws, "SC-1", "went-live").exit_code == 0


def test_bazhong_cutover_of_a_migrated_system_needs_the_approved_reports(tmp_path, cli, monkeypatch):
    old = approval("BZ-OLD", approved_on="2026-03-02", system="old-portal")
    new = approval("BZ-NEW", approved_on="2026-06-01", system="new-portal",
                   migration={"from_approval": "BZ-OLD"})
    fresh = approval("BZ-FRESH", approved_on="2026-06-01", system="fresh")
    ws = provisioned(tmp_path, cli, monkeypatch, "bazhong", old, new, fresh)
    r = rec(cli, ws, "BZ-NEW", "cutover")
    assert r.exit_code == 1 and "第二十条" in r.output and "测试报告和安全风险评估报告审核同意" in r.output
    assert rec(cli, ws, "BZ-FRESH", "cutover").exit_code == 0     # not migrated: 第二十条 is silent
    assert rec(cli, ws, "BZ-NEW", "test-report-approved", "--document", "巴数审〔2026〕3号").exit_code == 0
    assert rec(cli, ws, "BZ-NEW", "cutover").exit_code == 0
    assert cli("confirm-delivery", "BZ-NEW", "-C", ws).exit_code == 0   # billing at deployment


def test_a_cutover_written_in_the_approval_without_approved_reports_is_flagged(tmp_path, cli, monkeypatch):
    old = approval("BZ-OLD", approved_on="2026-03-02", system="old-portal")
    new = approval("BZ-NEW", approved_on="2026-06-01", system="new-portal",
                   migration={"from_approval": "BZ-OLD", "cutover_on": "2026-06-02"})
    ws = provisioned(tmp_path, cli, monkeypatch, "bazhong", old, new)
    by = {a["approval_no"]: a for a in cli("status", "-C", ws, "--output", "json").json()["approvals"]}
    assert any("cut-over on 2026-06-02 without test-report-approved" in f for f in by["BZ-NEW"]["flags"])
    assert not any("cut-over" in f for f in by["BZ-OLD"]["flags"])


@pytest.mark.parametrize("args,message", [
    (["no-such-kind"], "is not an event govcloud records by hand"),
    (["trial-passed"], "trial-passed needs its document"),
    (["trial-passed", "--document", "R", "--date", "2026-06-03"], "is an event dated in the future"),
    (["went-live", "--date", "2026-05-31"], "before BZ-P was approved (2026-06-01)"),
    (["went-live", "--until", "2026-07-01"], "only for contract-signed"),
    (["contract-signed", "--document", "C", "--until", "2026-05-01"], "before the contract was signed"),
])
def test_record_event_refuses_contradictions_and_changes_nothing(tmp_path, cli, monkeypatch, args, message):
    ws = provisioned(tmp_path, cli, monkeypatch, "sichuan", approval("BZ-P", approved_on="2026-06-01"))
    before = events(ws, "BZ-P")
    r = rec(cli, ws, "BZ-P", *args)
    assert r.exit_code == 1 and message in r.output, r.output
    assert events(ws, "BZ-P") == before


def test_record_event_at_a_later_time_today_is_an_event_in_the_future(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "chongqing", approval("CQ-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-06-02T10:00")
    before = events(ws, "CQ-1")
    r = rec(cli, ws, "CQ-1", "configuration-completed", "--at", "2026-06-02T15:30")
    assert r.exit_code == 1 and "--at 2026-06-02T15:30+08:00 is an event dated in the future" in r.output, r.output
    assert events(ws, "CQ-1") == before
    # negative control: earlier today is fine
    r = rec(cli, ws, "CQ-1", "configuration-completed", "--at", "2026-06-02T09:30")
    assert r.exit_code == 0, r.output


def test_platform_change_notice_and_approval_dates_are_not_in_the_future(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "datong", approval("DT-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-02")
    r = cli("platform-change", "-C", ws, "--date", "2026-06-20", "--notified", "2026-06-05")
    assert r.exit_code == 1 and "--notified 2026-06-05 is an event dated in the future" in r.output, r.output
    r = cli("platform-change", "-C", ws, "--date", "2026-06-20", "--notified", "2026-06-02")
    assert "event dated in the future" not in r.output     # a planned change day may be ahead


def test_record_event_needs_the_resources_and_happens_once(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "sichuan", approval("SC-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-02")
    r = rec(cli, ws, "SC-1", "went-live")
    assert r.exit_code == 1 and "not provisioned yet" in r.output
    assert rec(cli, ws, "SC-1", "contract-signed", "--document", "合同 2026-01").exit_code == 0  # filings may come first
    assert cli("compile", "-C", ws).exit_code == 0 and cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert rec(cli, ws, "SC-1", "went-live").exit_code == 0
    again = cli("record-event", "SC-1", "went-live", "-C", ws, "--output", "json")
    assert again.exit_code == 0 and again.json()["recorded"] is False        # the same: no-op
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-03")
    r = rec(cli, ws, "SC-1", "went-live")
    assert r.exit_code == 1 and "already recorded on 2026-06-02" in r.output
    assert rec(cli, ws, "SC-1", "security-tested", "--document", "R1").exit_code == 0
    assert rec(cli, ws, "SC-1", "security-tested", "--document", "R2").exit_code == 0   # tests recur
    assert kinds(ws, "SC-1").count("security-tested") == 2
