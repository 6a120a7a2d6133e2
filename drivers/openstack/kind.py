"""What the service modules share: the per-kind handler base class (``Kind``), the per-observation
cache of lists (``Listing``), the tag codec for services with string tags (``enc`` / ``dec`` /
``string_tags``) and small readers of the SDK's values. A kind's handler holds everything govcloud
knows about that kind: its canonical shape, how it is listed and re-read, how it is created,
changed and deleted, and where its govcloud tags are kept (``retag``: the one tag store that
import, moves and ``state rm`` all write through).
"""
from __future__ import annotations

import random
import threading
import time
from typing import Any, Callable, ClassVar, Mapping

from drivers.base import ADDRESS_TAG, DriverError, Observed, Request

# The handlers get the OpenStackDriver that composes them; it is typed loosely here so that the
# service modules never import driver.py (which imports them).
OpenStackDriver = Any


def enc(key: str, value: str) -> str:
    return f"{key}={value.replace('/', '|')}"


def dec(tags: list[str]) -> dict[str, str]:
    out = {}
    for t in tags or []:
        if t.startswith("govcloud.") and "=" in t:
            k, v = t.split("=", 1)
            out[k] = v.replace("|", "/")
    return out


def string_tags(old: list[str] | None, tags: Mapping[str, str]) -> list[str]:
    """A string-tag list whose govcloud tags are exactly ``tags`` (every other tag kept)."""
    keep = [t for t in old or [] if not t.startswith("govcloud.")]
    return sorted(keep + [enc(k, v) for k, v in tags.items()])


def id_parts(cloud_id: str) -> list[str]:
    """The parts of a composite cloud id ("project/quota", "server/volume"): not an address."""
    return cloud_id.split("/")


def field(obj: Any, key: str) -> Any:
    """A value the SDK gives as a dict or as an attribute, depending on the call."""
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


class Listing:
    """The lists of one observation, each fetched at most once: the project list serves projects
    and quotas, the volume list volumes and attachments. ``listing(fetch)`` is ``fetch(driver)``."""

    def __init__(self, drv: OpenStackDriver):
        self.drv = drv
        self._got: dict[Callable, Any] = {}
        self._locks: dict[Callable, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, fetch: Callable[[OpenStackDriver], Any]) -> Any:
        # kinds are observed concurrently: the second one to want a list waits for the first
        with self._guard:
            lock = self._locks.setdefault(fetch, threading.Lock())
        with lock:
            if fetch not in self._got:
                self._got[fetch] = read_retrying(lambda: fetch(self.drv))
        return self._got[fetch]


READ_ATTEMPTS = 5


def read_retrying(read: Callable[[], Any]) -> Any:
    """One read (a list, a quota set) retried on transient errors, alone: the driver-level retry
    of a whole ``observe`` (drivers/base.py) redid every list, so with a share of calls failing
    (a 503 in four) an observation of ~15 calls almost never got through all of them at once."""
    for attempt in range(READ_ATTEMPTS):
        try:
            return read()
        except DriverError as exc:
            if not exc.transient or getattr(exc, "exhausted", False):
                raise
            if attempt == READ_ATTEMPTS - 1:
                exc.exhausted = True   # retried enough: no outer retry multiplies the attempts
                raise
            time.sleep(min(0.2 * 2 ** attempt, 3.0) * (0.5 + random.random() / 2))
    raise AssertionError("unreachable")


class Kind:
    """One resource kind on OpenStack. ``observe`` lists the owned objects (through the shared
    ``Listing``); ``live`` re-reads one by cloud id for the ownership check, with bare SDK calls
    (the driver counts and translates them as one); the writes return the new observation."""

    kind: ClassVar[str]

    def __init__(self, drv: OpenStackDriver):
        self.d = drv

    @property
    def conn(self):
        return self.d.conn

    def api(self):
        return self.d._api()

    def tags(self, req: Request) -> list[str]:
        return sorted(enc(k, v) for k, v in req.tags.items())

    def tagged(self, obj: Any, props: dict, refs: dict, status: str = "ACTIVE") -> Observed:
        """The observation of an object with Neutron / Keystone string tags."""
        tags = dec(obj.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), self.kind, obj.id, props, refs, tags, status)

    def observe(self, listing: Listing) -> list[Observed]:
        raise NotImplementedError

    def live(self, cloud_id: str) -> Observed:
        raise NotImplementedError

    def create(self, req: Request) -> Observed:
        raise NotImplementedError

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        raise NotImplementedError

    def delete(self, current: Observed) -> None:
        raise NotImplementedError

    # --- the tag store (import, moves, state rm) --------------------------------------------------
    def lookup(self, cloud_id: str) -> Observed:
        """The object as ``govcloud import`` compares it with its spec, whoever made it: what
        the cloud holds, not what govcloud's tags say (default: ``live``)."""
        return self.live(cloud_id)

    def stored(self, req: Request) -> dict[str, str]:
        """Properties this kind keeps among govcloud's tags (a floating IP's bandwidth, a
        server's image and system disk): written with the ownership tags by import and moves."""
        return {}

    def retag(self, cloud_id: str, tags: Mapping[str, str], name: str | None = None) -> Observed:
        """Make govcloud's tags on the object exactly ``tags`` (the object's other tags kept; an
        empty or note-only ``tags`` releases it) and, given a ``name``, rename it in place.
        The caller has checked ownership; returns the object re-read."""
        raise NotImplementedError
