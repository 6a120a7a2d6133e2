"""Use cases of the policy profiles and the lifecycle: calendar, extensions, delivery, status,
exit requests, platform-change notices and the scheduled expiry job.

Like :mod:`orchestrator.service`, this is where the pure core (policy, lifecycle, expiry,
workdays) meets files, the state store and drivers. Lifecycle events go through the state store's
``record_event``; every recorded decision also gets an audit entry.
"""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from . import clock
from .core import policy
from .calendar_files import default_calendar_dir, load_calendar
from .errors import GovcloudError, InputError, Issue, LockError
from .inputs import parse, read_yaml
from .core.lifecycle import ApprovalStatus, approval_status, warnings_to_send
from .models.approval import Approval, PermanentTerm
from .models.extension import Extension, ExtensionFile
from .models.plan import Action, Plan
from .models.profile import Profile
from .notify import Notifier, send_all
from .core.workdays import WorkCalendar
from .workspace import Workspace, load_profile

EXTENSIONS_DIR = "extensions"


# --- calendar ----------------------------------------------------------------------------------
def calendar_dirs(ws: Workspace | None) -> list[Path]:
    """The shipped catalog/calendar, then the workspace's (which overrides or adds years)."""
    dirs = [default_calendar_dir()]
    if ws is not None:
        dirs.append(ws.root / "catalog" / "calendar")
    return dirs


def workspace_calendar(ws: Workspace | None) -> WorkCalendar:
    return load_calendar(calendar_dirs(ws))


def calendar_check(ws: Workspace | None, files: list[Path]) -> list[dict[str, Any]]:
    """Validate calendar files (given ones, or every file the workspace would load)."""
    from .calendar_files import calendar_files, load_calendar_file
    paths = list(files)
    if not paths:
        for d in calendar_dirs(ws):
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
    return out


# --- profiles ----------------------------------------------------------------------------------
def profile_named(ws: Workspace | None, name: str | None) -> Profile:
    if name is None:
        if ws is None:
            raise GovcloudError("which profile? give a NAME (bazhong, datong, chongqing, bozhou, "
                                "sichuan) or -C a workspace")
        return ws.profile
    extra = [ws.root / "catalog" / "profiles"] if ws is not None else []
    return load_profile(name, extra, where="profile: name")


# --- approvals -----------------------------------------------------------------------------------
def find_approval(ws: Workspace, approval_no: str) -> tuple[str, Approval, dict[str, Approval]]:
    approvals = ws.load_approvals()
    for f, a in approvals.items():
        if a.approval_no == approval_no:
            return f, a, approvals
    known = sorted(a.approval_no for a in approvals.values())
    close = difflib.get_close_matches(approval_no, known, n=1)
    raise GovcloudError(f"no approval {approval_no!r} under approvals/"
                        + (f" (did you mean {close[0]!r}?)" if close else ""),
                        fix="see the approval_no fields of approvals/*.yaml")


# --- extensions ---------------------------------------------------------------------------------
def extension_files(ws: Workspace) -> list[Path]:
    d = ws.root / EXTENSIONS_DIR
    if not d.is_dir():
        return []
    return sorted(p for p in d.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith("."))


def load_extensions(ws: Workspace) -> tuple[dict[str, tuple[str, ExtensionFile]], list[InputError]]:
    out: dict[str, tuple[str, ExtensionFile]] = {}
    errors = []
    for p in extension_files(ws):
        display = ws.rel(p)
        try:
            ext = parse(ExtensionFile, read_yaml(p, display), display)
        except InputError as exc:
            errors.append(exc)
            continue
        if p.stem != ext.approval_no:
            errors.append(InputError(display, [Issue("approval_no", f"{ext.approval_no!r} does not "
                                     f"match the file name {p.name!r}")]))
            continue
        out[ext.approval_no] = (display, ext)
    return out, errors


def extension_ends(ws: Workspace) -> dict[str, dt.date]:
    exts, _ = load_extensions(ws)
    return {no: e.until for no, (_, e) in exts.items()}


