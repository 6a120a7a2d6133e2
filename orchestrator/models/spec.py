"""Stack specs: the compiled, declarative unit reviewed in git (stacks/<department>/<system>.yaml)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import Field, model_serializer

from .base import Frozen


def _omit_empty(data: dict, key: str) -> dict:
    """Leave an empty optional list out of the spec file (older specs stay byte-identical)."""
    if not data.get(key):
        data.pop(key, None)
    return data


class QuotaWindow(Frozen):
    """What a temporary term adds from ``start`` through ``end`` (its last day, included): on a
    quota, limits (``add``) raised when the window opens and lowered when it ends; on a security
    group, the inbound ``rules`` only that term approved, present only while it is open
    (planner: effective properties; expiry: removed when it ends)."""

    approval: str
    start: date
    end: date
    add: dict[str, int] = Field(default_factory=dict)
    rules: list[dict[str, Any]] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _omit_empty_rules(self, handler):
        return _omit_empty(handler(self), "rules")


class ResourceSpec(Frozen):
    address: str          # "<kind>:<target>/<department>[/<project>[/<name>]]", unique in a workspace
    kind: str
    name: str             # the name the object carries in the cloud
    target: str           # which cloud (govcloud.toml [targets.*]) holds it
    zone: str | None = None
    stack: str | None = None   # None for department-wide objects (the domain)
    approval: str | None = None
    properties: dict[str, Any] = Field(default_factory=dict)
    refs: dict[str, str] = Field(default_factory=dict)  # field -> address of the object it points at
    not_before: date | None = None
    expires_on: date | None = None
    # Quota and security group: the temporary terms' additions on top of ``properties`` (the
    # permanent quota / the permanently approved rules).
    windows: list[QuotaWindow] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _omit_empty_windows(self, handler):
        return _omit_empty(handler(self), "windows")


class BillingLine(Frozen):
    approval: str
    item: str
    description: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


class ApprovalRef(Frozen):
    approval_no: str
    approved_on: date
    term: dict[str, Any]
    monthly_fee: Decimal


class ZoneLayout(Frozen):
    project: str
    target: str
    external_network: str
    cidr: str


class StackSpec(Frozen):
    api_version: Literal["govcloud/v1"] = "govcloud/v1"
    kind: Literal["StackSpec"] = "StackSpec"
    stack: str
    department: dict[str, str]
    system: dict[str, Any]
    profile: str
    labels: dict[str, str]
    approvals: list[ApprovalRef]
    zones: dict[str, ZoneLayout]
    monthly_fee: Decimal
    billing: list[BillingLine]
    resources: list[ResourceSpec]
    # Renames from the approvals' ``moved:`` records: {from, to} addresses or DEPT/SYSTEM.
    moved: list[dict[str, str]] = Field(default_factory=list)

    @model_serializer(mode="wrap")
    def _omit_empty_moved(self, handler):
        return _omit_empty(handler(self), "moved")
