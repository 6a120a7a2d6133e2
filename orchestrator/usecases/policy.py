"""`govcloud profile list | show | diff` and `govcloud calendar check | add-workdays | workdays |
is-workday`: the policy profiles' rules and the working-day calendar, with or without a
workspace (one adds its catalog/profiles and catalog/calendar)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..calendar_files import calendar_dirs, workspace_calendar
from ..errors import GovcloudError
from ..models.profile import Profile
from ..workspace import Workspace, available_profiles, load_profile

UNITS = {"_workdays": "working days", "_days": "days", "_months": "months", "_hours": "hours",
         "_pct": "%", "_gb": "GB"}
WORD_SYMBOL = {"超过": ">", "高于": ">", "大于": ">", "以上": "≥", "至少": "≥", "不少于": "≥",
               "提前": "≥", "低于": "<", "少于": "<", "以下": "≤", "及以下": "≤", "以内": "≤",
               "内": "≤", "未超过": "≤", "不超过": "≤"}


# --- profiles ----------------------------------------------------------------------------------
def profile_named(ws: Workspace | None, name: str | None) -> Profile:
    if name is None:
        if ws is None:
            raise GovcloudError("which profile? give a NAME (bazhong, datong, chongqing, bozhou, "
                                "sichuan) or -C a workspace")
        return ws.profile
    extra = [ws.root / "catalog" / "profiles"] if ws is not None else []
    return load_profile(name, extra, where="profile: name")


def format_value(key: str, rule) -> str:
    """A rule's value as read aloud: unit, comparison symbol and the regulation's word."""
    v = rule.value
    if hasattr(v, "resources_pct"):
        sym = WORD_SYMBOL.get(rule.word or "", "")
        text = (f"resources {sym}{v.resources_pct}% (any of {', '.join(v.measures)}) or monthly fee "
                f"{sym}{v.fee_pct}%")
        return text + (f" ({rule.word})" if rule.word else "")
    if isinstance(v, bool):
        text = "yes" if v else "no"
    elif isinstance(v, list):
        text = ", ".join(str(x) for x in v)
    else:
        text = str(v)
    unit = next((u for suffix, u in UNITS.items() if key.endswith(suffix)), "")
    if unit and not isinstance(v, (bool, str)):
        if v == 1 and unit.endswith("s"):
            unit = unit[:-1]
        text = f"{text} {unit}" if unit != "%" else f"{text}%"
    if rule.word:
        text = f"{WORD_SYMBOL.get(rule.word, '')} {text} ({rule.word})"
    return text


def clock_text(o) -> str:
    from ..core.obligations import clock_text as text
    return text(o)


def rule_rows(profile: Profile) -> list[dict[str, Any]]:
    """Enforced rules in the profile's order, then the reference-only ones by key."""
    rows = []
    enforced = [(k, r, True) for k, r in profile.rules if r is not None]
    for key, rule, on in enforced + [(k, r, False) for k, r in sorted(profile.reference.items())]:
        rows.append({"key": key, "value": rule.model_dump(mode="json")["value"],
                     "display": format_value(key, rule), "word": rule.word,
                     "article": rule.article, "setting": rule.setting, "note": rule.note,
                     "enforced": on})
    for o in profile.obligations:      # duties with clocks, tracked in status
        value = o.model_dump(mode="json", exclude={"key", "article", "word", "setting", "note"})
        rows.append({"key": f"obligations.{o.key}", "value": value,
                     "display": f"{o.what} ({o.actor}; {clock_text(o)})", "word": o.word,
                     "article": o.article, "setting": o.setting, "note": o.note,
                     "enforced": True})
    return rows


def header(p: Profile, today: dt.date) -> dict[str, Any]:
    return {"code": p.code, "name_zh": p.name_zh, "regulation": p.regulation, "status": p.status,
            "effective_from": p.effective_from.isoformat() if p.effective_from else None,
            "expires_on": p.expires_on.isoformat() if p.expires_on else None,
            "warnings": p.warnings(today), "notes": p.notes}


