"""Lifecycle commands: `status`, `confirm-delivery`, `extend`, `request-exit`,
`platform-change`. Each recorded decision is a lifecycle event plus an audit entry."""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import asdict, dataclass, field
from typing import Any

from ..calendar_files import workspace_calendar
from ..core import policy
from ..core.golive import check_gate
from ..core.platform import check_platform_documents
from ..core.lifecycle import ApprovalStatus, approval_status
from ..core.obligations import annual_request
from ..errors import GovcloudError
from ..extensions import extension_ends, load_extensions, write_extension
from ..lifecycle_events import audit, events_by_subject, sync_approved
from ..models.approval import Approval
from ..models.extension import Extension
from ..state.base import default_actor
from ..workspace import Workspace
from .session import open_state


def find_approval(ws: Workspace, approval_no: str) -> tuple[str, Approval, dict[str, Approval]]:
    """(its file, the approval, every approval), or an error suggesting the closest number."""
    approvals = ws.load_approvals()
    for f, a in approvals.items():
        if a.approval_no == approval_no:
            return f, a, approvals
    known = sorted(a.approval_no for a in approvals.values())
    close = difflib.get_close_matches(approval_no, known, n=1)
    raise GovcloudError(f"no approval {approval_no!r} under approvals/"
                        + (f" (did you mean {close[0]!r}?)" if close else ""),
                        fix="see the approval_no fields of approvals/*.yaml")


def _not_future(on: dt.date, today: dt.date) -> None:
    if on > today:
        raise GovcloudError(f"--date {on} is in the future (today is {today})")


# --- status ----------------------------------------------------------------------------------
@dataclass
class StatusReport:
    today: dt.date
    profile: str
    profile_warnings: list[str]
    rows: list[ApprovalStatus]        # every approval, by number
    overdue_only: bool = False
    orphaned: dict[str, int] = field(default_factory=dict)   # stack -> objects in state
    annual_request: dict[str, Any] | None = None             # 巴中 第十四条

    @property
    def shown(self) -> list[ApprovalStatus]:
        return [r for r in self.rows if r.overdue] if self.overdue_only else self.rows

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-status/1", "today": self.today.isoformat(),
                "profile": self.profile, "profile_warnings": self.profile_warnings,
                "overdue": sum(1 for r in self.rows if r.overdue),
                "approvals": [r.to_dict() for r in self.shown],
                "orphaned": [{"stack": k, "objects": n} for k, n in sorted(self.orphaned.items())],
                "annual_request": self.annual_request}


def status(ws: Workspace, today: dt.date, overdue_only: bool = False) -> StatusReport:
    approvals = ws.load_approvals()
    cal = workspace_calendar(ws.root)
    ends = extension_ends(ws)
    with open_state(ws) as store:
        events = events_by_subject(store)
        orphaned = _orphaned(store, {a.stack for a in approvals.values()})
    changes: dict[str, list[tuple[str, dt.date]]] = {}
    for c in ws.load_changes().values():
        changes.setdefault(c.changes, []).append((c.change_no, c.approved_on))
    rows = [approval_status(a, f, ws.profile, cal, events.get(a.approval_no, []), today, ends,
                            changes.get(a.approval_no))
            for f, a in sorted(approvals.items(), key=lambda kv: kv[1].approval_no)]
    from ..core.obligations import catalog_warning
    warn = ws.profile.warnings(today) + [w for w in [catalog_warning(
        ws.profile, ws.catalog.revised_on, today)] if w]
    return StatusReport(today, ws.profile.code, warn, rows, overdue_only,
                        orphaned, annual_request(ws.profile, today))


def _orphaned(store, approved: set[str]) -> dict[str, int]:
    """Systems with objects in state that no approval compiles to any more (the planner's
    destroy guard holds them), leaving aside those the exit process already has."""
    from ..decommission import frozen_stacks
    exiting = frozen_stacks(store)
    out: dict[str, int] = {}
    for r in store.read().records.values():
        if r.stack and r.stack not in approved and r.stack not in exiting:
            out[r.stack] = out.get(r.stack, 0) + 1
    return out


# --- delivery, extension, exit, platform change -------------------------------------------------
@dataclass
class DeliveryConfirmed:
    approval: str
    confirmed_on: str
    recorded: bool                    # false: it was recorded before, on the same date

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-confirm-delivery/1", **asdict(self)}


def confirm_delivery(ws: Workspace, approval_no: str, on: dt.date,
                     today: dt.date) -> DeliveryConfirmed:
    _, a, approvals = find_approval(ws, approval_no)
    _not_future(on, today)
    with open_state(ws) as store:
        sync_approved(store, approvals)
        ev = events_by_subject(store).get(approval_no, [])
        prov = [e for e in ev if e["kind"] == "provisioned"]
        done = [e for e in ev if e["kind"] == "delivery-confirmed"]
        if not prov:
            raise GovcloudError(f"{approval_no} is not provisioned yet: no apply has completed its "
                                f"resources, so there is nothing to confirm",
                                fix="run `govcloud apply` first")
        if done:
            if done[0]["on"] == on.isoformat():
                return DeliveryConfirmed(approval_no, done[0]["on"], False)
            raise GovcloudError(f"{approval_no}'s delivery was already confirmed on {done[0]['on']}")
        if on < dt.date.fromisoformat(prov[0]["on"]):
            raise GovcloudError(f"--date {on} is before the resources were provisioned "
                                f"({prov[0]['on']})")
        first: dict[str, dt.date] = {}
        for e in ev:
            first.setdefault(e["kind"], dt.date.fromisoformat(e["on"][:10]))
        check_gate(ws.profile, a, "confirm-delivery", first, on)   # 重庆 第二十一条, 亳州 第二十一条
        detail = {"stack": a.stack, "provisioned_on": prov[0]["on"],
                  "note": "billing starts at the delivery confirmation (交付确认)"}
        store.record_event(approval_no, "delivery-confirmed", on.isoformat(), detail)
        audit(store, ws, "delivery-confirmed", approval_no, {"on": on.isoformat(), **detail})
    return DeliveryConfirmed(approval_no, on.isoformat(), True)


