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


def _row(key: str, display: str, article: str, setting: bool, note: str = "") -> dict[str, Any]:
    return {"key": key, "display": display, "article": article, "setting": setting,
            "note": note}


def _cond_text(c) -> str:
    """A right-sizing condition as read aloud: "mean(mem_pct) > 70 (高于)"."""
    def cmp(word, value) -> str:
        return f"{WORD_SYMBOL.get(word, '')} {value:g} ({word})"
    if c.statistic == "spikes_in_hour":
        return (f"samples of {c.metric} {cmp(c.above_word, c.above)} within one hour: "
                f"{cmp(c.word, c.value)}")
    if c.statistic == "down_since":
        return f"last up {cmp(c.word, c.value)} months before the review"
    return f"{c.statistic}({c.metric}) {cmp(c.word, c.value)}"


def money_rows(p: Profile) -> dict[str, list[dict[str, Any]]]:
    """The profile's billing, right-sizing and report rules as rows read aloud (text output)."""
    out: dict[str, list[dict[str, Any]]] = {"billing": [], "rightsizing": [], "reports": []}
    b = p.billing
    if b is not None:
        def fallback(kinds: list[str]) -> str:
            return f" (else {', then '.join(kinds)})" if kinds else ""
        out["billing"] += [
            _row("start", f"{b.start_event}{fallback(b.start_fallback)}", b.start_article,
                 b.start_setting, b.note),
            _row("stop", f"{b.stop_event}{fallback(b.stop_fallback)}", b.stop_article,
                 b.stop_setting),
            _row("temporary_start", f"{b.temporary_start_event} (window, emergency and change "
                 f"approvals; not before the term's start)", b.start_article, b.start_setting),
            _row("proration", "monthly fee x days in service / days in month, first and last "
                 "day counted", b.proration_article, b.proration_setting),
            _row("rounding", "half-up to the fen, once per system per month",
                 b.rounding_article, b.rounding_setting)]
        st = b.settlement
        if st is not None:
            out["billing"].append(_row("settlement", st.basis, st.article, False, st.note))
            for d in st.deductions:
                out["billing"].append(_row(f"settlement.deadline.{d.deadline}",
                                           f"{d.pct}% of the month's fee per missed "
                                           f"{d.deadline} deadline", d.article, d.setting, d.note))
            if st.acceptance is not None:
                a = st.acceptance
                out["billing"].append(_row("settlement.acceptance", f"acceptance failed (不通过) "
                                           f"{a.failed_pct}%, deferred (暂缓通过) {a.deferred_pct}% "
                                           f"of every month of the year", a.article, a.setting,
                                           a.note))
    for r in p.rightsizing:
        joined = f" {'and' if r.match == 'all' else 'or'} ".join(_cond_text(c)
                                                                for c in r.conditions)
        text = (f"{r.action} {r.resource} when {joined} over {r.window_days} days "
                f"(per {r.scope})")
        if r.escalation is not None:
            e = r.escalation
            months = f"{e.urge_after_months} month" + ("s" if e.urge_after_months != 1 else "")
            text += (f"; escalation: reminder, urged after {months}, shrink after "
                     f"{e.shrink_after_workdays} more working days ({e.article})")
        out["rightsizing"].append(_row(r.key, text, r.article, r.setting, r.note))
    for d in p.reports:
        out["reports"].append(_row(d.key, f"{d.name_zh}: {d.cadence}, {d.sender} -> "
                                   f"{', '.join(d.audience)}; {', '.join(d.contents)}",
                                   d.article, d.setting, d.note))
    return out


@dataclass
class ProfileShown:
    profile: Profile
    header: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def money(self) -> dict[str, list[dict[str, Any]]]:
        return money_rows(self.profile)

    def to_dict(self) -> dict[str, Any]:
        p = self.profile
        return {"format": "govcloud-profile-show/1", **self.header,
                "rules": [r for r in self.rows if r["enforced"]],
                "reference": [r for r in self.rows if not r["enforced"]],
                "billing": p.billing.model_dump(mode="json") if p.billing else None,
                "rightsizing": [r.model_dump(mode="json") for r in p.rightsizing],
                "reports": [d.model_dump(mode="json") for d in p.reports]}


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


