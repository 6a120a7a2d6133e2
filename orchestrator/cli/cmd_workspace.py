"""`govcloud workspace upgrade`: bring a workspace made by an earlier version to the current
formats (today: a term's end is its last day of service; usecases/upgrade.py)."""
from __future__ import annotations

from pathlib import Path

import typer

from .options import Dir, Out, OutputTJ, handled, today_from, workspace

workspace_app = typer.Typer(no_args_is_help=True, help="Workspace formats and migrations.")


@workspace_app.command("upgrade")
@handled
def upgrade(directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Migrate to `end` = the last day of service: record the format and the signed approvals
    written the old way (by sha256, never rewritten), rewrite extensions/, recompile. Idempotent."""
    from ..usecases.upgrade import upgrade_workspace
    from . import render
    rep = upgrade_workspace(workspace(directory), today_from(None))
    if output == OutputTJ.json:
        render.emit_json(rep.to_dict())
        return
    c = render.console
    if not rep.upgraded:
        c.print("Workspace is current: [dates] term_end = \"last-day\"; nothing changed.")
        return
    c.print(f"Upgraded: a term's end is now its last day of service. {len(rep.legacy_approvals)} "
            f"approval(s) kept as signed and read as end - 1 while unchanged; "
            f"{len(rep.extensions)} extension file(s) rewritten"
            + ("; stacks recompiled." if rep.recompiled else "."), markup=False)
    c.print("Review and commit govcloud.toml, extensions/ and stacks/.", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(workspace_app, name="workspace")