def profile_list(ws: Workspace | None, today: dt.date) -> dict[str, Any]:
    names = available_profiles([ws.root / "catalog" / "profiles"] if ws else None)
    return {"format": "govcloud-profile-list/1",
            "profiles": [header(profile_named(ws, n), today) for n in names]}


@dataclass
class ProfileShown:
    profile: Profile
    header: dict[str, Any]
    rows: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-profile-show/1", **self.header,
                "rules": [r for r in self.rows if r["enforced"]],
                "reference": [r for r in self.rows if not r["enforced"]]}


def profile_show(ws: Workspace | None, name: str | None, today: dt.date) -> ProfileShown:
    p = profile_named(ws, name)
    return ProfileShown(p, header(p, today), rule_rows(p))


@dataclass
class ProfileDiff:
    a: Profile
    b: Profile
    names: tuple[str, str]
    differences: list[dict[str, Any]]   # {"key", <a>: cell | None, <b>: cell | None}
    same: list[dict[str, Any]]
    today: dt.date

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-profile-diff/1", "a": header(self.a, self.today),
                "b": header(self.b, self.today), "differences": self.differences,
                "same": self.same}


def profile_diff(ws: Workspace | None, a: str, b: str, today: dt.date) -> ProfileDiff:
    """How two profiles' rules differ in value, comparison word or setting."""
    pa, pb = profile_named(ws, a), profile_named(ws, b)
    ra = {r["key"]: r for r in rule_rows(pa)}
    rb = {r["key"]: r for r in rule_rows(pb)}
    enforced = [k for k, _ in pa.rules if k in ra or k in rb]
    keys = enforced + sorted((set(ra) | set(rb)) - set(enforced))
    diffs, same = [], []

    def pick(r):
        return None if r is None else {k: r[k] for k in ("value", "word", "article", "setting",
                                                         "enforced", "display")}

    def key_of(r):
        return None if r is None else (r["value"], r["word"], r["setting"])
    for k in keys:
        x, y = ra.get(k), rb.get(k)
        (same if key_of(x) == key_of(y) else diffs).append({"key": k, a: pick(x), b: pick(y)})
    return ProfileDiff(pa, pb, (a, b), diffs, same, today)


# --- calendar ------------------------------------------------------------------------------------
def calendar_check(ws: Workspace | None, files: list[Path]) -> dict[str, Any]:
    """Validate calendar files (given ones, or every file the workspace would load)."""
    from ..calendar_files import calendar_files, load_calendar_file
    paths = list(files)
    if not paths:
        for d in calendar_dirs(ws.root if ws else None):
            if d.is_dir():
                paths.extend(calendar_files(d))
    out = []
    effective = {}
    for p in paths:
        year = load_calendar_file(p)   # raises CalendarFileError naming file and field
        effective[year.year] = str(p)
        out.append({"file": str(p), "year": year.year, "source": year.source,
                    "holidays": len(year.holidays), "makeup_workdays": len(year.makeup),
                    "workdays": year.workday_count()})
    for row in out:
        row["used"] = effective[row["year"]] == row["file"]
    return {"format": "govcloud-calendar-check/1", "valid": True, "files": out}


def add_workdays(ws: Workspace | None, start: dt.date, n: int) -> dict[str, Any]:
    """The date ``n`` working days after ``start`` (not counted)."""
    result = workspace_calendar(ws.root if ws else None).add_workdays(start, n)
    return {"format": "govcloud-calendar-add-workdays/1", "from": start.isoformat(),
            "workdays": n, "date": result.isoformat()}


def workdays_between(ws: Workspace | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    n = workspace_calendar(ws.root if ws else None).workdays_between(start, end)
    return {"format": "govcloud-calendar-workdays/1", "from": start.isoformat(),
            "to": end.isoformat(), "workdays": n}


def is_workday(ws: Workspace | None, day: dt.date) -> dict[str, Any]:
    cal = workspace_calendar(ws.root if ws else None)
    return {"format": "govcloud-calendar-is-workday/1", "date": day.isoformat(),
            "workday": cal.is_workday(day), "holiday": cal.holiday_name(day)}
