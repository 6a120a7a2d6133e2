"""`govcloud plan`: what apply would do, from the specs, the state and one observation per cloud
target. Never changes the cloud or the state."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from drivers.base import STACK_TAG, DriverError, Retagging

from .. import planfile
from ..core import targeting
from ..core.planner import collect_desired, make_actions
from ..decommission import frozen_stacks
from ..errors import GovcloudError
from ..models.plan import Plan
from ..state.base import StateSnapshot, StateStore
from ..workspace import Workspace
from . import approval
from .session import Drivers, gc_paused, locked, open_drivers, open_state


@dataclass(frozen=True)
class Options:
    """What `plan` / `apply` take besides the clock: ``-replace`` and ``-target`` addresses."""
    replace: tuple[str, ...] = ()
    target: tuple[str, ...] = ()


@dataclass
class PlanResult:
    plan: Plan
    saved_to: Path | None


def plan(ws: Workspace, today: dt.date | None, lock_timeout: float,
         out: Path | None = None, options: Options = Options()) -> PlanResult:
    """The plan as of ``today`` (windows open, scheduled, ended), under the workspace lock;
    saved to ``out`` when given (`govcloud apply FILE` applies exactly it)."""
    with open_state(ws) as store, locked(store, "plan", lock_timeout), \
            open_drivers(ws) as drivers:
        p = compute_plan(ws, store, drivers, today, options=options)
    if out is not None:
        from ..trust import provider_key
        planfile.save(p, out, provider_key.load_or_create(ws.root))
    return PlanResult(p, out)


def compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                 today: dt.date | None, extra_moves: tuple = (),
                 options: Options = Options()) -> Plan:
    """The plan against ``store``, opening the drivers it needs in ``drivers`` (the caller's:
    an apply goes on with them). The caller holds the workspace lock. ``extra_moves``:
    ``{from, to}`` records besides the specs' (``state mv``)."""
    with gc_paused():
        return _compute_plan(ws, store, drivers, today, extra_moves, options)


def _compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                  today: dt.date | None, extra_moves: tuple = (),
                  options: Options = Options()) -> Plan:
    # The approvals the plan stands on: signatures checked (when required) and replays refused
    # before the specs are even read.
    seals = approval.seals(ws, today or dt.date.today())
    approval.check_replay(ws, seals, store)
    serialized: dict[str, tuple] = {}   # address -> (resource, its JSON data) from the cache
    files = hashlib.sha256()            # the plan's inputs_digest, from the same reads
    specs = ws.load_specs(serialized, files)
    if not specs and ws.approval_files():
        raise GovcloudError("no stack specs under stacks/", fix="run `govcloud compile` first")
    snapshot = store.read()
    # Systems being (or already) decommissioned are the decommission workflow's alone.
    frozen = frozen_stacks(store)
    if frozen:
        specs = [s for s in specs if s.stack not in frozen]
        snapshot = StateSnapshot(snapshot.lineage, snapshot.serial,
                                 {a: r for a, r in snapshot.records.items() if r.stack not in frozen})
    desired = collect_desired(r for s in specs for r in s.resources)
    drivers.need({r.target for r in desired.values()} | {r.target for r in snapshot.records.values()})
    observed = []
    for name, drv in drivers.items():
        try:
            observed.extend(o for o in drv.observe() if o.tags.get(STACK_TAG) not in frozen)
        except DriverError as exc:
            raise GovcloudError(f"cannot read cloud target {name!r}: {exc}") from None
    caps = {name: drv.kinds for name, drv in drivers.items()}
    moves = [m for s in specs for m in s.moved] + list(extra_moves)
    retaggable = frozenset(n for n, d in drivers.items() if isinstance(d, Retagging))
    actions = make_actions(desired, snapshot.records, observed, caps, today, serialized,
                           moves=moves, retaggable=retaggable, replace=options.replace)
    if options.target:
        actions = targeting.select(actions, options.target)
    p = Plan(ws.config.workspace.id, snapshot.lineage, snapshot.serial, "sha256:" + files.hexdigest(),
             actions, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
             approvals=_used(seals, actions))
    planfile.sign_lazily(p, store)   # computed when first read (Plan.sign_with)
    return p


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
