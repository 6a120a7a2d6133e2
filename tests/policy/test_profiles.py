"""The five profiles: complete, cited, comparison words kept, settings marked; show and diff."""
from __future__ import annotations

from datetime import date

import pytest
import yaml

from orchestrator.models.profile import COMPARISON_WORDS, Profile, satisfies
from orchestrator.workspace import available_profiles, load_profile
from tests.policy.builders import workspace

CITIES = ["bazhong", "datong", "chongqing", "bozhou", "sichuan"]

# profile key -> cities that must carry it (regulations.md, "Deadlines" and "Right-sizing")
REQUIRED = {
    "max_dengbao_level": CITIES, "classified_allowed": CITIES,
    "provision_deadline_workdays": ["bazhong", "datong"],   # 重庆 第二十条 is the bureau's duty
    "deploy_deadline_workdays": ["bazhong"],
    "change_deadline_workdays": ["datong"],
    "reclaim_deadline_workdays": ["datong"],
    "exit_transition_months": ["bazhong"],
    "old_system_keep_months": ["bazhong", "bozhou"],
    "window_max_months": ["bozhou"], "window_extension_notice_workdays": ["bozhou"],
    "emergency_max_months": ["bozhou"], "emergency_extension_notice_workdays": ["bozhou"],
    "emergency_approver": ["bazhong"],
    "emergency_configure_hours": ["chongqing"], "emergency_backfill_workdays": ["chongqing"],
    "major_change": ["bozhou", "sichuan"], "expansion_same_provider": ["sichuan"],
    "platform_change_notice_workdays": ["datong", "bozhou"],
    "log_retention_months": ["bazhong", "sichuan"],
    "expiry_warning_workdays": CITIES,
    "data_clearing": CITIES,
}
VALUES = {
    ("bazhong", "provision_deadline_workdays"): (3, "第十八条"),
    ("datong", "provision_deadline_workdays"): (2, "第十三条"),
    ("bazhong", "deploy_deadline_workdays"): (5, "第十八条"),
    ("datong", "change_deadline_workdays"): (2, "第十五条"),
    ("datong", "reclaim_deadline_workdays"): (2, "第十六条"),
    ("bazhong", "exit_transition_months"): (3, "第二十二条"),
    ("bazhong", "old_system_keep_months"): (3, "第二十条"),
    ("bozhou", "old_system_keep_months"): (3, "第二十一条"),
    ("bozhou", "window_max_months"): (3, "第二十二条"),
    ("bozhou", "window_extension_notice_workdays"): (7, "第二十二条"),
    ("bozhou", "emergency_max_months"): (6, "第二十四条"),
    ("bozhou", "emergency_extension_notice_workdays"): (7, "第二十四条"),
    ("chongqing", "emergency_configure_hours"): (24, "第二十五条"),
    ("chongqing", "emergency_backfill_workdays"): (2, "第二十五条"),
    ("datong", "platform_change_notice_workdays"): (3, "第十八条"),
    ("bazhong", "log_retention_months"): (6, "第二十九条"),
    ("sichuan", "log_retention_months"): (6, "第三十一条"),
    ("bazhong", "emergency_approver"): ("市人民政府", "第十四条"),
}


@pytest.fixture(scope="module")
def profiles() -> dict[str, Profile]:
    return {c: load_profile(c) for c in CITIES}


def test_five_profiles_ship(profiles):
    assert set(CITIES) <= set(available_profiles())


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_every_required_rule_is_carried_with_its_article(profiles, key):
    for city in REQUIRED[key]:
        rule = getattr(profiles[city].rules, key)
        assert rule is not None, f"{city} lacks {key}"
        assert rule.article.startswith("第") or rule.setting, (city, key, rule.article)


@pytest.mark.parametrize("city,key", sorted(VALUES))
def test_values_and_articles_are_the_regulations(profiles, city, key):
    rule = getattr(profiles[city].rules, key)
    assert (rule.value, rule.article) == VALUES[(city, key)]
    assert rule.setting is False


def test_points_the_text_leaves_open_are_settings_with_a_reason(profiles):
    assert profiles["sichuan"].rules.major_change.setting      # 第十六条: no threshold
    assert "operator setting" in profiles["sichuan"].rules.major_change.note
    assert not profiles["bozhou"].rules.major_change.setting   # 第二十二条: 50%
    assert profiles["bozhou"].rules.platform_change_notice_workdays.setting   # "提前", no number
    assert not profiles["datong"].rules.platform_change_notice_workdays.setting
    for p in profiles.values():
        for key, rule in p.rules:
            if rule is not None and rule.setting:
                assert rule.note, f"{p.code}.{key} is a setting without a note saying why"


