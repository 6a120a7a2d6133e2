"""The driver contract, its optional capabilities, its error classes and the lazy driver table.

A driver turns resource requests (kind, name, properties, refs resolved to cloud ids, ownership
tags) into cloud objects, and lists what it owns in one batched observation. What it can do is
declared, never probed: ``kinds`` (the planner refuses a spec that needs a kind a driver lacks
before anything is touched) and the capability classes below, which a driver inherits and the
core tests with ``isinstance`` (``capabilities()`` lists them by name).

Shared helpers every driver uses instead of its own copy: ``assert_owned`` (the one ownership
check), ``wait_for`` (the one bounded wait, raising ``WaitTimeout``) and ``Address``.
"""
from __future__ import annotations

import importlib
import time
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Callable, ClassVar, Iterable, Mapping, TypeVar

from orchestrator.models.address import Address  # noqa: F401  (part of the contract)
from orchestrator.models.cloud import (  # noqa: F401  (part of the contract)
    ADDRESS_TAG, APPROVAL_TAG, DEPARTMENT_TAG, OWNER_TAG, STACK_TAG, ZONE_TAG, Observed, Request)

T = TypeVar("T")



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


class WaitTimeout(TransientError):
    """A bounded wait ran out (``wait_for``): the one timeout error of every driver."""


class CreateFailed(DriverError):
    """The cloud made the object but it is broken (e.g. status ERROR): record it as tainted."""

    def __init__(self, message: str, cloud_id: str | None):
        super().__init__(message)
        self.cloud_id = cloud_id


def ownership_tags(owner: str, address: str, stack: str | None = None, zone: str | None = None,
                   approval: str | None = None) -> dict[str, str]:
    """The tags every object govcloud makes carries (empty values left out)."""
    tags = {OWNER_TAG: owner, ADDRESS_TAG: address}
    for tag, value in ((STACK_TAG, stack), (ZONE_TAG, zone), (APPROVAL_TAG, approval),
                       (DEPARTMENT_TAG, Address.parse(address).department)):
        if value:
            tags[tag] = value
    return tags


def assert_owned(tags: Mapping[str, str], owner: str, what: str) -> None:
    """Refuse to touch an object without this workspace's OWNER_TAG (``what``: "server 1234")."""
    if tags.get(OWNER_TAG) != owner:
        raise NotOwned(f"{what} does not carry this workspace's ownership tag "
                       f"({OWNER_TAG}={owner}); govcloud leaves it alone")


def wait_for(get: Callable[[], T], done: Callable[[T], bool], what: str, timeout: float,
             interval: float = 1.0, failed: Callable[[T], str | None] | None = None,
             sleep: Callable[[float], None] = time.sleep,
             clock: Callable[[], float] = time.monotonic) -> T:
    """Poll ``get()`` until ``done(value)``; at most ``timeout`` seconds (WaitTimeout, naming
    ``what``). ``failed(value)`` returns a reason when the object went wrong (status ERROR):
    the wait stops at once with a DriverError carrying it."""
    deadline = clock() + timeout
    while True:
        value = get()
        if done(value):
            return value
        reason = failed(value) if failed is not None else None
        if reason:
            raise DriverError(f"{what}: {reason}")
        if clock() >= deadline:
            raise WaitTimeout(f"timed out after {timeout:g} s waiting for {what}")
        sleep(interval)


# Reads (observe, find, census) are retried here, for every driver: a plan, an expire or a
# decommission starts with them, and one 503 or reset while listing failed the whole command
# ("cannot read cloud target") although nothing had changed yet. Reads change nothing, so a
# retry is always safe; the executor retries the changing calls itself.
READ_ATTEMPTS, READ_DEADLINE = 5, 60.0
RETRIED_READS = ("observe", "find", "census")


class _Attempt:   # the retry state tenacity's wait reads (the first attempt runs outside it)
    def __init__(self, n: int):
        self.attempt_number = n


def _retried(e: BaseException) -> bool:
    """A transient error the driver did not already retry to exhaustion (``exhausted``)."""
    return isinstance(e, DriverError) and e.transient and not getattr(e, "exhausted", False)