def extension_issues(ws: Workspace, approvals: dict[str, Approval]) -> list[InputError]:
    exts, errors = load_extensions(ws)
    by_no = {a.approval_no: a for a in approvals.values()}
    for no, (display, ext) in sorted(exts.items()):
        a = by_no.get(no)
        if a is None:
            errors.append(InputError(display, [Issue("approval_no", f"no approval {no!r} under "
                                     "approvals/ (remove the file with its approval)")]))
        elif isinstance(a.term, PermanentTerm):
            errors.append(InputError(display, [Issue("approval_no", f"{no} is permanent: only "
                                     "windows and emergency terms are extended")]))
        elif ext.extensions[0].previous_end != a.term.end:
            errors.append(InputError(display, [Issue("extensions[0].previous_end",
                f"{ext.extensions[0].previous_end} is not the approval's term.end {a.term.end}")]))
    return errors


def policy_errors(ws: Workspace, approvals: dict[str, Approval],
                  base: list[InputError]) -> list[InputError]:
    """The validate pass: cross-document errors plus the profile's rules and extension files."""
    errors = policy.check_all(approvals, ws.catalog, ws.profile, ws.config, clock.today(), base)
    return errors + extension_issues(ws, approvals)


def _write_extension(ws: Workspace, approval_no: str, ext: Extension) -> Path:
    exts, errors = load_extensions(ws)
    for err in errors:
        if Path(err.file).stem == approval_no:
            raise err
    prior = exts.get(approval_no)
    records = (list(prior[1].extensions) if prior else []) + [ext]
    data = ExtensionFile(approval_no=approval_no, extensions=records).model_dump(mode="json")
    path = ws.root / EXTENSIONS_DIR / f"{approval_no}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# Recorded by `govcloud extend` after the profile accepted it; read by "
            "`govcloud compile`.\n# Review and commit with the recompiled stacks/.\n"
            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


# --- events ----------------------------------------------------------------------------------
def _events_by_subject(store) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in store.events():
        out.setdefault(e["subject"], []).append(e)
    return out


def sync_approved(store, approvals: dict[str, Approval]) -> int:
    """Record the ``approved`` event of every approval that has none (its date: approved_on)."""
    have = {e["subject"] for e in store.events() if e["kind"] == "approved"}
    n = 0
    for a in sorted(approvals.values(), key=lambda a: a.approval_no):
        if a.approval_no not in have:
            store.record_event(a.approval_no, "approved", a.approved_on.isoformat(),
                               {"stack": a.stack, "term": a.term.kind})
            n += 1
    return n


def _audit(store, ws: Workspace, action: str, approval: str | None, detail: dict[str, Any]):
    from .state.base import default_actor
    store.append_audit(default_actor(), action, ws.config.workspace.id, approval, detail)


# --- status ----------------------------------------------------------------------------------
@dataclass
class StatusReport:
    today: dt.date
    profile: str
    profile_warnings: list[str]
    rows: list[ApprovalStatus]

    def to_dict(self) -> dict[str, Any]:
        return {"today": self.today.isoformat(), "profile": self.profile,
                "profile_warnings": self.profile_warnings,
                "overdue": sum(1 for r in self.rows if r.overdue),
                "approvals": [r.to_dict() for r in self.rows]}


def status(ws: Workspace, today: dt.date) -> StatusReport:
    from .service import open_state
    approvals = ws.load_approvals()
    cal = workspace_calendar(ws)
    ends = extension_ends(ws)
    store = open_state(ws)
    try:
        events = _events_by_subject(store)
    finally:
        store.close()
    rows = [approval_status(a, f, ws.profile, cal, events.get(a.approval_no, []), today, ends)
            for f, a in sorted(approvals.items(), key=lambda kv: kv[1].approval_no)]
    return StatusReport(today, ws.profile.code, ws.profile.warnings(today), rows)


