"""Which temporary windows of a quota or security group are open on a day: THE one answer that
`plan`/`apply` (the planner's effective properties), `expire` (which inbound rules and quota it
closes) and `verify-isolation` (which inbound rules are approved right now) all read. Pure.

A window is open on ``today`` when ``start <= today <= end``: ``end`` is the last day of service
(included, as approval forms write periods; the window is closed from ``end + 1``), the later of the
compiled window's end and the end of an accepted extension of its approval that has not been
compiled yet (``extension_ends``): an accepted extension keeps its window open even before
`govcloud compile` writes it into the spec, so `expire` never shuts a window that was extended.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from ..models.spec import ResourceSpec


def window_end(w: Any, extension_ends: dict[str, date] | None = None) -> date:
    later = (extension_ends or {}).get(w.approval)
    return later if later is not None and later > w.end else w.end


def is_open(w: Any, today: date | None, extension_ends: dict[str, date] | None = None) -> bool:
    return today is None or w.start <= today <= window_end(w, extension_ends)


def open_windows(r: ResourceSpec, today: date | None,
                 extension_ends: dict[str, date] | None = None) -> list[Any]:
    """The windows of ``r`` open on ``today`` (all of them when ``today`` is None)."""
    return [w for w in r.windows if is_open(w, today, extension_ends)]


def ended_windows(r: ResourceSpec, today: date,
                  extension_ends: dict[str, date] | None = None) -> list[Any]:
    """The windows of ``r`` whose (effective) last day is before ``today``."""
    return [w for w in r.windows if window_end(w, extension_ends) < today]


def extended_uncompiled(r: ResourceSpec, today: date,
                        extension_ends: dict[str, date] | None = None) -> list[tuple[Any, date]]:
    """Windows that the compiled spec says have ended but an accepted extension keeps open."""
    return [(w, window_end(w, extension_ends)) for w in r.windows
            if w.end < today <= window_end(w, extension_ends)]
