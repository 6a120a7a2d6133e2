"""`govcloud output [SYSTEM]`: the handover record (交付清单) that goes with the delivery
confirmation — per system and zone the project, its network and CIDR, the servers with their
fixed IPs, the floating IPs, the disks, the approved inbound rules, and where the department's
application credential was written (the path only: the secret is never read here).

From the specs (what was approved), the state (what govcloud made) and one observation per
cloud target (what the cloud assigned: addresses, status). Read-only: no lock, no writes
(Terraform's ``terraform output``, computed rather than declared)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.base import DriverError

from ..errors import GovcloudError
from ..models.spec import StackSpec
from ..workspace import Workspace
from .session import open_drivers, open_state

OUTPUT_FORMAT = "govcloud-output/1"


@dataclass
class Handover:
    workspace_id: str
    systems: list[dict[str, Any]]
    warnings: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {"format": OUTPUT_FORMAT, "workspace_id": self.workspace_id,
                "systems": self.systems, "warnings": self.warnings}


def select(specs: list[StackSpec], system: str | None) -> list[StackSpec]:
    """``system``: ``DEPT/SYSTEM`` or a system code; None: all."""
    if system is None:
        return specs
    chosen = [s for s in specs if system in (s.stack, s.system["code"])]
    if not chosen:
        raise GovcloudError(f"no stack spec for system {system!r}",
                            fix="name it as DEPT/SYSTEM or by its system code (see stacks/); "
                                "run `govcloud compile` if its approval is new")
    return chosen


def output(ws: Workspace, system: str | None) -> Handover:
    specs = select(ws.load_specs(), system)
    warnings: list[str] = []
    with open_state(ws) as store:
        records = store.read().records
    targets = {r.target for s in specs for r in s.resources}
    observed: dict[str, Any] = {}
    with open_drivers(ws) as drivers:
        for t in sorted(targets):
            try:
                drivers.need([t])
                observed.update({o.address: o for o in drivers[t].observe()})
            except (DriverError, GovcloudError) as exc:
                warnings.append(f"cloud target {t!r} could not be read ({exc}): addresses and "
                                f"status are from the state only")
    creds = ws.data_dir / "credentials"
    return Handover(ws.config.workspace.id,
                    [_system(ws, s, records, observed, creds, warnings) for s in specs], warnings)


def _system(ws, spec: StackSpec, records, observed, creds, warnings) -> dict[str, Any]:
    zones = []
    missing = []
    for zone, layout in sorted(spec.zones.items()):
        res = [r for r in spec.resources if r.zone == zone]

        def live(r):
            rec, obs = records.get(r.address), observed.get(r.address)
            if rec is None:
                missing.append(r.address)
            return rec, obs

        servers, floating, volumes, rules = [], [], [], []
        network = subnet = None
        for r in res:
            rec, obs = live(r)
            p = dict(r.properties)
            cloud_id = obs.cloud_id if obs else (rec.cloud_id if rec else None)
            seen = obs.properties if obs else {}
            if r.kind == "server":
                servers.append({"name": r.name, "flavor": p.get("flavor"), "vcpus": p.get("vcpus"),
                                "ram_gb": p.get("ram_gb"), "image": p.get("image"),
                                "system_disk_gb": p.get("system_disk_gb"),
                                "fixed_ip": seen.get("fixed_ip"), "cloud_id": cloud_id,
                                "status": obs.status if obs else ("recorded" if rec else "not created")})
            elif r.kind == "floating_ip":
                floating.append({"name": r.name, "address": seen.get("address"),
                                 "external_network": p.get("external_network"),
                                 "bandwidth_mbps": p.get("bandwidth_mbps"), "cloud_id": cloud_id})
            elif r.kind == "volume":
                volumes.append({"name": r.name, "size_gb": p.get("size_gb"),
                                "volume_type": p.get("volume_type"), "cloud_id": cloud_id})
            elif r.kind == "network":
                network = {"name": p.get("name", r.name), "cloud_id": cloud_id}
            elif r.kind == "subnet":
                subnet = {"cidr": p.get("cidr"), "gateway_ip": p.get("gateway_ip"),
                          "cloud_id": cloud_id}
            elif r.kind == "security_group":
                rules = [{"protocol": x.get("protocol"), "port_min": x.get("port_min"),
                          "port_max": x.get("port_max"), "source": x.get("remote_ip_prefix")}
                         for x in p.get("rules", [])]
        project = next((r for r in res if r.kind == "project"), None)
        files = sorted(creds.glob(f"*__{layout.project}.json")) if creds.is_dir() else []
        zones.append({
            "zone": zone, "project": layout.project, "target": layout.target,
            "project_id": (records[project.address].cloud_id
                           if project is not None and project.address in records else None),
            "external_network": layout.external_network, "cidr": layout.cidr,
            "network": network, "subnet": subnet, "servers": servers, "floating_ips": floating,
            "volumes": volumes, "inbound": rules,
            "credential_file": ws.rel(files[0]) if files else None})
    if missing:
        warnings.append(f"{spec.stack}: {len(missing)} approved objects are not in state yet "
                        f"(not delivered: run `govcloud apply`), e.g. {missing[0]}")
    return {"stack": spec.stack, "department": dict(spec.department),
            "system": {"code": spec.system.get("code"), "name": spec.system.get("name"),
                       "dengbao_level": spec.system.get("dengbao_level")},
            "approvals": [a.approval_no for a in spec.approvals],
            "monthly_fee": str(spec.monthly_fee), "delivered": not missing, "zones": zones}
