"""Duties with clocks from the profiles' ``obligations``, each with its actor, in `status` (text
and JSON) and in the notices of the `expire` job: 巴中 第十九条, 大同 第十三、十四条, 重庆 第十二、二十条,
亳州 第二十四条. Each is shown open, then closed by its event (negative control)."""
from __future__ import annotations

import json

from tests.clock import at
from tests.lifecycle.test_golive import provisioned, rec
from tests.policy.builders import approval, events, workspace


def row(cli, ws, no, *args):
    r = cli("status", "-C", ws, "--output", "json", *args)
    assert r.exit_code == 0, r.output
    return next(a for a in r.json()["approvals"] if a["approval_no"] == no)


def duty(a, key):
    return next((d for d in a["deadlines"] if d["key"] == key), None)


def test_datong_30_workdays_from_the_confirmation_to_migration_and_tests(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "datong", approval("DT-1", approved_on="2026-06-01"))
    assert duty(row(cli, ws, "DT-1"), "migrate-and-test") is None      # not started: no confirmation
    assert cli("confirm-delivery", "DT-1", "-C", ws).exit_code == 0   # Tue 2026-06-02
    d = duty(row(cli, ws, "DT-1"), "migrate-and-test")
    # 30 working days after 06-02 (端午 06-19 is a holiday in 2026): 2026-07-15
    assert (d["due"], d["actor"], d["done_on"]) == ("2026-07-15", "department", None)
    assert "第十四条" in d["citation"]
    assert duty(row(cli, ws, "DT-1", "--now", "2026-07-16"), "migrate-and-test")["overdue"]
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-10")
    assert rec(cli, ws, "DT-1", "deployment-completed").exit_code == 0
    assert duty(row(cli, ws, "DT-1"), "migrate-and-test")["done_on"] is None   # tests still open
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-16")
    assert rec(cli, ws, "DT-1", "security-tested", "--document", "R").exit_code == 0
    d = duty(row(cli, ws, "DT-1"), "migrate-and-test")
    assert (d["done_on"], d["late"], d["overdue"]) == ("2026-07-16", True, False)
    # 正常运行后3个工作日内 file the test record and the 等保 certificate
    assert rec(cli, ws, "DT-1", "went-live").exit_code == 0
    d = duty(row(cli, ws, "DT-1"), "tests-filing")
    assert (d["due"], d["actor"]) == ("2026-07-21", "department")


