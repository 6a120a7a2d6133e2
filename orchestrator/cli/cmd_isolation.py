"""`govcloud verify-isolation`: PASS/FAIL table of isolation checks against the running cloud."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import Dir, Out, OutputTJ, handled, workspace


@handled
def verify_isolation(directory: Dir = Path("."), output: Out = OutputTJ.text,
                     probe: Annotated[bool, typer.Option(help="Run the primary/alternate probes "
                                                             "(creates and removes temporary member users).")] = True):
    """Prove tenant and zone isolation in the cloud; exit 1 on any failure."""
    from ..usecases.isolation import verify_isolation as run
    from . import render
    rep = run(workspace(directory), probe)
    if output == OutputTJ.json:
        render.emit_json(rep.to_dict())
    else:
        # One block per check, names in full (a table truncated them at 80 columns): the result
        # and the check on one line, the subject (an address) on its own, the detail under it.
        from .render import escape
        color = {"PASS": "green", "FAIL": "red", "N/A": "yellow"}
        for c in rep.checks:
            render.console.print(f"[{color[c.status]}]{c.status:<4}[/] {escape(c.check)}  "
                                 f"{escape(c.subject)}")
            if c.detail:
                render.console.print(f"      [dim]{escape(c.detail)}[/]")
        counts = rep.counts()
        render.console.print(f"\n{escape(rep.summary)}: {counts['PASS']} passed, {counts['FAIL']} "
                             f"failed, {counts['N/A']} not performed (N/A)")
    if rep.failed:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("verify-isolation")(verify_isolation)
