"""`govcloud show PLANFILE` (a saved plan, for review), `govcloud output [SYSTEM]` (the
handover record, 交付清单) and `govcloud inventory` (what the cloud really holds)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import (Dir, LockTimeout, Now, Out, OutDoc, OutputDoc, OutputTJ, handled,
                      today_from, workspace)


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


@handled
def inventory(directory: Dir = Path("."),
              system: Annotated[Optional[str], typer.Option(
                  "--system", help="DEPT/SYSTEM or a system code (default: all).")] = None,
              now: Now = None, lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """What the cloud really holds per system: owned objects marked against the approvals
    (ok, drift, missing, untracked, orphaned...), and unowned objects in the managed projects."""
    from ..usecases.inventory import inventory as run
    from . import render
    res = run(workspace(directory), system, today_from(now), lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    color = {"ok": "green", "drift": "yellow", "missing": "red", "not created": "dim"}
    for s in res.systems:
        render.console.print(f"[bold]{render.escape(s['stack'])}[/]")
        for o in s["objects"]:
            c = color.get(o["mark"], "magenta")
            extra = "; ".join(f"{f}: cloud {ch['cloud']!r}, approved {ch['approved']!r}"
                              for f, ch in o["changes"].items())
            render.console.print(f"  [{c}]{o['mark']:<12}[/] {render.escape(o['address'])} "
                                 f"{o['cloud_id'] or '-'}{'  ' + render.escape(extra) if extra else ''}")
        for u in s["unowned"]:
            render.console.print(f"  [red]{'UNOWNED':<12}[/] {u['kind']} {u['cloud_id']} "
                                 f"{render.escape(str(u['name']))} in {render.escape(str(u['project']))}: "
                                 f"{render.escape(u['why'])}")
    for t in res.unreadable:
        render.console.print(f"[yellow]Target {t}: its driver cannot list a project's objects; "
                             f"unowned objects there are not shown.[/]")


def register(app: typer.Typer) -> None:
    app.command()(show)
    app.command()(output)
    app.command()(inventory)
