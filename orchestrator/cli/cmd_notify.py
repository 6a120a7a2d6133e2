"""`govcloud notify`: the notices due now, to each role's sinks, once per threshold."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import Backdated, recording_now, Dir, LockTimeout, Now, Out, OutputTJ, handled, workspace


@handled
def notify(directory: Dir = Path("."),
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show, send nothing.")] = False,
           now: Now = None, backdated: Backdated = None, lock_timeout: LockTimeout = 30.0,
           output: Out = OutputTJ.text):
    """Send the notices due now for every clock govcloud keeps (provisioning, deployment,
    backfill, extension last day, transition hold, reclaim, old-system keep, wipe failures)
    to the roles configured in govcloud.toml [notify.*]; each once per threshold and sink."""
    from ..usecases.notify import notify as run
    from . import render
    res = run(workspace(directory), recording_now(now, backdated, dry_run), dry_run, lock_timeout)
    if output == OutputTJ.json:
        render.emit_json(res.to_dict())
    else:
        for n in res.notices:
            render.console.print(f"[bold]{render.escape(n['title'])}[/] -> {', '.join(n['roles'])}\n"
                                 f"  {render.escape(n['message'])}"
                                 + (f"\n  [dim]{render.escape(n['article'])}[/]" if n["article"] else ""))
        for f in res.failures:
            render.err_console.print(f"[red]Not delivered:[/] {render.escape(f)}")
        if res.unconfigured:
            render.console.print(f"[yellow]No sink configured for:[/] {', '.join(res.unconfigured)} "
                                 f"(govcloud.toml [notify.<role>])")
        render.console.print(f"{len(res.notices)} notices due; {len(res.sent)} deliveries"
                             f"{' (dry run: none sent)' if dry_run else ''}.")
    if res.failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(notify)