def _provisional(cal, *days) -> list[int]:
    return list(cal.provisional_in(*days))


def add_workdays(ws: Workspace | None, start: dt.date, n: int) -> dict[str, Any]:
    """The date ``n`` working days after ``start`` (not counted)."""
    cal = workspace_calendar(ws.root if ws else None)
    result = cal.add_workdays(start, n)
    return {"format": "govcloud-calendar-add-workdays/1", "from": start.isoformat(),
            "workdays": n, "date": result.isoformat(), "provisional": _provisional(cal, start, result)}


def workdays_between(ws: Workspace | None, start: dt.date, end: dt.date) -> dict[str, Any]:
    cal = workspace_calendar(ws.root if ws else None)
    n = cal.workdays_between(start, end)
    return {"format": "govcloud-calendar-workdays/1", "from": start.isoformat(),
            "to": end.isoformat(), "workdays": n, "provisional": _provisional(cal, start, end)}


def is_workday(ws: Workspace | None, day: dt.date) -> dict[str, Any]:
    cal = workspace_calendar(ws.root if ws else None)
    return {"format": "govcloud-calendar-is-workday/1", "date": day.isoformat(),
            "workday": cal.is_workday(day), "holiday": cal.holiday_name(day),
            "provisional": _provisional(cal, day)}


# --- calendar import / provisional ----------------------------------------------------------------
def _destination(ws: Workspace | None, to: Path | None) -> Path:
    if to is not None:
        return to
    if ws is None:
        raise GovcloudError("where should the calendar file go? give -C WORKSPACE (its "
                            "catalog/calendar/) or --to DIR",
                            fix="e.g. `govcloud calendar import NOTICE.txt -C /srv/govcloud`")
    return ws.root / "catalog" / "calendar"


def calendar_import(ws: Workspace | None, notice: Path, to: Path | None = None,
                    force: bool = False) -> dict[str, Any]:
    """Read the State Council's notice (text) into ``cn-<year>.yaml`` under ``to`` (default: the
    workspace's catalog/calendar/)."""
    from ..calendar_files import render_calendar_file
    from ..core.holiday_notice import parse_notice
    from ..core.workdays import YearCalendar
    from ..calendar_files import read_notice, write_calendar_year
    p = parse_notice(read_notice(notice))
    year = YearCalendar.from_blocks(p.year, p.blocks, p.makeup, source=p.source)
    text = render_calendar_file(year, ["Imported by `govcloud calendar import` from the State Council "
                                       "notice named in source; do not edit by hand."], p.notes)
    res = write_calendar_year(_destination(ws, to), year, text, force, "official")
    return {"format": "govcloud-calendar-import/1", "year": p.year, "source": p.source,
            "provisional": False, **res, "warnings": p.warnings,
            "holidays": len(year.holidays), "makeup_workdays": len(year.makeup),
            "workdays": year.workday_count()}


def calendar_provisional(ws: Workspace | None, year_no: int, to: Path | None = None) -> dict[str, Any]:
    """Enable the provisional calendar of ``year_no`` (statutory holidays only) for a workspace."""
    from ..calendar_files import default_calendar_dir, render_calendar_file, write_calendar_year
    from ..core.provisional_calendar import provisional_year
    dest = _destination(ws, to)
    if dest.resolve() == default_calendar_dir().resolve():
        raise GovcloudError("a provisional calendar is enabled per workspace, never shipped in "
                            "catalog/calendar", fix="give -C WORKSPACE")
    year = provisional_year(year_no)
    text = render_calendar_file(year, [
        "PROVISIONAL (`govcloud calendar provisional`): the statutory holidays and 补假 only, without",
        "the 调休 of the State Council's notice. Every result counted in it says \"provisional\".",
        "Replace it with `govcloud calendar import NOTICE.txt` as soon as the notice is published."])
    res = write_calendar_year(dest, year, text, False, "provisional")
    return {"format": "govcloud-calendar-provisional/1", "year": year_no, "source": year.source,
            "provisional": True, **res, "warnings": [],
            "holidays": len(year.holidays), "makeup_workdays": 0, "workdays": year.workday_count()}
