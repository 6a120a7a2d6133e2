"""`govcloud show PLANFILE` (a saved plan, for review) and `govcloud output [SYSTEM]` (the
handover record, 交付清单)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Dir, Out, OutDoc, OutputDoc, OutputTJ, handled, workspace


@handled
def show(planfile: Annotated[Path, typer.Argument(help="A saved plan (govcloud plan -o FILE).")],
         directory: Annotated[Optional[Path], typer.Option(
             "-C", "--dir", help="Workspace whose state checks the plan's digest (optional).")] = None,
         show_noop: Annotated[bool, typer.Option("--show-unchanged")] = False,
         output: Out = OutputTJ.text):
    """Show what a saved plan will do. Needs no state; changes nothing."""
    from ..usecases.show import show as run
    from . import render
    res = run(planfile, directory)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict(show_noop))
    p = res.plan
    color = {True: "green", False: "red", None: "yellow"}[res.verified]
    render.console.print(f"Plan {render.escape(str(planfile))}: workspace {p.workspace_id}, made "
                         f"{p.created_at or '(no time)'} against state serial {p.serial}")
    render.console.print(f"[{color}]{render.escape(res.note)}[/]\n")
    render.plan_text(p, show_noop)
    for approval, counts in res.approvals.items():
        render.console.print(f"  {render.escape(approval)}: " + ", ".join(
            f"{n} {k}" for k, n in sorted(counts.items())))


@handled
def output(system: Annotated[Optional[str], typer.Argument(
               help="DEPT/SYSTEM or a system code (default: every system).")] = None,
           directory: Dir = Path("."), output: OutDoc = OutputDoc.text):
    """The handover record (交付清单): projects, networks and CIDRs, servers with fixed and
    floating IPs, where the application credential was written. Read-only."""
    from ..usecases.output import output as run
    from . import render
    doc = run(workspace(directory), system).to_dict()
    if output == OutputDoc.json:
        return render.emit_json(doc)
    if output in (OutputDoc.markdown, OutputDoc.html):
        sys.stdout.write(render.handover(doc, output.value))
        return None
    render.handover_text(doc)


def register(app: typer.Typer) -> None:
    app.command()(show)
    app.command()(output)
