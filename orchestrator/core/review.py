"""What a reviewer of a plan needs beside the actions: the quota view, the fee change, and
whether the plan stays within what is approved. Pure.

Quota view, per department and zone, in vCPU, RAM GB, disk GB and public IPs:
  approved  what the approvals grant (their servers, disks, volumes and public IPs, sized
            through the catalog)
  planned   what the cloud holds after the plan (servers, volumes and floating IPs the plan
            keeps or creates; window resources not yet open are counted apart, as scheduled)
  quota     the project quotas the plan sets (the provider's quota objects)
  used      what the state records now

The plan is refused when it goes beyond an approval (``excesses``): per approval number and
zone, what the specs plan under that number (scheduled included) against what the approval
grants; per project, the quota the plan sets against what the project's approvals grant. A
server is as large as the larger of its spec's figures and its flavor's in the catalog, so
neither a hand-edited figure nor a hand-edited flavor slips through.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable, Mapping, Protocol

from ..models.approval import Approval
from ..models.catalog import Catalog
from ..models.plan import Action, ActionKind, Cause
from . import pricing

DIMENSIONS = ("vcpus", "ram_gb", "disk_gb", "public_ips")
LABEL = {"vcpus": "vCPU", "ram_gb": "RAM GB", "disk_gb": "disk GB", "public_ips": "public IPs"}
REVIEW_FORMAT = "govcloud-plan-review/1"
SIZED = ("server", "volume", "floating_ip")   # what takes of an approval (quota objects apart)


class Sized(Protocol):
    """A spec resource or a plan's desired record: what sizing reads of it."""
    address: str
    kind: str
    zone: str | None
    stack: str | None
    approval: str | None
    properties: Mapping[str, Any]


def _zero() -> dict[str, int]:
    return {d: 0 for d in DIMENSIONS}


def _add(into: dict[str, int], more: Mapping[str, int]) -> None:
    for d in DIMENSIONS:
        into[d] += int(more.get(d, 0))


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
        """Per dimension, how far the plan (or the quota it sets) goes beyond the approvals."""
        out = {}
        for d in DIMENSIONS:
            over = max(self.planned[d] + self.scheduled[d], self.quota[d]) - self.approved[d]
            if over > 0:
                out[d] = over
        return out

    @property
    def changes(self) -> bool:
        """Whether the row says more than "as before": the plan moves usage, or goes beyond."""
        return self.planned != self.used or any(self.scheduled.values()) or bool(self.excess)

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "zone": self.zone, "approved": self.approved,
                "planned": self.planned, "scheduled": self.scheduled, "quota": self.quota,
                "used": self.used, "excess": self.excess}


def _dept(address: str) -> str:
    # kind:target/department/project/name
    parts = address.split(":", 1)[1].split("/")
    return parts[1] if len(parts) > 1 else "?"


def _zone_of(address: str) -> str:
    """A recorded object's zone from its project name (<system>-<zone>)."""
    parts = address.split(":", 1)[1].split("/")
    project = parts[2] if len(parts) > 2 else ""
    return project.rsplit("-", 1)[-1] if "-" in project else "?"


def size(kind: str, props: Mapping[str, Any], catalog: Catalog | None = None) -> dict[str, int]:
    """What one object takes of an approval. A server: the larger of its own figures and its
    flavor's in the catalog (the flavor is what the cloud provisions)."""
    out = _zero()
    if kind == "server":
        out["vcpus"] = int(props.get("vcpus") or 0)
        out["ram_gb"] = int(props.get("ram_gb") or 0)
        out["disk_gb"] = int(props.get("system_disk_gb") or 0)
        item = catalog.by_code().get(str(props.get("flavor"))) if catalog is not None else None
        prov = getattr(item, "provisions", None)
        if prov is not None and getattr(prov, "kind", None) == "flavor":
            out["vcpus"] = max(out["vcpus"], prov.vcpus)
            out["ram_gb"] = max(out["ram_gb"], prov.ram_gb)
    elif kind == "volume":
        out["disk_gb"] = int(props.get("size_gb") or 0)
    elif kind == "floating_ip":
        out["public_ips"] = 1
    return out


