"""`govcloud server stop | start | reboot ADDRESS`: day-2 power operations on a server of an
approved system (``openstack server stop|start|reboot``), under the workspace lock, through the
driver's PowerControl capability (which refuses any server without this workspace's owner tag),
each recorded in the audit log. A reboot is a stop and a start (a hard reboot)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.base import PowerControl

from ..core.planner import collect_desired
from ..errors import GovcloudError
from ..models.address import kind_of
from ..state.base import default_actor
from ..workspace import Workspace
from .session import locked, open_drivers, open_state

STEPS = {"stop": ("SHUTOFF",), "start": ("ACTIVE",), "reboot": ("SHUTOFF", "ACTIVE")}


@dataclass
class PowerResult:
    address: str
    cloud_id: str
    operation: str
    status_before: str
    status: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-server/1", **self.__dict__}


def power(ws: Workspace, address: str, operation: str, lock_timeout: float) -> PowerResult:
    if kind_of(address) != "server":
        raise GovcloudError(f"{address} is not a server address (server:TARGET/DEPT/PROJECT/NAME)",
                            fix="see `govcloud state list`")
    with open_state(ws) as store, locked(store, f"server {operation}", lock_timeout):
        rec = store.read().records.get(address)
        if rec is None:
            raise GovcloudError(f"{address} is not in state: govcloud only powers servers it "
                                f"made", fix="see `govcloud state list`")
        desired = collect_desired(r for s in ws.load_specs() for r in s.resources)
        if address not in desired:
            raise GovcloudError(f"{address} belongs to no approved system (orphaned or removed)",
                                fix="its system leaves through the exit process "
                                    "(`govcloud decommission`), which takes servers offline")
        with open_drivers(ws, [rec.target]) as drivers:
            drv = drivers[rec.target]
            if not isinstance(drv, PowerControl):
                raise GovcloudError(f"cloud target {rec.target!r} offers no power control")
            obj = drv.find(address)
            if obj is None or obj.cloud_id != rec.cloud_id:
                raise GovcloudError(f"{address} ({rec.cloud_id}) is not in the cloud as recorded",
                                    fix="run `govcloud plan` to see what happened to it")
            before = obj.status
            for state in STEPS[operation]:
                drv.set_power(obj, state)
            after = (drv.find(address) or obj).status
        store.append_audit(default_actor(), f"server-{operation}", address, rec.approval,
                           {"cloud_id": rec.cloud_id, "target": rec.target,
                            "status_before": before, "status": after})
    return PowerResult(address, rec.cloud_id, operation, before, after)
