"""`govcloud expire`, the scheduled job: remove the resources of temporary terms that have
ended, lower their quotas, close the inbound rules only they approved, record ``expired``
events and audit entries, and send expiry warnings. Idempotent; under the workspace lock, so
two runs at once act once (the second waits, then finds nothing to do, or gives up after
``lock_timeout`` and reports that it skipped)."""
from __future__ import annotations

import datetime as dt
from contextlib import ExitStack
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from .. import planfile
from ..calendar_files import workspace_calendar
from ..core import expiry as expiry_mod
from ..core.lifecycle import approval_status, calendar_problems, warnings_to_send
from ..core.remedies import status_remedy
from ..errors import GovcloudError, Issue, LockError
from ..extensions import extension_ends
from ..lifecycle_events import events_by_subject, record_apply
from ..models.approval import Approval, PermanentTerm
from ..models.config import TERM_END_FORMAT
from ..models.plan import Action, Plan
from ..notify import Notifier, send_all
from ..state.base import StateStore, default_actor
from ..workspace import Workspace
from . import expire_index
from .apply import execute
from .plan import compute_plan
from .session import locked, open_drivers, open_state

EXPIRE_FORMAT = "govcloud-expire/1"

# Called with the deletes of every object that holds tenant data (volumes, servers with their
# root disks) before any of them is deleted. The verified wipe itself runs per object in the
# executor's sanitize step (orchestrator.sanitize); a hook may refuse the whole run by raising
# GovcloudError, e.g. to require a backup first.
DATA_DELETE_HOOKS: list[Callable[[Workspace, list[Action]], None]] = []


def before_data_delete(ws: Workspace, actions: list[Action]) -> None:
    for hook in DATA_DELETE_HOOKS:
        hook(ws, actions)


@dataclass
class ExpireReport:
    now: str
    dry_run: bool
    skipped: str | None = None
    deletes: list[dict[str, Any]] = field(default_factory=list)
    quota: list[dict[str, Any]] = field(default_factory=list)
    rules: list[dict[str, Any]] = field(default_factory=list)     # inbound rules closed
    stale: list[dict[str, str]] = field(default_factory=list)
    held: list[dict[str, str]] = field(default_factory=list)
    results: list[dict[str, Any]] = field(default_factory=list)
    failed: int = 0
    expired: list[str] = field(default_factory=list)
    notices: list[dict[str, Any]] = field(default_factory=list)
    notify_failures: list[str] = field(default_factory=list)
    data_holding: list[str] = field(default_factory=list)
    calendar_missing: list[int] = field(default_factory=list)   # years a deadline needed
    calendar_warnings: list[str] = field(default_factory=list)  # once per run, not per approval
    nothing_due: bool = False     # the term index said so: nothing else was read (expire_index.py)

    @property
    def ok(self) -> bool:
        """False (exit 1) when a step or a notification failed, a due removal was skipped
        because its extension is not compiled yet, or a warning could not be computed (no
        calendar for its year): the job's owner must look."""
        return (not self.failed and not self.notify_failures and not self.stale
                and not self.calendar_missing)

    def to_dict(self) -> dict[str, Any]:
        return {"format": EXPIRE_FORMAT, **asdict(self)}


def expire(ws: Workspace, now: dt.datetime, dry_run: bool = False, max_deletes: int = 50,
           lock_timeout: float = 10.0, notifiers: list[Notifier] | None = None,
           parallelism: int = 4) -> ExpireReport:
    report = ExpireReport(now=now.isoformat(timespec="seconds"), dry_run=dry_run)
    with open_state(ws) as store, ExitStack() as held:
        try:
            held.enter_context(locked(store, "expire", lock_timeout, ws))
        except LockError as exc:   # another run holds it: that one acts
            report.skipped = exc.summary
            return report
        if not dry_run and expire_index.nothing_due(ws, store, now.date()):
            report.nothing_due = True      # the term index: one range read, no plan
            return report
        files = expire_index.files_fingerprint(ws)   # before reading them: a change meanwhile
        report._duty_due = {}                         # makes the next tick run in full
        _remove_ended(ws, store, now, report, max_deletes, parallelism)
        _record_and_notify(ws, store, now, report, notifiers or [])
        if not dry_run and report.ok:
            expired = {e["subject"] for e in store.events() if e["kind"] == "expired"}
            expire_index.rebuild(ws, store, now.date(), {a.approval_no: a for a in ws.load_approvals().values()},
                                 extension_ends(ws), expired, report._duty_due, files)
    return report


