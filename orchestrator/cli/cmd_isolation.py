"""`govcloud verify-isolation`: PASS/FAIL table of isolation checks against the running cloud."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import Dir, Now, Out, OutputTJ, handled, now_from, workspace


@handled
def verify_isolation(directory: Dir = Path("."), output: Out = OutputTJ.text,
                     probe: Annotated[bool, typer.Option(help="Run the primary/alternate probes "
                                                             "(creates and removes temporary member users).")] = True,
                     now: Now = None):
    """Prove tenant and zone isolation in the cloud; exit 1 on any failure."""
    from ..usecases.isolation import verify_isolation as run
    from . import render
    rep = run(workspace(directory), probe, now_from(now).date())
    if output == OutputTJ.json:
        render.emit_json(rep.to_dict())
    else:
        from .render import escape
        from rich.table import Table
        table = Table("check", "subject", "result", "detail", show_lines=False)
        color = {"PASS": "green", "FAIL": "red", "N/A": "yellow"}
        for c in rep.checks:
            table.add_row(c.check, escape(c.subject), f"[{color[c.status]}]{c.status}[/]", escape(c.detail))
        render.console.print(table)
        counts = rep.counts()
        render.console.print(f"{counts['PASS']} passed, {counts['FAIL']} failed, "
                             f"{counts['N/A']} not applicable")
    if rep.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify-isolation")(verify_isolation)
