"""`govcloud plan --refresh-only` / `apply --refresh-only`: take into the state the drift the
approvals allow (core/refresh.py), show the rest as violations. Changes nothing in the cloud;
`apply --refresh-only` writes the accepted records (each audited as ``refresh``)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from drivers.base import DriverError

from ..core.planner import collect_desired, effective_properties
from ..core.refresh import Drift, classify
from ..decommission import frozen_stacks
from ..errors import GovcloudError
from ..state.base import default_actor
from ..workspace import Workspace
from .session import locked, open_drivers, open_state

REFRESH_FORMAT = "govcloud-refresh/1"


@dataclass
class RefreshResult:
    drifts: list[Drift]
    unchanged: int
    written: int = 0
    applied: bool = False
    serial: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> list[Drift]:
        return [d for d in self.drifts if d.verdict == "accept"]

    @property
    def violations(self) -> list[Drift]:
        return [d for d in self.drifts if d.verdict == "violation"]

    def to_dict(self) -> dict[str, Any]:
        return {"format": REFRESH_FORMAT, "applied": self.applied, "serial": self.serial,
                "accepted": [d.to_dict() for d in self.accepted],
                "violations": [d.to_dict() for d in self.violations],
                "unchanged": self.unchanged, "written": self.written}


def refresh(ws: Workspace, today: dt.date | None, lock_timeout: float, write: bool) -> RefreshResult:
    with open_state(ws) as store, locked(store, "refresh", lock_timeout), \
            open_drivers(ws) as drivers:
        frozen = frozen_stacks(store)
        specs = [s for s in ws.load_specs() if s.stack not in frozen]
        desired = collect_desired(r for s in specs for r in s.resources)
        for addr, r in list(desired.items()):
            if r.windows:
                desired[addr] = r.model_copy(update={"properties": effective_properties(r, today)[0]})
        snap = store.read()
        records = {a: r for a, r in snap.records.items() if r.stack not in frozen}
        drivers.need({r.target for r in desired.values()} | {r.target for r in records.values()})
        observed = []
        for name, drv in drivers.items():
            try:
                observed.extend(o for o in drv.observe() if o.tags.get("govcloud.stack") not in frozen)
            except DriverError as exc:
                raise GovcloudError(f"cannot read cloud target {name!r}: {exc}") from None
        drifts, same = classify(desired, records, observed)
        res = RefreshResult(drifts, same, serial=snap.serial)
        if write:
            actor = default_actor()
            for d in res.accepted:
                res.serial = store.put(d.record)
                store.append_audit(actor, "refresh", d.address, d.record.approval,
                                   {"cloud_id": d.record.cloud_id, "changes": d.changes,
                                    "reason": d.reason})
                res.written += 1
            res.applied = True
    return res
