"""A provider's platform change besides the notice (大同 第十八条, 亳州 第二十八条): the change plan
for every change; for a 重大调整 the third-party or expert assessment and the bureau's approval
before the work. Refusals name the option and the article; nothing is recorded."""
from __future__ import annotations

import pytest

from tests.policy.builders import events, workspace

OK = ["--date", "2026-10-09", "--notified", "2026-09-29"]


def change(cli, ws, *args):
    return cli("platform-change", "-C", ws, *OK, *args)


@pytest.mark.parametrize("city,article", [("datong", "第十八条"), ("bozhou", "第二十八条")])
def test_major_change_needs_assessment_and_prior_approval(tmp_path, cli, city, article):
    ws = workspace(tmp_path, city)
    r = change(cli, ws)
    assert r.exit_code == 1 and "--plan" in r.output and article in r.output and "调整方案" in r.output
    r = change(cli, ws, "--plan", "P", "--major")
    assert r.exit_code == 1 and "--assessment" in r.output and "--approval" in r.output
    assert "第三方" in r.output and "审核同意后方可实施" in r.output
    r = change(cli, ws, "--plan", "P", "--major", "--assessment", "专家评估报告", "--approval", "批复",
               "--approved-on", "2026-10-10")
    assert r.exit_code == 1 and "after the change on 2026-10-09" in r.output
    assert events(ws, "platform") == []                                   # nothing recorded
    r = cli("platform-change", "-C", ws, *OK, "--plan", "P", "--major", "--assessment", "专家评估报告",
            "--approval", "大数政〔2026〕5号", "--approved-on", "2026-10-09", "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json()["major"] and r.json()["assessment"] == "专家评估报告"
    [e] = events(ws, "platform")
    assert e["detail"]["approval"] == "大数政〔2026〕5号" and e["detail"]["approved_on"] == "2026-10-09"
    assert change(cli, ws, "--plan", "P").exit_code == 0                  # not major: the plan is enough


def test_cities_without_the_rule_need_no_documents(tmp_path, cli):
    ws = workspace(tmp_path, "sichuan")
    assert change(cli, ws).exit_code == 0
