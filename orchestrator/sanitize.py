"""Wipe-and-verify of an object's media, used before any delete of data-holding objects
(apply, expiry, decommission). Side effects go through the driver's media access."""
from __future__ import annotations

from typing import Any

from drivers.base import Driver, DriverError, MediaAccess
from drivers.media import SANITIZERS, Medium, Verification, verify_full, verify_sample

from . import faults
from .models.cloud import Observed
from .core.resources import KINDS


class WipeFailed(DriverError):
    """Verification found data left on a medium: nothing may be deleted."""


def make_sanitizer(method: str = "zeros", seed: int = 0):
    if method not in SANITIZERS:
        raise ValueError(f"unknown sanitizer {method!r}; known: {', '.join(SANITIZERS)}")
    kw: dict[str, Any] = {"seed": seed} if method in ("zeros", "random") else {}
    # Tests may make the sanitizer overwrite only part of each medium (fault_fraction).
    return SANITIZERS[method](**faults.point("sanitizer.options", kw, method=method))


def media_of(driver: Driver, obj: Observed) -> list[Medium] | None:
    """The media holding an object's data, or None when the data exists (or may: a data-holding
    kind on a driver without media access) but govcloud cannot reach it."""
    if not isinstance(driver, MediaAccess):
        return None if KINDS[obj.kind].holds_data else []
    return driver.media(obj)


def verify(medium: Medium, sanitizer, mode: str = "full", samples: int = 1024,
           progress=None) -> Verification:
    return verify_full(medium, sanitizer, progress) if mode == "full" else \
        verify_sample(medium, sanitizer, samples=samples)


def wipe_and_verify(driver: Driver, obj: Observed, method: str = "zeros",
                    mode: str = "full") -> dict[str, Any] | None:
    media = media_of(driver, obj)
    if media == [] and not KINDS[obj.kind].holds_data:
        return None  # e.g. a project without images: nothing to wipe, nothing to record
    if media is None:
        return {"result": "unavailable",
                "note": f"driver {driver.name} has no media access; the cloud's own deletion applies"}
    sanitizer = make_sanitizer(method)
    records = []
    for m in media:
        done = sanitizer.sanitize(m)
        check = verify(m, sanitizer, mode)
        records.append({**m.describe(), "method": sanitizer.name, **done,
                        "verification": check.to_dict()})
        if not check.ok:
            raise WipeFailed(f"wipe verification failed for {m.kind} {m.id}: "
                             f"{len(check.bad_ranges)} ranges still hold other data; not deleted")
    return {"result": "verified", "media": records}
