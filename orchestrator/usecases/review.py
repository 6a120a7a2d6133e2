"""The review a plan carries (core/review.py: quota view, fee change, excesses), built from the
workspace's approvals and catalog and the state; the refusal of a plan that goes beyond what is
approved; the re-check of a saved plan at apply; the fees in force, recorded after an apply.

"Before" in the fee change is what was in force at the last apply (``fees-in-force`` in the
state store: per approval, its system and monthly fee, recorded once every object of the
approval is in the state), unless the caller gives another baseline (`ci plan`: the target
branch). So a catalog price change shows as a fee change until an apply puts it in force.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from ..core import review as core
from ..errors import Issue, PlanRefused
from ..models.plan import Plan
from ..state.base import StateStore, default_actor
from ..workspace import Workspace

FEES_KEY = "fees-in-force"

Fees = Mapping[str, tuple[str, Decimal]]


class ExceedsApproval(PlanRefused):
    """The plan goes beyond what is approved; ``plan`` is it, for a report that shows why."""

    def __init__(self, summary: str, issues: list[Issue], fix: str, plan: Plan):
        super().__init__(summary, issues, fix)
        self.plan = plan


def fees_in_force(store: StateStore) -> dict[str, tuple[str, Decimal]]:
    doc = store.get_workflow(FEES_KEY) or {}
    return {no: (v["system"], Decimal(v["fee"])) for no, v in (doc.get("fees") or {}).items()}


def build(ws: Workspace, store: StateStore, actions: list, scheduled: Iterable[Any] = (),
          before: Fees | None = None, before_label: str = "applied",
          records: Mapping[str, Any] | None = None,
          departments: Iterable[str] | None = None) -> core.Review:
    """The review of ``actions``; ``before``: the fee baseline (default: the fees in force);
    ``records``: the state's (read from ``store`` unless given). ``departments``: a plan of
    those only (core/plan_scope.py): their approvals, records and fees, so each quota row and
    fee is the same as in a whole plan and the skipped departments' are left out."""
    depts = None if departments is None else set(departments)
    if depts is None:
        approvals = ws.load_approvals().values()
    else:   # only theirs: 10,000 approvals validated again is seconds
        approvals = ws.load_approvals(departments=depts).values() if depts else []
    if before is None:
        before, before_label = fees_in_force(store), "applied"
    if depts is not None:
        before = {n: f for n, f in before.items() if f[0].partition("/")[0] in depts}
    if records is None:
        records = (store.read() if depts is None else store.read_departments(depts)).records
    return core.review(approvals, ws.catalog, actions, records, before, before_label, scheduled)


def _spec_file(ws: Workspace, stack: str) -> str:
    try:
        return ws.rel(ws.spec_path(stack))
    except ValueError:   # not DEPT/SYSTEM: a hand-written spec's own stack name
        return stack


def _figures(e: core.Excess) -> str:
    return "; ".join(f"{core.LABEL[d]} planned {e.planned[d]}, approved {e.approved[d]}"
                     for d in e.over)


def issues_of(ws: Workspace, excess: list[core.Excess]) -> list[Issue]:
    """One issue per approval and zone (or project quota): the figures beyond the approval,
    and the spec files that plan them."""
    out = []
    for e in excess:
        files = ", ".join(_spec_file(ws, s) for s in e.by_stack)
        if e.quota:
            grant = (f"goes beyond approvals {', '.join(e.granted_by)}" if len(e.granted_by) > 1
                     else f"goes beyond approval {e.granted_by[0]}" if e.granted_by else
                     "stands on no approval (none is for this system)")
            msg = (f"the project quota of {e.quota} {grant}: {_figures(e)} "
                   f"(set by {files})")
            path = f"{e.quota}.zones.{e.zone}.quota"
        elif e.granted_by:
            msg = f"approval {e.approval}: {_figures(e)} (planned by {files})"
            path = f"{e.approval}.zones.{e.zone}"
        else:
            named = f"approval {e.approval}" if e.approval else "no approval number"
            msg = (f"{named} is not an approval under approvals/, so it grants nothing: "
                   f"{_figures(e)} (planned by {files})")
            path = f"{e.approval or '(none)'}.zones.{e.zone}"
        out.append(Issue(path, msg, rule="within-approval"))
    return out


