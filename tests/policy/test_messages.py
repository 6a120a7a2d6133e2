"""Every message a profile rule can produce quotes its rule and article in Chinese and English,
names the file and the field, and says what to do (orchestrator/core/remedies.py). One
parametrised test: every rule key of every shipped profile has a remedy, and each rule an
approval can break is triggered through `validate --output json` and checked by one checker;
the checker refuses a message without an article (negative control)."""
from __future__ import annotations

import re

import pytest

from orchestrator.core.remedies import REMEDIES, STATUS_REMEDIES
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


# --- every rule key, through the command that raises it ------------------------------------------
# Each case builds a workspace (approvals) and runs one command as a user would; the refusal's
# issues carrying the rule are checked by check_message. CITY_CASES: rule -> (approvals,
# command args after the workspace, env, file, field); a callable builds them per city.
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
        ["backup", "destroy", "edu-portal", "--now", "2026-12-01"], {"GOVCLOUD_TODAY": "2026-06-01"},
        None, None, (*APPLY, *(() if c == "sichuan" else (   # 四川: the backup comes first
            ("request-exit", "X-1", "--date", "2026-06-01"),
            ("approve-exit", "X-1", "--date", "2026-06-01"))),
            ("decommission", "edu-portal", "--auto-approve", "--backdated", "test", "--now",
             "2026-09-01"))),
    "go_live_gates": lambda c: (  # 巴中 gates only a migrated system's cut-over
        MIG if c == "bazhong" else [approval("X-1")],
        ["record-event", "NEW-1" if c == "bazhong" else "X-1",
         "cutover" if c == "bazhong" else "went-live", "--document", "上线通知", "--date",
         "2026-08-20"], TODAY, None, "events", APPLY),
}

# --- every deadline, flag and warning of `status` ----------------------------------------------
# A rule key that sets a clock or a warning rather than a refusal is triggered through
# `govcloud status --output json`: each item carrying the rule (a deadline, a flag or warning
# detail, the annual request) must quote the rule's article, say it in English, and carry the
# rule's remedy (core/remedies.py) with who acts. STATUS_TRIGGERS: rule -> city -> (approvals,
# env, commands run first, file, field) where file/field is what one of the items names (a
# deadline names its approval's file; field None: not checked).
EMERGENCY_TERM = {"kind": "emergency", "start": "2026-06-01", "end": "2026-08-31", "reason": "防汛应急"}


def _change():
    srv = {**BASE["zones"]["internet"]["servers"][0], "name": "more", "count": 1}
    return [BASE, approval("BZ-C", approved_on="2026-08-17", change_of="BZ-A", servers=[srv])]


STATUS_TRIGGERS = {
    "provision_deadline_workdays": lambda c: ([approval("X-1")], TODAY, (), "approvals/X-1.yaml", None),
    "deploy_deadline_workdays": lambda c: ([approval("X-1")], TODAY, APPLY, "approvals/X-1.yaml", None),
    "change_deadline_workdays": lambda c: (_change(), TODAY, (), "approvals/BZ-C.yaml", None),
    "exit_transition_months": lambda c: ([approval("X-1")], TODAY, (
        ("request-exit", "X-1", "--date", "2026-08-20"),), "approvals/X-1.yaml", None),
    "reclaim_deadline_workdays": lambda c: ([approval("X-1")], TODAY, (
        ("request-exit", "X-1", "--date", "2026-08-18"),
        ("approve-exit", "X-1", "--date", "2026-08-20")), "approvals/X-1.yaml", None),
    "expiry_warning_workdays": lambda c: (   # 08-25: 4 working days before the end (08-31)
        [approval("X-1", term=WINDOW)], {"GOVCLOUD_TODAY": "2026-08-25"}, (),
        "approvals/X-1.yaml", "term.end"),
    "emergency_backfill_workdays": lambda c: (   # project approved 07-01, nothing filed by 08-20
        [approval("X-1", term={**EMERGENCY_TERM, "project_approved_on": "2026-07-01"})], TODAY, (),
        "approvals/X-1.yaml", "term.backfilled_on"),
    "emergency_configure_hours": lambda c: (     # configured (apply) with no 报备 recorded
        [approval("X-1", term=EMERGENCY_TERM)], TODAY, APPLY, "", "events.emergency-filed"),
    "annual_request_deadline": lambda c: (
        [approval("X-1", in_annual_plan=False)], TODAY, (), "approvals/X-1.yaml", "in_annual_plan"),
    "catalog_revision_months": lambda c: (       # revised 2026-01-01, more than two years ago
        [], {"GOVCLOUD_TODAY": "2028-01-02"}, (), "catalog/services.yaml", "revised_on"),
}

