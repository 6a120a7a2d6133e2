"""`govcloud apply`: a saved plan exactly (refused if altered or stale), or plan, review, apply.
``execute`` walks a plan through the executor and then calls the after-apply hooks (the
lifecycle's records what the apply provisioned); the expiry job executes its plans with it too."""
from __future__ import annotations

import datetime as dt
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable

from .. import planfile
from ..errors import GovcloudError, Issue, PlanRefused
from ..executor import Executor, StepResult
from ..lifecycle_events import AfterApply, record_apply
from ..models.plan import Plan
from ..state.base import StateStore, default_actor
from ..workspace import Workspace
from . import approval, scopes
from . import review as plan_review
from .plan import Options, compute_plan
from .session import Drivers, locked, open_drivers, open_state

APPLY_FORMAT = "govcloud-apply/1"

OnEvent = Callable[[str, Any, StepResult | None], None]   # the executor's (kind, step, result)


@dataclass
class ApplyResult:
    plan: Plan
    results: list[StepResult] = field(default_factory=list)
    cancelled: bool = False           # the review said no: nothing was changed

    @property
    def failed(self) -> list[StepResult]:
        return [r for r in self.results if r.outcome != "ok"]

    def to_dict(self) -> dict[str, Any]:
        """One shape whether or not anything changed (docs/json-output.md)."""
        return {"format": APPLY_FORMAT, "applied": len(self.results) - len(self.failed),
                "failed": len(self.failed), "summary": self.plan.summary,
                "results": [r.__dict__ for r in self.results]}


def check_deletes(plan: Plan, limit: int | None) -> None:
    """The blast-radius limit: more objects destroyed than ``limit`` is refused, unchanged."""
    going = [a for a in plan.actions if a.action in ("delete", "replace")]
    if limit is not None and len(going) > limit:
        raise GovcloudError(f"the plan destroys {len(going)} objects, more than --max-deletes "
                            f"{limit}", [Issue(a.address, f"{a.action}: {a.reason}")
                                         for a in going[:20]],
                            fix="review the plan; raise --max-deletes if every one is intended")


def check_against_specs(ws: Workspace, plan: Plan) -> None:
    """Refuse, before anything is touched, a plan (signed or not) that writes a value the
    current stack specs do not allow (orchestrator/core/plan_guard.py)."""
    from ..core.plan_guard import violations
    bad = violations(plan.actions, (r for s in ws.load_specs() for r in s.resources))
    if bad:
        raise PlanRefused(f"the plan does what no stack spec allows ({len(bad)} actions)",
                          [Issue(addr, why) for addr, why in bad[:20]],
                          fix="run `govcloud compile` and `govcloud plan` again; a plan can "
                              "only apply what the approvals compile to")


def steps_of(plan: Plan) -> int:
    """Executor steps the plan takes (a replace is a delete and a create)."""
    return sum(2 if a.action == "replace" else 1 for a in plan.actions if a.action != "no-op")


def apply(ws: Workspace, saved: Path | None, today: dt.date, parallelism: int,
          lock_timeout: float, review: Callable[[Plan], bool] | None = None,
          progress: Callable[[int], ContextManager[OnEvent | None]] | None = None,
          max_deletes: int | None = None, options: Options = Options(),
          operation: str = "apply") -> ApplyResult:
    """Apply the plan saved at ``saved``, or a new one as of ``today`` once ``review(plan)``
    (not asked for a saved plan) returns true. ``progress(steps)`` gives the executor's event
    callback for the run. Lifecycle events are recorded on ``today``. ``max_deletes``: refuse,
    before anything is touched, a plan that destroys more objects (deletes and replaces)."""
    held = scopes.of_targets(ws, options.target) if saved is None else None
    with open_state(ws) as store, locked(store, operation, lock_timeout, ws, held), \
            open_drivers(ws) as drivers:
        if saved is not None:
            if options.replace or options.target:
                raise GovcloudError("-replace and -target shape a new plan; a saved plan is "
                                    "applied exactly as it was made",
                                    fix="pass them to `govcloud plan -o FILE` instead")
            p = planfile.load(saved, ws, store)
            planfile.check_fresh(p, store)
            check_approvals(ws, p, store, today)
        else:
            p = compute_plan(ws, store, drivers, today, options=options, reviewed=True)
            if review is not None and not review(p):
                return ApplyResult(p, cancelled=True)
        if not p.has_changes:
            if saved is not None:
                plan_review.recheck(ws, p, store)
            else:   # a no-op apply still repairs lifecycle events a kill lost
                record_apply(today)(ws, store, p, [], {})
            plan_review.record_fees(store, p)   # a price change alone is put in force too
            return ApplyResult(p)
        scopes.check_within(p, held)
        check_deletes(p, max_deletes)
        check_against_specs(ws, p)
        if saved is not None:   # still within the approvals and the catalog as they are now
            plan_review.recheck(ws, p, store)
        with (progress or (lambda n: nullcontext()))(steps_of(p)) as on_event:
            results = execute(ws, p, store, drivers, parallelism, on_event,
                              after=[record_apply(today)])
        plan_review.record_fees(store, p)
    return ApplyResult(p, results)


def check_approvals(ws: Workspace, p: Plan, store: StateStore, today: dt.date) -> None:
    """A saved plan is applied only while its approvals are as they were when it was made:
    same bytes, same signature status, signatures still valid (when required), no replay."""
    current = approval.seals(ws, today)
    approval.check_replay(ws, current, store)
    approval.check_plan_seals(p.approvals, {n: current.get(n) for n in p.approvals})


def execute(ws: Workspace, plan: Plan, store: StateStore, drivers: Drivers, parallelism: int,
            on_event: OnEvent | None = None, after: Iterable[AfterApply] = ()) -> list[StepResult]:
    """Run ``plan`` (the caller holds the workspace lock), with ``apply-start`` / ``apply-end``
    audit entries around it; then each ``after`` hook with the records as they were before."""
    from ..sanitize import wipe_and_verify
    drivers.need({a.target for a in plan.actions if a.action != "no-op"})
    actor = default_actor()
    store.append_audit(actor, "apply-start", ws.config.workspace.id, None,
                       {"plan_digest": plan.digest, "summary": plan.summary})
    after = list(after)
    commits = [h for h in after if hasattr(h, "on_commit")]
    for h in commits:
        h.prepare(ws, store, plan)
    ex = Executor(plan, drivers, store, actor, ws.config.workspace.id, parallelism,
                  on_event=on_event, sanitize=wipe_and_verify,
                  on_commit=(lambda st, a, r: [h.on_commit(st, a, r) for h in commits])
                  if commits else None)
    before = store.read().records
    results = ex.run()
    failed = [r for r in results if r.outcome != "ok"]
    store.append_audit(actor, "apply-end", ws.config.workspace.id, None,
                       {"plan_digest": plan.digest, "steps": len(results), "failed": len(failed)})
    for hook in after:
        hook(ws, store, plan, results, before)
    return results
