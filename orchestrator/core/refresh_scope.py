"""What `plan --refresh=auto` reads from the cloud and what it takes from the state. Pure.

A no-op plan on OpenStack costs a fixed number of batched lists plus two quota reads per
project (Nova's and Cinder's quota sets: no API lists them for every project, and Cinder has no
Keystone unified limits). Between full checks, ``auto`` takes from the state the quotas the
plan will not change (the approved limits equal the recorded ones) and reads everything else;
a full check happens when none is on record for the target, when the last one is older than
``[plan] full_refresh_hours`` (default 24; 0: always), or with ``--refresh=full``. The plan says
which it did (``Plan.refresh``), so a reviewer knows what a "No changes" covers.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..models.spec import ResourceSpec
from ..models.state import StateRecord
from .planner import effective_properties
from .resources import QUOTA_FIELDS

MODES = ("auto", "full")


@dataclass(frozen=True)
class Scope:
    target: str
    mode: str                                    # what was asked: "auto" | "full"
    full: bool                                   # whether every object is read
    reason: str
    last_full: str | None                        # ISO time of the last full check on record
    trusted: dict[str, StateRecord] = field(default_factory=dict)   # cloud id -> record

    def to_dict(self, taken: int | None = None) -> dict[str, Any]:
        return {"target": self.target, "mode": self.mode, "full": self.full,
                "reason": self.reason, "last_full": self.last_full,
                "from_state": sorted(r.address for r in self.trusted.values())
                if taken is None or taken else []}


def unchanged_quotas(desired: Mapping[str, Mapping[str, Any]],
                     records: Mapping[str, StateRecord], target: str) -> dict[str, StateRecord]:
    """The target's quota records the plan leaves as they are: recorded ok, still approved,
    and every approved limit equal to the recorded one (``desired``: address -> the effective
    properties today). Keyed by cloud id."""
    out = {}
    for addr, rec in records.items():
        if rec.kind != "quota" or rec.target != target or rec.status != "ok" or not rec.cloud_id:
            continue
        want = desired.get(addr)
        if want is None:
            continue
        limits = [f for f in QUOTA_FIELDS if f in want]
        if limits and all(rec.properties.get(f) == want[f] for f in limits):
            out[rec.cloud_id] = rec
    return out


def decide(target: str, mode: str, last_full: dt.datetime | None, now: dt.datetime,
           full_every_hours: float, desired: Mapping[str, Mapping[str, Any]],
           records: Mapping[str, StateRecord]) -> Scope:
    """The scope of one target's refresh. ``last_full``: when its last full check finished."""
    if mode not in MODES:
        raise ValueError(f"refresh mode {mode!r} is none of {', '.join(MODES)}")
    seen = last_full.isoformat(timespec="seconds") if last_full else None
    if mode == "full":
        return Scope(target, mode, True, "--refresh=full: every object read", seen)
    if full_every_hours <= 0:
        return Scope(target, mode, True, "[plan] full_refresh_hours = 0: every plan reads "
                     "everything", seen)
    if last_full is None:
        return Scope(target, mode, True, "no full check on record for this target: every "
                     "object read", seen)
    age_h = (now - last_full).total_seconds() / 3600
    if age_h < 0 or age_h >= full_every_hours:
        return Scope(target, mode, True, f"the last full check ({seen}) is {age_h:.1f} h old, "
                     f"the period is {full_every_hours:g} h: every object read", seen)
    trusted = unchanged_quotas(desired, records, target)
    return Scope(target, mode, False, f"quotas the plan does not change taken from the state "
                 f"({len(trusted)}); everything else read; last full check {seen} "
                 f"(`--refresh=full` reads all)", seen, trusted)


def effective(desired: Mapping[str, ResourceSpec], today: dt.date | None
              ) -> dict[str, Mapping[str, Any]]:
    """Address -> the limits in force ``today`` (windows applied) of the quota resources."""
    return {a: (effective_properties(r, today)[0] if r.windows else r.properties)
            for a, r in desired.items() if r.kind == "quota"}
