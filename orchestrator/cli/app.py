"""The `govcloud` command line. Each command: parse -> one service call -> render.

Exit codes: 0 success or no changes; 1 error, usage errors included; 2 changes present
(plan --detailed-exitcode); 3 attention needed (status --overdue, calendar is-workday).
The root's options (-C, --version, completion) and the usage exit code: root.py.
"""
from __future__ import annotations

import datetime as dt
import enum
import functools
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .. import __version__
from ..errors import GovcloudError
from . import render, root

# Plain click help (rich_markup_mode=None): rich's help formatter cost ~0.2 s CPU per --help.
app = typer.Typer(name="govcloud", cls=root.RootGroup, no_args_is_help=True,
                  add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False,
                  context_settings={"help_option_names": ["-h", "--help"]})
app.callback()(root.callback)
state_app = typer.Typer(no_args_is_help=True, help="Inspect the state store and its lock.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")
app.add_typer(state_app, name="state")
app.add_typer(audit_app, name="audit")


class Output(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"   # plan only: a summary for a GitOps merge request


Dir = Annotated[Path, typer.Option("-C", "--dir", help="Workspace directory.", show_default=".")]
Out = Annotated[Output, typer.Option("--output", help="Output format.")]
LockTimeout = Annotated[float, typer.Option("--lock-timeout", help="Seconds to wait for the state lock.")]


def handled(fn):
    """Errors become `Error: ...` + exit 1, never a traceback (GOVCLOUD_DEBUG=1 shows one)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        as_json = kwargs.get("output") == Output.json
        try:
            return fn(*args, **kwargs)
        except GovcloudError as exc:
            render.error(exc, as_json)
            raise typer.Exit(exc.exit_code)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:  # pragma: no cover - a bug; say so without a traceback
            if os.environ.get("GOVCLOUD_DEBUG"):
                raise
            render.error(GovcloudError(f"internal error: {type(exc).__name__}: {exc}",
                                       fix="re-run with GOVCLOUD_DEBUG=1 for a traceback and "
                                           "report it", changed_nothing=False), as_json)
            raise typer.Exit(1)
    return wrapper


def _ws(directory: Path):
    from ..workspace import Workspace
    return Workspace.at(directory)


@app.command()
@handled
def init(directory: Annotated[Path, typer.Argument(help="Directory to create the workspace in.")],
         profile: Annotated[str, typer.Option(help="Policy profile (city).")] = "bazhong",
         examples: Annotated[bool, typer.Option(help="Copy the example approvals.")] = True,
         output: Out = Output.text):
    """Create a workspace: govcloud.toml, the service catalog and example approvals."""
    from ..service import init_workspace
    info = init_workspace(directory, profile, examples)
    if output == Output.json:
        return render.emit_json(info)
    render.console.print(f"Created workspace {info['workspace']} ({info['id']}, profile "
                         f"{info['profile']}):")
    for f in info["files"]:
        render.console.print(f"  {f}")
    render.console.print("Next: govcloud validate -C DIR; govcloud compile -C DIR; govcloud plan -C DIR")


@app.command()
@handled
def validate(directory: Dir = Path("."), output: Out = Output.text):
    """Check config, catalog, profile and every approval. Touches nothing."""
    from ..service import validate as run
    ws = _ws(directory)
    approvals = run(ws)
    if output == Output.json:
        return render.emit_json({"valid": True, "approvals": sorted(approvals),
                                 "profile": ws.profile.code, "catalog_items": len(ws.catalog.items)})
    render.console.print(f"[green]Valid:[/] {len(approvals)} approvals, catalog of "
                         f"{len(ws.catalog.items)} items, profile {ws.profile.code} "
                         f"({ws.profile.name_zh}, {ws.profile.status}).")
    from ..clock import today
    for warning in ws.profile.warnings(today()):  # draft, expired, not yet in force
        render.console.print(f"[yellow]Warning:[/] {warning}.")


@app.command("compile")
@handled
def compile_cmd(directory: Dir = Path("."), output: Out = Output.text):
    """Compile approvals into stack specs under stacks/ (deterministic)."""
    from ..service import compile_workspace
    rep = compile_workspace(_ws(directory))
    if output == Output.json:
        return render.emit_json(rep.__dict__)
    for f in rep.written:
        render.console.print(f"  [green]wrote[/]     {f}")
    for f in rep.removed:
        render.console.print(f"  [red]removed[/]   {f}")
    render.console.print(f"Compiled {rep.stacks} stacks ({len(rep.written)} written, "
                         f"{len(rep.unchanged)} unchanged, {len(rep.removed)} removed); "
                         f"approved monthly fee ¥{rep.monthly_fee}.")


def _today(value: Optional[str]) -> dt.date:
    if value is None:
        from ..clock import today  # China time; GOVCLOUD_TODAY / GOVCLOUD_NOW set it
        return today()
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise GovcloudError(f"--today {value!r} is not a date (YYYY-MM-DD)")


@app.command()
@handled
def plan(directory: Dir = Path("."),
         out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Save the plan to this file.")] = None,
         detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
             help="Exit 2 when there are changes.")] = False,
         show_noop: Annotated[bool, typer.Option("--show-unchanged")] = False,
         today: Annotated[Optional[str], typer.Option(help="Plan as of this date (windows).")] = None,
         lock_timeout: LockTimeout = 30.0, output: Out = Output.text):
    """Show what apply would do. Never changes the cloud or the state."""
    from ..service import close_all, compute_plan, open_state, save_plan
    ws = _ws(directory)
    store = open_state(ws)
    try:
        with store.locked("plan", lock_timeout):
            p, drivers = compute_plan(ws, store, today=_today(today))
            close_all(drivers)
    finally:
        store.close()
    if out:
        save_plan(p, out)
    if output == Output.json:
        render.emit_json(p.to_dict())
    elif output == Output.markdown:
        sys.stdout.write(render.plan_markdown(p))
    else:
        render.plan_text(p, show_noop)
        if out:
            render.console.print(f"Saved the plan to {out}. Apply exactly it with: "
                                 f"govcloud apply -C {directory} {out}")
    if detailed_exitcode and p.has_changes:
        raise typer.Exit(2)


@app.command()
@handled
def apply(planfile: Annotated[Optional[Path], typer.Argument(help="A saved plan (govcloud plan -o).")] = None,
          directory: Dir = Path("."),
          auto_approve: Annotated[bool, typer.Option("--auto-approve",
              help="Apply without asking (pipelines).")] = False,
          parallelism: Annotated[int, typer.Option(min=1, max=64)] = 4,
          today: Annotated[Optional[str], typer.Option(help="Plan as of this date.")] = None,
          lock_timeout: LockTimeout = 30.0, output: Out = Output.text):
    """Apply a saved plan exactly, or plan + confirm + apply."""
    from ..service import (check_fresh, close_all, compute_plan, execute, load_plan, open_state)
    ws = _ws(directory)
    store = open_state(ws)
    as_json = output == Output.json
    try:
        with store.locked("apply", lock_timeout):
            drivers = {}
            if planfile is not None:
                p = load_plan(planfile, ws, store)
                check_fresh(p, store)
            else:
                p, drivers = compute_plan(ws, store, today=_today(today))
                if not as_json:
                    render.plan_text(p)
                if p.has_changes and not auto_approve:
                    if not sys.stdin.isatty():
                        close_all(drivers)
                        raise GovcloudError("apply needs confirmation but stdin is not a terminal",
                                            fix="pass --auto-approve, or apply a saved plan file")
                    if not typer.confirm("Apply these changes?"):
                        close_all(drivers)
                        render.console.print("Apply cancelled. Nothing was changed.")
                        raise typer.Exit(1)
            if not p.has_changes:
                close_all(drivers)
                if as_json:
                    return render.emit_json({"applied": 0, "results": [], "summary": p.summary})
                if planfile is not None:
                    render.plan_text(p)
                return
            steps = sum(2 if a.action == "replace" else 1 for a in p.actions if a.action != "no-op")
            with render.Progress(steps, quiet=as_json) as progress:
                results = execute(ws, p, store, drivers, parallelism, progress.event)
    finally:
        store.close()
    failed = [r for r in results if r.outcome != "ok"]
    if as_json:
        render.emit_json({"applied": len(results) - len(failed), "failed": len(failed),
                          "results": [r.__dict__ for r in results]})
    else:
        ok = len(results) - len(failed)
        color = "red" if failed else "green"
        render.console.print(f"[{color}]Apply {'incomplete' if failed else 'complete'}:[/] {ok} steps "
                             f"done, {len(failed)} failed or skipped.")
        if failed:
            render.console.print("Run `govcloud plan` to see what remains; failed creates are "
                                 "recorded as tainted and will be replaced.")
    if failed:
        raise typer.Exit(1)


@state_app.command("list")
@handled
def state_list(directory: Dir = Path("."), output: Out = Output.text):
    """List the resources recorded in state."""
    from ..service import open_state
    store = open_state(_ws(directory))
    try:
        snap = store.read()
        lock = store.current_lock()
    finally:
        store.close()
    rows = sorted(snap.records.values(), key=lambda r: r.address)
    if output == Output.json:
        return render.emit_json({"lineage": snap.lineage, "serial": snap.serial,
                                 "lock": lock.__dict__ if lock else None,
                                 "resources": [{"address": r.address, "cloud_id": r.cloud_id,
                                                "status": r.status} for r in rows]})
    for r in rows:
        flag = " [red](tainted)[/]" if r.status == "tainted" else ""
        render.console.print(f"{r.address}  {r.cloud_id}{flag}")
    render.console.print(f"[dim]{len(rows)} resources; serial {snap.serial}; lineage {snap.lineage}"
                         f"{'; ' + lock.describe() if lock else ''}[/]")


@state_app.command("show")
@handled
def state_show(address: str, directory: Dir = Path("."), output: Out = Output.text):
    """Show one recorded resource."""
    from ..service import open_state
    store = open_state(_ws(directory))
    try:
        rec = store.read().records.get(address)
    finally:
        store.close()
    if rec is None:
        raise GovcloudError(f"{address} is not in state", fix="see `govcloud state list`")
    render.emit_json(rec.__dict__) if output == Output.json else render.console.print_json(
        data=rec.__dict__)


@state_app.command("unlock")
@handled
def state_unlock(lock_id: str, directory: Dir = Path("."), output: Out = Output.text):
    """Remove a lock record left by a process that is gone (needs the exact lock id)."""
    from ..service import open_state
    store = open_state(_ws(directory))
    try:
        info = store.force_unlock(lock_id)
    finally:
        store.close()
    if output == Output.json:
        return render.emit_json({"unlocked": info.__dict__})
    render.console.print(f"Unlocked: {info.describe()}")


@audit_app.command("list")
@handled
def audit_list(directory: Dir = Path("."), output: Out = Output.text,
               last: Annotated[int, typer.Option(help="Show the last N entries (0: all).")] = 50):
    """Show audit entries."""
    from ..service import open_state
    store = open_state(_ws(directory))
    try:
        entries = store.audit_entries()
    finally:
        store.close()
    entries = entries[-last:] if last else entries
    if output == Output.json:
        return render.emit_json([e.to_dict() for e in entries])
    for e in entries:
        render.console.print(f"{e.seq:>6} {e.ts} {e.actor} {e.action} {e.target}"
                             f"{' [' + e.approval + ']' if e.approval else ''}")


@audit_app.command("verify")
@handled
def audit_verify(directory: Dir = Path("."), output: Out = Output.text):
    """Check the hash chain; exit 1 naming the first bad entry."""
    from ..service import open_state, verify_audit
    store = open_state(_ws(directory))
    try:
        count, brk = verify_audit(store)
    finally:
        store.close()
    if output == Output.json:
        render.emit_json({"entries": count, "intact": brk is None,
                          "first_bad": brk.__dict__ if brk else None})
    elif brk is None:
        render.console.print(f"[green]Audit log intact:[/] {count} entries, hash chain verified.")
    else:
        render.err_console.print(f"[bold red]Audit log tampered:[/] entry {brk.seq}: {brk.reason}")
    if brk is not None:
        raise typer.Exit(1)


@app.command()
def version():
    """Print the govcloud version."""
    typer.echo(f"govcloud {__version__}")


def main() -> None:
    # pydantic looks for plugins in every installed distribution's entry points on its first
    # model; govcloud uses none. PYDANTIC_DISABLE_PLUGINS= (set, empty) keeps the lookup.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    root.invoked_only(app, sys.argv[1:])(prog_name=root.PROG)


# Command groups live in their own modules; importing them registers their commands.
from . import cmd_decommission, cmd_isolation  # noqa: E402,F401
from . import cmd_lifecycle, cmd_policy  # noqa: E402,F401  (profiles, calendar, lifecycle)
from . import cmd_pulumi  # noqa: E402,F401  (the optional Pulumi engine)