# --- delivery, extension, exit, platform change -------------------------------------------------
def confirm_delivery(ws: Workspace, approval_no: str, on: dt.date, today: dt.date) -> dict[str, Any]:
    from .service import open_state
    _, a, approvals = find_approval(ws, approval_no)
    if on > today:
        raise GovcloudError(f"--date {on} is in the future (today is {today})")
    store = open_state(ws)
    try:
        sync_approved(store, approvals)
        ev = _events_by_subject(store).get(approval_no, [])
        prov = [e for e in ev if e["kind"] == "provisioned"]
        done = [e for e in ev if e["kind"] == "delivery-confirmed"]
        if not prov:
            raise GovcloudError(f"{approval_no} is not provisioned yet: no apply has completed its "
                                f"resources, so there is nothing to confirm",
                                fix="run `govcloud apply` first")
        if done:
            if done[0]["on"] == on.isoformat():
                return {"approval": approval_no, "confirmed_on": done[0]["on"], "recorded": False}
            raise GovcloudError(f"{approval_no}'s delivery was already confirmed on {done[0]['on']}")
        if on < dt.date.fromisoformat(prov[0]["on"]):
            raise GovcloudError(f"--date {on} is before the resources were provisioned "
                                f"({prov[0]['on']})")
        detail = {"stack": a.stack, "provisioned_on": prov[0]["on"],
                  "note": "billing starts at the delivery confirmation (交付确认)"}
        store.record_event(approval_no, "delivery-confirmed", on.isoformat(), detail)
        _audit(store, ws, "delivery-confirmed", approval_no, {"on": on.isoformat(), **detail})
    finally:
        store.close()
    return {"approval": approval_no, "confirmed_on": on.isoformat(), "recorded": True}


def extend(ws: Workspace, approval_no: str, until: dt.date, request_date: dt.date,
           today: dt.date) -> dict[str, Any]:
    from .service import open_state
    from .state.base import default_actor
    _, a, approvals = find_approval(ws, approval_no)
    exts, errors = load_extensions(ws)
    for err in errors:
        raise err
    current = exts[approval_no][1].until if approval_no in exts else getattr(a.term, "end", None)
    store = open_state(ws)
    try:
        ev = _events_by_subject(store).get(approval_no, [])
        gone = [e for e in ev if e["kind"] in ("expired", "terminated")]
        if gone:
            raise GovcloudError(f"{approval_no} already {gone[0]['kind']} on {gone[0]['on']}: "
                                f"there is nothing left to extend", fix="file a new application")
        check = policy.check_extension(a, current, until, request_date, today, ws.profile,
                                       workspace_calendar(ws))
        path = _write_extension(ws, approval_no, Extension(
            previous_end=current, until=until, requested_on=request_date,
            recorded_by=default_actor(), recorded_at=clock.now().isoformat(timespec="seconds")))
        sync_approved(store, approvals)
        detail = {"previous_end": current.isoformat(), "until": until.isoformat(),
                  "requested_on": request_date.isoformat(), "kind": check.kind,
                  "notice_workdays": check.notice_workdays, "file": ws.rel(path)}
        store.record_event(approval_no, "extended", request_date.isoformat(), detail)
        _audit(store, ws, "extend", approval_no, detail)
    finally:
        store.close()
    return {"approval": approval_no, **detail,
            "latest_request": check.latest_request.isoformat() if check.latest_request else None}


def request_exit(ws: Workspace, approval_no: str, on: dt.date, today: dt.date) -> dict[str, Any]:
    from .service import open_state
    _, a, approvals = find_approval(ws, approval_no)
    if on > today:
        raise GovcloudError(f"--date {on} is in the future (today is {today})")
    policy.check_exit(a, approvals.values(), ws.profile, on)
    store = open_state(ws)
    try:
        sync_approved(store, approvals)
        ev = _events_by_subject(store).get(approval_no, [])
        prior = [e for e in ev if e["kind"] == "exit-requested"]
        if prior:
            return {"approval": approval_no, "requested_on": prior[0]["on"], "recorded": False}
        detail = {"stack": a.stack}
        store.record_event(approval_no, "exit-requested", on.isoformat(), detail)
        _audit(store, ws, "exit-requested", approval_no, {"on": on.isoformat(), **detail})
        st = approval_status(a, "", ws.profile, workspace_calendar(ws),
                             ev + [{"kind": "exit-requested", "on": on.isoformat(), "detail": {}}],
                             today, extension_ends(ws))
    finally:
        store.close()
    return {"approval": approval_no, "requested_on": on.isoformat(), "recorded": True,
            "deadlines": [d.to_dict() for d in st.deadlines if d.key in ("transition", "reclaim")]}


def platform_change(ws: Workspace, change_on: dt.date, notified_on: dt.date,
                    summary: str) -> dict[str, Any]:
    from .service import open_state
    gap = policy.check_platform_notice(change_on, notified_on, ws.profile, workspace_calendar(ws))
    store = open_state(ws)
    try:
        detail = {"change_on": change_on.isoformat(), "notified_on": notified_on.isoformat(),
                  "notice_workdays": gap, "summary": summary}
        store.record_event("platform", "platform-change", change_on.isoformat(), detail)
        _audit(store, ws, "platform-change", None, detail)
    finally:
        store.close()
    return detail


