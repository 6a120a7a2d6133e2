"""`govcloud inventory [--system S]`: what the cloud really holds for each system — not only
what the state says (``openstack server list`` + ``volume list`` ... per project, read against
the approvals). Each owned object is marked from the plan (ok, drift, missing, untracked,
orphaned, not approved, scheduled); objects in the managed projects that carry no tag of this
workspace are listed as *unowned* (released by `state rm`, or made outside govcloud). Read-only
(it takes the lock to read a consistent state, like plan)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from drivers.base import OWNER_TAG, Inventory

from ..models.address import Address
from ..models.plan import ActionKind as A, Cause
from ..workspace import Workspace
from .plan import compute_plan
from .session import locked, open_drivers, open_state

INVENTORY_FORMAT = "govcloud-inventory/1"

_MARKS = {Cause.UP_TO_DATE: "ok", Cause.DRIFT: "drift", Cause.FORCES_REPLACEMENT: "drift",
          Cause.MISSING: "missing", Cause.NEW: "not created", Cause.UNTRACKED: "untracked",
          Cause.ORPHANED: "orphaned", Cause.REMOVED_FROM_SPEC: "not approved",
          Cause.OWNED_UNKNOWN: "not approved", Cause.DUPLICATE: "duplicate",
          Cause.TAINTED: "tainted", Cause.SCHEDULED: "scheduled", Cause.EXPIRED: "expired",
          Cause.REF_REPLACED: "drift", Cause.MOVED: "moved", Cause.WINDOW_ENDED: "drift"}


@dataclass
class InventoryResult:
    systems: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)    # targets that cannot list projects

    def to_dict(self) -> dict[str, Any]:
        return {"format": INVENTORY_FORMAT, "systems": self.systems, "unreadable": self.unreadable}


def _project_key(address: str) -> str | None:
    try:
        a = Address.parse(address)
    except ValueError:
        return None
    return f"{a.target}/{a.department}/{a.project}" if a.project else None


def inventory(ws: Workspace, system: str | None, today: dt.date | None,
              lock_timeout: float) -> InventoryResult:
    res = InventoryResult()
    with open_state(ws) as store, locked(store, "inventory", lock_timeout), \
            open_drivers(ws) as drivers:
        p = compute_plan(ws, store, drivers, today)
        records = store.read().records
        stack_of_project: dict[str, str] = {}
        systems: dict[str, dict[str, Any]] = {}
        for a in p.actions:
            stack = ((a.desired.stack if a.desired is not None else None)
                     or (a.prior or {}).get("stack")
                     or (records[a.address].stack if a.address in records else None))
            if stack is None:          # a department's domain: shared by its systems
                continue
            if a.action is A.CREATE and a.cause is Cause.NEW:
                cloud_id = None
            else:
                cloud_id = (a.prior or {}).get("cloud_id")
            mark = _MARKS.get(a.cause, a.cause.value)
            entry = {"address": a.address, "kind": a.kind, "cloud_id": cloud_id, "mark": mark,
                     "in_state": Address.parse(a.address).base in records,
                     "changes": {f: {"cloud": ch.get("old"), "approved": ch.get("new")}
                                 for f, ch in a.changes.items()} if mark == "drift" else {}}
            systems.setdefault(stack, {"stack": stack, "objects": [], "unowned": []})
            systems[stack]["objects"].append(entry)
            pk = _project_key(a.address)
            if pk and a.kind == "project":
                stack_of_project[pk] = stack
        known = {r.cloud_id for r in records.values()}
        for name, drv in drivers.items():
            projects = {r.cloud_id: _project_key(r.address) for r in records.values()
                        if r.kind == "project" and r.target == name and r.cloud_id}
            if not isinstance(drv, Inventory):
                res.unreadable.append(name)
                continue
            for o in drv.inventory(sorted(projects)):
                if o.tags.get(OWNER_TAG) == ws.config.workspace.id or o.cloud_id in known:
                    continue
                stack = stack_of_project.get(projects.get(o.refs.get("project"), ""))
                if stack is None:
                    continue
                released = o.tags.get("govcloud.released-from")
                systems[stack]["unowned"].append({
                    "kind": o.kind, "cloud_id": o.cloud_id, "name": o.properties.get("name"),
                    "project": projects.get(o.refs.get("project")),
                    "why": (f"released from this workspace by `state rm` on "
                            f"{o.tags.get('govcloud.released-on', '?')}" if released == ws.config.workspace.id
                            else "not made by this workspace (no ownership tag)")})
    chosen = sorted(systems)
    if system is not None:
        chosen = [s for s in chosen if system in (s, s.split("/")[-1])]
        if not chosen:
            from ..errors import GovcloudError
            raise GovcloudError(f"no system {system!r} in the specs, state or cloud",
                                fix="name it as DEPT/SYSTEM or by its system code")
    res.systems = [systems[s] for s in chosen]
    return res
