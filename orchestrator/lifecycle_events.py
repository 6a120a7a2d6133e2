"""Lifecycle events in the state store (``record_event``, subject = approval number), shared by
the lifecycle use cases, the expiry job and the after-apply hook that records what an apply
provisioned or changed. Every recorded decision also gets an audit entry (``audit``)."""
from __future__ import annotations

import datetime as dt
import threading
from typing import Any, Callable

from .models.approval import Approval
from .models.plan import Cause, Plan
from .models.state import StateRecord
from .state.base import StateStore, default_actor
from .workspace import Workspace

# Called by usecases.apply.execute once the executor ran:
# hook(ws, store, plan, results, records as they were before the apply).
AfterApply = Callable[[Workspace, StateStore, Plan, list, dict[str, StateRecord]], None]


def events_by_subject(store: StateStore) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in store.events():
        out.setdefault(e["subject"], []).append(e)
    return out


def sync_approved(store: StateStore, approvals: dict[str, Approval]) -> int:
    """Record the ``approved`` event of every approval that has none (its date: approved_on)."""
    have = {e["subject"] for e in store.events() if e["kind"] == "approved"}
    n = 0
    for a in sorted(approvals.values(), key=lambda a: a.approval_no):
        if a.approval_no not in have:
            store.record_event(a.approval_no, "approved", a.approved_on.isoformat(),
                               {"stack": a.stack, "term": a.term.kind})
            n += 1
    return n


def audit(store: StateStore, ws: Workspace, action: str, approval: str | None,
          detail: dict[str, Any]) -> None:
    store.append_audit(default_actor(), action, ws.config.workspace.id, approval, detail)


class RecordApply:
    """The lifecycle's part of an apply. ``on_commit`` runs inside the executor's transaction of
    each state write: the write that completes an approval's due resources also records its
    ``approved`` (if missing) and ``provisioned`` events (and ``changed`` on the approval a
    change document amends), so a kill after that write cannot lose them. Called after the run
    (an AfterApply hook), it records ``changed`` for provisioned approvals whose resources the
    apply changed, and reconciles: every approval whose due resources are all in the state but
    which has no ``provisioned`` event (an apply killed before this version recorded it) gets
    one, dated today and marked ``reconciled``. Bookkeeping after the run never fails an apply:
    problems become an audit entry."""

    def __init__(self, today: dt.date):
        self.today = today
        self._lock = threading.Lock()
        self._pending: dict[str, set[str]] | None = None
        self._approvals: dict[str, Approval] = {}
        self._files: dict[str, Approval] | None = None   # prepare's approval files
        self._plan_digest: str | None = None
        self.provisioned_before: set[str] | None = None   # approvals provisioned before the run

    def prepare(self, ws: Workspace, store: StateStore, plan: Plan) -> None:
        """Before the run: each approval's due addresses not yet in the state as ``ok``."""
        records = store.read().records
        have = {e["subject"] for e in store.events() if e["kind"] == "provisioned"}
        self.provisioned_before = have
        due: dict[str, set[str]] = {}
        for act in plan.actions:
            if act.approval and act.approval not in have:
                due.setdefault(act.approval, set()).add(act.address)
        self._pending = {no: {a for a in addrs if not (a in records and records[a].status == "ok")}
                         for no, addrs in due.items()}
        self._pending = {no: left for no, left in self._pending.items() if left}
        # kept for the after-apply part (parsing every approval again was ~4 % of a big apply)
        self._files = ws.load_approvals() if self._pending else None
        self._approvals = {a.approval_no: a for a in self._files.values()} if self._files else {}
        self._plan_digest = plan.digest

    def on_commit(self, store: StateStore, action: Any, rec: StateRecord | None) -> None:
        """Inside the state write's transaction (the executor's ``_commit``)."""
        if self._pending is None or rec is None or rec.status != "ok" or not action.approval:
            return
        no = action.approval
        with self._lock:
            left = self._pending.get(no)
            if left is None or action.address not in left:
                return
            left.discard(action.address)
            if left:
                return
            del self._pending[no]
        self._provisioned(store, no, {"plan_digest": self._plan_digest})

    def _provisioned(self, store: StateStore, no: str, detail: dict[str, Any]) -> None:
        on = self.today.isoformat()
        a = self._approvals.get(no)
        kinds = {e["kind"] for e in store.events(no)}
        if "provisioned" in kinds:
            return
        if a is not None and "approved" not in kinds:
            store.record_event(no, "approved", a.approved_on.isoformat(),
                               {"stack": a.stack, "term": a.term.kind})
        store.record_event(no, "provisioned", on, detail)
        if a is not None and a.change_of:
            store.record_event(a.change_of, "changed", on, {"change": no, **detail})

    def __call__(self, ws: Workspace, store: StateStore, plan: Plan, results: list,
                 before: dict[str, StateRecord]) -> None:
        owners = {a: r.approval for a, r in before.items()}   # for deletes
        try:
            _record_apply(ws, store, plan, owners, self)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            try:
                audit(store, ws, "lifecycle-error", None, {"error": f"{type(exc).__name__}: {exc}"})
            except Exception:  # noqa: BLE001
                pass


