"""Lifecycle clocks of an approval: its state, its deadlines from the profile, warnings. Pure.

Inputs are values: the approval, the profile, a working-day calendar, the approval's lifecycle
events (as stored by the state store: ``{"kind", "on", "detail"}``), its effective end (after
recorded extensions) and today. Event kinds:

========================  =================================================================
``approved``              from the approval (``approved_on``)
``provisioned``           the apply that completed all of the approval's due resources
``delivery-confirmed``    ``govcloud confirm-delivery`` (交付确认; billing starts there)
``changed``               an apply changed a provisioned approval's resources, or a change
                          approval (``change_of``) amending it was provisioned
``extended``              ``govcloud extend`` accepted an extension
``expired``               ``govcloud expire`` removed the term's resources
``exit-requested``        ``govcloud request-exit`` (退出申请)
``warning-sent``          an expiry warning went out through the notifiers (one per threshold)
``offline``/``terminated``  recorded by ``govcloud decommission``
========================  =================================================================

Deadlines counted in working days use :class:`~orchestrator.core.workdays.WorkCalendar` (start day not
counted); a deadline whose year has no calendar data carries the error instead of a guess.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Callable

from ..errors import GovcloudError
from ..models.approval import Approval, EmergencyTerm, PermanentTerm, WindowTerm
from ..models.profile import Profile
from . import exit as exitp
from .emergency import fast_track_flags
from .golive import gate_flags
from .notes import Note, details, note
from .obligations import obligation_items, out_of_plan_warning
from .remedies import record_remedy, status_remedy
from .workdays import CalendarMissingYear, WorkCalendar, add_months

EVENT_KINDS = ("approved", "provisioned", "delivery-confirmed", "changed", "extended", "expired",
               "exit-requested", "warning-sent", "offline", "terminated",
               # the exit process (core/exit.py; each city orders them in rules.exit_process)
               "exit-approved", "backed-up", "held-until", "wiped", "wipe-failed", "verified",
               "reclaimed",
               # a decommission backup wiped, verified and deleted past its retention
               "backup-destroyed",
               # go-live, tests and filings, recorded by `govcloud record-event` (RECORDABLE)
               "deployment-completed", "configuration-completed", "emergency-filed",
               "trial-passed", "security-tested", "tests-completed", "test-report-approved",
               "cutover", "went-live", "tests-filed", "contract-signed", "contract-filed",
               "project-approval-filed")

# Kinds `govcloud record-event` records (results, milestones and filings with their documents).
RECORDABLE = EVENT_KINDS[EVENT_KINDS.index("deployment-completed"):]


# Who owes the built-in deadlines (the profile's obligations name their own actor).
ACTORS = {"provision": "provider", "deploy": "department", "backfill": "department",
          "extension-request": "department", "reclaim": "provider", "transition": "department",
          "keep-old-system": "department", "end": "provider", "exit-work": "department"}


@dataclass
class Deadline:
    key: str               # what it is: provision, deploy, backfill, extension-request, end, ...
    what: str              # human text
    due: date | None
    rule: str = ""         # profile key ("" when it comes from the approval itself)
    citation: str = ""
    done_on: date | None = None
    overdue: bool = False
    late: bool = False      # done, but after the due date
    workdays_left: int | None = None   # working days from today to due (negative: overdue)
    hard: bool = True       # False: a date to know (e.g. last day to request an extension)
    error: str | None = None
    actor: str = ""         # who owes it: provider | department | bureau ("" when not stated)
    remedy: str = ""        # what to do about it, English; 处理：Chinese (core/remedies.py)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("due", "done_on"):
            d[k] = d[k].isoformat() if d[k] else None
        return d


@dataclass
class ApprovalStatus:
    approval_no: str
    stack: str
    file: str
    kind: str                    # permanent | window | emergency
    state: str
    start: date | None
    end: date | None             # effective end (after extensions)
    events: dict[str, str]       # kind -> first date
    today: date
    deadlines: list[Deadline] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    end_workdays_left: int | None = None
    calendar_missing: set[int] = field(default_factory=set)     # years without data it needed
    provisional: tuple[int, ...] = ()    # provisional calendar years its dates were counted in
    held_until: date | None = None     # the exit's transition hold (held-until event)
    flag_details: list[Note] = field(default_factory=list)      # a Note per flag text
    warning_details: list[Note] = field(default_factory=list)   # a Note per warning text

    def flag(self, n: Note) -> None:
        self.flags.append(n.text)
        self.flag_details.append(n)

    def warn(self, n: Note) -> None:
        self.warnings.append(n.text)
        self.warning_details.append(n)

    @property
    def next_deadline(self) -> Deadline | None:
        open_ = [d for d in self.deadlines if d.done_on is None and d.due is not None
                 and (d.hard or d.due >= self.today)]
        if not open_:
            return None
        return sorted(open_, key=lambda d: (not d.overdue, d.due))[0]

    @property
    def overdue(self) -> bool:
        return any(d.overdue for d in self.deadlines)

    def to_dict(self) -> dict[str, Any]:
        nd = self.next_deadline
        return {"approval_no": self.approval_no, "stack": self.stack, "file": self.file,
                "kind": self.kind, "state": self.state,
                "start": self.start.isoformat() if self.start else None,
                "end": self.end.isoformat() if self.end else None,
                "end_workdays_left": self.end_workdays_left,
                "events": self.events, "overdue": self.overdue,
                "next_deadline": nd.to_dict() if nd else None,
                "deadlines": [d.to_dict() for d in self.deadlines],
                "warnings": self.warnings, "flags": self.flags,
                "warning_details": details(self.warnings, self.warning_details),
                "flag_details": details(self.flags, self.flag_details),
                "calendar_missing": sorted(self.calendar_missing),
                "provisional": list(self.provisional),
                "held_until": self.held_until.isoformat() if self.held_until else None}


def term_kind(a: Approval) -> str:
    return a.term.kind


def effective_end(a: Approval, extension_ends: dict[str, date] | None = None) -> date | None:
    if isinstance(a.term, PermanentTerm):
        return None
    return (extension_ends or {}).get(a.approval_no, a.term.end)


def first_events(events: list[dict[str, Any]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for e in events:
        out.setdefault(e["kind"], e["on"])
    return out


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def _safe(fn: Callable[[], Any], missing: set[int] | None = None) -> tuple[Any, str | None]:
    try:
        return fn(), None
    except GovcloudError as exc:   # CalendarMissingYear: say which file to add
        if missing is not None and isinstance(exc, CalendarMissingYear):
            missing.add(exc.year)
        return None, exc.summary


def calendar_problems(rows: list["ApprovalStatus"]) -> list[str]:
    """One warning per run (not per approval or deadline) for the calendar years that were
    missing or provisional, naming the approvals affected and what to do."""
    out = []
    missing: dict[int, list[str]] = {}
    prov: dict[int, list[str]] = {}
    for r in rows:
        for y in r.calendar_missing:
            missing.setdefault(y, []).append(r.approval_no)
        for y in r.provisional:
            prov.setdefault(y, []).append(r.approval_no)
    for y, nos in sorted(missing.items()):
        out.append(f"no working-day calendar for {y}: deadlines of {len(nos)} approval(s) "
                   f"({', '.join(nos)}) cannot be computed; add catalog/calendar/cn-{y}.yaml with "
                   f"`govcloud calendar import NOTICE.txt` (the State Council's notice) or, until it "
                   f"is published, `govcloud calendar provisional {y}`")
    for y, nos in sorted(prov.items()):
        out.append(f"provisional calendar for {y}: deadlines of {', '.join(nos)} are counted on the "
                   f"statutory holidays only (no 调休) and may move when the notice is imported")
    return out


def warning_thresholds(profile: Profile) -> list[int]:
    r = profile.rules.expiry_warning_workdays
    return sorted(set(r.value), reverse=True) if r is not None else []


def approval_status(a: Approval, file: str, profile: Profile, cal: WorkCalendar,
                    events: list[dict[str, Any]], today: date,
                    extension_ends: dict[str, date] | None = None,
                    changes: list[tuple[str, date]] | None = None) -> ApprovalStatus:
    """``changes``: (change number, approved_on) of the change documents amending ``a``."""
    ev = first_events(events)
    on = {k: _d(v) for k, v in ev.items()}
    details: dict[str, dict[str, Any]] = {}
    every: dict[str, list[date]] = {}
    for e in events:
        details.setdefault(e["kind"], e.get("detail") or {})
        every.setdefault(e["kind"], []).append(_d(e["on"]))
    t = a.term
    start = None if isinstance(t, PermanentTerm) else t.start
    end = effective_end(a, extension_ends)
    st = ApprovalStatus(a.approval_no, a.stack, file, t.kind, "approved", start, end,
                        dict(ev), today)
    rules = profile.rules
    cite = profile.cite

    def note_(text, rule="", **kw):
        at = file if kw.get("field") and not kw["field"].startswith("events") else ""
        return note(profile, text, rule, approval=a.approval_no, system=a.stack, file=at, **kw)

    def add(key, what, due_fn, rule_key="", done=None, hard=True, citation=None, actor="",
            remedy=""):
        rule = getattr(rules, rule_key) if rule_key else None
        due, err = _safe(due_fn, st.calendar_missing)
        dl = Deadline(key, what, due, rule_key,
                      citation if citation is not None else (cite(rule) if rule else ""), done,
                      hard=hard, error=err, actor=actor, remedy=remedy)
        if due is not None:
            if done is not None:
                dl.late = done > due
            else:
                dl.overdue = hard and today > due
                left, err2 = _safe(lambda: cal.workdays_between(today, due), st.calendar_missing)
                dl.workdays_left, dl.error = left, err2
        st.deadlines.append(dl)
        return dl

    # --- state ------------------------------------------------------------------------------
    temporary = not isinstance(t, PermanentTerm)
    exit_state = exitp.exit_state(on, exitp.last_dates(events))
    if exit_state not in (None, "backed-up"):   # exit-requested, held, wipe-failed, terminated...
        st.state = exit_state
    elif "terminated" in on:
        st.state = "terminated"
    elif "exit-requested" in on:
        st.state = "exit-requested"
    elif "expired" in on:
        st.state = "expired"
    elif temporary and today < start:
        st.state = "scheduled"
    elif temporary and today > end:             # end: the last day of service
        st.state = "ending"
    elif "delivery-confirmed" in on:
        st.state = "delivered"
    elif "provisioned" in on:
        st.state = "provisioned"
    finished = st.state in ("terminated", "expired")
    exiting = exit_state is not None

    # --- provisioning -----------------------------------------------------------------------
    if not finished and not exiting:
        key = ("change_deadline_workdays" if a.change_of and rules.change_deadline_workdays
               else "provision_deadline_workdays")
        r = getattr(rules, key)
        if isinstance(t, EmergencyTerm) and rules.emergency_configure_hours is not None:
            # 重庆 第二十五条: no provider deadline; the 报备 comes first (flags below)
            for f in fast_track_flags(profile, events, a.approval_no):   # "events.KIND: ..."
                st.flag(note_(f, "emergency_configure_hours", actor="department",
                              field=f.split(":", 1)[0]))
        elif r is not None:
            what = "change applied" if key == "change_deadline_workdays" else "resources provisioned"
            if temporary:
                add("provision", f"{what} (at the {t.kind}'s start at the latest)",
                    lambda: max(cal.add_workdays(a.approved_on, r.value), start), key,
                    on.get("provisioned"))
            else:
                add("provision", f"{what} within {r.value} working days of the approval",
                    lambda: cal.add_workdays(a.approved_on, r.value), key, on.get("provisioned"))
        elif temporary:
            add("provision", f"resources created at the {t.kind}'s start", lambda: start, "",
                on.get("provisioned"))

    # --- deployment, closed by the delivery confirmation (巴中 第十八、四十三条) ----------------------
    r = rules.deploy_deadline_workdays
    if r is not None and "provisioned" in on and not finished and not exiting:
        deployed = [d for d in (on.get("deployment-completed"), on.get("delivery-confirmed")) if d]
        add("deploy", f"system deployed within {r.value} working days of the configuration "
            f"(closed by deployment-completed or confirm-delivery)",
            lambda: cal.add_workdays(on["provisioned"], r.value),
            "deploy_deadline_workdays", min(deployed) if deployed else None, actor="department")

    # --- emergency backfill (重庆 第二十五条) --------------------------------------------------------
    r = rules.emergency_backfill_workdays
    if r is not None and isinstance(t, EmergencyTerm):
        if t.project_approved_on is None:
            st.warn(note_(f"emergency resources: the formal resource request is due within "
                          f"{r.value} working days of the project approval (增补申请), which "
                          f"is not recorded yet (term.project_approved_on)",
                          "emergency_backfill_workdays", actor="department",
                          field="term.project_approved_on"))
        else:
            dl = add("backfill", f"formal resource request backfilled within {r.value} working "
                     f"days of the project approval ({t.project_approved_on})",
                     lambda: cal.add_workdays(t.project_approved_on, r.value),
                     "emergency_backfill_workdays", t.backfilled_on)
            if dl.late or dl.overdue:
                st.flag(note_(f"backfill late: due {dl.due}"
                              + (f", filed {t.backfilled_on}" if t.backfilled_on else ", not filed")
                              + "; the formal resource request was not backfilled in time",
                              "emergency_backfill_workdays", actor="department",
                              field="term.backfilled_on",
                              key="late" if t.backfilled_on else ""))

    # --- temporary terms: extension notice, end, warnings -----------------------------------
    if temporary and not finished and not exiting:
        notice = getattr(rules, f"{t.kind}_extension_notice_workdays")
        if notice is not None:
            add("extension-request", f"last day to request an extension ({notice.value} working "
                f"days before the end)", lambda: cal.latest_day_to_act(end, notice.value),
                f"{t.kind}_extension_notice_workdays", hard=False)
        add("end", f"{t.kind} ends on {end} (last day of service): resources removed by "
            f"`govcloud expire` the next day", lambda: end + timedelta(days=1), "",
            on.get("expired"))
        left, err = _safe(lambda: cal.workdays_between(today, end), st.calendar_missing)
        st.end_workdays_left = left
        if err is None and today <= end:
            crossed = [w for w in warning_thresholds(profile) if left <= w]
            if crossed:
                st.warn(note_(f"{t.kind} ends on {end}: {left} working day"
                              f"{'s' if left != 1 else ''} left", "expiry_warning_workdays",
                              actor="department", field="term.end"))

    # --- exit (the profile's exit_process says where each clock starts) ------------------------
    if exiting:
        _exit_deadlines(st, profile, cal, on, add, note_)

    # --- migration: the old system is kept -------------------------------------------------------
    r = rules.old_system_keep_months
    m = a.migration
    if r is not None and m is not None and m.cutover_on is not None:
        add("keep-old-system", f"old system {m.from_approval or m.from_system} kept at least "
            f"{r.value} months after the cut-over", lambda: add_months(m.cutover_on, r.value),
            "old_system_keep_months", hard=False)

    # --- change documents: applied within N working days of their approval (大同 第十五条) --------
    r = rules.change_deadline_workdays
    if r is not None and changes and not finished:
        changed_on = sorted(_d(e["on"]) for e in events if e["kind"] == "changed")
        for no, approved in sorted(changes, key=lambda c: (c[1], c[0])):
            done = next((d for d in changed_on if d >= approved), None)
            add(f"change:{no}", f"change {no} applied within {r.value} working days of its "
                f"approval ({approved})", lambda approved=approved: cal.add_workdays(approved, r.value),
                "change_deadline_workdays", done, actor="provider")

    # --- duties with clocks and their actors (profile obligations), go-live gates ---------------
    if not finished:
        obligation_items(profile, a, cal, on, details,
                         lambda key, what, fn, citation, done, actor, remedy: add(
                             key, what, fn, "", done, citation=citation, actor=actor,
                             remedy=remedy),
                         lambda text, citation, actor, remedy: st.warn(note_(
                             text, citation=citation, actor=actor, remedy=remedy)),
                         every, a.stack)
    for f in gate_flags(profile, a, {k: v for k, v in on.items() if v}):
        st.flag(note_(f, "go_live_gates", actor="department", field="events"))
    if (w := out_of_plan_warning(profile, a)) is not None:
        st.warn(note_(w, "annual_request_deadline", key="out-of-plan", actor="department",
                      field="in_annual_plan"))

    for dl in st.deadlines:
        dl.actor = dl.actor or ACTORS.get(dl.key, "")
        dl.remedy = dl.remedy or status_remedy(*(k for k in (dl.rule, dl.key) if k),
                                               approval=a.approval_no, system=a.stack)
        if dl.late:
            st.flag(note_(f"{dl.key} late: due {dl.due}, done {dl.done_on}", dl.rule, key="late",
                          actor=dl.actor, field=f"events.{dl.key}", citation=dl.citation))
        if dl.error and not st.calendar_missing:
            st.warn(note_(f"{dl.key}: {dl.error}", key="calendar", citation=dl.citation))
    st.provisional = cal.provisional_in(today, end, *(dl.due for dl in st.deadlines))
    if st.state == "ending":
        st.flag(note_(f"ended on {end} but not expired yet: run `govcloud expire`",
                      key="not-expired", actor="provider", field="term.end"))
    return st


def warnings_to_send(st: ApprovalStatus, profile: Profile,
                     sent: set[tuple[int, str]]) -> list[int]:
    """Thresholds (working days before the end) reached and not yet notified for this end,
    tightest first. ``sent`` holds (threshold, end) pairs from ``warning-sent`` events. The caller
    sends one message for the tightest and records all of them (a short window that starts
    inside the 7-day range gets one warning, not two)."""
    if st.kind == "permanent" or st.end is None or st.end_workdays_left is None:
        return []
    if st.state not in ("provisioned", "delivered", "approved"):
        return []
    end = st.end.isoformat()
    reached = [w for w in warning_thresholds(profile) if st.end_workdays_left <= w
               and (w, end) not in sent]
    return sorted(reached)


def _exit_deadlines(st: ApprovalStatus, profile: Profile, cal: WorkCalendar,
                    on: dict[str, date], add: Callable[..., Deadline],
                    note_: Callable[..., Note]) -> None:
    """The transition (巴中: from the written request; backup and offline inside it) and the
    reclaim deadline (大同: 2 working days from the exit approval). They stay after the
    termination, so that a late reclaim remains flagged."""
    rules = profile.rules
    p = exitp.process(profile)
    done = on.get("reclaimed") or on.get("terminated")
    r = rules.exit_transition_months
    until, start = exitp.transition_until(profile, on)
    if r is not None and until is not None and "terminated" not in on:
        add("transition", f"{r.value}-month transition (过渡期) from {start} ends: data clearing "
            f"and reclaim not before", lambda: until, "exit_transition_months", hard=False)
        if "held-until" in on and not on.get("wiped"):
            st.held_until = until
    if r is not None and until is not None:
        inside = p.inside_transition if p else []
        if inside:
            got = [on[k] for k in inside if k in on]
            add("exit-work", f"{' and '.join(inside)} within the transition",
                lambda: until, "exit_process", max(got) if len(got) == len(inside) else None)
    r = rules.reclaim_deadline_workdays
    if r is not None:
        due, start = None, ""
        try:
            due, start = exitp.reclaim_due(profile, on, cal)
        except GovcloudError as exc:
            st.warn(note_(f"reclaim: {exc.summary}", "reclaim_deadline_workdays",
                          key="calendar", actor="provider"))
        if due is not None:
            add("reclaim", f"resources reclaimed within {r.value} working days of {start}",
                lambda: due, "reclaim_deadline_workdays", done)
        elif start and "terminated" not in on:
            st.warn(note_(f"the reclaim deadline ({r.value} working days) starts at {start}, "
                          f"not recorded yet", "reclaim_deadline_workdays",
                          actor={"exit-approved": "bureau"}.get(start, "department"),
                          field=f"events.{start}",
                          remedy=record_remedy([start], st.approval_no, st.stack)))
