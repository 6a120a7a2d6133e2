"""Duties with clocks, from the profile's ``obligations`` (each with its article and its actor:
provider, department or bureau), as lifecycle deadlines of one approval. Pure.

A clock starts at the first ``after`` event (``approved``: the approval date); the duty is done
when every ``closed_by`` event is recorded, on the latest of their dates. Due dates: N working
days (start day not counted), N calendar days, N months (orchestrator.core.workdays.add_months),
or the ``until`` date carried by the starting event (重庆 第二十条: the trial period set in the
contract, ``record-event APPROVAL contract-signed --until D``).
"""
from __future__ import annotations

from datetime import date, timedelta
from typing import Any, Callable

from ..models.approval import Approval
from ..models.profile import Obligation, Profile
from .remedies import record_remedy, status_remedy
from .workdays import WorkCalendar, add_months


def _start(o: Obligation, a: Approval, on: dict[str, date]) -> tuple[date, str] | None:
    got = [(a.approved_on if k == "approved" else on.get(k), k) for k in o.after]
    got = [(d, k) for d, k in got if d is not None]
    return min(got) if got else None


def _due(o: Obligation, start: date, cal: WorkCalendar, detail: dict[str, Any]) -> date | None:
    if o.workdays is not None:
        return cal.add_workdays(start, o.workdays)
    if o.days is not None:
        return start + timedelta(days=o.days)
    if o.months is not None:
        return add_months(start, o.months)
    if o.until_from_event and detail.get("until"):
        return date.fromisoformat(str(detail["until"])[:10])
    return None


def clock_text(o: Obligation) -> str:
    after = " or ".join(o.after)
    return _clock(o).replace("{after}", after)


def _clock(o: Obligation) -> str:
    if o.workdays is not None:
        return f"within {o.workdays} working days of {{after}}"
    if o.days is not None:
        return f"within {o.days} days of {{after}}"
    if o.months is not None:
        return f"within {o.months} month{'s' if o.months != 1 else ''} of {{after}}"
    if o.until_from_event:
        return f"by the date set at {{after}}"
    return f"after {{after}}, no time limit stated (及时)"


def applicable(profile: Profile, a: Approval) -> list[Obligation]:
    return [o for o in profile.obligations
            if (o.terms is None or a.term.kind in o.terms) and not a.change_of
            and (o.min_dengbao_level is None or a.system.dengbao_level >= o.min_dengbao_level)]


def obligation_items(profile: Profile, a: Approval, cal: WorkCalendar,
                     on: dict[str, date], details: dict[str, dict[str, Any]],
                     add: Callable[..., Any], warn: Callable[..., None],
                     every: dict[str, list[date]] | None = None, system: str = "SYSTEM") -> None:
    """Calls ``add(key, what, due_fn, citation, done_on, actor, remedy)`` per started obligation
    with a clock, and ``warn(text, citation, actor, remedy)`` for an open one without a clock
    (listed, never overdue). ``every``: all dates of each event kind (for ``each`` obligations).
    The remedy: record the events that close the duty (core/remedies.record_remedy)."""
    every = every or {}
    for o in applicable(profile, a):
        remedy = record_remedy(list(o.closed_by), a.approval_no, system)
        if o.each and (o.workdays is not None or o.days is not None or o.months is not None):
            closes = sorted(d for k in o.closed_by for d in every.get(k, []))
            for start in sorted({d for k in o.after for d in every.get(k, [])}):
                done = next((d for d in closes if d >= start), None)
                add(f"{o.key}:{start}", f"{o.what} ({o.actor}; {clock_text(o)} on {start})",
                    lambda o=o, start=start: _due(o, start, cal, {}), profile.cite(o), done,
                    o.actor, remedy)
            continue
        began = _start(o, a, on)
        if began is None:
            continue
        start, after = began
        closes = [on.get(k) for k in o.closed_by]
        done = max(closes) if all(closes) else None
        what = f"{o.what} ({o.actor}; {clock_text(o)})"
        cite = profile.cite(o)
        if not (o.workdays is not None or o.days is not None or o.months is not None
                or o.until_from_event):
            if done is None:
                warn(f"open duty of the {o.actor}: {o.what}; record "
                     f"{' and '.join(o.closed_by)} when done ({cite})", cite, o.actor, remedy)
            continue
        if o.until_from_event and not details.get(after, {}).get("until"):
            if done is None:
                warn(f"{o.what}: the {after} event carries no end date (--until) ({cite})", cite,
                     o.actor, f"record {after} again with its end date: govcloud record-event "
                     f"{a.approval_no} {after} --until D --document DOC; 处理：补登结束日期")
            continue
        add(o.key, what, lambda o=o, start=start, after=after: _due(o, start, cal,
                                                                    details.get(after, {})),
            cite, done, o.actor, remedy)


def annual_request(profile: Profile, today: date) -> dict[str, Any] | None:
    """巴中 第十四条: the next day by which next year's requests are due (department)."""
    r = profile.rules.annual_request_deadline
    if r is None:
        return None
    month, day = (int(x) for x in r.value.split("-"))
    due = date(today.year, month, day)
    if today > due:
        due = date(today.year + 1, month, day)
    return {"due": due.isoformat(), "for_year": due.year + 1, "actor": "department",
            "what": f"resource requests for {due.year + 1} into the annual purchase plan "
                    f"(下一年度政务云资源使用申请)", "citation": profile.cite(r),
            "rule": "annual_request_deadline", "remedy": status_remedy("annual_request_deadline")}


def out_of_plan_warning(profile: Profile, a: Approval) -> str | None:
    r = profile.rules.annual_request_deadline
    if r is None or a.in_annual_plan is not False or a.term.kind == "emergency" or a.change_of:
        return None
    return (f"not in the annual purchase plan (in_annual_plan: false): in principle no public "
            f"funds (原则上不安排财政资金); special or urgent needs go to the city government as "
            f"emergency resources ({profile.cite(r)})")


def catalog_warning(profile: Profile, revised_on: str | None, today: date) -> str | None:
    """重庆 第二十六条 调整频率不低于1次/两年: the catalog's last revision (bureau's duty)."""
    r = profile.rules.catalog_revision_months
    if r is None:
        return None
    oldest = add_months(today, -r.value)
    if revised_on is None:
        return (f"[bureau] the service catalog records no revision date (catalog revised_on): it "
                f"must be revised at least every {r.value} months ({profile.cite(r)})")
    try:
        when = date.fromisoformat(str(revised_on)[:10])
    except ValueError:
        return f"[bureau] catalog revised_on {revised_on!r} is not a date ({profile.cite(r)})"
    if when < oldest:
        return (f"[bureau] the service catalog was last revised on {when}, more than {r.value} "
                f"months ago: 目录调整频率不低于1次/两年 ({profile.cite(r)})")
    return None