def retrying_read(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` (a driver's read) retried on transient errors with jittered backoff."""
    import functools

    from tenacity import (Retrying, retry_if_exception, stop_after_attempt, stop_after_delay,
                          wait_exponential_jitter)

    @functools.wraps(fn)
    def read(self, *args, **kwargs):
        t0 = time.monotonic()
        try:   # the first attempt without tenacity's machinery (most reads need no retry)
            return fn(self, *args, **kwargs)
        except DriverError as exc:
            if not _retried(exc):
                raise
        wait = wait_exponential_jitter(multiplier=0.2, max=5)
        type(self).read_sleep(wait(_Attempt(1)))   # then as before: the same attempts, backoff
        for attempt in Retrying(
                retry=retry_if_exception(_retried),
                wait=lambda rs: wait(_Attempt(rs.attempt_number + 1)),
                stop=stop_after_attempt(READ_ATTEMPTS - 1) | stop_after_delay(
                    max(0.0, READ_DEADLINE - (time.monotonic() - t0))),
                sleep=lambda s: type(self).read_sleep(s), reraise=True):
            with attempt:
                return fn(self, *args, **kwargs)
        raise AssertionError("unreachable")
    read.retried = True  # type: ignore[attr-defined]
    return read


class Driver(ABC):
    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]           # resource kinds this driver can manage
    # The schema of its govcloud.toml [targets.<name>] options (a drivers.options.DriverOptions,
    # the one OPTION_MODELS names), validated by `validate` and before the driver is made.
    options_model: ClassVar[Any] = None

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

    # True when the driver's calls run in this process without waiting on a network (the
    # embedded cloud): worker threads only add switching there, so the executor runs its steps
    # inline in batches, each batch's calls inside one ``batch()``.
    in_process: bool = False

    def batch(self) -> AbstractContextManager[None]:
        """Around the calls of one batch of steps: an in-process cloud commits them together
        (each call still all-or-nothing on its own); returns once they are durable."""
        return nullcontext()

    read_sleep: ClassVar[Callable[[float], None]] = staticmethod(time.sleep)

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for name in RETRIED_READS:   # each driver's own reads, wrapped once
            fn = getattr(cls, name, None)   # its own or a mixin's
            if callable(fn) and not getattr(fn, "retried", False) and \
                    not getattr(fn, "__isabstractmethod__", False):
                setattr(cls, name, retrying_read(fn))

    def close(self) -> None:
        """Release connections."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @classmethod
    def capabilities(cls) -> frozenset[str]:
        """The optional capabilities this driver declares (by inheriting them)."""
        return frozenset(c.capability for c in CAPABILITIES if issubclass(cls, c))


# --- optional capabilities ---------------------------------------------------------------------
# A driver declares one by inheriting it; the core asks ``isinstance(driver, MediaAccess)``.
# Each method is abstract: declaring a capability without implementing it fails at import.

class MediaAccess(ABC):
    """The bytes behind data-holding objects, for wipe-and-verify before a delete."""
    capability: ClassVar[str] = "media"

    @abstractmethod
    def media(self, obj: Observed) -> list:
        """The media (``drivers.media.Medium``) holding ``obj``'s data; [] when it has none."""

    def reclaim_media(self, paths: list[str]) -> list[str]:
        """Remove backing files the cloud left behind after deleting their objects (only paths
        whose wipe was verified are passed); returns the paths removed."""
        return []


class Census(ABC):
    """Every copy the cloud still holds of a stack, tagged or not (after decommissioning)."""
    capability: ClassVar[str] = "census"

    @abstractmethod
    def census(self, stack: str, ids: list[str]) -> list[Observed]:
        """Objects of ``stack`` still present, and anything found under ``ids`` (the stack's
        media and projects)."""

    def census_ids(self, obj: Observed) -> list[str]:
        """Cloud ids, besides the object's own, under which copies of its data can outlive it
        (EC2: a server's root EBS volume, which its snapshots name). Read while the object
        exists (decommission's plan step) and passed to ``census`` after it is gone."""
        return []


class PowerControl(ABC):
    """Servers can be stopped and started (the offline step of an exit)."""
    capability: ClassVar[str] = "power"

    @abstractmethod
    def set_power(self, obj: Observed, state: str) -> None:
        """``state``: "SHUTOFF" or "ACTIVE"; returns when the server is there."""


class RbacEvidence(ABC):
    """Network access grants the isolation checks read (OpenStack RBAC)."""
    capability: ClassVar[str] = "rbac-evidence"

    @abstractmethod
    def isolation_facts(self) -> dict[str, Any]:
        """``{"external_grants": [{"network", "target_project"}], "shared": [(net_id, who)]}``."""


class CloudSurvey(ABC):
    """The whole cloud around the managed objects, whoever owns it (verify-isolation's
    whole-cloud checks, orchestrator/isolation_cloud.py; without it they are N/A, never PASS)."""
    capability: ClassVar[str] = "cloud-survey"

    @abstractmethod
    def cloud_survey(self) -> dict[str, Any]:
        """The survey around this workspace's objects (shape: orchestrator/isolation_cloud.py),
        with ``not_modeled``: {check: why} for the checks whose concept the cloud lacks."""


class IsolationChecks(ABC):
    """Checks of its own a cloud needs beyond the common ones (EC2: routes, peerings)."""
    capability: ClassVar[str] = "isolation-checks"

    @abstractmethod
    def isolation_checks(self, desired: Iterable[Any], probe: bool) -> list[tuple[str, str, str, str]]:
        """Rows (check, subject, PASS|FAIL|N/A, detail)."""


class IsolationProbes(ABC):
    """Per-project credentials to prove that a tenant sees its own objects and no one else's."""
    capability: ClassVar[str] = "isolation-probes"

    @abstractmethod
    def probes(self, project_ids: list[str]) -> AbstractContextManager[dict[str, Any]]:
        """A context manager giving {project_id: a member's connection}, cleaned up on exit."""

    @abstractmethod
    def ports_of(self, project_id: str) -> list[Observed]:
        """The project's ports (objects the cloud makes that carry no govcloud tag)."""

    @abstractmethod
    def probe_visibility(self, conn: Any, objects: list[Observed]) -> list[tuple[Observed, bool]]:
        """For each object, whether ``conn`` can see it."""


class ReachabilityProbes(ABC):
    """Dataplane probes (a real deployment with L2/L3 agents): from a probe port in each project's
    network namespace, ICMP and TCP to the addresses of every other project (the other zone's
    above all). verify-isolation fails a row for every answer. No driver here declares it: the
    OpenStack test cloud has no dataplane, so the row is N/A there, never a pass."""
    capability: ClassVar[str] = "reachability"

    @abstractmethod
    def reach(self, source_project: str, targets: list[str]) -> list[tuple[str, str, bool]]:
        """For each other project in ``targets``: (project id, what was tried ("icmp 10.64.0.5",
        "tcp 10.64.0.5:443"), whether it answered)."""


class BackupStore(ABC):
    """Where decommission backups go when they leave the machine (object storage)."""
    capability: ClassVar[str] = "backups"

    @abstractmethod
    def uri(self, name: str) -> str:
        """Where an object of this name is (or will be) stored."""

    @abstractmethod
    def put_file(self, path: Path, name: str) -> Any:
        """Copy ``path``, read it back; returns a record with ``uri`` and ``sha256``."""


class Retagging(ABC):
    """Objects can be renamed and retagged in place (a ``moved:`` record, ``state mv``) and
    released from management (``state rm``: the ownership tags removed, the object kept)."""
    capability: ClassVar[str] = "retag"

    @abstractmethod
    def rename(self, obj: Observed, req: Request) -> Observed:
        """Give the owned ``obj`` the name and govcloud tags of ``req`` (its new address)."""

    @abstractmethod
    def release(self, obj: Observed, note: Mapping[str, str]) -> Observed:
        """Remove govcloud's tags from the owned ``obj`` (it stays in the cloud, no longer
        listed by ``observe``) and tag it with ``note`` (who released it, when)."""


class Inventory(ABC):
    """Everything a project holds, whoever made it (``govcloud inventory``: unowned objects in
    the projects govcloud manages). Objects the cloud makes itself (ports, the default security
    group) are left out."""
    capability: ClassVar[str] = "inventory"

    @abstractmethod
    def inventory(self, project_ids: list[str]) -> list[Observed]:
        """Objects in these projects, with whatever tags they carry (``address`` "" when none)."""


class Importing(ABC):
    """Objects govcloud did not create can be taken under management (``govcloud import``)."""
    capability: ClassVar[str] = "import"

    @abstractmethod
    def lookup(self, kind: str, cloud_id: str) -> Observed | None:
        """The object with this id, whoever owns it (None when there is none of that kind)."""

    @abstractmethod
    def claim(self, obj: Observed, req: Request) -> Observed:
        """Give ``obj`` the tags of ``req`` (this workspace's); NotOwned when it carries
        another workspace's owner tag."""


class ConsoleAccess(ABC):
    """A server's remote console URL, where the cloud offers one (Nova's remote consoles)."""
    capability: ClassVar[str] = "console"

    @abstractmethod
    def console_url(self, obj: Observed) -> str:
        """The URL of the owned server's console; Unsupported when the cloud offers none."""


class TrustedReads(ABC):
    """``observe`` may take some objects from the state instead of reading them: the quotas a plan
    will not change (``plan --refresh=auto``), on a cloud where each costs calls no API batches
    (Nova's and Cinder's quota sets: two GETs per project). The object is still listed (its
    project exists, with our tags); only the values come from the state."""
    capability: ClassVar[str] = "trusted-reads"

    @abstractmethod
    def observe_trusting(self, known: Mapping[str, Observed]) -> list[Observed]:
        """``observe()``, with the objects whose cloud id is in ``known`` taken from there (the
        parts a batched listing returns anyway still read). Each one taken is counted in
        ``self.trusted_last``."""


class DepartmentReads(ABC):
    """``observe`` of some departments only: the owned objects whose address
    (``kind:target/DEPT/...``) names one of them, duplicates and objects in no state included,
    for a plan of the departments whose inputs changed (usecases/plan_scope.py). Objects of
    other departments are not read at all."""
    capability: ClassVar[str] = "department-reads"

    @abstractmethod
    def observe_departments(self, departments: Iterable[str]) -> list[Observed]:
        """The owned objects of ``departments`` (none for none)."""


CAPABILITIES: tuple[type, ...] = (MediaAccess, Census, PowerControl, RbacEvidence, CloudSurvey,
                                  IsolationChecks, IsolationProbes, ReachabilityProbes, BackupStore,
                                  Retagging, Inventory, Importing, ConsoleAccess, TrustedReads,
                                  DepartmentReads)


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
