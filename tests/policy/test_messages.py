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
from tests.clock import at
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


# --- every rule key, through the command that raises it ------------------------------------------
# Each case builds a workspace (approvals) and runs one command as a user would; the refusal's
# issues carrying the rule are checked by check_message. TRIGGERS: rule -> (approvals,
# command args after the workspace, env, file, field, *prep steps); a callable builds them per
# city.
WINDOW = {"kind": "window", "start": "2026-06-01", "end": "2026-08-31"}
EMERG = {"kind": "emergency", "start": "2026-06-01", "end": "2026-08-31", "reason": "重大活动保障"}
TODAY = {"GOVCLOUD_TODAY": "2026-08-20", "GOVCLOUD_NOW": "2026-08-20T09:00:00+08:00"}
MIG = [approval("OLD-1", system="legacy-portal"),
       approval("NEW-1", migration={"from_approval": "OLD-1", "cutover_on": "2026-08-01"})]


def _validate(*approvals, file="approvals/X-1.yaml", field=None):
    return list(approvals), ["validate"], {}, file, field


def _expansion():
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 1}
    return [BASE, approval("BZ-C", approved_on="2026-05-06", change_of="BZ-A", servers=[srv],
                           zone="extranet")]


def _second_target(ws):
    """The extranet zone on another cloud target (another provider's pool)."""
    toml = ws / "govcloud.toml"
    text = toml.read_text(encoding="utf-8").replace(
        '[zones.extranet]            # 电子政务外网区\ntarget = "local"',
        '[zones.extranet]            # 电子政务外网区\ntarget = "other"')
    toml.write_text(text + '\n[targets.other]\ndriver = "local"\n', encoding="utf-8")


APPLY = (("compile",), ("apply", "--auto-approve"))
NOTICE_DAY = {"GOVCLOUD_TODAY": "2026-08-28", "GOVCLOUD_NOW": "2026-08-28T09:00:00+08:00"}


# file None: a refusal of a command's options that no input file is about (platform-change,
# audit prune, backup destroy, an exit or go-live step missing from the event log). A sixth
# element: workspace edits or commands run first.
TRIGGERS = {
    "window_max_months": lambda c: _validate(approval("X-1", term={
        "kind": "window", "start": "2026-06-20", "end": "2026-12-20"}), field="term.end"),
    "emergency_max_months": lambda c: _validate(approval("X-1", term=EMERGENCY), field="term.end"),
    "emergency_approver": lambda c: _validate(approval("X-1", term={**EMERGENCY, "end": "2026-04-01"}),
                                              field="approvers"),
    "max_dengbao_level": lambda c: _validate(_dengbao(4), field="system.dengbao_level"),
    "classified_allowed": lambda c: _validate(_classified(), field="system.classified"),
    "required_materials": lambda c: _validate(_no_materials()),
    "major_change": lambda c: _validate(*_major(), file="approvals/BZ-C.yaml", field="zones"),
    "expansion_same_provider": lambda c: (*_validate(*_expansion(), file="approvals/BZ-C.yaml",
                                                     field="zones.extranet"), _second_target),
    "old_system_keep_months": lambda c: (MIG, ["request-exit", "OLD-1", "--date", "2026-08-20"],
                                         TODAY, "approvals/OLD-1.yaml", "--date"),
    "window_extension_max_months": lambda c: (
        [approval("X-1", term=WINDOW)], ["extend", "X-1", "--until", "2026-12-31",
                                         "--request-date", "2026-08-03"], TODAY,
        "approvals/X-1.yaml", "--until"),
    "window_extension_notice_workdays": lambda c: (
        [approval("X-1", term=WINDOW)], ["extend", "X-1", "--until", "2026-09-30",
                                         "--request-date", "2026-08-28"], NOTICE_DAY,
        "approvals/X-1.yaml", "--request-date"),
    "emergency_extension_max_months": lambda c: (
        [approval("X-1", term=EMERG)], ["extend", "X-1", "--until", "2027-06-30",
                                        "--request-date", "2026-08-03"], TODAY,
        "approvals/X-1.yaml", "--until"),
    "emergency_extension_notice_workdays": lambda c: (
        [approval("X-1", term=EMERG)], ["extend", "X-1", "--until", "2026-09-30",
                                        "--request-date", "2026-08-28"], NOTICE_DAY,
        "approvals/X-1.yaml", "--request-date"),
    "platform_change_notice_workdays": lambda c: (
        [], ["platform-change", "--date", "2026-10-09", "--notified", "2026-09-30", "--plan", "P"],
        {}, None, "--notified"),
    "platform_change_review": lambda c: (
        [], ["platform-change", "--date", "2026-10-09", "--notified", "2026-09-29"], {}, None, None),
    "exit_process": lambda c: (
        [approval("X-1")], ["approve-exit", "X-1", "--date", "2026-08-20"], TODAY, None,
        "exit-requested"),
    "log_retention_months": lambda c: (
        [], ["audit", "prune", "--before", "2026-08-01"], TODAY, None, "--before"),
    "backup_retention_months": lambda c: (   # decommissioned on 09-01, destroyed too early
        [approval("X-1", servers=[], volumes=[{"name": "data", "type": "blk.ssd", "gb": 1}])],
        ["backup", "destroy", "edu-portal"], {"GOVCLOUD_TODAY": "2026-06-01"},
        None, None, (*APPLY, *(() if c == "sichuan" else (   # 四川: the backup comes first
            ("request-exit", "X-1", "--date", "2026-06-01"),
            ("approve-exit", "X-1", "--date", "2026-06-01")))),
        at("2026-09-01"), (("decommission", "edu-portal", "--auto-approve"),),
        at("2026-12-01")),
    "go_live_gates": lambda c: (  # 巴中 gates only a migrated system's cut-over
        MIG if c == "bazhong" else [approval("X-1")],
        ["record-event", "NEW-1" if c == "bazhong" else "X-1",
         "cutover" if c == "bazhong" else "went-live", "--document", "上线通知", "--date",
         "2026-08-20"], TODAY, None, "events", APPLY),
}

