"""The driver contract, its error classes and the lazy driver table.

A driver turns resource requests (kind, name, properties, refs resolved to cloud ids, ownership
tags) into cloud objects, and lists what it owns in one batched observation. Capabilities are
data: the planner refuses a spec that needs a kind a driver lacks before anything is touched.
"""
from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

from orchestrator.models.cloud import Observed, Request  # noqa: F401  (part of the contract)

# Ownership tags every govcloud object carries. OWNER_TAG decides what govcloud may touch.
OWNER_TAG = "govcloud.workspace"
ADDRESS_TAG = "govcloud.address"
STACK_TAG = "govcloud.stack"
DEPARTMENT_TAG = "govcloud.department"
ZONE_TAG = "govcloud.zone"
APPROVAL_TAG = "govcloud.approval"


class DriverError(Exception):
    """A cloud refused or failed a call. ``transient`` errors may be retried."""

    transient = False


class NotFound(DriverError):
    pass


class Conflict(DriverError):
    pass


class QuotaExceeded(Conflict):
    pass


class NotOwned(DriverError):
    """govcloud was asked to change an object that does not carry its ownership tag."""


class Unsupported(DriverError):
    pass


class TransientError(DriverError):
    transient = True


class CreateFailed(DriverError):
    """The cloud made the object but it is broken (e.g. status ERROR): record it as tainted."""

    def __init__(self, message: str, cloud_id: str | None):
        super().__init__(message)
        self.cloud_id = cloud_id


class Driver(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]           # resource kinds this driver can manage
    features: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, target: str, options: dict[str, Any], workspace_root: Path, owner: str):
        self.target = target
        self.options = options
        self.workspace_root = workspace_root
        self.owner = owner                     # the workspace id in OWNER_TAG
        self.api_calls = 0

    @abstractmethod
    def observe(self) -> list[Observed]:
        """Every object carrying this workspace's OWNER_TAG, listed in batches."""

    @abstractmethod
    def find(self, address: str) -> Observed | None:
        """The owned object with this address tag, if any (looked up before every create)."""

    @abstractmethod
    def create(self, req: Request) -> Observed: ...

    @abstractmethod
    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed: ...

    @abstractmethod
    def delete(self, current: Observed) -> None: ...

    def close(self) -> None:
        """Release connections."""


# name -> "module:Class"; imported only when a workspace uses that driver.
DRIVERS: dict[str, str] = {
    "local": "drivers.local.driver:LocalDriver",
    "openstack": "drivers.openstack.driver:OpenStackDriver",
    "libcloud": "drivers.libcloud.driver:LibcloudDriver",
}


def driver_class(name: str) -> type[Driver]:
    try:
        path = DRIVERS[name]
    except KeyError:
        raise Unsupported(f"unknown driver {name!r}; known: {', '.join(sorted(DRIVERS))}")
    module, cls = path.split(":")
    try:
        return getattr(importlib.import_module(module), cls)
    except ModuleNotFoundError as exc:
        raise Unsupported(f"driver {name!r} is not available here ({exc.name} is not installed "
                          f"or not built yet)") from None
