"""`govcloud verify-isolation`: PASS/FAIL table of isolation checks against the running cloud."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from . import render
from .render import escape
from .app import Dir, Out, Output, _ws, app, handled


@app.command("verify-isolation")
@handled
def verify_isolation(directory: Dir = Path("."), output: Out = Output.text,
                     probe: Annotated[bool, typer.Option(help="Run the primary/alternate probes "
                                                             "(creates and removes temporary member users).")] = True):
    """Prove tenant and zone isolation in the cloud; exit 1 on any failure."""
    from ..isolation import verify
    from ..service import close_all, open_drivers
    ws = _ws(directory)
    specs = ws.load_specs()
    drivers = open_drivers(ws, {z.target for s in specs for z in s.zones.values()})
    try:
        checks = verify(specs, drivers, probe)
    finally:
        close_all(drivers)
    failed = [c for c in checks if c.status == "FAIL"]
    if output == Output.json:
        render.emit_json({"passed": not failed, "checks": [c.to_dict() for c in checks]})
    else:
        from rich.table import Table
        table = Table("check", "subject", "result", "detail", show_lines=False)
        color = {"PASS": "green", "FAIL": "red", "N/A": "yellow"}
        for c in checks:
            table.add_row(c.check, escape(c.subject), f"[{color[c.status]}]{c.status}[/]", escape(c.detail))
        render.console.print(table)
        counts = {s: sum(c.status == s for c in checks) for s in ("PASS", "FAIL", "N/A")}
        render.console.print(f"{counts['PASS']} passed, {counts['FAIL']} failed, "
                             f"{counts['N/A']} not applicable")
    if failed:
        raise typer.Exit(1)