def refuse_excess(ws: Workspace, plan: Plan, excess: list[core.Excess]) -> None:
    if excess:
        raise ExceedsApproval("the plan goes beyond what is approved", issues_of(ws, excess),
                              "stack specs come from the approvals: run `govcloud compile` (a "
                              "hand-edited or hand-written spec is not an approval); more "
                              "resources need a new approval or a change document", plan)


def attach(ws: Workspace, store: StateStore, plan: Plan, records: Mapping[str, Any],
           scheduled: Iterable[Any] = (), before: Fees | None = None,
           before_label: str = "applied", departments: Iterable[str] | None = None) -> None:
    """Give ``plan`` its review (before it is signed), refusing it when it goes beyond what is
    approved (ExceedsApproval carries the plan). ``departments``: a plan of those only."""
    rev = build(ws, store, plan.actions, scheduled, before, before_label, records, departments)
    plan.review = rev.to_dict()
    refuse_excess(ws, plan, rev.excess)


def recheck(ws: Workspace, plan: Plan, store: StateStore) -> None:
    """A saved plan at apply: still within the approvals as they are now (the catalog may have
    changed since: a flavor's size, say), and its fees still those it showed."""
    rev = build(ws, store, plan.actions, departments=planned_departments(plan))
    refuse_excess(ws, plan, rev.excess)
    if plan.review is None:
        return
    shown = {f["approval"]: f["after"] for f in plan.review.get("fees", [])}
    now = {f.approval: None if f.after is None else str(f.after) for f in rev.fees}
    moved = [Issue(no, f"monthly fee {shown.get(no) or '—'} in the plan, {now.get(no) or '—'} "
                       "now (the catalog or the approvals changed since)")
             for no in sorted(set(shown) | set(now)) if shown.get(no) != now.get(no)]
    if moved:
        raise PlanRefused("the monthly fees changed since the plan was made", moved,
                          fix="run `govcloud plan` again and review the new fees")


def planned_departments(plan: Plan) -> list[str] | None:
    """The departments a plan of some departments covers (None: a whole plan)."""
    return (plan.stacks or {}).get("departments")


def record_fees(store: StateStore, plan: Plan) -> None:
    """After an apply: the plan's fees of every approval whose objects are all in the state
    now are in force (an approval still being provisioned keeps its earlier figure); an
    approval the plan no longer shows is gone from it. Bookkeeping never fails an apply: a
    problem becomes an audit entry (the next apply records the fees again)."""
    if plan.review is None:
        return
    try:
        _record_fees(store, plan)
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        try:
            store.append_audit(default_actor(), "fees-error", plan.workspace_id, None,
                               {"error": f"{type(exc).__name__}: {exc}"})
        except Exception:  # noqa: BLE001
            pass


def _record_fees(store: StateStore, plan: Plan) -> None:
    depts = planned_departments(plan)
    records = (store.read() if depts is None else store.read_departments(set(depts))).records
    due: dict[str, list[str]] = {}
    for a in plan.actions:
        if a.approval:
            due.setdefault(a.approval, []).append(a.address)
    old = (store.get_workflow(FEES_KEY) or {}).get("fees") or {}
    # A plan of some departments leaves the others' fees in force as they are.
    fees = {} if depts is None else {no: f for no, f in old.items()
                                     if f["system"].partition("/")[0] not in depts}
    for f in plan.review.get("fees", []):
        no = f["approval"]
        if f["after"] is None:
            continue
        done = no in due and all(addr in records and records[addr].status == "ok"
                                 for addr in due[no])
        if done:
            fees[no] = {"system": f["system"], "fee": f["after"]}
        elif no in old:
            fees[no] = old[no]
    if fees != old:
        store.put_workflow(FEES_KEY, {"fees": fees, "plan_digest": plan.digest})
