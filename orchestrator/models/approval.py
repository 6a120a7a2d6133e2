"""An approved application (批复): one YAML file per approval under the workspace's approvals/."""
from __future__ import annotations

import functools
import ipaddress
import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, Field, PositiveInt, field_validator, model_validator

from .base import Day, Input, Name, NonEmptyStr, Slug
from .catalog import ZoneName


class Department(Input):
    code: Slug
    name: Name


class System(Input):
    code: Slug
    name: Name
    # GB/T 22239 has five levels; which ones a platform accepts is a profile rule, not schema.
    dengbao_level: int
    classified: bool = False  # 涉密

    @field_validator("dengbao_level")
    @classmethod
    def _level(cls, v: int) -> int:
        if not 1 <= v <= 5:
            raise ValueError(f"等保 level {v} does not exist: GB/T 22239 defines levels 1 to 5")
        return v


def _move(v: dict[str, str]) -> dict[str, str]:
    """A ``moved:`` record: ``{from: ADDRESS, to: ADDRESS}`` (one object renamed) or
    ``{from: DEPT/SYSTEM, to: DEPT/SYSTEM}`` (a system renamed: every object of it)."""
    if set(v) != {"from", "to"} or not all(isinstance(x, str) and x for x in v.values()):
        raise ValueError("a moved record is {from: ADDRESS, to: ADDRESS} (or DEPT/SYSTEM for a "
                         "renamed system)")
    a, b = v["from"], v["to"]
    if (":" in a) != (":" in b):
        raise ValueError(f"moved {a} -> {b}: both must be resource addresses or both DEPT/SYSTEM")
    if ":" in a:
        if a.partition(":")[0] != b.partition(":")[0]:
            raise ValueError(f"moved {a} -> {b}: an object keeps its kind")
    elif a.count("/") != 1 or b.count("/") != 1 or a.split("/")[0] != b.split("/")[0]:
        raise ValueError(f"moved {a} -> {b}: a system moves within its department (DEPT/SYSTEM)")
    if a == b:
        raise ValueError(f"moved {a} -> {b}: from and to are the same")
    return {"from": a, "to": b}


Move = Annotated[dict[str, str], AfterValidator(_move)]


class Approver(Input):
    name: NonEmptyStr
    org: NonEmptyStr
    role: str = ""


class PermanentTerm(Input):
    kind: Literal["permanent"]


class WindowTerm(Input):
    """A temporary expansion window (临时扩容): resources exist from ``start`` through ``end``,
    both days included, as the approval form writes the period (「2026年7月1日至9月30日」:
    ``end: 2026-09-30``, the last day of service; `govcloud expire` removes them the next day)."""

    kind: Literal["window"]
    start: Day
    end: Day

    @model_validator(mode="after")
    def _ordered(self) -> "WindowTerm":
        if self.end < self.start:
            raise ValueError(f"end: term end {self.end} (the last day of service) is before "
                             f"term start {self.start}")
        return self


class EmergencyTerm(Input):
    """Emergency resources (应急资源), configured first and backfilled by a formal application.
    ``end`` is the last day of service (included), like a window's."""

    kind: Literal["emergency"]
    start: Day
    end: Day
    reason: NonEmptyStr
    # 重庆 第二十五条: after the project's approval (增补申请) the formal resource request is
    # backfilled within N working days. Both optional; `govcloud status` flags a late backfill.
    project_approved_on: Day | None = None
    backfilled_on: Day | None = None

    @model_validator(mode="after")
    def _ordered(self) -> "EmergencyTerm":
        if self.end < self.start:
            raise ValueError(f"end: term end {self.end} (the last day of service) is before "
                             f"term start {self.start}")
        return self


Term = Annotated[Union[PermanentTerm, WindowTerm, EmergencyTerm], Field(discriminator="kind")]


class Disk(Input):
    type: NonEmptyStr  # catalog code of a block-storage item
    gb: int = Field(gt=0, le=32768)


class Server(Input):
    name: Slug
    flavor: NonEmptyStr  # catalog code of a compute item
    image: Name
    system_disk: Disk
    data_disks: list[Disk] = Field(default_factory=list)
    count: PositiveInt = 1

    @field_validator("count")
    @classmethod
    def _count_bound(cls, v: int) -> int:
        if v > 200:
            raise ValueError(f"count {v} is above 200 servers of one kind; split the request")
        return v


