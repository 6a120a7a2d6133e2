"""What a reviewer of a plan needs beside the actions: the quota view and the fee change. Pure.

Quota view, per department and zone, in vCPU, RAM GB and disk GB:
  approved  what the approvals grant (their servers and volumes priced through the catalog)
  planned   what the cloud holds after the plan (servers and volumes the plan keeps or creates;
            window resources not yet open are counted apart, as scheduled)
  quota     the project quotas the plan sets (the provider's quota objects)
  used      what the state records now
A planned figure above the approved one is an excess: the pipeline refuses such a plan.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping

from ..models.approval import Approval
from ..models.catalog import Catalog
from ..models.plan import Action, ActionKind, Cause
from . import pricing

DIMENSIONS = ("vcpus", "ram_gb", "disk_gb")


def _zero() -> dict[str, int]:
    return {d: 0 for d in DIMENSIONS}


@dataclass
class QuotaRow:
    department: str
    zone: str
    approved: dict[str, int] = field(default_factory=_zero)
    planned: dict[str, int] = field(default_factory=_zero)
    scheduled: dict[str, int] = field(default_factory=_zero)
    quota: dict[str, int] = field(default_factory=_zero)
    used: dict[str, int] = field(default_factory=_zero)

    @property
    def excess(self) -> dict[str, int]:
        return {d: self.planned[d] + self.scheduled[d] - self.approved[d] for d in DIMENSIONS
                if self.planned[d] + self.scheduled[d] > self.approved[d]}

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "zone": self.zone, "approved": self.approved,
                "planned": self.planned, "scheduled": self.scheduled, "quota": self.quota,
                "used": self.used, "excess": self.excess}


def _dept_zone(address: str, zone: str | None) -> tuple[str, str]:
    # kind:target/department/project/name; the zone is the resource's own
    parts = address.split(":", 1)[1].split("/")
    return (parts[1] if len(parts) > 1 else "?"), (zone or "?")


def _size(kind: str, props: Mapping[str, Any]) -> dict[str, int]:
    if kind == "server":
        return {"vcpus": int(props.get("vcpus") or 0), "ram_gb": int(props.get("ram_gb") or 0),
                "disk_gb": int(props.get("system_disk_gb") or 0)}
    if kind == "volume":
        return {"vcpus": 0, "ram_gb": 0, "disk_gb": int(props.get("size_gb") or 0)}
    return _zero()


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for d in DIMENSIONS:
        into[d] += int(more.get(d, 0))


def approved_sizes(approval: Approval, catalog: Catalog) -> dict[str, dict[str, int]]:
    """zone -> the approval's vCPU / RAM / disk."""
    items = catalog.by_code()
    out: dict[str, dict[str, int]] = {}
    for zone, req in approval.zones.items():
        z = out.setdefault(zone, _zero())
        for s in req.servers:
            prov = items[s.flavor].provisions
            z["vcpus"] += prov.vcpus * s.count
            z["ram_gb"] += prov.ram_gb * s.count
            z["disk_gb"] += (s.system_disk.gb + sum(d.gb for d in s.data_disks)) * s.count
        for v in req.volumes:
            z["disk_gb"] += v.gb
    return out


def quota_view(approvals: Iterable[Approval], catalog: Catalog, actions: Iterable[Action],
               records: Mapping[str, Any]) -> list[QuotaRow]:
    rows: dict[tuple[str, str], QuotaRow] = {}

    def row(dept: str, zone: str) -> QuotaRow:
        return rows.setdefault((dept, zone), QuotaRow(dept, zone))

    for a in approvals:
        for zone, size in approved_sizes(a, catalog).items():
            _add(row(a.department.code, zone).approved, size)
    for act in actions:
        d = act.desired
        if d is None or act.action is ActionKind.DELETE:
            continue
        dept, zone = _dept_zone(act.address, d.zone)
        if d.kind == "quota":
            p = d.properties
            _add(row(dept, zone).quota, {"vcpus": p.get("cores", 0),
                                         "ram_gb": int(p.get("ram_mb", 0)) // 1024,
                                         "disk_gb": p.get("gigabytes", 0)})
            continue
        if d.kind not in ("server", "volume"):
            continue
        if act.cause in (Cause.EXPIRED, Cause.ORPHANED):
            continue
        target = row(dept, zone).scheduled if act.cause is Cause.SCHEDULED else row(dept, zone).planned
        _add(target, _size(d.kind, d.properties))
    for addr, rec in records.items():
        if rec.kind in ("server", "volume"):
            dept, _ = _dept_zone(addr, None)
            zone = _zone_of(addr)
            _add(row(dept, zone).used, _size(rec.kind, rec.properties))
    return [rows[k] for k in sorted(rows)]


def _zone_of(address: str) -> str:
    """A recorded object's zone from its project name (<system>-<zone>)."""
    parts = address.split(":", 1)[1].split("/")
    project = parts[2] if len(parts) > 2 else ""
    return project.rsplit("-", 1)[-1] if "-" in project else "?"


@dataclass
class FeeRow:
    approval: str
    system: str
    before: Decimal | None      # None: not approved before
    after: Decimal | None       # None: no longer approved

    @property
    def change(self) -> Decimal:
        return (self.after or Decimal("0.00")) - (self.before or Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        return {"approval": self.approval, "system": self.system,
                "before": None if self.before is None else str(self.before),
                "after": None if self.after is None else str(self.after),
                "change": str(self.change)}


def monthly_fees(approvals: Iterable[Approval], catalog: Catalog) -> dict[str, tuple[str, Decimal]]:
    """approval number -> (system, monthly fee)."""
    return {a.approval_no: (f"{a.department.code}/{a.system.code}",
                            pricing.total(pricing.price_approval(a, catalog)))
            for a in approvals}


def fee_changes(before: Mapping[str, tuple[str, Decimal]],
                after: Mapping[str, tuple[str, Decimal]]) -> list[FeeRow]:
    out = []
    for no in sorted(set(before) | set(after)):
        b, a = before.get(no), after.get(no)
        out.append(FeeRow(no, (a or b)[0], b[1] if b else None, a[1] if a else None))
    return out