# Rule keys that produce no message at all: the test fails when a profile key is neither
# triggered nor listed here.
NOT_TRIGGERABLE = {
    "data_clearing": "the wording of the data-clearing certificate, not a check",
}


def status_items(doc: dict) -> list[dict]:
    """Every item of a `status --output json` document that can carry a rule: deadlines (with
    their approval's file), flag and warning details, profile warnings, the annual request."""
    out = [{**n} for n in doc["profile_warning_details"]]
    if doc["annual_request"]:
        out.append({**doc["annual_request"], "file": "", "field": None})
    for row in doc["approvals"]:
        out += [{**d, "file": row["file"], "field": None} for d in row["deadlines"]]
        out += row["flag_details"] + row["warning_details"]
    return out


def check_status_item(item: dict, city: str, rule: str) -> None:
    """The checker of a status item: the rule key, the regulation and its article, an English
    text, who acts, and the remedy (English with the approval and system named, and Chinese) of
    the rule, or of the item's own kind (e.g. not in the annual plan: core/remedies.py)."""
    p = profile(city)
    article = getattr(p.rules, rule).article
    assert item["rule"] == rule, item
    assert p.name_zh in item["citation"] and article in item["citation"], item
    text = item.get("what") or item.get("text") or ""
    assert re.search(r"[A-Za-z]+ [a-z]+ [a-z]+", text), f"no English: {item}"
    assert item["actor"] in ("provider", "department", "bureau"), item
    remedy = item.get("remedy") or ""
    assert remedy, f"no remedy: {item}"
    assert any(re.search(re.escape(en).replace("APPROVAL", r"\S+").replace("SYSTEM", r"\S+"),
                         remedy) and f"处理：{zh}" in remedy
               for en, zh in (*([REMEDIES[rule]] if rule in REMEDIES else []),
                              *STATUS_REMEDIES.values())), f"not the rule's remedy: {item}"


def test_every_profile_key_is_triggered_or_listed_as_not_triggerable():
    keys = {k for _, k in PROFILE_KEYS}
    covered = [set(TRIGGERS), set(STATUS_TRIGGERS), set(NOT_TRIGGERABLE)]
    assert keys == set().union(*covered), keys ^ set().union(*covered)
    assert sum(map(len, covered)) == len(set().union(*covered))     # each key in one place only


TRIGGERED = [(c, k) for c, k in PROFILE_KEYS if k in TRIGGERS]
SHOWN = [(c, k) for c, k in PROFILE_KEYS if k in STATUS_TRIGGERS]


def test_all_but_the_wording_rules_are_triggered():
    """The count in issue 13's report: every (city, rule) pair but the document wording."""
    assert len(TRIGGERED) + len(SHOWN) == len(PROFILE_KEYS) - sum(
        1 for _, k in PROFILE_KEYS if k in NOT_TRIGGERABLE)
    assert (len(TRIGGERED), len(SHOWN), len(PROFILE_KEYS)) == (46, 15, 66)


def _prepare(ws, cli, prep) -> None:
    for step in prep:      # a workspace edit, or the commands that come first
        if callable(step):
            step(ws)
        else:
            for cmd in step:
                done = cli(cmd[0], "-C", ws, *cmd[1:])
                assert done.exit_code == 0, done.output


@pytest.mark.parametrize("city,rule", TRIGGERED, ids=[f"{c}-{k}" for c, k in TRIGGERED])
def test_every_rule_of_every_city_is_triggered_and_its_message_checked(tmp_path, cli, monkeypatch,
                                                                       city, rule):
    approvals, args, env, file, field, *prep = TRIGGERS[rule](city)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ws = workspace(tmp_path, city, *approvals)
    _prepare(ws, cli, prep)
    sub = 2 if args[0] in ("audit", "backup") else 1     # `audit prune`, `backup destroy`
    r = cli(*args[:sub], "-C", ws, *args[sub:], "--output", "json")
    assert r.exit_code == 1, r.output
    mine = [i for i in r.json()["issues"] if i["rule"] == rule]
    assert mine, r.output
    for issue in mine:
        assert issue["field"], issue
        check_message(issue, city, rule, file, field or issue["field"])


