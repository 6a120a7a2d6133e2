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


# The article's first sentence, quoted in every flag (the rule's reading rests on its wording).
ARTICLE_ZH = ("政务部门因紧急业务需要在{h}小时内配置云资源的，向本级大数据主管部门报备后，可以先行协商政务云服务商"
              "予以配置")
ARTICLE_EN = ("a department whose urgent business needs cloud resources configured within {h} hours may, "
              "after filing (报备) with the bureau at its level, have the provider configure them first")


def _span(d: timedelta) -> str:
    """Hours and minutes, exact: 24 h 1 min is beyond 24 h, and must not print as "24.0 h"."""
    minutes = int(d.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


def fast_track_flags(profile: Profile, events: list[dict[str, Any]],
                     approval_no: str = "APPROVAL") -> list[str]:
    """Flags for an emergency term under 第二十五条 (empty when the rule is not in the profile or
    the resources are not configured yet). Each quotes the article in Chinese and English, names
    the event (file/field) and says what to do."""
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
    quote = f"「{ARTICLE_ZH.format(h=r.value)}」 ({ARTICLE_EN.format(h=r.value)})"
    what = "configuration-completed" if conf_e["kind"] == "configuration-completed" else "provisioned"
    if filed is None or filed > latest_conf:
        when = f"filed {filed.isoformat(timespec='minutes')}, after" if filed else "no 报备 recorded before"
        return [f"events.emergency-filed: emergency resources configured "
                f"{conf.isoformat(timespec='minutes')} ({what}) without the prior 报备 to the bureau "
                f"({when} the configuration) ({cite}: {quote}) — record the 报备 as it was made: "
                f"govcloud record-event {approval_no} emergency-filed --at TIME --document DOC, and "
                f"explain to the bureau why the provider configured before it"]
    limit = timedelta(hours=r.value)
    if conf - filed > limit:
        return [f"events.configuration-completed: fast track used beyond {r.value} hours: configured "
                f"{conf.isoformat(timespec='minutes')}, {_span(conf - filed)} after the 报备 "
                f"{filed.isoformat(timespec='minutes')} ({cite}: {quote}); the need was not one to "
                f"configure within {r.value} hours — file the ordinary resource application for "
                f"{approval_no}"]
    return []
