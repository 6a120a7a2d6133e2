"""Lifecycle events in the state store (``record_event``, subject = approval number), shared by
the lifecycle use cases, the expiry job and the after-apply hook that records what an apply
provisioned or changed. Every recorded decision also gets an audit entry (``audit``)."""
from __future__ import annotations

import datetime as dt
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


def record_apply(today: dt.date) -> AfterApply:
    """The after-apply hook of the lifecycle: records ``approved`` for new approvals,
    ``provisioned`` for every approval the apply completed, ``changed`` for provisioned
    approvals whose resources it changed (and for the approval a provisioned change amends),
    all on ``today``. Bookkeeping must never fail an apply: problems become an audit entry."""
    def hook(ws: Workspace, store: StateStore, plan: Plan, results: list,
             before: dict[str, StateRecord]) -> None:
        owners = {a: r.approval for a, r in before.items()}   # for deletes
        try:
            _record_apply(ws, store, plan, owners, today)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            try:
                audit(store, ws, "lifecycle-error", None, {"error": f"{type(exc).__name__}: {exc}"})
            except Exception:  # noqa: BLE001
                pass
    return hook


def _record_apply(ws: Workspace, store: StateStore, plan: Plan, owners: dict[str, str | None],
                  today: dt.date) -> None:
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
    files = ws.load_approvals()
    approvals = {a.approval_no: a for a in files.values()}
    records = store.read().records
    complete = {no for no in due if all(addr in records and records[addr].status == "ok"
                                        for addr in due[no])}
    record_applied(ws, store, files, complete)    # also after a no-op apply (older workspaces)
    if not touched:
        return
    sync_approved(store, approvals)
    events = events_by_subject(store)
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


def record_applied(ws: Workspace, store: StateStore, approvals: dict[str, Approval],
                   numbers: set[str]) -> None:
    """Remember the exact bytes of the approval files an apply completed (the first time only:
    an in-place edit applied from stale specs is not laundered into a new digest)."""
    have = store.approval_digests()
    for f, a in sorted(approvals.items()):
        if a.approval_no in numbers and a.approval_no not in have and f.startswith("approvals/"):
            store.record_approval_digest(a.approval_no, ws.file_sha256(f), f)