# --- the apply hook: provisioned / changed ------------------------------------------------------
def after_apply(ws: Workspace, store, plan: Plan, results: list,
                owners: dict[str, str | None] | None = None) -> None:
    """Called by service.execute after the executor ran: records ``approved`` for new approvals,
    ``provisioned`` for every approval this apply completed, ``changed`` for provisioned
    approvals whose resources it changed (and for the approval a provisioned change amends).
    ``owners``: address -> approval of the state records before the apply (for deletes).
    Bookkeeping must never fail an apply: problems become an audit entry."""
    try:
        _after_apply(ws, store, plan, results, owners or {})
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        try:
            _audit(store, ws, "lifecycle-error", None, {"error": f"{type(exc).__name__}: {exc}"})
        except Exception:  # noqa: BLE001
            pass


def _after_apply(ws: Workspace, store, plan: Plan, results: list,
                 owners: dict[str, str | None]) -> None:
    # The plan was made for today: what it wants of an approval (actions with a desired value)
    # is exactly that approval's due resources; scheduled and expired ones carry none.
    today = clock.today()
    due: dict[str, list[str]] = {}
    touched: set[str] = set()
    changed: dict[str, list[str]] = {}
    for act in plan.actions:
        no = (act.desired or {}).get("approval")
        if no:
            due.setdefault(no, []).append(act.address)
        else:
            no = owners.get(act.address)
        if act.action == "no-op" or not no:
            continue
        touched.add(no)
        if act.kind != "quota" and not act.reason.startswith("expired on"):
            changed.setdefault(no, []).append(f"{act.action} {act.address}")
    if not touched:
        return
    approvals = {a.approval_no: a for a in ws.load_approvals().values()}
    sync_approved(store, approvals)
    records = store.read().records
    events = _events_by_subject(store)
    on = today.isoformat()
    for no in sorted(touched):
        kinds = {e["kind"] for e in events.get(no, [])}
        if "provisioned" in kinds:
            if changed.get(no):
                store.record_event(no, "changed", on, {"plan_digest": plan.digest,
                                                       "actions": changed[no][:100]})
            continue
        if due.get(no) and all(addr in records and records[addr].status == "ok"
                               for addr in due[no]):
            store.record_event(no, "provisioned", on, {"plan_digest": plan.digest,
                                                       "resources": len(due[no])})
            a = approvals.get(no)
            if a is not None and a.change_of:
                store.record_event(a.change_of, "changed", on, {"change": no,
                                                                "plan_digest": plan.digest})


# --- the scheduled expiry job --------------------------------------------------------------------
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

    @property
    def ok(self) -> bool:
        """False (exit 1) when a step or a notification failed, or a due removal was skipped
        because its extension is not compiled yet: the job's owner must look."""
        return not self.failed and not self.notify_failures and not self.stale

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def expire(ws: Workspace, now: dt.datetime, dry_run: bool = False, max_deletes: int = 50,
           lock_timeout: float = 10.0, notifiers: list[Notifier] | None = None,
           parallelism: int = 4) -> ExpireReport:
    """Remove the resources of temporary terms that have ended, lower their quotas, record
    ``expired`` events and audit entries, send expiry warnings. Idempotent; under the workspace
    lock, so two runs at once act once (the second waits, then finds nothing to do, or gives up
    after ``lock_timeout`` and reports that it skipped)."""
    from .service import open_state
    report = ExpireReport(now=now.isoformat(timespec="seconds"), dry_run=dry_run)
    store = open_state(ws)
    try:
        try:
            lock = store.acquire("expire", lock_timeout)
        except LockError as exc:
            report.skipped = exc.summary
            return report
        try:
            _expire_locked(ws, store, now, report, max_deletes, notifiers or [], parallelism)
        finally:
            store.release(lock)
    finally:
        store.close()
    return report