def _remove_ended(ws: Workspace, store: StateStore, now: dt.datetime, report: ExpireReport,
                  max_deletes: int, parallelism: int) -> None:
    today = now.date()
    ends = extension_ends(ws)
    resources = {r.address: r for s in ws.load_specs() for r in s.resources}
    with open_drivers(ws) as drivers:
        plan = compute_plan(ws, store, drivers, today)
        sel = expiry_mod.select(plan.actions, resources, today, ends)
        report.deletes = [{"address": a.address, "kind": a.kind, "approval": resources[a.address].approval,
                           "expires_on": str(resources[a.address].expires_on),
                           "cloud_id": (a.prior or {}).get("cloud_id")} for a in sel.deletes]
        report.quota = [{"address": a.address, "changes": a.changes} for a in sel.quota]
        report.rules = [{"address": a.address, "reason": a.reason,
                         "closed": [r for r in a.changes["rules"]["old"]
                                    if r not in a.changes["rules"]["new"]]} for a in sel.rules]
        report.stale = [{"address": addr, "why": why} for addr, why in sel.stale]
        report.held = [{"address": addr, "why": why} for addr, why in sel.held]
        report.data_holding = [a.address for a in sel.data_holding()]
        if len(sel.deletes) > max_deletes:
            raise GovcloudError(
                f"{len(sel.deletes)} objects are due for removal, more than --max-deletes "
                f"{max_deletes}", [Issue(a.address, a.reason) for a in sel.deletes],
                fix="check the list, then run again with a higher --max-deletes")
        if report.dry_run or not sel.actions:
            return
        sub = Plan(plan.workspace_id, plan.lineage, plan.serial, plan.inputs_digest,
                   sel.actions, created_at=report.now)
        sub.digest = planfile.sign(sub, store.get_meta("plan_key"))
        store.append_audit(default_actor(), "expire-start", ws.config.workspace.id, None,
                           {"now": report.now, "plan_digest": sub.digest,
                            "deletes": [d["address"] for d in report.deletes],
                            "quota": [q["address"] for q in report.quota],
                            "rules": [r["address"] for r in report.rules]})
        before_data_delete(ws, sel.data_holding())
        results = execute(ws, sub, store, drivers, parallelism, after=[record_apply(today)])
        report.results = [r.__dict__ for r in results]
        report.failed = sum(1 for r in results if r.outcome != "ok")


def _record_and_notify(ws: Workspace, store: StateStore, now: dt.datetime, report: ExpireReport,
                       notifiers: list[Notifier]) -> None:
    today = now.date()
    by_no = {a.approval_no: a for a in ws.load_approvals().values()}
    ends = extension_ends(ws)
    # Lifecycle: every ended term whose resources are all gone is expired (once).
    records = store.read().records
    events = events_by_subject(store)
    cal = workspace_calendar(ws.root)
    for no, a in sorted(by_no.items()):
        if isinstance(a.term, PermanentTerm):
            continue
        end = ends.get(no, a.term.end)
        kinds = {e["kind"] for e in events.get(no, [])}
        left = [r for r in records.values() if r.approval == no]
        if end < today and not left and "expired" not in kinds:     # end: the last day
            report.expired.append(no)
            notice = _notice("expired", a, end, None, None, ws, now,
                             f"{a.term.kind} {no} of {a.stack} ended on {end} (its last day): its resources were "
                             f"removed and its quota lowered; 临时资源已到期回收")
            report.notices.append(notice)
            if not report.dry_run:
                store.record_event(no, "expired", today.isoformat(), {
                    "end": end.isoformat(), "removed": [d["address"] for d in report.deletes
                                                        if d["approval"] == no]})
                report.notify_failures += send_all(notifiers, notice)
    # Warnings ahead of the end, each threshold once per end date.
    rows = []
    for no, a in sorted(by_no.items()):
        if isinstance(a.term, PermanentTerm) or no in report.expired:
            continue
        ev = events.get(no, [])
        st = approval_status(a, "", ws.profile, cal, ev, today, ends)
        rows.append(st)
        sent = {(e["detail"].get("threshold"), sent_end(e["detail"])) for e in ev
                if e["kind"] == "warning-sent"}
        due = warnings_to_send(st, ws.profile, sent)
        if not due:
            continue
        left = st.end_workdays_left
        remedy = status_remedy("expiry_warning_workdays", approval=no, system=a.stack)
        prov = (f" (provisional calendar for {', '.join(map(str, st.provisional))}: statutory "
                "holidays only; 按临时日历计算)") if st.provisional else ""
        notice = _notice("expiry-warning", a, st.end, left, due[0], ws, now,
                         f"{a.term.kind} {no} of {a.stack} ends on {st.end}: {left} working "
                         f"day{'s' if left != 1 else ''} left{prov}; 临时资源将于{st.end}到期，"
                         f"剩余{left}个工作日. What to do (department): {remedy}")
        notice["provisional"] = list(st.provisional)
        notice.update(rule="expiry_warning_workdays", actor="department", remedy=remedy)
        if _delivered(report, notifiers, notice):
            for w in due:
                store.record_event(no, "warning-sent", today.isoformat(),
                                   {"threshold": w, "end": st.end.isoformat(),
                                    "end_format": TERM_END_FORMAT,
                                    "workdays_left": left, "to": [n.name for n in notifiers]})
    _calendar_notice(ws, now, report, rows, notifiers)
    _duty_notices(ws, store, now, report, notifiers, by_no, events, ends)
    if not report.dry_run and (report.deletes or report.quota or report.rules or report.expired):
        store.append_audit(default_actor(), "expire-end", ws.config.workspace.id, None, {
            "now": report.now, "deleted": len(report.deletes) - report.failed,
            "failed": report.failed, "expired": report.expired,
            "notices": len(report.notices)})


