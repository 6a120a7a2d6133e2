"""`govcloud plan` and `govcloud apply`."""
from __future__ import annotations

import sys
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, recording_now, recording_today, Dir, LockTimeout, Now, Out, OutPlan, OutputPlan, OutputTJ, handled, \
    today_from, workspace

Replace = Annotated[Optional[list[str]], typer.Option(
    "-replace", "--replace", metavar="ADDRESS",
    help="Replace this object even if it is up to date (repeatable); its data is wiped and "
         "verified first.")]
Target = Annotated[Optional[list[str]], typer.Option(
    "-target", "--target", metavar="ADDRESS",
    help="Only this object (or DEPT/SYSTEM) and what it depends on (repeatable). For "
         "exceptional use.")]


RefreshOnly = Annotated[bool, typer.Option(
    "--refresh-only", "-refresh-only",
    help="Compare the cloud with the state: accept the drift the approvals allow, show the rest "
         "as violations (exit 3). Never changes the cloud.")]

class RefreshMode(str, Enum):
    auto = "auto"
    full = "full"


Refresh = Annotated[RefreshMode, typer.Option(
    "--refresh",
    help="auto: between full checks ([plan] full_refresh_hours, default 24), quotas the plan "
         "does not change come from the state on clouds where each costs unbatchable API calls "
         "(OpenStack); full: read everything. The plan says which it did.")]


def _refresh(directory, now, lock_timeout, output: str, write: bool, detailed: bool, bad: bool):
    from ..errors import GovcloudError
    from ..usecases.refresh import refresh
    from . import render
    if bad:
        raise GovcloudError("--refresh-only takes no plan file, -o, -replace or -target")
    res = refresh(workspace(directory), today_from(now), lock_timeout, write)
    if output == "json":
        render.emit_json(res.to_dict())
    else:
        for d in res.accepted:
            render.console.print(f"  [cyan]accept[/]    {render.escape(d.address)}\n"
                                 f"          [dim]{render.escape(d.reason)}[/]")
        for d in res.violations:
            render.console.print(f"  [red]violation[/] {render.escape(d.address)}\n"
                                 f"          [dim]{render.escape(d.reason)}[/]")
            for f, ch in d.changes.items():
                render.console.print(f"          {render.escape(f)}: state {ch['state']!r}, cloud "
                                     f"{ch['cloud']!r}, approved {ch['approved']!r}")
        verb = "wrote" if write else "would write"
        render.console.print(f"Refresh-only: {verb} {res.written if write else len(res.accepted)} "
                             f"accepted records into the state; {len(res.violations)} violations; "
                             f"{res.unchanged} objects unchanged. The cloud was not changed.")
    if res.violations:
        raise typer.Exit(3)
    if detailed and res.accepted:
        raise typer.Exit(2)


def _options(replace, target, quiet: bool = False, refresh: "RefreshMode | None" = None):
    """-replace/-target as use-case options; Terraform's targeting warning on stderr (not with
    --output json, whose stdout is one document)."""
    from ..usecases.plan import Options
    from . import render
    if target and not quiet:
        from ..core.targeting import WARNING
        render.err_console.print(f"[yellow]Warning:[/] {WARNING}")
    return Options(tuple(replace or ()), tuple(target or ()),
                   (refresh or RefreshMode.full).value)


@handled
def plan(directory: Dir = Path("."),
         out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Save the plan to this file.")] = None,
         detailed_exitcode: Annotated[bool, typer.Option("--detailed-exitcode",
             help="Exit 2 when there are changes.")] = False,
         show_noop: Annotated[bool, typer.Option("--show-unchanged")] = False,
         replace: Replace = None, target: Target = None, refresh_only: RefreshOnly = False,
         refresh: Refresh = RefreshMode.auto,
         now: Now = None, lock_timeout: LockTimeout = 30.0, output: OutPlan = OutputPlan.text):
    """Show what apply would do. Never changes the cloud or the state."""
    from ..usecases.plan import plan as run
    from . import render
    if refresh_only:
        return _refresh(directory, now, lock_timeout, output.value, False, detailed_exitcode,
                        bad=bool(replace or target or out))
    res = run(workspace(directory), today_from(now), lock_timeout, out,
              _options(replace, target, output == OutputPlan.json, refresh))
    p = res.plan
    if res.compiled:
        from .render import escape
        render.err_console.print(f"[yellow]Inputs changed since the last compile:[/] compiled first "
                                 f"({escape(', '.join(res.compiled))}).")
    if output == OutputPlan.json:
        render.emit_json(p.to_dict())
    elif output == OutputPlan.markdown:
        sys.stdout.write(render.plan_markdown(p))
    else:
        render.plan_text(p, show_noop)
        if out:
            render.console.print(f"Saved the plan to {out}. Apply exactly it with: "
                                 f"govcloud apply -C {directory} {out}")
    if detailed_exitcode and p.has_changes:
        raise typer.Exit(2)