@pytest.mark.parametrize("city,rule", SHOWN, ids=[f"{c}-{k}" for c, k in SHOWN])
def test_every_status_deadline_and_flag_quotes_its_rule_and_says_what_to_do(
        tmp_path, cli, monkeypatch, city, rule):
    approvals, env, prep, file, field = STATUS_TRIGGERS[rule](city)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ws = workspace(tmp_path, city, *approvals)
    _prepare(ws, cli, (prep,) if prep else ())
    r = cli("status", "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    mine = [i for i in status_items(r.json()) if i["rule"] == rule]
    assert mine, r.output
    for item in mine:
        check_status_item(item, city, rule)
    assert any(i["file"] == file and field in (None, i["field"]) for i in mine), mine
    text = cli("status", "-C", ws).output        # the text output: the remedy under its item
    assert "what to do" in text and REMEDIES[rule][1] in text, text


def test_the_status_checker_refuses_an_item_without_its_article_or_remedy():
    good = {"rule": "deploy_deadline_workdays", "what": "system deployed within 5 working days",
            "citation": "巴中市“智慧巴中”云平台管理办法 第十八条", "actor": "department",
            "remedy": REMEDIES["deploy_deadline_workdays"][0].replace("APPROVAL", "X-1")
            + "; 处理：" + REMEDIES["deploy_deadline_workdays"][1]}
    check_status_item(good, "bazhong", "deploy_deadline_workdays")
    for broken in ({"citation": "巴中市“智慧巴中”云平台管理办法"}, {"remedy": ""}, {"actor": ""},
                   {"remedy": good["remedy"].split("; 处理")[0]}):
        with pytest.raises(AssertionError):
            check_status_item({**good, **broken}, "bazhong", "deploy_deadline_workdays")


# `notify` builds its notices from the same deadlines: each carries the deadline's actor and
# remedy, and its message ends with them (what the duty engineer or the department reads).
NOTIFIED = {"provision_deadline_workdays": None, "change_deadline_workdays": None,
            "reclaim_deadline_workdays": None, "emergency_backfill_workdays": None,
            "deploy_deadline_workdays": "2026-08-26"}      # the day its clock is within 3 days
NOTICES = [(c, k) for c, k in SHOWN if k in NOTIFIED]


@pytest.mark.parametrize("city,rule", NOTICES, ids=[f"{c}-{k}" for c, k in NOTICES])
def test_every_deadline_notice_says_what_to_do_and_who(tmp_path, cli, monkeypatch, city, rule):
    approvals, env, prep, _, _ = STATUS_TRIGGERS[rule](city)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    ws = workspace(tmp_path, city, *approvals)
    _prepare(ws, cli, (prep,) if prep else ())
    if NOTIFIED[rule]:
        monkeypatch.setenv("GOVCLOUD_TODAY", NOTIFIED[rule])
        monkeypatch.setenv("GOVCLOUD_NOW", NOTIFIED[rule] + "T09:00:00+08:00")
    rows = cli("status", "-C", ws, "--output", "json").json()["approvals"]
    mine = {(row["approval_no"], d["key"]): d for row in rows for d in row["deadlines"]
            if d["rule"] == rule}
    r = cli("notify", "-C", ws, "--dry-run", "--output", "json")
    assert r.exit_code == 0, r.output
    got = [n for n in r.json()["notices"] if (n["subject"], n["clock"]) in mine]
    assert got, (mine, r.output)
    for n in got:
        d = mine[(n["subject"], n["clock"])]
        check_status_item({**d, "remedy": n["remedy"], "actor": n["actor"]}, city, rule)
        assert n["message"].endswith(f"What to do ({d['actor']}): {d['remedy']}"), n["message"]


@pytest.mark.parametrize("city,rule,steps", [
    ("bazhong", "exit_transition_months", (("request-exit", "X-1", "--date", "2026-08-20"),)),
    ("datong", "reclaim_deadline_workdays", (("request-exit", "X-1", "--date", "2026-08-18"),
                                             ("approve-exit", "X-1", "--date", "2026-08-20")))])
def test_the_exit_commands_deadlines_say_what_to_do_and_who(tmp_path, cli, monkeypatch, city,
                                                            rule, steps):
    """request-exit / approve-exit print the exit clocks they start, with the same remedies."""
    for k, v in TODAY.items():
        monkeypatch.setenv(k, v)
    ws = workspace(tmp_path, city, approval("X-1"))
    *first, last = steps
    _prepare(ws, cli, (tuple(first),) if first else ())
    r = cli(last[0], "-C", ws, *last[1:], "--output", "json")
    assert r.exit_code == 0, r.output
    mine = [d for d in r.json()["deadlines"] if d["rule"] == rule]
    assert mine, r.output
    for d in mine:
        check_status_item(d, city, rule)
