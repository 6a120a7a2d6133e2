"""The exit process (退出) of a city, read from its profile (``rules.exit_process``). Pure.

Inputs are the profile, the lifecycle events of a system's approvals (``{"kind", "on",
"detail"}`` as the state store keeps them) and, for working-day clocks, a calendar. Outputs:
which required events are missing before a stage (with the article), when the transition
hold ends, when the reclaim is due, the billing stop date and the exit state.

Stages: ``start`` (``decommission`` begins: backup, offline), ``wipe`` (the first irreversible
step), ``request`` (``request-exit`` records the written request).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from ..errors import GovcloudError, Issue
from ..models.profile import ExitProcess, Profile
from .workdays import WorkCalendar, add_months

STAGES = ("start", "wipe", "request")

# How each event gets recorded, for the refusal's fix.
HOW = {
    "exit-requested": "govcloud request-exit APPROVAL --date D --document NO (the written request)",
    "exit-approved": "govcloud approve-exit APPROVAL --date D --document NO (the bureau's approval)",
    "backed-up": "govcloud decommission SYSTEM (its backup step records it)",
    "offline": "govcloud decommission SYSTEM (its offline step records it)",
}


def process(profile: Profile) -> ExitProcess | None:
    r = profile.rules.exit_process
    return r.value if r is not None else None


def first_dates(events: Iterable[dict[str, Any]]) -> dict[str, date]:
    """kind -> the earliest date it was recorded (over every approval of the system)."""
    out: dict[str, date] = {}
    for e in events:
        d = date.fromisoformat(e["on"][:10])
        if e["kind"] not in out or d < out[e["kind"]]:
            out[e["kind"]] = d
    return out


def last_dates(events: Iterable[dict[str, Any]]) -> dict[str, date]:
    out: dict[str, date] = {}
    for e in events:
        d = date.fromisoformat(e["on"][:10])
        if e["kind"] not in out or d >= out[e["kind"]]:
            out[e["kind"]] = d
    return out


def required(profile: Profile, stage: str) -> list[str]:
    p = process(profile)
    if p is None:
        return []
    return list({"start": p.before_start, "wipe": p.before_wipe,
                 "request": p.before_request}[stage])


def missing(profile: Profile, stage: str, on: dict[str, date]) -> list[str]:
    """The events ``stage`` needs that are not recorded, in the profile's order."""
    return [k for k in required(profile, stage) if k not in on]


def refusal(profile: Profile, stage: str, what: str, absent: list[str]) -> GovcloudError:
    """The error naming the article and each missing event."""
    rule = profile.rules.exit_process
    cite = profile.cite(rule) if rule is not None else profile.name_zh
    order = " → ".join(process(profile).order) if process(profile) else ""
    issues = [Issue(k, f"missing event {k!r} ({cite}); 退出须按规定顺序办理: record it with "
                    f"{HOW.get(k, k)}",
                    rule="exit_process") for k in absent]
    return GovcloudError(
        f"{what}: {', '.join(absent)} not recorded; {cite} orders the exit as {order}",
        issues, fix="record the missing events first (an operator may override with "
                    "--override-exit-order REASON, which is audited)")


def transition_until(profile: Profile, on: dict[str, date]) -> tuple[date | None, str]:
    """End of the transition hold (wipe not before it) and the event it counts from; (None, "")
    when the profile has no transition or its starting event is not recorded."""
    r = profile.rules.exit_transition_months
    p = process(profile)
    if r is None:
        return None, ""
    start = (p.transition_from if p and p.transition_from else "offline")
    if start not in on:
        return None, start
    return add_months(on[start], r.value), start


def reclaim_due(profile: Profile, on: dict[str, date], cal: WorkCalendar) -> tuple[date | None, str]:
    """The reclaim deadline (working days from ``reclaim_from``) and the event it counts from."""
    r = profile.rules.reclaim_deadline_workdays
    p = process(profile)
    if r is None:
        return None, ""
    start = p.reclaim_from if p and p.reclaim_from else "exit-requested"
    if start not in on:
        return None, start
    return cal.add_workdays(on[start], r.value), start


def billing_stop(profile: Profile, on: dict[str, date],
                 cal: WorkCalendar | None = None) -> tuple[date | None, str]:
    """The date billing stops, and the article (or "" when the profile names no stop), from the
    profile's ``billing`` (issue 19's model; ``core/billing.py`` bills with it).
    ``reclaim-deadline``: on the reclaim's deadline, even when the reclaim was late (大同)."""
    b = profile.billing
    if b is None:
        return on.get("terminated"), ""
    art = b.stop_article
    if b.stop_event == "reclaim-deadline":
        if cal is None:
            raise ValueError("a working-day calendar is needed for reclaim-deadline")
        due, _ = reclaim_due(profile, on, cal)
        if due is not None and "reclaimed" in on and on["reclaimed"] < due:
            due = on["reclaimed"]   # reclaimed early: the service ends with it
        return due, art
    for kind in (b.stop_event, *b.stop_fallback):
        if kind in on:
            return on[kind], art
    return None, art


def exit_state(on: dict[str, date], last: dict[str, date] | None = None) -> str | None:
    """The exit state of a system from its events, or None when it is not exiting."""
    last = last or on
    if "terminated" in on:
        return "terminated"
    if "wipe-failed" in on and not ("verified" in on and on["verified"] >= last["wipe-failed"]):
        return "wipe-failed"
    for kind, state in (("reclaimed", "reclaimed"), ("verified", "verified"), ("wiped", "wiped"),
                        ("held-until", "held"), ("exit-approved", "exit-approved"),
                        ("exit-requested", "exit-requested"), ("offline", "offline"),
                        ("backed-up", "backed-up")):
        if kind in on:
            return state
    return None