def test_comparison_words_are_kept_per_threshold(profiles):
    bz = profiles["bozhou"].rules
    assert bz.window_max_months.word == "不超过"          # 原则上不超过3个月
    assert bz.major_change.word == "超过"                 # 超过已有云资源50%
    assert bz.window_extension_notice_workdays.word == "提前"
    assert profiles["bazhong"].rules.log_retention_months.word == "至少"
    sizing = {r.key: r for r in profiles["bazhong"].rightsizing}   # 第二十四条, enforced
    assert sizing["shrink-vcpu-quarter-peak"].conditions[0].word == "未超过"
    assert sizing["shrink-data-disk-year-free"].conditions[0].word == "大于"


def test_no_reference_entry_repeats_an_enforced_rule(profiles):
    """A rule the profile enforces (a rightsizing rule, a report duty, the billing or exit
    process) is not also listed as an unenforced ``reference:`` entry of the same article."""
    for p in profiles.values():
        enforced = {r.article for r in p.rightsizing} | {r.article for r in p.reports}
        for key, ref in p.reference.items():
            assert ref.article not in enforced, f"{p.code}.reference.{key} ({ref.article})"


@pytest.mark.parametrize("word,at_bound", [("超过", False), ("高于", False), ("大于", False),
                                           ("低于", False), ("以上", True), ("以下", True),
                                           ("及以下", True), ("以内", True), ("未超过", True),
                                           ("不超过", True), ("至少", True), ("提前", True)])
def test_words_include_or_exclude_the_bound(word, at_bound):
    assert satisfies(50, 50, word) is at_bound
    rel = COMPARISON_WORDS[word][0]
    assert satisfies(51, 50, word) is (rel == ">")
    assert satisfies(date(2026, 1, 2), date(2026, 1, 1), word) is (rel == ">")


def test_draft_and_expired_profiles_warn(profiles):
    today = date(2026, 11, 23)
    assert any("expired on 2026-04-09" in w for w in profiles["datong"].warnings(today))
    assert profiles["datong"].warnings(date(2026, 4, 9)) == []          # 有效期 through 04-09
    assert any("draft" in w for w in profiles["bazhong"].warnings(today))
    assert profiles["bozhou"].warnings(today) == []
    assert any("takes effect" in w for w in profiles["bozhou"].warnings(date(2024, 5, 1)))


