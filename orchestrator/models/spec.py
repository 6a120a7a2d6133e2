"""Stack specs: the compiled, declarative unit reviewed in git (stacks/<department>/<system>.yaml)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from pydantic import model_serializer

from .base import Frozen


class QuotaWindow(Frozen):
    """Quota a temporary term adds to its project from ``start`` until ``end`` (the first day
    without it): raised when the window opens, lowered when it ends (planner: effective quota)."""

    approval: str
    start: date
    end: date
    add: dict[str, int]


class ResourceSpec(Frozen):
    address: str          # "<kind>:<target>/<department>[/<project>[/<name>]]", unique in a workspace
    kind: str
    name: str             # the name the object carries in the cloud
    target: str           # which cloud (govcloud.toml [targets.*]) holds it
    zone: str | None = None
    stack: str | None = None   # None for department-wide objects (the domain)
    approval: str | None = None
    properties: dict[str, Any] = {}
    refs: dict[str, str] = {}  # field -> address of the object it points at
    not_before: date | None = None
    expires_on: date | None = None
    # Quota only: the temporary terms' increments on top of ``properties`` (the permanent quota).
    windows: list[QuotaWindow] = []

    @model_serializer(mode="wrap")
    def _omit_empty_windows(self, handler):
        data = handler(self)
        if not data.get("windows"):
            data.pop("windows", None)
        return data


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
