"""What the state store records about each resource."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StateRecord:
    address: str
    kind: str
    target: str
    cloud_id: str | None
    status: str                         # "ok" | "tainted"
    stack: str | None = None
    approval: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)   # field -> address


@dataclass(frozen=True)
class StateSnapshot:
    lineage: str
    serial: int
    records: dict[str, StateRecord]
