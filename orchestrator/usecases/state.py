"""`govcloud state list | show | unlock`: the state store's records and its lock."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import GovcloudError, Issue
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


def state_list(ws: Workspace, at: int | None = None) -> StateList:
    """The records now, or as they were at serial ``at`` (the state history)."""
    with open_state(ws) as store:
        snap = store.read() if at is None else store.read_at(at)
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


@dataclass
class StateChange:
    """What `state rm` / `state mv` did: one entry per object."""
    command: str                              # "rm" | "mv"
    objects: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": f"govcloud-state-{self.command}/1", "objects": self.objects}


def state_rm(ws: Workspace, address: str, lock_timeout: float, today: str) -> StateChange:
    """Stop managing ``address`` without deleting anything in the cloud (``terraform state
    rm``): the object loses govcloud's tags (so no later plan adopts or deletes it; it is tagged
    ``govcloud.released-from``) and its record leaves the state. Refused while a stack spec
    still wants it (the next plan would create a second one): take it out of the approval
    first. The cloud is released before the state: a crash between leaves a record whose
    object no longer carries our tag, which no plan can delete (NotOwned)."""
    from drivers.base import DriverError, Retagging

    from ..core.planner import collect_desired
    from ..state.base import default_actor
    from .session import locked, open_drivers
    with open_state(ws) as store, locked(store, "state rm", lock_timeout):
        rec = store.read().records.get(address)
        if rec is None:
            raise GovcloudError(f"{address} is not in state", fix="see `govcloud state list`")
        desired = collect_desired(r for s in ws.load_specs() for r in s.resources)
        if address in desired:
            raise GovcloudError(
                f"{address} is still wanted by stack spec {desired[address].stack or '(shared)'}: "
                f"after `state rm` the next plan would create a second one",
                fix="remove it from the approval and run `govcloud compile` first (then state rm "
                    "keeps the object in the cloud instead of the plan deleting it)")
        with open_drivers(ws, [rec.target]) as drivers:
            drv = drivers[rec.target]
            if not isinstance(drv, Retagging):
                raise GovcloudError(f"cloud target {rec.target!r} cannot remove govcloud's tags "
                                    f"from an object, so its next plan would find it again",
                                    fix="remove the govcloud.* tags in the cloud by hand, then "
                                        "run state rm again")
            found = drv.find(address)
            note = {"govcloud.released-from": ws.config.workspace.id,
                    "govcloud.released-on": today}
            if found is not None:
                try:
                    drv.release(found, note)
                except DriverError as exc:   # a quota, whose tags are its project's (OpenStack)
                    raise GovcloudError(f"cannot release {address}: {exc}") from None
        store.remove(address)
        store.append_audit(default_actor(), "state-rm", address, rec.approval,
                           {"cloud_id": rec.cloud_id, "in_cloud": found is not None,
                            "released": found is not None})
    return StateChange("rm", [{"address": address, "cloud_id": rec.cloud_id,
                               "kept_in_cloud": found is not None,
                               "tags": note if found is not None else {}}])


def state_mv(ws: Workspace, source: str, dest: str, lock_timeout: float) -> StateChange:
    """Move ``source`` to ``dest`` (``terraform state mv``; both addresses, or both
    DEPT/SYSTEM): the object is renamed and retagged in place in the cloud and re-keyed in
    state, as a ``moved:`` record would — and only that: the plan is computed with the move and
    only its moved actions are applied. ``dest`` must be wanted by a stack spec (an approved
    address); a move that would need a replacement is refused."""
    import datetime as dt

    from ..core.planner import expand_moves
    from ..models.approval import _move
    from ..models.plan import Cause, Plan
    from .apply import execute
    from .plan import compute_plan
    from .session import locked, open_drivers
    try:
        move = _move({"from": source, "to": dest})
    except ValueError as exc:
        raise GovcloudError(f"cannot move {source} to {dest}: {exc}") from None
    with open_state(ws) as store, locked(store, "state mv", lock_timeout), \
            open_drivers(ws) as drivers:
        snap = store.read()
        if ":" in source and source not in snap.records:
            raise GovcloudError(f"{source} is not in state", fix="see `govcloud state list`")
        p = compute_plan(ws, store, drivers, None, extra_moves=(move,))
        sources = set(expand_moves([move], snap.records,
                                   {a: r.stack for a, r in snap.records.items()}))
        mine = [a for a in p.actions if (a.prior or {}).get("moved_from") in sources]
        if not mine:
            raise GovcloudError(f"nothing of {source} is in state or in the cloud to move")
        bad = [a for a in mine if a.cause is not Cause.MOVED]
        if bad:
            raise GovcloudError(f"moving {source} to {dest} is not a rename in place",
                                [Issue(a.address, a.reason) for a in bad],
                                fix="plan the change instead (govcloud plan) and review it")
        one = Plan(p.workspace_id, p.lineage, p.serial, p.inputs_digest, mine,
                   dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
        results = execute(ws, one, store, drivers, 4)
    failed = [r for r in results if r.outcome != "ok"]
    if failed:
        raise GovcloudError(f"state mv {source} {dest}: {len(failed)} objects failed",
                            [Issue(r.address, r.detail) for r in failed], changed_nothing=False)
    return StateChange("mv", [{"from": a.prior["moved_from"], "to": a.address,
                               "cloud_id": a.prior.get("cloud_id")} for a in mine])


STATE_FORMAT = "govcloud-state/1"


def state_pull(ws: Workspace, at: int | None = None) -> dict[str, Any]:
    """The whole state as one document (``terraform state pull``), now or at serial ``at``."""
    with open_state(ws) as store:
        snap = store.read() if at is None else store.read_at(at)
    return {"format": STATE_FORMAT, "workspace_id": ws.config.workspace.id,
            "lineage": snap.lineage, "serial": snap.serial,
            "resources": [r.__dict__ for r in sorted(snap.records.values(), key=lambda r: r.address)]}


def state_push(ws: Workspace, path, lock_timeout: float) -> dict[str, Any]:
    """Make the state the document at ``path`` (``terraform state push``): refused for another
    workspace or lineage, a lower serial, or the same serial with other content (a changed
    state needs a higher serial). The cloud is not touched; the next plan compares the cloud
    with the pushed state. Audited ``state-push``; the replaced version stays in history."""
    import json
    from pathlib import Path

    from ..state.base import default_actor
    from .session import locked
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        if doc.get("format") != STATE_FORMAT:
            raise ValueError(f"not a {STATE_FORMAT} document")
        records = [StateRecord(**r) for r in doc["resources"]]
        serial, lineage = int(doc["serial"]), str(doc["lineage"])
    except FileNotFoundError:
        raise GovcloudError(f"{path} not found", fix="write it with `govcloud state pull > FILE`")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise GovcloudError(f"{path} is not a state document: {exc}",
                            fix="push what `govcloud state pull` wrote") from None
    if doc.get("workspace_id") != ws.config.workspace.id:
        raise GovcloudError(f"{path} is the state of workspace {doc.get('workspace_id')}, this is "
                            f"{ws.config.workspace.id}")
    with open_state(ws) as store, locked(store, "state push", lock_timeout):
        now = store.read()
        if lineage != now.lineage:
            raise GovcloudError(f"{path} has lineage {lineage}; this state's is {now.lineage}: it "
                                f"is another state, not a version of this one")
        if serial < now.serial:
            raise GovcloudError(f"{path} is at serial {serial}, lower than the state's "
                                f"{now.serial}: it would undo later writes",
                                fix="pull again and redo the change on the current state")
        same = {r.address: r for r in records} == now.records
        if serial == now.serial and not same:
            raise GovcloudError(f"{path} is at the state's serial {serial} but differs from it",
                                fix=f"a changed state needs a higher serial: set \"serial\": "
                                    f"{now.serial + 1} in the file")
        if serial == now.serial:
            return {"format": "govcloud-state-push/1", "lineage": lineage, "serial": serial,
                    "resources": len(records), "changed": False}
        store.replace_all(records, serial)
        store.append_audit(default_actor(), "state-push", ws.config.workspace.id, None,
                           {"from_serial": now.serial, "serial": serial,
                            "resources": len(records), "file": str(path)})
    return {"format": "govcloud-state-push/1", "lineage": lineage, "serial": serial,
            "resources": len(records), "changed": True}


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
