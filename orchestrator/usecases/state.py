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


def state_recover(ws: Workspace) -> dict[str, Any]:
    """The operator's confirmation that an empty state is to be rebuilt from the cloud's tagged
    objects (the next plan adopts them): an audit entry, the state's first."""
    from ..state.base import default_actor
    with open_state(ws) as store, store.locked("state-recover", 30):
        snap = store.read()
        if snap.records or store.audit_head() is not None:
            raise GovcloudError("the state is not empty: there is nothing to recover",
                                fix="`govcloud plan` shows what differs from the cloud")
        e = store.append_audit(default_actor(), "state-recovery-confirmed", ws.config.workspace.id,
                               None, {"lineage": snap.lineage,
                                      "note": "objects found by their tags are adopted"})
    return {"format": "govcloud-state-recover/1", "lineage": snap.lineage, "audit_entry": e.seq}
