"""`govcloud plan`: what apply would do, from the specs, the state and one observation per cloud
target. Never changes the cloud or the state."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from drivers.base import STACK_TAG, DriverError, Observed, Retagging, TrustedReads

from .. import planfile
from ..core import refresh_scope, targeting
from ..core.planner import collect_desired, make_actions
from ..decommission import frozen_stacks, retired_approvals
from ..errors import GovcloudError, Issue
from ..models.plan import Cause, Plan
from ..state.base import StateSnapshot, StateStore
from ..workspace import Workspace
from . import approval, plan_scope, refresh_marks, review
from .review import Fees
from .session import Drivers, gc_paused, locked, open_drivers, open_state


Baseline = tuple[str, Fees]   # (what "before" is, approval -> (system, monthly fee))


@dataclass(frozen=True)
class Options:
    """What `plan` / `apply` take besides the clock: ``-replace`` and ``-target`` addresses."""
    replace: tuple[str, ...] = ()
    target: tuple[str, ...] = ()
    # "auto": between full checks, the quotas the plan does not change come from the state on
    # clouds where each costs unbatchable calls (core/refresh_scope.py); "full": read all.
    refresh: str = "full"


@dataclass
class PlanResult:
    plan: Plan
    saved_to: Path | None
    compiled: list[str] | None = None   # spec files the compile-first step wrote or removed


def plan(ws: Workspace, today: dt.date | None, lock_timeout: float,
         out: Path | None = None, options: Options = Options(),
         fees_before: Baseline | None = None) -> PlanResult:
    """The plan as of ``today`` (windows open, scheduled, ended), under the workspace lock, with
    its review (quota view, fee change: usecases/review.py); saved to ``out`` when given
    (`govcloud apply FILE` applies exactly it). A plan beyond what is approved is refused
    (review.ExceedsApproval) before anything is written. ``fees_before``: (label, fees), the
    fee change's baseline (default: the fees in force at the last apply).

    Never over stale inputs: it compiles first (a no-op when approvals, extensions, catalog and
    config are byte for byte those of the last compile), so a changed approval is never hidden
    behind "No changes"; when validate refuses the inputs, plan refuses with the same error."""
    compiled = None
    if ws.approval_files() and today is not None:
        from .compile import compile_workspace
        rep = compile_workspace(ws, today)
        compiled = [*rep.written, *rep.removed]
    from .scopes import of_targets
    with open_state(ws) as store, locked(store, "plan", lock_timeout, ws,
                                         of_targets(ws, options.target)), \
            open_drivers(ws) as drivers:
        p = compute_plan(ws, store, drivers, today, options=options, reviewed=True,
                         fees_before=fees_before)
    if out is not None:
        from ..trust import provider_key
        planfile.save(p, out, provider_key.load_or_create(ws.root))
    return PlanResult(p, out, compiled)


def compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                 today: dt.date | None, extra_moves: tuple = (),
                 options: Options = Options(), reviewed: bool = False,
                 fees_before: Baseline | None = None) -> Plan:
    """The plan against ``store``, opening the drivers it needs in ``drivers`` (the caller's:
    an apply goes on with them). The caller holds the workspace lock. ``extra_moves``:
    ``{from, to}`` records besides the specs' (``state mv``). ``reviewed``: with its review,
    refused when it goes beyond what is approved (plan and apply; the expiry job, inventory and
    state mv only remove, read or rename)."""
    with gc_paused():
        return _compute_plan(ws, store, drivers, today, extra_moves, options, reviewed,
                             fees_before)


def _compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                  today: dt.date | None, extra_moves: tuple = (),
                  options: Options = Options(), reviewed: bool = False,
                  fees_before: Baseline | None = None) -> Plan:
    # The approvals the plan stands on: signatures checked (when required) and replays refused
    # before the specs are even read.
    seals = approval.seals(ws, today or dt.date.today())
    approval.check_replay(ws, seals, store)
    serialized: dict[str, tuple] = {}   # address -> (resource, its JSON data) from the cache
    files = hashlib.sha256()            # the plan's inputs_digest, from the same reads
    ws.approval_files()   # approvals/ missing or a dangling link is an error, not "none approved"
    frozen = frozen_stacks(store)
    scope = None
    if _scoped(options, extra_moves, fees_before) and plan_scope.enabled(ws, len(ws.spec_files())):
        scope = plan_scope.read(ws, store, options.refresh, frozen, files, today, serialized)
        specs, snapshot, depts = scope.specs, scope.snapshot, scope.choice.departments
    else:
        specs, snapshot, depts = ws.load_specs(serialized, files), store.read(), None
    if not specs and ws.approval_files() and depts is None:
        raise GovcloudError("no stack specs under stacks/", fix="run `govcloud compile` first")
    # Systems being (or already) decommissioned are the decommission workflow's alone.
    if frozen:
        _refuse_new_approvals_of_retired(specs, retired_approvals(store))
        specs = [s for s in specs if s.stack not in frozen]
        snapshot = StateSnapshot(snapshot.lineage, snapshot.serial,
                                 {a: r for a, r in snapshot.records.items() if r.stack not in frozen})
    desired = collect_desired(r for s in specs for r in s.resources)
    drivers.need({r.target for r in desired.values()} | {r.target for r in snapshot.records.values()})
    if depts is not None:
        observed, scopes = plan_scope.observe(drivers, depts, frozen), []
    else:
        observed, scopes = _observe(ws, drivers, desired, snapshot, frozen, today,
                                    options.refresh)
    if observed and not snapshot.records and store.audit_head() is None:
        # An empty state with no history, while the cloud holds objects tagged as ours: the
        # state database vanished (or is another one). Adopting them all silently would make
        # a lost state look like a fresh start; the operator confirms the recovery.
        raise GovcloudError(f"the state is empty and has no audit history, but the cloud holds "
                            f"{len(observed)} objects tagged with this workspace "
                            f"({ws.config.workspace.id}): the state database was lost or replaced",
                            fix="restore the state database; or, to rebuild it from the cloud, "
                                "confirm the recovery: `govcloud state recover --confirm` (it is "
                                "audited), then plan: the objects are adopted by their tags")
    dated = plan_scope.dated_departments(desired) if scope else set()
    caps = {name: drv.kinds for name, drv in drivers.items()}
    moves = [m for s in specs for m in s.moved] + list(extra_moves)
    retaggable = frozenset(n for n, d in drivers.items() if isinstance(d, Retagging))
    wanted = dict(desired) if reviewed else {}   # make_actions takes the scheduled ones out
    actions = make_actions(desired, snapshot.records, observed, caps, today, serialized,
                           moves=moves, retaggable=retaggable, replace=options.replace)
    if options.target:
        actions = targeting.select(actions, options.target)
    p = Plan(ws.config.workspace.id, snapshot.lineage, snapshot.serial, "sha256:" + files.hexdigest(),
             actions, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             approvals=_used(seals, actions), refresh=scopes or None,
             stacks=scope.note() if scope else None)
    if reviewed:
        # Scheduled actions carry no desired record: the view counts their spec resources.
        later = [wanted[a.address] for a in actions
                 if a.cause is Cause.SCHEDULED and a.address in wanted]
        label, before = fees_before if fees_before is not None else ("applied", None)
        review.attach(ws, store, p, snapshot.records, later, before, label, depts)
    if scope:
        plan_scope.record(ws, scope, actions, dated, today)
    planfile.sign_lazily(p, store)   # computed when first read (Plan.sign_with)
    return p


def _scoped(options: Options, extra_moves: tuple, fees_before) -> bool:
    """Whether this plan keeps the plan index (core/plan_scope.py; ``auto`` may skip unchanged
    departments): a whole plan (no -target, -replace, state mv or another fee baseline)."""
    return options.refresh in refresh_scope.MODES and not (
        options.target or options.replace or extra_moves or fees_before is not None)


def _observe(ws: Workspace, drivers: Drivers, desired, snapshot: StateSnapshot, frozen,
             today: dt.date | None, mode: str) -> tuple[list, list[dict]]:
    """One observation per target; with ``mode`` "auto", the targets that can take unchanged
    quotas from the state do so between full checks. Returns (observed, the scopes as data:
    empty when every target was read in full with no choice to make)."""
    now = dt.datetime.now(dt.timezone.utc)
    marks = refresh_marks.last_full(ws, snapshot.lineage) if mode == "auto" else {}
    limits = refresh_scope.effective(desired, today) if mode == "auto" else {}
    observed, scopes, read_all = [], [], []
    for name, drv in drivers.items():
        scope = None
        if mode == "auto" and isinstance(drv, TrustedReads):
            scope = refresh_scope.decide(name, mode, marks.get(name), now,
                                         ws.config.plan.full_refresh_hours, limits,
                                         snapshot.records)
        try:
            if scope is not None and not scope.full:
                known = {cid: Observed(r.address, r.kind, cid, r.properties, r.refs, {})
                         for cid, r in scope.trusted.items()}
                got = drv.observe_trusting(known)
                scopes.append(scope.to_dict(drv.trusted_last))
            else:
                got = drv.observe()
                if isinstance(drv, TrustedReads):
                    read_all.append(name)      # a full check, whatever asked for it
                if scope is not None:
                    scopes.append(scope.to_dict())
        except DriverError as exc:
            raise GovcloudError(f"cannot read cloud target {name!r}: {exc}") from None
        observed.extend(o for o in got if o.tags.get(STACK_TAG) not in frozen)
    refresh_marks.mark_full(ws, snapshot.lineage, read_all, now)
    return observed, scopes


def numbers_of(actions) -> set[str]:
    """The approval numbers the actions stand on (desired, or the state record's)."""
    out = set()
    for a in actions:
        n = a.approval or (a.prior or {}).get("approval")
        if n:
            out.add(n)
    return out


def _used(seals: dict, actions) -> dict:
    used = numbers_of(actions)
    return {n: s for n, s in sorted(seals.items()) if n in used}


def _refuse_new_approvals_of_retired(specs, retired: dict[str, set[str]]) -> None:
    """A decommissioned system code is retired with its certificate: a new approval for it is
    refused by name (never silently ignored), and filed under a new system code instead."""
    bad = [(s.stack, no) for s in specs if s.stack in retired
           for no in (a.approval_no for a in s.approvals) if no not in retired[s.stack]]
    if bad:
        raise GovcloudError(
            f"{len(bad)} approval(s) for a decommissioned system", [Issue(
                f"approval {no}: system.code", f"system {stack} was decommissioned (its exit "
                "certificate covers it): a decommissioned system code is not provisioned again")
                for stack, no in bad],
            fix="file the approval under a new system code (system.code), then compile")