class Volume(Input):
    name: Slug
    type: NonEmptyStr
    gb: int = Field(gt=0, le=32768)


class InboundRule(Input):
    protocol: Literal["tcp", "udp", "icmp"]
    port: int | None = Field(default=None, ge=1, le=65535)
    port_max: int | None = Field(default=None, ge=1, le=65535)
    # A CIDR, or "zone:<name>" for the zone's own address range (resolved from govcloud.toml).
    source: NonEmptyStr
    description: str = Field(default="", max_length=255)

    @model_validator(mode="after")
    def _ports(self) -> "InboundRule":
        if self.protocol == "icmp":
            if self.port is not None or self.port_max is not None:
                raise ValueError(f"{'port' if self.port is not None else 'port_max'}: "
                                 "icmp rules take no port")
        elif self.port is None:
            raise ValueError(f"port: a {self.protocol} rule needs a port")
        if self.port_max is not None and self.port is not None and self.port_max < self.port:
            raise ValueError(f"port_max: port_max {self.port_max} is below port {self.port}")
        return self

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v.startswith("zone:"):
            if v[5:] not in ("internet", "extranet"):
                raise ValueError(f"source zone {v[5:]!r} is not 'internet' or 'extranet'")
            return v
        return _network(v)


@functools.lru_cache(maxsize=4096)
def _network(v: str) -> str:
    """A CIDR as ipaddress writes it, or the error saying why it is not one. Cached: a province's
    approvals repeat a few sources tens of thousands of times (errors are not cached)."""
    try:
        return str(ipaddress.ip_network(v, strict=True))
    except ValueError as exc:
        try:
            net = ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise ValueError(f"source {v!r} is neither a CIDR nor zone:<internet|extranet> "
                             f"({exc})") from None
        raise ValueError(f"source {v!r} has host bits set: the network is {net} "
                         f"(write that, or a /{net.max_prefixlen} for one host)") from None


