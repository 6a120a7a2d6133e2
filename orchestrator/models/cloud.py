"""Shapes exchanged with drivers: what a driver observes, what the executor asks for.

Plain frozen dataclasses (no validation cost): a no-op plan of 10,000 approvals observes
over 100,000 of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Ownership tags every govcloud object carries. OWNER_TAG decides what govcloud may touch.
OWNER_TAG = "govcloud.workspace"
ADDRESS_TAG = "govcloud.address"
STACK_TAG = "govcloud.stack"
DEPARTMENT_TAG = "govcloud.department"
ZONE_TAG = "govcloud.zone"
APPROVAL_TAG = "govcloud.approval"


@dataclass(frozen=True)
class Observed:
    """An object as the cloud reports it, in the canonical property shape of its kind."""

    address: str
    kind: str
    cloud_id: str
    properties: dict[str, Any]
    refs: dict[str, str]          # field -> cloud id of the referenced object
    tags: dict[str, str]
    status: str = "ACTIVE"


@dataclass(frozen=True)
class Request:
    address: str
    kind: str
    name: str
    properties: dict[str, Any]
    refs: dict[str, str]          # field -> cloud id, resolved by the executor
    tags: dict[str, str] = field(default_factory=dict)