def quota_size(props: Mapping[str, Any]) -> dict[str, int]:
    """A project quota in the view's dimensions (RAM rounded up: 8193 MB is 9 GB)."""
    return {"vcpus": int(props.get("cores", 0)), "ram_gb": -(-int(props.get("ram_mb", 0)) // 1024),
            "disk_gb": int(props.get("gigabytes", 0)),
            "public_ips": int(props.get("floating_ips", 0))}


def approved_sizes(approval: Approval, catalog: Catalog) -> dict[str, dict[str, int]]:
    """zone -> the approval's vCPU / RAM / disk / public IPs."""
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
        z["public_ips"] += req.public_ips
    return out


def _kept(actions: Iterable[Action]) -> Iterable[tuple[Action, Any]]:
    """(action, desired) of what the cloud holds after the plan."""
    for act in actions:
        d = act.desired
        if d is None or act.action is ActionKind.DELETE or act.cause in (Cause.EXPIRED,
                                                                          Cause.ORPHANED):
            continue
        yield act, d


def quota_view(approvals: Iterable[Approval], catalog: Catalog, actions: Iterable[Action],
               records: Mapping[str, Any], scheduled: Iterable[Sized] = ()) -> list[QuotaRow]:
    """``scheduled``: the spec resources of the plan's scheduled actions (which carry none)."""
    rows: dict[tuple[str, str], QuotaRow] = {}

    def row(dept: str, zone: str) -> QuotaRow:
        r = rows.get((dept, zone))
        if r is None:
            r = rows[(dept, zone)] = QuotaRow(dept, zone)
        return r

    for a in approvals:
        for zone, sz in approved_sizes(a, catalog).items():
            _add(row(a.department.code, zone).approved, sz)
    for _act, d in _kept(actions):
        if d.kind == "quota":
            _add(row(_dept(d.address), d.zone or "?").quota, quota_size(d.properties))
        elif d.kind in SIZED:
            _add(row(_dept(d.address), d.zone or "?").planned, size(d.kind, d.properties, catalog))
    for r in scheduled:
        if r.kind in SIZED:
            _add(row(_dept(r.address), r.zone or "?").scheduled, size(r.kind, r.properties, catalog))
    for addr, rec in records.items():
        if rec.kind in SIZED:
            _add(row(_dept(addr), _zone_of(addr)).used, size(rec.kind, rec.properties, catalog))
    return [rows[k] for k in sorted(rows)]


@dataclass
class Excess:
    """One approval in one zone gone beyond (or, with ``quota``, one project's quota)."""
    approval: str | None        # the approval number the planned objects name (None: none)
    zone: str
    approved: dict[str, int]
    planned: dict[str, int]     # scheduled included; with ``quota``: the quota the plan sets
    by_stack: dict[str, dict[str, int]]   # stack (DEPT/SYSTEM) -> what its spec plans of it
    granted_by: list[str]       # the approval numbers whose grant ``approved`` is
    quota: str | None = None    # the project's stack, for a quota excess

    @property
    def over(self) -> dict[str, int]:
        return {d: self.planned[d] - self.approved[d] for d in DIMENSIONS
                if self.planned[d] > self.approved[d]}

    def to_dict(self) -> dict[str, Any]:
        return {"approval": self.approval, "zone": self.zone, "approved": self.approved,
                "planned": self.planned, "over": self.over, "by_stack": self.by_stack,
                "granted_by": self.granted_by, "quota_of": self.quota}


def excesses(approvals: Iterable[Approval], catalog: Catalog, actions: Iterable[Action],
             scheduled: Iterable[Sized] = ()) -> list[Excess]:
    """Where the plan goes beyond what is approved: per approval number and zone, the objects
    the specs plan under it (scheduled included) against its grant; per project (stack and
    zone), the quota the plan sets against its approvals' grants together."""
    by_no: dict[str, Approval] = {a.approval_no: a for a in approvals}
    grant = {no: approved_sizes(a, catalog) for no, a in by_no.items()}
    planned: dict[tuple[str, str], dict[str, int]] = {}
    stacks: dict[tuple[str, str], dict[str, dict[str, int]]] = {}
    quotas: dict[tuple[str, str], dict[str, int]] = {}

    def plan_one(r: Any) -> None:
        zone = r.zone or "?"
        if r.kind == "quota":
            if r.stack:
                quotas[(r.stack, zone)] = quota_size(r.properties)
            return
        if r.kind not in SIZED:
            return
        sz = size(r.kind, r.properties, catalog)
        key = (r.approval or "", zone)
        got = planned.get(key)
        if got is None:
            got = planned[key] = _zero()
            stacks[key] = {}
        _add(got, sz)
        per = stacks[key].get(r.stack or "?")
        if per is None:
            per = stacks[key][r.stack or "?"] = _zero()
        _add(per, sz)

    for _act, d in _kept(actions):
        plan_one(d)
    for r in scheduled:
        plan_one(r)
    out: list[Excess] = []
    for (no, zone), got in sorted(planned.items()):
        allowed = grant.get(no, {}).get(zone, _zero())
        if any(got[d] > allowed[d] for d in DIMENSIONS):
            out.append(Excess(no or None, zone, allowed, got, stacks[(no, zone)],
                              [no] if no in by_no else []))
    by_stack: dict[str, list[str]] = {}
    for no, a in sorted(by_no.items()):
        by_stack.setdefault(a.stack, []).append(no)
    for (stack, zone), q in sorted(quotas.items()):
        nos = [n for n in by_stack.get(stack, []) if zone in grant[n]]
        allowed = _zero()
        for n in nos:
            _add(allowed, grant[n][zone])
        if any(q[d] > allowed[d] for d in DIMENSIONS):
            out.append(Excess(nos[0] if nos else None, zone, allowed, q, {stack: q}, nos,
                              quota=stack))
    return out


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


def fee_total(fees: Iterable[FeeRow]) -> dict[str, str]:
    """{before, after, change}: the monthly totals (yuan, strings)."""
    fees = list(fees)
    tb = sum((f.before or 0 for f in fees), Decimal("0.00"))
    ta = sum((f.after or 0 for f in fees), Decimal("0.00"))
    return {"before": str(tb), "after": str(ta), "change": str(ta - tb)}


@dataclass
class Review:
    """What a plan carries for its reviewer (Plan.review is ``to_dict()``)."""
    quota: list[QuotaRow]
    fees: list[FeeRow]
    excess: list[Excess]
    fees_before: str            # what "before" is: "applied" (the state) or a revision

    def to_dict(self) -> dict[str, Any]:
        return {"format": REVIEW_FORMAT, "quota": [q.to_dict() for q in self.quota],
                "fees": [f.to_dict() for f in self.fees], "fee_total": fee_total(self.fees),
                "fees_before": self.fees_before, "excess": [e.to_dict() for e in self.excess]}


def review(approvals: Iterable[Approval], catalog: Catalog, actions: list[Action],
           records: Mapping[str, Any], before: Mapping[str, tuple[str, Decimal]],
           fees_before: str, scheduled: Iterable[Sized] = ()) -> Review:
    approvals = list(approvals)
    scheduled = list(scheduled)
    return Review(quota_view(approvals, catalog, actions, records, scheduled),
                  fee_changes(before, monthly_fees(approvals, catalog)),
                  excesses(approvals, catalog, actions, scheduled), fees_before)
