"""The clock every lifecycle command reads: China time (UTC+8), settable for tests and replays.

``GOVCLOUD_NOW`` (an ISO date-time, or a date meaning its midnight) or ``GOVCLOUD_TODAY`` (a date)
in the environment replace the system clock; explicit ``--now`` / ``--today`` / ``--date``
options replace both (on a command that records events, a ``--now`` after the clock is refused
and one before today needs ``--backdated``: cli/options.py recording_now). China has no
daylight saving time, so a fixed +08:00 offset is exact.
"""
from __future__ import annotations

import os
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta, timezone

from .errors import GovcloudError

CHINA = timezone(timedelta(hours=8), "CST")

# How far ahead of the clock a --now date-time may be on a command that records events: the
# skew between an operator's watch and the runner's clock, not a way to write the future.
SKEW = timedelta(minutes=5)


def parse_now(text: str, option: str = "--now") -> datetime:
    """YYYY-MM-DD (midnight, China time) or an ISO date-time (naive means China time)."""
    try:
        if len(text.strip()) == 10:
            return datetime.combine(date.fromisoformat(text.strip()), time(0), CHINA)
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise GovcloudError(f"{option} {text!r} is not a date (YYYY-MM-DD) or an ISO date-time "
                            f"(YYYY-MM-DDTHH:MM[:SS][+08:00])") from None
    return value.replace(tzinfo=CHINA) if value.tzinfo is None else value.astimezone(CHINA)


def parse_date(text: str, option: str = "--date") -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise GovcloudError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def now() -> datetime:
    if os.environ.get("GOVCLOUD_NOW"):
        return parse_now(os.environ["GOVCLOUD_NOW"], "GOVCLOUD_NOW")
    if os.environ.get("GOVCLOUD_TODAY"):
        return datetime.combine(parse_date(os.environ["GOVCLOUD_TODAY"], "GOVCLOUD_TODAY"),
                                time(0), CHINA)
    return datetime.now(CHINA)


def today() -> date:
    return now().date()


def horizon() -> datetime:
    """The latest instant a recorded event may carry: now plus SKEW, or the end of today when
    the clock is only known to the day (GOVCLOUD_TODAY, or a GOVCLOUD_NOW that is a date)."""
    set_now = os.environ.get("GOVCLOUD_NOW", "").strip()
    if len(set_now) == 10 or (not set_now and os.environ.get("GOVCLOUD_TODAY")):
        return datetime.combine(today() + timedelta(days=1), time(0), CHINA) - timedelta(microseconds=1)
    return now() + SKEW


# The reason of a back-dated correction (--backdated REASON), for this run's audit entries.
_BACKDATED: ContextVar[str | None] = ContextVar("govcloud_backdated", default=None)


def set_backdated(reason: str | None) -> None:
    _BACKDATED.set(reason)


def backdated() -> str | None:
    return _BACKDATED.get()
