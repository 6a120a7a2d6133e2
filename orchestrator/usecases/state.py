"""`govcloud state list | show | unlock`: the state store's records and its lock."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import GovcloudError
from ..models.state import StateRecord
from ..state.base import LockInfo
from ..workspace import Workspace
from .session import open_state


@dataclass
class StateList:
    lineage: str
    serial: int
    lock: LockInfo | None
    records: list[StateRecord]        # by address

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-state-list/1", "lineage": self.lineage, "serial": self.serial,
                "lock": self.lock.__dict__ if self.lock else None,
                "resources": [{"address": r.address, "cloud_id": r.cloud_id, "status": r.status}
                              for r in self.records]}


def state_list(ws: Workspace) -> StateList:
    with open_state(ws) as store:
        snap = store.read()
        lock = store.current_lock()
    return StateList(snap.lineage, snap.serial, lock,
                     sorted(snap.records.values(), key=lambda r: r.address))


def state_show(ws: Workspace, address: str) -> StateRecord:
    with open_state(ws) as store:
        rec = store.read().records.get(address)
    if rec is None:
        raise GovcloudError(f"{address} is not in state", fix="see `govcloud state list`")
    return rec


def state_unlock(ws: Workspace, lock_id: str) -> LockInfo:
    """Remove a lock record left by a process that is gone (refused while it is alive)."""
    with open_state(ws) as store:
        return store.force_unlock(lock_id)
