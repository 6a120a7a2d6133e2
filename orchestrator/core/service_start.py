"""The confirmed start of a system's service: the lifecycle event its city bills from. Pure.

An exit (退出申请, its approval) ends a service, so it cannot be dated before the service was
confirmed to start (issue 13, "a termination before the confirmed start"). The event is the
profile's ``billing.start_event`` (重庆 configuration-completed, 巴中 deployment-completed, 亳州
went-live, 大同/四川 delivery-confirmed), else its fallbacks in order; window, emergency and change
approvals start at ``billing.temporary_start_event``; a profile without billing uses the delivery
confirmation (交付确认).
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from ..models.approval import Approval, PermanentTerm
from ..models.profile import Profile
from .billing import event_day


def start_kinds(profile: Profile, approval: Approval | None) -> list[str]:
    b = profile.billing
    if b is None:
        return ["delivery-confirmed"]
    if approval is not None and (approval.change_of or not isinstance(approval.term, PermanentTerm)):
        return [b.temporary_start_event]
    return [b.start_event, *b.start_fallback]


def confirmed_start(profile: Profile, approval: Approval | None,
                    events: Iterable[dict[str, Any]]) -> tuple[str, date] | None:
    """(event kind, its day) of the first recorded start kind, or None when none is recorded."""
    first: dict[str, date] = {}
    for e in events:
        day = event_day(e)
        if e["kind"] not in first or day < first[e["kind"]]:
            first[e["kind"]] = day
    for kind in start_kinds(profile, approval):
        if kind in first:
            return kind, first[kind]
    return None
