"""重庆 第二十五条, the emergency fast track. Pure.

「政务部门因紧急业务需要在24小时内配置云资源的，向本级大数据主管部门报备后，可以先行协商政务云服务商予以
配置。」 The 24 hours say WHICH needs may use the fast track (those to be configured within 24 h);
the required step is the 报备 to the bureau BEFORE the provider configures. So nothing here is a
provider deadline. From the lifecycle events ``emergency-filed`` (the 报备) and
``configuration-completed`` (each with ``detail.at``, to the minute: this clock is in hours) it
flags:

* configuration without 报备 (no ``emergency-filed``, or one after the configuration);
* fast-track use beyond 24 h: the configuration came more than ``emergency_configure_hours``
  after the 报备, so the need was not one "to be configured within 24 hours" and should have
  gone through the ordinary application.

The 2-working-day backfill after the project approval (same article, third paragraph) stays in
:mod:`orchestrator.core.lifecycle` (``emergency_backfill_workdays``).
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..models.profile import Profile


def _at(e: dict[str, Any]) -> datetime | None:
    """The event's time: ``detail.at`` (ISO date-time) or, lacking it, the start of its day."""
    raw = (e.get("detail") or {}).get("at") or e.get("on")
    if not raw:
        return None
    t = datetime.fromisoformat(raw) if "T" in raw else datetime.fromisoformat(raw[:10] + "T00:00")
    return t.replace(tzinfo=None) if t.tzinfo is None else t


def _first(events: list[dict[str, Any]], kind: str) -> tuple[dict[str, Any] | None, datetime | None]:
    for e in events:
        if e["kind"] == kind:
            return e, _at(e)
    return None, None


def fast_track_flags(profile: Profile, events: list[dict[str, Any]]) -> list[str]:
    """Flags for an emergency term under 第二十五条 (empty when the rule is not in the profile or
    the resources are not configured yet)."""
    r = profile.rules.emergency_configure_hours
    if r is None:
        return []
    cite = profile.cite(r)
    conf_e, conf = _first(events, "configuration-completed")
    if conf_e is None:
        conf_e, conf = _first(events, "provisioned")
    if conf is None:
        return []
    filed_e, filed = _first(events, "emergency-filed")
    if filed is not None and (filed.tzinfo is None) != (conf.tzinfo is None):
        filed, conf = filed.replace(tzinfo=None), conf.replace(tzinfo=None)
    # A configuration known by its day only (no ``at``): the 报备 counts as before it when filed
    # that day at the latest, and the 24 h are measured from the day's start (never a false flag).
    day_only = not (conf_e.get("detail") or {}).get("at")
    latest_conf = conf + timedelta(days=1) - timedelta(microseconds=1) if day_only else conf
    where = "events.emergency-filed"
    if filed is None or filed > latest_conf:
        when = f"filed {filed.isoformat(timespec='minutes')}, after" if filed else "no 报备 recorded before"
        return [f"{where}: emergency resources configured {conf.isoformat(timespec='minutes')} without "
                f"the prior 报备 to the bureau ({when} the configuration) ({cite}); 紧急配置云资源应"
                f"先向本级大数据主管部门报备后方可先行配置 — record it: govcloud record-event APPROVAL "
                f"emergency-filed --at TIME --document DOC, and explain the late filing to the bureau"]
    limit = timedelta(hours=r.value)
    if conf - filed > limit:
        hours = (conf - filed).total_seconds() / 3600
        return [f"events.configuration-completed: fast track used beyond {r.value} hours: configured "
                f"{conf.isoformat(timespec='minutes')}, {hours:.1f} h after the 报备 "
                f"{filed.isoformat(timespec='minutes')} ({cite}); 先行配置仅适用于需在{r.value}小时内"
                f"配置云资源的紧急业务 — file the ordinary resource application for it"]
    return []