# Rule keys that no input turns into a refusal or flag message: they set a date shown by
# `status` (a deadline carries the rule key and its citation, not a message), or text written
# into a document. The test fails when a profile key is neither triggered nor listed here.
NOT_TRIGGERABLE = {
    "annual_request_deadline": "a date in `status` (the annual request), no refusal",
    "catalog_revision_months": "a `status` warning about the catalog's age, no rule-keyed issue",
    "change_deadline_workdays": "a `status` deadline (rule + citation), never a refusal",
    "deploy_deadline_workdays": "a `status` deadline (rule + citation), never a refusal",
    "provision_deadline_workdays": "a `status` deadline (rule + citation), never a refusal",
    "reclaim_deadline_workdays": "a `status` deadline (rule + citation), never a refusal",
    "exit_transition_months": ("a `status` deadline; `decommission` waits at its hold step "
                               "(a progress line, not a refusal)"),
    "emergency_backfill_workdays": "a `status` deadline and flag text, no rule-keyed issue",
    "emergency_configure_hours": "a `status` flag text (fast-track use), no rule-keyed issue",
    "expiry_warning_workdays": "thresholds for `notify` warnings, not a refusal",
    "data_clearing": "the wording of the data-clearing certificate, not a check",
}


def test_every_profile_key_is_triggered_or_listed_as_not_triggerable():
    keys = {k for _, k in PROFILE_KEYS}
    assert keys == set(TRIGGERS) | set(NOT_TRIGGERABLE), keys ^ (set(TRIGGERS) | set(NOT_TRIGGERABLE))
    assert not set(TRIGGERS) & set(NOT_TRIGGERABLE)


TRIGGERED = [(c, k) for c, k in PROFILE_KEYS if k in TRIGGERS]


@pytest.mark.parametrize("city,rule", TRIGGERED, ids=[f"{c}-{k}" for c, k in TRIGGERED])
def test_every_rule_of_every_city_is_triggered_and_its_message_checked(tmp_path, cli, monkeypatch,
                                                                       city, rule):
    approvals, args, env, file, field, *prep = TRIGGERS[rule](city)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ws = workspace(tmp_path, city, *approvals)
    for step in prep:      # a workspace edit, the clock moved on (env), or the commands first
        if isinstance(step, dict):
            for k, v in step.items():
                monkeypatch.setenv(k, v)
        elif callable(step):
            step(ws)
        else:
            for cmd in step:
                done = cli(cmd[0], "-C", ws, *cmd[1:])
                assert done.exit_code == 0, done.output
    sub = 2 if args[0] in ("audit", "backup") else 1     # `audit prune`, `backup destroy`
    r = cli(*args[:sub], "-C", ws, *args[sub:], "--output", "json")
    assert r.exit_code == 1, r.output
    mine = [i for i in r.json()["issues"] if i["rule"] == rule]
    assert mine, r.output
    for issue in mine:
        assert issue["field"], issue
        check_message(issue, city, rule, file, field or issue["field"])