def record_apply(today: dt.date) -> RecordApply:
    return RecordApply(today)


def _record_apply(ws: Workspace, store: StateStore, plan: Plan, owners: dict[str, str | None],
                  rec: RecordApply) -> None:
    # The plan was made for today: what it wants of an approval (actions with a desired value)
    # is exactly that approval's due resources; scheduled and expired ones carry none.
    due: dict[str, list[str]] = {}
    touched: set[str] = set()
    changed: dict[str, list[str]] = {}
    for act in plan.actions:
        no = act.approval
        if no:
            due.setdefault(no, []).append(act.address)
        else:
            no = owners.get(act.address)
        if act.action == "no-op" or not no:
            continue
        touched.add(no)
        if act.kind != "quota" and act.cause is not Cause.EXPIRED:
            changed.setdefault(no, []).append(f"{act.action} {act.address}")
    if not touched and not due:
        return
    files = rec._files if rec._files is not None else ws.load_approvals()
    approvals = {a.approval_no: a for a in files.values()}
    records = store.read().records
    complete = {no for no in due if all(addr in records and records[addr].status == "ok"
                                        for addr in due[no])}
    record_applied(ws, store, files, complete)    # also after a no-op apply (older workspaces)
    events = events_by_subject(store)
    now_provisioned = {no for no, evs in events.items() if any(e["kind"] == "provisioned" for e in evs)}
    # "changed" is for approvals provisioned before this apply (not the ones it completed)
    provisioned = now_provisioned if rec.provisioned_before is None else rec.provisioned_before
    rec._approvals = approvals
    for no in sorted(complete - now_provisioned - touched):   # reconcile: complete, never recorded
        with store.atomic():   # the event and its audit entry: one record
            rec._provisioned(store, no, {"reconciled": True, "plan_digest": plan.digest})
            audit(store, ws, "lifecycle-reconciled", no, {"event": "provisioned",
                  "why": "every due resource of the approval is in the state, its event was not"})
    if not touched:
        return
    sync_approved(store, approvals)
    on = rec.today.isoformat()
    for no in sorted(touched):
        if no in provisioned:
            if changed.get(no):
                store.record_event(no, "changed", on, {"plan_digest": plan.digest,
                                                       "actions": changed[no][:100]})
            continue
        if no in complete:   # normally recorded already with its last resource (on_commit)
            with store.atomic():
                rec._provisioned(store, no, {"plan_digest": plan.digest,
                                             "resources": len(due[no])})


def record_applied(ws: Workspace, store: StateStore, approvals: dict[str, Approval],
                   numbers: set[str]) -> None:
    """Remember the exact bytes of the approval files an apply completed (the first time only:
    an in-place edit applied from stale specs is not laundered into a new digest)."""
    have = store.approval_digests()
    for f, a in sorted(approvals.items()):
        if a.approval_no in numbers and a.approval_no not in have and f.startswith("approvals/"):
            store.record_approval_digest(a.approval_no, ws.file_sha256(f), f)
