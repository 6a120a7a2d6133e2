"""An approved application (批复): one YAML file per approval under the workspace's approvals/."""
from __future__ import annotations

import ipaddress
from datetime import date
from typing import Annotated, Literal, Union

from pydantic import Field, PositiveInt, field_validator, model_validator

from .base import Frozen, NonEmptyStr, Slug
from .catalog import ZoneName


class Department(Frozen):
    code: Slug
    name: NonEmptyStr


class System(Frozen):
    code: Slug
    name: NonEmptyStr
    # GB/T 22239 has five levels; which ones a platform accepts is a profile rule, not schema.
    dengbao_level: int = Field(ge=1, le=5)
    classified: bool = False  # 涉密


class Approver(Frozen):
    name: NonEmptyStr
    org: NonEmptyStr
    role: str = ""


class PermanentTerm(Frozen):
    kind: Literal["permanent"]


class WindowTerm(Frozen):
    """A temporary expansion window (临时扩容): resources exist from start to end."""

    kind: Literal["window"]
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self) -> "WindowTerm":
        if self.end <= self.start:
            raise ValueError(f"term end {self.end} is not after term start {self.start}")
        return self


class EmergencyTerm(Frozen):
    """Emergency resources (应急资源), configured first and backfilled by a formal application."""

    kind: Literal["emergency"]
    start: date
    end: date
    reason: NonEmptyStr

    @model_validator(mode="after")
    def _ordered(self) -> "EmergencyTerm":
        if self.end <= self.start:
            raise ValueError(f"term end {self.end} is not after term start {self.start}")
        return self


Term = Annotated[Union[PermanentTerm, WindowTerm, EmergencyTerm], Field(discriminator="kind")]


class Disk(Frozen):
    type: NonEmptyStr  # catalog code of a block-storage item
    gb: int = Field(gt=0, le=32768)


class Server(Frozen):
    name: Slug
    flavor: NonEmptyStr  # catalog code of a compute item
    image: NonEmptyStr
    system_disk: Disk
    data_disks: list[Disk] = []
    count: PositiveInt = 1

    @field_validator("count")
    @classmethod
    def _count_bound(cls, v: int) -> int:
        if v > 200:
            raise ValueError(f"count {v} is above 200 servers of one kind; split the request")
        return v


class Volume(Frozen):
    name: Slug
    type: NonEmptyStr
    gb: int = Field(gt=0, le=32768)


class InboundRule(Frozen):
    protocol: Literal["tcp", "udp", "icmp"]
    port: int | None = Field(default=None, ge=1, le=65535)
    port_max: int | None = Field(default=None, ge=1, le=65535)
    # A CIDR, or "zone:<name>" for the zone's own address range (resolved from govcloud.toml).
    source: NonEmptyStr
    description: str = ""

    @model_validator(mode="after")
    def _ports(self) -> "InboundRule":
        if self.protocol == "icmp":
            if self.port is not None or self.port_max is not None:
                raise ValueError("icmp rules take no port")
        elif self.port is None:
            raise ValueError(f"a {self.protocol} rule needs a port")
        if self.port_max is not None and self.port is not None and self.port_max < self.port:
            raise ValueError(f"port_max {self.port_max} is below port {self.port}")
        return self

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        if v.startswith("zone:"):
            if v[5:] not in ("internet", "extranet"):
                raise ValueError(f"source zone {v[5:]!r} is not 'internet' or 'extranet'")
            return v
        try:
            return str(ipaddress.ip_network(v, strict=True))
        except ValueError as exc:
            raise ValueError(f"source {v!r} is neither a CIDR nor zone:<internet|extranet> ({exc})")


class ZoneRequest(Frozen):
    servers: list[Server] = []
    volumes: list[Volume] = []
    public_ips: int = Field(default=0, ge=0, le=64)
    bandwidth_mbps: int = Field(default=0, ge=0, le=10000)
    inbound: list[InboundRule] = []

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
            seen[v.name] = f"volumes[{i}]"
        if not self.servers and not self.volumes and not self.public_ips:
            raise ValueError("a zone must request at least one server, volume or public IP")
        if self.public_ips and not self.bandwidth_mbps:
            raise ValueError("public_ips need bandwidth_mbps > 0")
        return self


class ServiceLine(Frozen):
    item: NonEmptyStr
    quantity: PositiveInt = 1


class Approval(Frozen):
    approval_no: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$")]
    department: Department
    system: System
    approvers: list[Approver] = Field(min_length=1)
    approved_on: date
    term: Term
    zones: dict[ZoneName, ZoneRequest] = Field(min_length=1)
    services: list[ServiceLine] = []
    purpose: str = ""
    contact: str = ""

    @model_validator(mode="after")
    def _dates(self) -> "Approval":
        t = self.term
        if isinstance(t, WindowTerm) and t.end < self.approved_on:
            raise ValueError(f"term.end: window ends {t.end}, before the approval date {self.approved_on}")
        return self

    @property
    def stack(self) -> str:
        return f"{self.department.code}/{self.system.code}"