def test_datong_service_agreement_filed_within_7_calendar_days(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "datong", approval("DT-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-05")
    assert rec(cli, ws, "DT-1", "contract-signed", "--document", "政务云服务协议 2026-17").exit_code == 0
    d = duty(row(cli, ws, "DT-1"), "contract-filing")
    assert (d["due"], d["actor"]) == ("2026-06-12", "provider")       # 7 日: calendar days
    r = cli("status", "-C", ws, "--now", "2026-06-15")
    assert "OVERDUE [provider] 《政务云服务协议》 filed with the bureau" in r.output.replace("\n", " ")
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-12")
    assert rec(cli, ws, "DT-1", "contract-filed", "--document", "备案回执").exit_code == 0
    d = duty(row(cli, ws, "DT-1", "--now", "2026-06-15"), "contract-filing")
    assert d["done_on"] == "2026-06-12" and not d["overdue"] and not d["late"]


def test_chongqing_contract_filing_and_the_trial_period_set_in_the_contract(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "chongqing", approval("CQ-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-05")               # Friday
    assert rec(cli, ws, "CQ-1", "contract-signed", "--document", "服务合同",
               "--until", "2026-07-05").exit_code == 0
    a = row(cli, ws, "CQ-1")
    assert (duty(a, "contract-filing")["due"], duty(a, "contract-filing")["actor"]) == ("2026-06-12", "department")
    assert (duty(a, "trial")["due"], duty(a, "trial")["actor"]) == ("2026-07-05", "department")
    assert "第二十条" in duty(a, "trial")["citation"]
    # a contract with no trial period: say so instead of guessing
    ws2 = workspace(tmp_path, "chongqing", approval("CQ-2", approved_on="2026-06-01"), name="b")
    assert rec(cli, ws2, "CQ-2", "contract-signed", "--document", "服务合同").exit_code == 0
    a = row(cli, ws2, "CQ-2")
    assert duty(a, "trial") is None and any("carries no end date (--until)" in w for w in a["warnings"])


def test_bozhou_emergency_project_approval_filing_is_open_until_filed(tmp_path, cli, monkeypatch):
    term = {"kind": "emergency", "start": "2026-06-01", "end": "2026-08-31", "reason": "防汛"}
    ws = workspace(tmp_path, "bozhou", approval("BZ-E", approved_on="2026-06-01", term=term),
                   approval("BZ-P", approved_on="2026-06-01", system="perm"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-10")
    a = row(cli, ws, "BZ-E")
    assert any("open duty of the department: 系统建设批复 filed" in w and "第二十四条" in w
               for w in a["warnings"])
    assert not any("系统建设批复" in w for w in row(cli, ws, "BZ-P")["warnings"])   # permanent: none
    assert rec(cli, ws, "BZ-E", "project-approval-filed", "--document", "亳发改〔2026〕9号").exit_code == 0
    assert not any("系统建设批复" in w for w in row(cli, ws, "BZ-E")["warnings"])


def test_bazhong_tests_within_a_month_of_the_deployment(tmp_path, cli, monkeypatch):
    ws = provisioned(tmp_path, cli, monkeypatch, "bazhong", approval("BZ-1", approved_on="2026-06-01"))
    assert rec(cli, ws, "BZ-1", "deployment-completed").exit_code == 0     # 2026-06-02
    a = row(cli, ws, "BZ-1")
    assert duty(a, "deploy")["done_on"] == "2026-06-02"                   # 第十八条 closed too
    d = duty(a, "tests")
    assert (d["due"], d["actor"]) == ("2026-07-02", "department")


def test_expire_sends_duty_notices_to_their_actor_once_per_stage(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "datong", approval("DT-1", approved_on="2026-06-01"))
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-05")
    assert rec(cli, ws, "DT-1", "contract-signed", "--document", "协议").exit_code == 0
    assert cli("compile", "-C", ws).exit_code == 0
    log = tmp_path / "n.jsonl"
    args = ["expire", "-C", ws, "--notify", f"jsonl:{log}"]
    assert cli(*args, env=at("2026-06-09")).exit_code == 0           # due 06-12: 3 wd left
    assert not log.exists()
    for day in ("2026-06-11", "2026-06-12", "2026-06-15", "2026-06-16"):
        assert cli(*args, env=at(day)).exit_code == 0
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [(n["type"], n["actor"], n["duty"]) for n in lines] == [
        ("duty-due-soon", "provider", "contract-filing"), ("duty-overdue", "provider", "contract-filing")]
    assert "第十三条" in lines[1]["message"] and "已逾期" in lines[1]["message"]
    sent = [e["detail"] for e in events(ws, "DT-1") if e["kind"] == "warning-sent"]
    assert [(s["obligation"], s["stage"]) for s in sent] == [("contract-filing", "due-soon"),
                                                            ("contract-filing", "overdue")]


def test_bazhong_annual_request_deadline_and_out_of_plan_requests(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong", approval("BZ-1", approved_on="2026-03-02", in_annual_plan=False),
                   approval("BZ-2", approved_on="2026-03-02", system="planned", in_annual_plan=True))
    data = cli("status", "-C", ws, "--output", "json", "--now", "2026-09-30").json()
    ar = data["annual_request"]
    assert (ar["due"], ar["for_year"], ar["actor"]) == ("2026-09-30", 2027, "department")
    assert "第十四条" in ar["citation"]
    later = cli("status", "-C", ws, "--output", "json", "--now", "2026-10-01").json()["annual_request"]
    assert (later["due"], later["for_year"]) == ("2027-09-30", 2028)
    by = {a["approval_no"]: a for a in data["approvals"]}
    assert any("原则上不安排财政资金" in w for w in by["BZ-1"]["warnings"])
    assert not any("财政资金" in w for w in by["BZ-2"]["warnings"])
    assert "[department] resource requests for 2027" in cli("status", "-C", ws, "--now", "2026-09-30").output
    other = workspace(tmp_path, "datong", approval("DT-1", in_annual_plan=False), name="dt")
    d = cli("status", "-C", other, "--output", "json").json()
    assert d["annual_request"] is None and not any("财政资金" in w for w in d["approvals"][0]["warnings"])


def test_datong_level_3_systems_file_every_test_within_3_workdays(tmp_path, cli, monkeypatch):
    three = approval("DT-3", approved_on="2026-06-01")
    three["system"]["dengbao_level"] = 3
    ws = provisioned(tmp_path, cli, monkeypatch, "datong", three,
                     approval("DT-2", approved_on="2026-06-01", system="two"))
    for no in ("DT-3", "DT-2"):
        assert rec(cli, ws, no, "security-tested", "--document", "R1").exit_code == 0   # 06-02
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-04")
    assert rec(cli, ws, "DT-3", "tests-filed", "--document", "备案1").exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-09-01")
    assert rec(cli, ws, "DT-3", "security-tested", "--document", "R2").exit_code == 0
    a = row(cli, ws, "DT-3", "--now", "2026-09-07")
    first, second = duty(a, "retest-filing:2026-06-02"), duty(a, "retest-filing:2026-09-01")
    assert (first["due"], first["done_on"], first["late"]) == ("2026-06-05", "2026-06-04", False)
    assert (second["due"], second["done_on"], second["overdue"]) == ("2026-09-04", None, True)
    assert "第十四条" in second["citation"] and second["actor"] == "department"
    assert not [d for d in row(cli, ws, "DT-2")["deadlines"] if d["key"].startswith("retest")]  # level 2