def _calendar_notice(ws: Workspace, now: dt.datetime, report: ExpireReport, rows: list,
                     notifiers: list[Notifier]) -> None:
    """Warnings that could not be computed for lack of a calendar year: ONE notice for the run
    (naming every approval and year), sent like the others; the run then exits 1."""
    report.calendar_missing = sorted({y for r in rows for y in r.calendar_missing})
    report.calendar_warnings = calendar_problems(rows)
    if not report.calendar_missing:
        return
    nos = sorted({r.approval_no for r in rows if r.calendar_missing})
    years = ", ".join(map(str, report.calendar_missing))
    notice = {"type": "calendar-missing", "approval": None, "approvals": nos,
              "years": report.calendar_missing, "profile": ws.profile.code,
              "workspace": ws.config.workspace.id, "at": now.isoformat(timespec="seconds"),
              "message": f"expiry warnings for {len(nos)} approval(s) ({', '.join(nos)}) cannot be "
                         f"computed: no working-day calendar for {years}; import the State "
                         f"Council's notice (`govcloud calendar import NOTICE.txt`) or enable "
                         f"`govcloud calendar provisional YEAR`; 缺少{years}年工作日历，到期提醒无法计算"}
    report.notices.append(notice)
    if not report.dry_run:
        report.notify_failures += send_all(notifiers, notice)


def _duty_notices(ws: Workspace, store: StateStore, now: dt.datetime, report: ExpireReport,
                  notifiers: list[Notifier], by_no: dict[str, Approval],
                  events: dict[str, list[dict[str, Any]]], ends: dict[str, dt.date]) -> None:
    """Duties with clocks (the profile's obligations), each to its actor: one notice when it is
    due within a working day, one when it is overdue, per (duty, due date)."""
    keys = {o.key for o in ws.profile.obligations}
    if not keys:
        return
    today = now.date()
    cal = workspace_calendar(ws.root)
    for no, a in sorted(by_no.items()):
        ev = events.get(no, [])
        st = approval_status(a, "", ws.profile, cal, ev, today, ends)
        sent = {(e["detail"].get("obligation"), e["detail"].get("due"), e["detail"].get("stage"))
                for e in ev if e["kind"] == "warning-sent"}
        for d in st.deadlines:
            if d.key not in keys or d.due is None or d.done_on is not None:
                continue
            if (d.key, d.due.isoformat(), "overdue") not in sent:   # the term index's next day
                first = expire_index.duty_due_on(d.due)
                duty_due = getattr(report, "_duty_due", {})
                duty_due[no] = min(first, duty_due.get(no, first))
            stage = ("overdue" if d.overdue else "due-soon"
                     if d.workdays_left is not None and d.workdays_left <= 1 else None)
            if stage is None or (d.key, d.due.isoformat(), stage) in sent:
                continue
            notice = _notice("duty-" + stage, a, d.due, d.workdays_left, None, ws, now,
                             f"{d.actor}: {d.what} for {no} of {a.stack} "
                             f"{'was due' if d.overdue else 'is due'} on {d.due} ({d.citation}); "
                             f"{'已逾期' if d.overdue else '即将到期'}. What to do: {d.remedy}")
            notice["actor"], notice["duty"], notice["remedy"] = d.actor, d.key, d.remedy
            if _delivered(report, notifiers, notice):
                store.record_event(no, "warning-sent", today.isoformat(),
                                   {"obligation": d.key, "due": d.due.isoformat(), "stage": stage,
                                    "actor": d.actor, "to": [n.name for n in notifiers]})


def sent_end(detail: dict[str, Any]) -> str | None:
    """The last day of service a ``warning-sent`` event was sent for. Events recorded before
    ``end`` meant the last day (no ``end_format``) hold the first day without resources."""
    end = detail.get("end")
    if not end or detail.get("end_format") == TERM_END_FORMAT:
        return end
    return (dt.date.fromisoformat(str(end)[:10]) - dt.timedelta(days=1)).isoformat()


def _delivered(report, notifiers: list[Notifier], notice: dict[str, Any]) -> bool:
    """Report ``notice`` and send it (not on a dry run): true when every sink took it, so that
    the caller records it as sent (a failed sink is retried by the next run)."""
    report.notices.append(notice)
    if report.dry_run or not notifiers:
        return False
    failures = send_all(notifiers, notice)
    report.notify_failures += failures
    return not failures


def _notice(kind: str, a: Approval, end: dt.date, left: int | None, threshold: int | None,
            ws: Workspace, now: dt.datetime, message: str) -> dict[str, Any]:
    return {"type": kind, "approval": a.approval_no, "stack": a.stack,
            "department": a.department.name, "system": a.system.name, "term": a.term.kind,
            "end": end.isoformat(), "workdays_left": left, "threshold": threshold,
            "profile": ws.profile.code, "workspace": ws.config.workspace.id,
            "at": now.isoformat(timespec="seconds"), "message": message}