class ZoneRequest(Input):
    servers: list[Server] = Field(default_factory=list)
    volumes: list[Volume] = Field(default_factory=list)
    public_ips: int = Field(default=0, ge=0, le=64)
    bandwidth_mbps: int = Field(default=0, ge=0, le=10000)
    inbound: list[InboundRule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _names(self) -> "ZoneRequest":
        seen: dict[str, str] = {}
        for i, s in enumerate(self.servers):
            if s.name in seen:
                raise ValueError(f"servers[{i}].name: duplicate server name {s.name!r} "
                                 f"(also {seen[s.name]})")
            seen[s.name] = f"servers[{i}]"
        for i, v in enumerate(self.volumes):
            if v.name in seen:
                raise ValueError(f"volumes[{i}].name: name {v.name!r} is already used by {seen[v.name]}")
            if (disk := data_disk_owner(v.name, self.servers)):
                raise ValueError(f"volumes[{i}].name: name {v.name!r} is already used by {disk}")
            seen[v.name] = f"volumes[{i}]"
        if not self.servers and not self.volumes and not self.public_ips:
            raise ValueError("a zone must request at least one server, volume or public IP")
        if self.public_ips and not self.bandwidth_mbps:
            raise ValueError("public_ips need bandwidth_mbps > 0")
        if self.bandwidth_mbps and not self.public_ips:
            raise ValueError(f"bandwidth_mbps: {self.bandwidth_mbps} Mbps requested but no public_ips: "
                             "bandwidth is provisioned on public IPs and would be billed for nothing")
        return self


_DATA_DISK_NAME = re.compile(r"^(.+)-([1-9][0-9]*)-data([1-9][0-9]*)$")


def data_disk_owner(volume: str, servers: list[Server]) -> str | None:
    """Which server data disk is compiled to a volume named ``volume`` (``<server>-<i>-data<k>``)."""
    m = _DATA_DISK_NAME.match(volume)
    if not m:
        return None
    name, i, k = m.group(1), int(m.group(2)), int(m.group(3))
    for s in servers:
        if s.name == name and i <= s.count and k <= len(s.data_disks):
            return f"data disk {k} of server {name}-{i}"
    return None


class ServiceLine(Input):
    item: NonEmptyStr
    quantity: int = Field(default=1, gt=0, le=10_000)   # 2**63 licences: a typo, never a request


_APPROVAL_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{2,63}")


def _approval_no(v: str) -> str:
    if not _APPROVAL_NO.fullmatch(v):
        raise ValueError(f"{v!r} is not a valid approval number: use 3 to 64 letters, digits, '.', "
                         "'_' or '-', starting with a letter or digit (e.g. 'BZ-2026-0012')")
    return v


class Migration(Input):
    """A system migrated onto the cloud (迁移上云): which old system it replaces, and when it was
    cut over (割接). The old system is kept for the profile's old_system_keep_months after that."""

    from_approval: str | None = None   # the old system's approval number in this workspace
    from_system: str | None = None     # or the old system outside govcloud (free text)
    cutover_on: Day | None = None

    @model_validator(mode="after")
    def _names_one(self) -> "Migration":
        if not self.from_approval and not self.from_system:
            raise ValueError("from_approval: name the old system (from_approval or from_system)")
        return self


# Application materials (申请材料) by key: (中文, English). Which ones an approval must name is a
# profile rule (required_materials); each value names the document (number, title or file).
MATERIALS: dict[str, tuple[str, str]] = {
    "request_report": ("上云请示报告", "request report"),
    "request_form": ("资源申请表", "resource request form"),
    "demand_assessment": ("资源需求论证表/需求确认表", "resource demand assessment"),
    "basis": ("建设依据/申请依据", "construction or application basis"),
    "project_approval": ("项目批复文件/建设批复", "project approval"),
    "construction_plan": ("建设方案", "construction plan"),
    "deployment_mode": ("部署方式", "deployment mode"),
    "migration_plan": ("迁移（部署）方案", "migration (deployment) plan"),
    "dengbao_filing": ("等保备案证明", "等保 filing certificate"),
    "dengbao_report": ("等保测评报告", "等保 assessment report"),
    "filing_no": ("政务信息系统备案号", "information-system filing number"),
    "cloud_plan": ("上云方案", "cloud onboarding plan"),
    "security_assessment": ("第三方安全评估报告", "third-party security assessment report"),
    "performance_test": ("第三方性能测试报告", "third-party performance test report"),
}


class Materials(Input):
    """The documents an application came with, each named by its number, title or file."""

    request_report: str | None = None
    request_form: str | None = None
    demand_assessment: str | None = None
    basis: str | None = None
    project_approval: str | None = None
    construction_plan: str | None = None
    deployment_mode: str | None = None
    migration_plan: str | None = None
    dengbao_filing: str | None = None
    dengbao_report: str | None = None
    filing_no: str | None = None
    cloud_plan: str | None = None
    security_assessment: str | None = None
    performance_test: str | None = None


class Approval(Input):
    approval_no: Annotated[str, AfterValidator(_approval_no)]
    department: Department
    system: System
    approvers: list[Approver]
    approved_on: Day
    term: Term
    zones: dict[ZoneName, ZoneRequest]
    services: list[ServiceLine] = Field(default_factory=list)
    purpose: str = ""
    contact: str = ""
    # A change (变更申请) of the system granted by that approval: its resources are added to the
    # system's, and the profile's change rules (major change, same provider, deadline) apply.
    change_of: str | None = None
    migration: Migration | None = None
    materials: Materials | None = None
    # In the 年度政务云资源采购计划 (巴中 第十四条)? None: not stated.
    in_annual_plan: bool | None = None
    # Renames (Terraform's moved blocks): the state and the cloud objects follow, in place.
    moved: list[Move] = Field(default_factory=list)

    @field_validator("approvers")
    @classmethod
    def _approved(cls, v: list[Approver]) -> list[Approver]:
        if not v:
            raise ValueError("an approval needs at least one approver")
        return v

    @field_validator("zones")
    @classmethod
    def _some_zone(cls, v: dict) -> dict:
        if not v:
            raise ValueError("an approval must request resources in at least one zone "
                             "(internet or extranet)")
        return v

    @model_validator(mode="after")
    def _dates(self) -> "Approval":
        t = self.term
        if isinstance(t, WindowTerm) and t.end < self.approved_on:
            raise ValueError(f"term.end: window ends {t.end}, before the approval date {self.approved_on}")
        if isinstance(t, WindowTerm) and t.start < self.approved_on:
            raise ValueError(f"term.start: the window starts {t.start}, before its approval date "
                             f"{self.approved_on}: resources are provisioned only after the approval "
                             f"(临时扩容应在批准之后开始); correct term.start or approved_on from the form")
        return self

    @property
    def stack(self) -> str:
        return f"{self.department.code}/{self.system.code}"