@handled
def apply(planfile: Annotated[Optional[Path], typer.Argument(help="A saved plan (govcloud plan -o).")] = None,
          directory: Dir = Path("."),
          auto_approve: Annotated[bool, typer.Option("--auto-approve",
              help="Apply without asking (pipelines).")] = False,
          parallelism: Annotated[int, typer.Option(min=1, max=64)] = 4,
          max_deletes: Annotated[Optional[int], typer.Option(
              "--max-deletes", min=0, help="Refuse a plan that destroys more objects.")] = None,
          replace: Replace = None, target: Target = None, refresh_only: RefreshOnly = False,
          refresh: Refresh = RefreshMode.auto,
          now: Now = None, backdated: Backdated = None, lock_timeout: LockTimeout = 30.0,
          output: Out = OutputTJ.text):
    """Apply a saved plan exactly, or plan + confirm + apply."""
    recording_now(now, backdated)
    if refresh_only:
        if not auto_approve and not sys.stdin.isatty():
            from ..errors import GovcloudError
            raise GovcloudError("apply --refresh-only needs confirmation but stdin is not a "
                                "terminal", fix="pass --auto-approve (after plan --refresh-only)")
        if not auto_approve:
            _refresh(directory, now, lock_timeout, "text", False, False, False)
            if not typer.confirm("Write the accepted records into the state?"):
                raise typer.Exit(1)
        return _refresh(directory, now, lock_timeout, output.value, True, False,
                        bad=bool(replace or target or planfile))
    from ..errors import GovcloudError
    from ..usecases.apply import apply as run
    from . import render
    as_json = output == OutputTJ.json

    def review(p) -> bool:   # a new plan: show it, then ask unless --auto-approve
        if not as_json:
            render.plan_text(p)
        if not p.has_changes or auto_approve:
            return True
        if not sys.stdin.isatty():
            raise GovcloudError("apply needs confirmation but stdin is not a terminal",
                                fix="pass --auto-approve, or apply a saved plan file")
        return typer.confirm("Apply these changes?")

    @contextmanager
    def progress(steps: int):
        with render.Progress(steps, quiet=as_json) as bar:
            yield bar.event

    res = run(workspace(directory), planfile, recording_today(now, backdated), parallelism,
              lock_timeout, review, progress, max_deletes,
              _options(replace, target, as_json, refresh))
    if res.cancelled:
        render.console.print("Apply cancelled. Nothing was changed.")
        raise typer.Exit(1)
    if as_json:
        render.emit_json(res.to_dict())
    elif not res.plan.has_changes:
        if planfile is not None:
            render.plan_text(res.plan)
    else:
        failed = res.failed
        ok = len(res.results) - len(failed)
        color = "red" if failed else "green"
        render.console.print(f"[{color}]Apply {'incomplete' if failed else 'complete'}:[/] {ok} steps "
                             f"done, {len(failed)} failed or skipped.")
        state_failed = next((r.detail for r in failed if r.detail.startswith("StateError")), None)
        if state_failed:   # the executor stopped at the first state write that failed
            render.err_console.print(render.escape(
                f"The state could not be written, so nothing more was started: "
                f"{state_failed.removeprefix('StateError: ')}"))
            render.err_console.print("  Fix: mend that (free space, make the workspace "
                                     "writable), then run apply again: an object created "
                                     "without its record is adopted by its tags.")
        elif failed:
            render.console.print("Run `govcloud plan` to see what remains; failed creates are "
                                 "recorded as tainted and will be replaced.")
    if target and res.results and not as_json:
        from ..core.targeting import APPLIED_WARNING
        render.err_console.print(f"[yellow]Warning:[/] {APPLIED_WARNING}")
    if res.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(plan)
    app.command()(apply)
