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
from ..core.service_start import confirmed_start
from ..core.lifecycle import ApprovalStatus, approval_status, calendar_problems
from ..core.notes import Note, details, note
from ..core.obligations import annual_request
from ..errors import GovcloudError, Issue
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


def _not_future(on: dt.date, today: dt.date, option: str = "--date") -> None:
    if on > today:
        raise GovcloudError(f"{option} {on} is an event dated in the future (today is {today})",
                            [Issue(option, "an event is recorded once it happened")],
                            fix="give the day it happened, or record it once it has")


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
    profile_notes: list[Note] = field(default_factory=list)  # a Note per profile warning

    @property
    def calendar_warnings(self) -> list[str]:
        return calendar_problems(self.rows)

    @property
    def calendar_missing(self) -> list[int]:
        return sorted({y for r in self.rows for y in r.calendar_missing})

    @property
    def shown(self) -> list[ApprovalStatus]:
        return [r for r in self.rows if r.overdue] if self.overdue_only else self.rows

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-status/1", "today": self.today.isoformat(),
                "profile": self.profile, "profile_warnings": self.profile_warnings,
                "profile_warning_details": details(self.profile_warnings, self.profile_notes),
                "calendar_warnings": self.calendar_warnings,
                "calendar_missing": self.calendar_missing,
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
    notes = [note(ws.profile, w, key="profile") for w in ws.profile.warnings(today)]
    if (w := catalog_warning(ws.profile, ws.catalog.revised_on, today)) is not None:
        notes.append(note(ws.profile, w, "catalog_revision_months", actor="bureau",
                          field="revised_on", file="catalog/services.yaml"))
    return StatusReport(today, ws.profile.code, [n.text for n in notes], rows, overdue_only,
                        orphaned, annual_request(ws.profile, today), notes)


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
    file, a, approvals = find_approval(ws, approval_no)
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
        try:
            check = policy.check_extension(a, current, until, request_date, now.date(), ws.profile,
                                           workspace_calendar(ws.root))
        except policy.PolicyViolation as exc:
            exc.file = file     # the refusal names the approval it is about
            raise
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
    document: str | None = None       # the written request (number or file)
    kind: str = "exit-requested"      # or exit-approved (approve-exit)
    stack: str = ""
    orphaned: bool = False            # its approval file is gone (state still has the system)

    def to_dict(self) -> dict[str, Any]:
        fmt = "request-exit" if self.kind == "exit-requested" else "approve-exit"
        return {"format": f"govcloud-{fmt}/1", **asdict(self)}


def _exit_subject(ws: Workspace, store, approval_no: str) -> tuple[str, bool, dict[str, Approval]]:
    """(stack, orphaned?, every approval): an approval under approvals/, or one whose file is gone
    but whose system is still in state (an orphaned system leaves through the exit process)."""
    try:
        _, a, approvals = find_approval(ws, approval_no)
        return a.stack, False, approvals
    except GovcloudError:
        stacks = {r.stack for r in store.read().records.values()
                  if r.approval == approval_no and r.stack}
        if len(stacks) != 1:
            raise
        return stacks.pop(), True, ws.load_approvals()


def _exit_deadlines(ws: Workspace, on: dict[str, dt.date], approval_no: str = "APPROVAL",
                    stack: str = "SYSTEM") -> list[dict[str, Any]]:
    """The transition and reclaim deadlines known so far, each with who acts and what to do."""
    from ..core import exit as exitp
    from ..core.remedies import status_remedy
    cal = workspace_calendar(ws.root)
    p, out = ws.profile, []
    until, start = exitp.transition_until(p, on)
    if until is not None:
        r = p.rules.exit_transition_months
        out.append({"key": "transition", "due": until.isoformat(), "from": start,
                    "what": f"{r.value}-month transition (过渡期) from {start} ends: wipe and "
                            f"reclaim not before", "citation": p.cite(r), "actor": "department",
                    "rule": "exit_transition_months",
                    "remedy": status_remedy("exit_transition_months", approval=approval_no,
                                            system=stack)})
    try:
        due, start = exitp.reclaim_due(p, on, cal)
    except GovcloudError as exc:
        due, start = None, exc.summary
    if due is not None:
        r = p.rules.reclaim_deadline_workdays
        out.append({"key": "reclaim", "due": due.isoformat(), "from": start,
                    "what": f"resources reclaimed within {r.value} working days of {start}",
                    "citation": p.cite(r), "actor": "provider",
                    "rule": "reclaim_deadline_workdays",
                    "remedy": status_remedy("reclaim_deadline_workdays", approval=approval_no,
                                            system=stack)})
    return out


