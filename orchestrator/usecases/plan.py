"""`govcloud plan`: what apply would do, from the specs, the state and one observation per cloud
target. Never changes the cloud or the state."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from pathlib import Path

from drivers.base import STACK_TAG, DriverError

from .. import planfile
from ..core.planner import collect_desired, make_actions
from ..decommission import frozen_stacks
from ..errors import GovcloudError
from ..models.plan import Plan
from ..state.base import StateSnapshot, StateStore
from ..workspace import Workspace
from .session import Drivers, gc_paused, locked, open_drivers, open_state


@dataclass
class PlanResult:
    plan: Plan
    saved_to: Path | None


def plan(ws: Workspace, today: dt.date | None, lock_timeout: float,
         out: Path | None = None) -> PlanResult:
    """The plan as of ``today`` (windows open, scheduled, ended), under the workspace lock;
    saved to ``out`` when given (`govcloud apply FILE` applies exactly it)."""
    with open_state(ws) as store, locked(store, "plan", lock_timeout, ws), \
            open_drivers(ws) as drivers:
        p = compute_plan(ws, store, drivers, today)
    if out is not None:
        planfile.save(p, out)
    return PlanResult(p, out)


def compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                 today: dt.date | None) -> Plan:
    """The plan against ``store``, opening the drivers it needs in ``drivers`` (the caller's:
    an apply goes on with them). The caller holds the workspace lock."""
    with gc_paused():
        return _compute_plan(ws, store, drivers, today)


def _compute_plan(ws: Workspace, store: StateStore, drivers: Drivers,
                  today: dt.date | None) -> Plan:
    serialized: dict[str, tuple] = {}   # address -> (resource, its JSON data) from the cache
    files = hashlib.sha256()            # the plan's inputs_digest, from the same reads
    ws.approval_files()   # approvals/ missing or a dangling link is an error, not "none approved"
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
    caps = {name: drv.kinds for name, drv in drivers.items()}
    actions = make_actions(desired, snapshot.records, observed, caps, today, serialized)
    p = Plan(ws.config.workspace.id, snapshot.lineage, snapshot.serial, "sha256:" + files.hexdigest(),
             actions, created_at=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    planfile.sign_lazily(p, store)   # computed when first read (Plan.sign_with)
    return p
