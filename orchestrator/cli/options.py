"""What every command module shares: option types, the error wrapper, and turning option text
into workspaces and clock values. Light on purpose (typer and the standard library only):
every command module imports it at start-up."""
from __future__ import annotations

import enum
import functools
import os
from pathlib import Path
from typing import Annotated, Optional

import typer


class OutputTJ(str, enum.Enum):
    """--output of every command but plan."""
    text = "text"
    json = "json"


class OutputPlan(str, enum.Enum):
    """--output of plan: markdown is a summary for a GitOps merge request."""
    text = "text"
    json = "json"
    markdown = "markdown"


class OutputDoc(str, enum.Enum):
    """--output of documents meant for people outside govcloud (the handover record)."""
    text = "text"
    json = "json"
    markdown = "markdown"
    html = "html"


Dir = Annotated[Path, typer.Option("-C", "--dir", help="Workspace directory.", show_default=".")]
Out = Annotated[OutputTJ, typer.Option("--output", help="Output format.")]
OutPlan = Annotated[OutputPlan, typer.Option("--output", help="Output format.")]
OutDoc = Annotated[OutputDoc, typer.Option("--output", help="Output format.")]
LockTimeout = Annotated[float, typer.Option("--lock-timeout", help="Seconds to wait for the state lock.")]
Now = Annotated[Optional[str], typer.Option(
    "--now", help="Pretend the clock is this: YYYY-MM-DD or an ISO date-time, China time "
                  "(default: now, or GOVCLOUD_NOW / GOVCLOUD_TODAY). On a command that records "
                  "events: never after the clock, before today only with --backdated.")]

Backdated = Annotated[Optional[str], typer.Option(
    "--backdated", metavar="REASON", help="This run is a back-dated correction: allows a --now "
    "before today (China time) on a command that records events; REASON goes into every audit "
    "entry of the run.")]


def handled(fn):
    """Errors become `Error: ...` + exit 1 (or `govcloud-error/1` JSON with --output json),
    never a traceback (GOVCLOUD_DEBUG=1 shows one)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .. import clock
        from ..errors import GovcloudError
        as_json = kwargs.get("output") == "json"
        clock.set_backdated(None)   # a --backdated reason lasts one command (tests run many)
        try:
            return fn(*args, **kwargs)
        except GovcloudError as exc:
            from . import render
            render.error(exc, as_json)
            raise typer.Exit(exc.exit_code)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # pragma: no cover - a bug; say so without a traceback
            if os.environ.get("GOVCLOUD_DEBUG"):
                raise
            from . import render
            render.error(GovcloudError(f"internal error: {type(exc).__name__}: {exc}",
                                       fix="re-run with GOVCLOUD_DEBUG=1 for a traceback and "
                                           "report it", changed_nothing=False), as_json)
            raise typer.Exit(1)
    return wrapper


def workspace(directory: Path):
    from ..workspace import Workspace
    return Workspace.at(directory)


def maybe_workspace(directory: Path | None):
    """The workspace at DIR when it is one (for its own profiles and calendar), else None."""
    from ..workspace import CONFIG_NAME, Workspace
    d = directory or Path(".")
    return Workspace.at(d) if (d / CONFIG_NAME).is_file() else None


def now_from(value: str | None):
    """--now as a China-time datetime, or the clock (orchestrator/clock.py)."""
    from .. import clock
    return clock.now() if value is None else clock.parse_now(value, "--now")


def today_from(value: str | None):
    return now_from(value).date()


def date_from(value: str | None, option: str):
    """A date option (YYYY-MM-DD), today when not given."""
    from .. import clock
    return clock.today() if value is None else clock.parse_date(value, option)


def recording_now(value: str | None, backdated: str | None, dry_run: bool = False):
    """--now for a command that records events, which must carry their real dates (China time:
    the clock, orchestrator/clock.py). A day before today would write the past: refused unless
    the run says it is a back-dated correction (--backdated REASON, then written to every audit
    entry of the run). A --now after the clock would write the future: always refused (a date
    is compared with today, a date-time with the clock plus clock.SKEW); tests and replays move
    the clock itself (GOVCLOUD_NOW / GOVCLOUD_TODAY). A dry run records nothing and takes any
    --now."""
    from .. import clock
    from ..errors import GovcloudError, Issue
    when = now_from(value)
    reason = None if backdated is None else backdated.strip()
    if backdated is not None and not reason:
        raise GovcloudError("--backdated needs a reason (it is written to the audit log)",
                            [Issue("--backdated", "empty")])
    today = clock.today()
    if value is not None and not dry_run:
        _refuse_future(value, when, today)
    if value is not None and when.date() < today and not dry_run and reason is None:
        raise GovcloudError(f"--now {value} is before today ({today}, China time): this command "
                            f"records events, and a past --now would date them in the past",
                            [Issue("--now", f"{when.date()} < {today}")],
                            fix="if this is a back-dated correction, add --backdated REASON "
                                "(audited); else drop --now")
    clock.set_backdated(None if dry_run else reason)
    return when


def _refuse_future(value: str, when, today) -> None:
    from .. import clock
    from ..errors import GovcloudError, Issue
    if len(value.strip()) == 10:   # a date: its day, not its midnight, is what it names
        ahead, limit = when.date() > today, str(today)
    else:
        latest = clock.horizon()
        ahead, limit = when > latest, latest.isoformat(timespec="minutes")
    if ahead:
        raise GovcloudError(f"--now {value} is after the clock (latest {limit}, China time): "
                            f"this command records events, and a future --now would date them "
                            f"ahead of time",
                            [Issue("--now", f"{when.isoformat(timespec='minutes')} > {limit}")],
                            fix="drop --now: events take the clock's date; tests and replays set "
                                "the clock with GOVCLOUD_NOW or GOVCLOUD_TODAY instead")


def recording_today(value: str | None, backdated: str | None, dry_run: bool = False):
    return recording_now(value, backdated, dry_run).date()