def test_validate_warns_on_an_expired_profile(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-11-23")
    ws = workspace(tmp_path, "datong")
    r = cli("validate", "-C", ws)
    assert r.exit_code == 0 and "expired on 2026-04-09" in r.output


def test_profile_show_text_marks_settings_and_cites_articles(cli):
    r = cli("profile", "show", "sichuan")
    assert r.exit_code == 0, r.output
    assert "major_change" in r.output and "第十六条" in r.output and "[setting]" in r.output
    assert "四川省省级政务云管理暂行办法" in r.output


def test_profile_show_json_has_every_rule(cli, profiles):
    data = cli("profile", "show", "bozhou", "--output", "json").json()
    keys = {r["key"] for r in data["rules"]}
    assert keys == ({k for k, v in profiles["bozhou"].rules if v is not None}
                    | {f"obligations.{o.key}" for o in profiles["bozhou"].obligations})
    window = next(r for r in data["rules"] if r["key"] == "window_max_months")
    assert window == {**window, "value": 3, "word": "不超过", "article": "第二十二条", "setting": False}
    assert data["reference"] and all(not r["enforced"] for r in data["reference"])


def test_profile_show_has_the_money_sections(cli, profiles):
    """Issue 19's billing, right-sizing and report rules are shown, in text and JSON."""
    data = cli("profile", "show", "chongqing", "--output", "json").json()
    assert data["billing"] == profiles["chongqing"].billing.model_dump(mode="json")
    assert data["billing"]["start_event"] == "configuration-completed"
    assert data["billing"]["settlement"]["acceptance"]["deferred_pct"] == "5"
    assert [r["key"] for r in data["rightsizing"]] == ["idle-over-redundancy"]
    assert data["rightsizing"][0]["escalation"]["shrink_after_workdays"] == 5
    assert [(d["key"], d["cadence"]) for d in data["reports"]] == [("usage-bulletin", "monthly")]
    bozhou = cli("profile", "show", "bozhou", "--output", "json").json()
    assert len(bozhou["rightsizing"]) == len(profiles["bozhou"].rightsizing) == 5
    assert bozhou["billing"]["stop_event"] == "offline"            # not chongqing's
    text = cli("profile", "show", "bozhou").output
    assert "Billing (govcloud bill):" in text and "Reports (govcloud report):" in text
    billing = text.split("Billing (govcloud bill):")[1].split("Right-sizing")[0]
    assert "offline" in billing and "第二十三条" in billing
    sizing = text.split("Right-sizing (govcloud rightsize):")[1].split("Reports")[0]
    # the article's own words and what they compare: 高于 excludes 70, 及以下 includes 30
    assert "mean(mem_pct) > 70 (高于)" in sizing and "mean(mem_pct) ≤ 30 (及以下) and " \
        "max(mem_pct) ≤ 50 (及以下)" in sizing
    assert "samples of mem_pct > 80 (超过) within one hour: ≥ 3 (以上)" in sizing
    assert "第二十六条（二）2" in sizing
    sichuan = cli("profile", "show", "sichuan").output
    assert "Right-sizing (govcloud rightsize): none in this profile" in sichuan
    assert "monthly" in sichuan.split("Reports (govcloud report):")[1]


def test_profile_show_defaults_to_the_workspace_profile(tmp_path, cli):
    ws = workspace(tmp_path, "chongqing")
    data = cli("profile", "show", "-C", ws, "--output", "json").json()
    assert data["code"] == "chongqing"


def test_profile_diff(cli):
    r = cli("profile", "diff", "bozhou", "sichuan", "--output", "json")
    assert r.exit_code == 0
    d = r.json()
    by_key = {x["key"]: x for x in d["differences"]}
    assert by_key["major_change"]["bozhou"]["setting"] is False
    assert by_key["major_change"]["sichuan"]["setting"] is True
    assert by_key["window_max_months"]["sichuan"] is None
    assert by_key["expansion_same_provider"]["bozhou"] is None
    text = cli("profile", "diff", "datong", "bazhong").output
    assert "provision_deadline_workdays" in text and "第十三条" in text and "第十八条" in text
    assert "expired on 2026-04-09" in text or "expired" in text


def test_unknown_profile_is_an_error_with_a_suggestion(cli):
    r = cli("profile", "show", "bozou")
    assert r.exit_code == 1 and "did you mean 'bozhou'" in r.output


def test_workspace_profile_overrides_the_shipped_one(tmp_path, cli):
    from tests.policy.builders import approval, write
    ws = workspace(tmp_path, "bozhou")
    own = yaml.safe_load(load_profile("bozhou").model_dump_json())
    own["rules"]["window_max_months"]["value"] = 2
    (ws / "catalog" / "profiles").mkdir(parents=True)
    (ws / "catalog" / "profiles" / "bozhou.yaml").write_text(yaml.safe_dump(own, allow_unicode=True))
    write(ws, approval("BZ-W", term={"kind": "window", "start": "2026-06-20", "end": "2026-09-20"}))
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "exceeds 2 months" in r.output
    assert cli("profile", "show", "-C", ws, "--output", "json").json()["rules"]


def test_existing_keys_keep_working():
    # A minimal profile of the foundation (three keys) still loads.
    p = Profile.model_validate({"code": "x", "name_zh": "x", "regulation": "x", "status": "draft",
                                "rules": {"max_dengbao_level": {"value": 3, "article": "第一条"},
                                          "classified_allowed": {"value": False, "article": "第二条"},
                                          "provision_deadline_workdays": {"value": 3, "article": "第三条"}}})
    assert p.rules.window_max_months is None


def test_unknown_rule_key_and_word_are_refused():
    base = {"code": "x", "name_zh": "x", "regulation": "x", "status": "draft",
            "rules": {"max_dengbao_level": {"value": 3, "article": "第一条"},
                      "classified_allowed": {"value": False, "article": "第二条"}}}
    with pytest.raises(Exception, match="window_max_month"):
        Profile.model_validate({**base, "rules": {**base["rules"],
                                                  "window_max_month": {"value": 3, "article": "第"}}})
    with pytest.raises(Exception, match="word"):
        Profile.model_validate({**base, "rules": {**base["rules"], "window_max_months": {
            "value": 3, "article": "第", "word": "大约"}}})


def test_chongqing_catalog_revised_at_least_every_two_years(tmp_path, cli):
    from tests.policy.builders import workspace
    ws = workspace(tmp_path, "chongqing")
    r = cli("validate", "-C", ws, "--output", "json", env={"GOVCLOUD_TODAY": "2027-12-31"})
    assert r.exit_code == 0 and r.json()["warnings"] == []       # revised 2026-01-01: in time
    r = cli("validate", "-C", ws, "--output", "json", env={"GOVCLOUD_TODAY": "2028-01-02"})
    [w] = r.json()["warnings"]
    assert "last revised on 2026-01-01" in w and "第二十六条" in w and "[bureau]" in w
    other = workspace(tmp_path, "sichuan", name="sc")
    assert cli("validate", "-C", other, "--output", "json",
               env={"GOVCLOUD_TODAY": "2028-01-02"}).json()["warnings"] == []