def request_exit(ws: Workspace, approval_no: str, on: dt.date, today: dt.date,
                 document: str | None = None) -> ExitRequested:
    """Record the department's written exit request (退出申请), in the order the profile
    gives (四川 第十八条: only after the backup and the offline)."""
    return _record_exit(ws, approval_no, "exit-requested", on, today, document)


def approve_exit(ws: Workspace, approval_no: str, on: dt.date, today: dt.date,
                 document: str | None = None) -> ExitRequested:
    """Record the bureau's approval of the exit (大同 第十六条 审核通过: the reclaim clock)."""
    return _record_exit(ws, approval_no, "exit-approved", on, today, document)


def _record_exit(ws: Workspace, approval_no: str, kind: str, on: dt.date, today: dt.date,
                 document: str | None) -> ExitRequested:
    from ..core import exit as exitp
    _not_future(on, today)
    with open_state(ws) as store:
        stack, orphaned, approvals = _exit_subject(ws, store, approval_no)
        own = next(((f, x) for f, x in approvals.items() if x.approval_no == approval_no), None)
        if own is not None and on < own[1].approved_on:
            raise GovcloudError(f"--date {on} is before {approval_no} was approved "
                                f"({own[1].approved_on}): an exit cannot be requested for "
                                f"resources not yet approved",
                                [Issue("--date", f"{on} < approved_on {own[1].approved_on}",
                                       file=own[0])],
                                fix=f"give the date of the event, on or after {own[1].approved_on}")
        try:
            policy.check_exit_of(approval_no, approvals.values(), ws.profile, on)
        except policy.PolicyViolation as exc:
            exc.file = own[0] if own else None    # the refusal names the old system's approval
            raise
        if not orphaned:
            sync_approved(store, approvals)
        ev = events_by_subject(store).get(approval_no, [])
        known = exitp.first_dates(ev)
        prior = [e for e in ev if e["kind"] == kind]
        started = confirmed_start(ws.profile, own[1] if own else None, ev)
        if not prior and started is not None and on < started[1]:
            what = "requested" if kind == "exit-requested" else "approved"
            raise GovcloudError(f"--date {on} is before {approval_no}'s confirmed start "
                                f"({started[0]} on {started[1]}): an exit cannot be {what} "
                                f"for a service before it started",
                                [Issue("--date", f"{on} < {started[0]} {started[1]}",
                                       file=own[0] if own else None)],
                                fix=f"give the date of the {kind} document, on or after "
                                    f"{started[1]}")
        if prior:
            return ExitRequested(approval_no, prior[0]["on"], False, _exit_deadlines(ws, known, approval_no, stack),
                                 prior[0].get("detail", {}).get("document"), kind, stack, orphaned)
        if "terminated" in known:
            raise GovcloudError(f"{approval_no} was terminated on {known['terminated']}: "
                                f"there is nothing left to exit")
        if kind == "exit-requested":
            stage_on = {k: d for k, d in known.items() if d <= on}
            absent = exitp.missing(ws.profile, "request", stage_on)
            if absent:
                raise exitp.refusal(ws.profile, "request",
                                    f"exit request for {approval_no} refused", absent)
        else:
            req = known.get("exit-requested")
            if req is None:
                raise exitp.refusal(ws.profile, "start", f"cannot approve the exit of "
                                    f"{approval_no}", ["exit-requested"])
            if on < req:
                raise GovcloudError(f"--date {on} is before the exit request ({req})")
        detail = {"stack": stack, "document": document, "orphaned": orphaned}
        store.record_event(approval_no, kind, on.isoformat(), detail)
        audit(store, ws, kind, approval_no, {"on": on.isoformat(), **detail})
        known[kind] = on
    return ExitRequested(approval_no, on.isoformat(), True, _exit_deadlines(ws, known, approval_no, stack), document,
                         kind, stack, orphaned)


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
                    approved_on: dt.date | None = None,
                    today: dt.date | None = None) -> PlatformChange:
    if today is not None:   # --date is the planned change; the notice and approval happened
        _not_future(notified_on, today, "--notified")
        if approved_on is not None:
            _not_future(approved_on, today, "--approved-on")
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