@dataclass
class ExtensionRecorded:
    approval: str
    previous_end: str
    until: str
    requested_on: str
    kind: str
    notice_workdays: int | None
    file: str                         # extensions/<APPROVAL>.yaml, to commit
    latest_request: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-extend/1", **asdict(self)}


def extend(ws: Workspace, approval_no: str, until: dt.date, request_date: dt.date,
           now: dt.datetime) -> ExtensionRecorded:
    _, a, approvals = find_approval(ws, approval_no)
    exts, errors = load_extensions(ws)
    for err in errors:
        raise err
    current = exts[approval_no][1].until if approval_no in exts else getattr(a.term, "end", None)
    with open_state(ws) as store:
        ev = events_by_subject(store).get(approval_no, [])
        gone = [e for e in ev if e["kind"] in ("expired", "terminated")]
        if gone:
            raise GovcloudError(f"{approval_no} already {gone[0]['kind']} on {gone[0]['on']}: "
                                f"there is nothing left to extend", fix="file a new application")
        check = policy.check_extension(a, current, until, request_date, now.date(), ws.profile,
                                       workspace_calendar(ws.root))
        path = write_extension(ws, approval_no, Extension(
            previous_end=current, until=until, requested_on=request_date,
            recorded_by=default_actor(), recorded_at=now.isoformat(timespec="seconds")))
        sync_approved(store, approvals)
        detail = {"previous_end": current.isoformat(), "until": until.isoformat(),
                  "requested_on": request_date.isoformat(), "kind": check.kind,
                  "notice_workdays": check.notice_workdays, "file": ws.rel(path)}
        store.record_event(approval_no, "extended", request_date.isoformat(), detail)
        audit(store, ws, "extend", approval_no, detail)
    return ExtensionRecorded(approval_no, **detail, latest_request=check.latest_request.isoformat()
                             if check.latest_request else None)


@dataclass
class ExitRequested:
    approval: str
    requested_on: str
    recorded: bool                    # false: requested before (``requested_on`` is that date)
    deadlines: list[dict[str, Any]] = field(default_factory=list)   # transition, reclaim

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-request-exit/1", **asdict(self)}


def request_exit(ws: Workspace, approval_no: str, on: dt.date, today: dt.date) -> ExitRequested:
    _, a, approvals = find_approval(ws, approval_no)
    _not_future(on, today)
    policy.check_exit(a, approvals.values(), ws.profile, on)
    with open_state(ws) as store:
        sync_approved(store, approvals)
        ev = events_by_subject(store).get(approval_no, [])
        prior = [e for e in ev if e["kind"] == "exit-requested"]
        if prior:
            return ExitRequested(approval_no, prior[0]["on"], False)
        detail = {"stack": a.stack}
        store.record_event(approval_no, "exit-requested", on.isoformat(), detail)
        audit(store, ws, "exit-requested", approval_no, {"on": on.isoformat(), **detail})
        st = approval_status(a, "", ws.profile, workspace_calendar(ws.root),
                             ev + [{"kind": "exit-requested", "on": on.isoformat(), "detail": {}}],
                             today, extension_ends(ws))
    return ExitRequested(approval_no, on.isoformat(), True,
                         [d.to_dict() for d in st.deadlines if d.key in ("transition", "reclaim")])


@dataclass
class PlatformChange:
    change_on: str
    notified_on: str
    notice_workdays: int
    summary: str
    major: bool = False
    plan: str | None = None
    assessment: str | None = None
    approval: str | None = None
    approved_on: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-platform-change/1", **asdict(self)}


def platform_change(ws: Workspace, change_on: dt.date, notified_on: dt.date,
                    summary: str, major: bool = False, plan: str | None = None,
                    assessment: str | None = None, approval: str | None = None,
                    approved_on: dt.date | None = None) -> PlatformChange:
    gap = policy.check_platform_notice(change_on, notified_on, ws.profile,
                                       workspace_calendar(ws.root))
    check_platform_documents(ws.profile, change_on, major, plan, assessment, approval, approved_on)
    result = PlatformChange(change_on.isoformat(), notified_on.isoformat(), gap, summary, major,
                            plan, assessment, approval,
                            approved_on.isoformat() if approved_on else None)
    with open_state(ws) as store:
        detail = asdict(result)
        store.record_event("platform", "platform-change", change_on.isoformat(), detail)
        audit(store, ws, "platform-change", None, detail)
    return result
