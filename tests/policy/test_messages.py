"""Every message a profile rule can produce quotes its rule and article in Chinese and English,
names the file and the field, and says what to do (orchestrator/core/remedies.py). One
parametrised test: every rule key of every shipped profile has a remedy, and each rule an
approval can break is triggered through `validate --output json` and checked by one checker;
the checker refuses a message without an article (negative control)."""
from __future__ import annotations

import re

import pytest

from orchestrator.core.remedies import REMEDIES
from orchestrator.workspace import SHIPPED_CATALOG
from tests.policy.builders import approval, profile, workspace

CITIES = sorted(p.stem for p in (SHIPPED_CATALOG / "profiles").glob("*.yaml"))
PROFILE_KEYS = sorted({(c, k) for c in CITIES for k, r in profile(c).rules if r is not None})
CJK = re.compile(r"[\u4e00-\u9fff]{4,}")


def check_message(issue: dict, city: str, rule: str, file: str, field: str) -> None:
    """The checker: rule key, file and field named; the regulation and the article quoted; a
    Chinese and an English sentence; what to do, in both languages."""
    p = profile(city)
    article = getattr(p.rules, rule).article
    msg = issue["message"]
    assert issue["rule"] == rule and issue["file"] == file and issue["field"] == field, issue
    assert article in msg and p.name_zh in msg, f"no article {p.name_zh} {article}: {msg}"
    assert CJK.search(msg.replace(p.name_zh, "").replace(article, "")), f"no Chinese: {msg}"
    assert re.search(r"[A-Za-z]+ [a-z]+ [a-z]+", msg), f"no English: {msg}"
    en, zh = REMEDIES[rule]
    assert f"What to do: {en}" in msg and zh in msg, f"no remedy: {msg}"


@pytest.mark.parametrize("city,rule", PROFILE_KEYS)
def test_every_profile_rule_has_a_remedy_in_both_languages(city, rule):
    en, zh = REMEDIES[rule]
    assert re.search(r"[a-z]{3,}", en) and CJK.search(zh)


EMERGENCY = {"kind": "emergency", "start": "2026-03-01", "end": "2026-12-01", "reason": "重大活动保障"}
BASE = approval("BZ-A", approved_on="2026-03-02")


def _dengbao(level):
    a = approval("X-1")
    a["system"]["dengbao_level"] = level
    return a


def _classified():
    a = approval("X-1")
    a["system"]["classified"] = True
    return a


def _no_materials():
    a = approval("X-1")
    a["materials"] = {}
    return a


def _major():
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 5}
    return [BASE, approval("BZ-C", approved_on="2026-05-06", change_of="BZ-A", servers=[srv])]


CASES = [  # (city, rule, approvals, file, field)
    ("bozhou", "window_max_months", [approval("X-1", term={
        "kind": "window", "start": "2026-06-20", "end": "2026-12-20"})], "approvals/X-1.yaml", "term.end"),
    ("bozhou", "emergency_max_months", [approval("X-1", term=EMERGENCY)], "approvals/X-1.yaml", "term.end"),
    ("bazhong", "emergency_approver", [approval("X-1", term={**EMERGENCY, "end": "2026-04-01"})],
     "approvals/X-1.yaml", "approvers"),
    ("bozhou", "max_dengbao_level", [_dengbao(4)], "approvals/X-1.yaml", "system.dengbao_level"),
    ("sichuan", "classified_allowed", [_classified()], "approvals/X-1.yaml", "system.classified"),
    ("datong", "required_materials", [_no_materials()], "approvals/X-1.yaml", None),
    ("bozhou", "major_change", _major(), "approvals/BZ-C.yaml", "zones"),
    ("sichuan", "major_change", _major(), "approvals/BZ-C.yaml", "zones"),
]


@pytest.mark.parametrize("city,rule,approvals,file,field", CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_every_message_quotes_rule_article_file_field_and_remedy(tmp_path, cli, city, rule,
                                                                   approvals, file, field):
    ws = workspace(tmp_path, city, *approvals)
    r = cli("validate", "-C", ws, "--output", "json")
    assert r.exit_code == 1, r.output
    mine = [i for i in r.json()["issues"] if i["rule"] == rule]
    assert mine, r.output
    for issue in mine:
        check_message(issue, city, rule, file, field or issue["field"])
        assert issue["field"]


def test_the_checker_refuses_a_message_without_an_article_or_remedy():
    good = {"rule": "window_max_months", "file": "approvals/X-1.yaml", "field": "term.end",
            "message": "temporary window too long (亳州市政务云管理办法（试行） 第二十二条); 临时扩容时间段超过3个月. "
                       "What to do: " + REMEDIES["window_max_months"][0] + "; 处理："
                       + REMEDIES["window_max_months"][1]}
    check_message(good, "bozhou", "window_max_months", "approvals/X-1.yaml", "term.end")
    for broken in (good["message"].replace("第二十二条", ""), good["message"].split(". What to do")[0]):
        with pytest.raises(AssertionError):
            check_message({**good, "message": broken}, "bozhou", "window_max_months",
                          "approvals/X-1.yaml", "term.end")