def _expire_locked(ws: Workspace, store, now: dt.datetime, report: ExpireReport,
                   max_deletes: int, notifiers: list[Notifier], parallelism: int) -> None:
    from .service import close_all, compute_plan, execute, sign
    from .core import expiry as expiry_mod   # graph, spec models: not for validate
    from .state.base import default_actor
    today = now.date()
    approvals = ws.load_approvals()
    by_no = {a.approval_no: a for a in approvals.values()}
    ends = extension_ends(ws)
    specs = ws.load_specs()
    resources = {r.address: r for s in specs for r in s.resources}
    plan, drivers = compute_plan(ws, store, today=today)
    try:
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
            close_all(drivers)
            drivers = {}
        else:
            sub = Plan(plan.workspace_id, plan.lineage, plan.serial, plan.inputs_digest,
                       sel.actions, created_at=report.now)
            sub.digest = sign(sub, store.get_meta("plan_key"))
            store.append_audit(default_actor(), "expire-start", ws.config.workspace.id, None,
                               {"now": report.now, "plan_digest": sub.digest,
                                "deletes": [d["address"] for d in report.deletes],
                                "quota": [q["address"] for q in report.quota],
                                "rules": [r["address"] for r in report.rules]})
            before_data_delete(ws, sel.data_holding())
            results = execute(ws, sub, store, drivers, parallelism)
            drivers = {}
            report.results = [r.__dict__ for r in results]
            report.failed = sum(1 for r in results if r.outcome != "ok")
    finally:
        close_all(drivers)

    # Lifecycle: every ended term whose resources are all gone is expired (once).
    records = store.read().records
    events = _events_by_subject(store)
    cal = workspace_calendar(ws)
    for no, a in sorted(by_no.items()):
        if isinstance(a.term, PermanentTerm):
            continue
        end = ends.get(no, a.term.end)
        kinds = {e["kind"] for e in events.get(no, [])}
        left = [r for r in records.values() if r.approval == no]
        if end <= today and not left and "expired" not in kinds:
            report.expired.append(no)
            notice = _notice("expired", a, end, None, None, ws, now,
                             f"{a.term.kind} {no} of {a.stack} ended on {end}: its resources were "
                             f"removed and its quota lowered; 临时资源已到期回收")
            report.notices.append(notice)
            if not report.dry_run:
                store.record_event(no, "expired", today.isoformat(), {
                    "end": end.isoformat(), "removed": [d["address"] for d in report.deletes
                                                        if d["approval"] == no]})
                report.notify_failures += send_all(notifiers, notice)
    # Warnings ahead of the end, each threshold once per end date.
    for no, a in sorted(by_no.items()):
        if isinstance(a.term, PermanentTerm) or no in report.expired:
            continue
        ev = events.get(no, [])
        st = approval_status(a, "", ws.profile, cal, ev, today, ends)
        sent = {(e["detail"].get("threshold"), e["detail"].get("end")) for e in ev
                if e["kind"] == "warning-sent"}
        due = warnings_to_send(st, ws.profile, sent)
        if not due:
            continue
        left = st.end_workdays_left
        notice = _notice("expiry-warning", a, st.end, left, due[0], ws, now,
                         f"{a.term.kind} {no} of {a.stack} ends on {st.end}: {left} working "
                         f"day{'s' if left != 1 else ''} left; request an extension in time or "
                         f"let it expire; 临时资源将于{st.end}到期，剩余{left}个工作日")
        report.notices.append(notice)
        if report.dry_run or not notifiers:
            continue
        failures = send_all(notifiers, notice)
        report.notify_failures += failures
        if not failures:
            for w in due:
                store.record_event(no, "warning-sent", today.isoformat(),
                                   {"threshold": w, "end": st.end.isoformat(),
                                    "workdays_left": left, "to": [n.name for n in notifiers]})
    if not report.dry_run and (report.deletes or report.quota or report.rules or report.expired):
        store.append_audit(default_actor(), "expire-end", ws.config.workspace.id, None, {
            "now": report.now, "deleted": len(report.deletes) - report.failed,
            "failed": report.failed, "expired": report.expired,
            "notices": len(report.notices)})


def _notice(kind: str, a: Approval, end: dt.date, left: int | None, threshold: int | None,
            ws: Workspace, now: dt.datetime, message: str) -> dict[str, Any]:
    return {"type": kind, "approval": a.approval_no, "stack": a.stack,
            "department": a.department.name, "system": a.system.name, "term": a.term.kind,
            "end": end.isoformat(), "workdays_left": left, "threshold": threshold,
            "profile": ws.profile.code, "workspace": ws.config.workspace.id,
            "at": now.isoformat(timespec="seconds"), "message": message}
