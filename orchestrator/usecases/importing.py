"""`govcloud import ADDRESS CLOUD_ID`: take an object govcloud did not create (a system being
migrated onto govcloud's management) under management (``terraform import``), but only when an
approved stack spec wants ADDRESS, the object matches that spec field for field (and points at
the objects the state already records for its references), and no other workspace owns it. Then
it gets this workspace's tags and a state record; audited ``import``. Nothing else changes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.base import DriverError, Importing, OWNER_TAG, ownership_tags

from ..core.planner import collect_desired
from ..core.resources import KINDS
from ..errors import GovcloudError, Issue
from ..models.cloud import Request
from ..models.state import StateRecord
from ..state.base import default_actor
from ..workspace import Workspace
from .session import locked, open_drivers, open_state


@dataclass
class ImportResult:
    address: str
    cloud_id: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-import/1", "address": self.address, "cloud_id": self.cloud_id}


def import_object(ws: Workspace, address: str, cloud_id: str, lock_timeout: float) -> ImportResult:
    desired = collect_desired(r for s in ws.load_specs() for r in s.resources)
    d = desired.get(address)
    if d is None:
        raise GovcloudError(f"{address} is in no stack spec: only an approved object can be "
                            f"imported", fix="add it to the approval and run `govcloud compile`")
    with open_state(ws) as store, locked(store, "import", lock_timeout), \
            open_drivers(ws, [d.target]) as drivers:
        records = store.read().records
        if address in records:
            raise GovcloudError(f"{address} is managed already ({records[address].cloud_id})")
        drv = drivers[d.target]
        if not isinstance(drv, Importing):
            raise GovcloudError(f"cloud target {d.target!r} cannot take objects under management",
                                fix="its driver does not declare the 'import' capability")
        if drv.find(address) is not None:
            raise GovcloudError(f"an object with this workspace's tags for {address} exists "
                                f"already", fix="run `govcloud plan`: it adopts it")
        obj = drv.lookup(d.kind, cloud_id)
        if obj is None:
            raise GovcloudError(f"no {d.kind} {cloud_id} in cloud target {d.target!r}")
        cloud_id = obj.cloud_id     # the driver's own spelling of it (a quota: <project>/quota)
        owner = obj.tags.get(OWNER_TAG)
        if owner and owner != ws.config.workspace.id:
            raise GovcloudError(f"{d.kind} {cloud_id} is owned by workspace {owner}",
                                fix="import only what no other govcloud workspace manages")
        kind = KINDS[d.kind]
        issues = [Issue(f, f"cloud {obj.properties.get(f)!r}, approved {v!r}")
                  for f, v in sorted(d.properties.items())
                  if f in kind.fields and obj.properties.get(f) != v]
        ids = {a: r.cloud_id for a, r in records.items()}
        for f in kind.refs:
            want = ids.get(d.refs.get(f, ""))
            if want is None:
                issues.append(Issue(f, f"{d.refs.get(f)} is not managed yet: import or apply it first"))
            elif obj.refs.get(f) != want:
                issues.append(Issue(f, f"points at {obj.refs.get(f)}, the approval's "
                                       f"{d.refs.get(f)} is {want}"))
        if issues:
            raise GovcloudError(f"{d.kind} {cloud_id} does not match {address}", issues,
                                fix="make the object match the approval in the cloud (or "
                                    "change the approval), then import again")
        req = Request(address, d.kind, d.name, dict(d.properties),
                      {f: ids[a] for f, a in d.refs.items() if a in ids},
                      ownership_tags(ws.config.workspace.id, address, d.stack, d.zone, d.approval))
        try:
            drv.claim(obj, req)
        except DriverError as exc:   # NotOwned; a quota before its project (OpenStack)...
            raise GovcloudError(f"cannot import {address}: {exc}") from None
        store.put(StateRecord(address, d.kind, d.target, cloud_id, "ok", d.stack, d.approval,
                              dict(d.properties), dict(d.refs)))
        store.append_audit(default_actor(), "import", address, d.approval,
                           {"cloud_id": cloud_id, "target": d.target})
    return ImportResult(address, cloud_id)
