"""`govcloud pulumi preview|up`: the optional Pulumi engine (drivers/pulumi)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import Dir, handled

pulumi_app = typer.Typer(no_args_is_help=True, help="The optional Pulumi engine (needs the Pulumi "
                         "CLI): render the compiled specs as pulumi-openstack resources.")

Stack = Annotated[str, typer.Option("--stack", help="Pulumi stack name.")]


@pulumi_app.command("preview")
@handled
def preview(directory: Dir = Path("."), stack: Stack = "govcloud"):
    """Show what Pulumi would do with the compiled specs (pulumi preview)."""
    from ..usecases.pulumi import pulumi_run
    from . import render
    render.console.print(pulumi_run(directory, "preview", stack))


@pulumi_app.command("up")
@handled
def up(directory: Dir = Path("."), stack: Stack = "govcloud"):
    """Apply the compiled specs with Pulumi instead of govcloud's engine (pulumi up)."""
    from ..usecases.pulumi import pulumi_run
    from . import render
    render.console.print(pulumi_run(directory, "up", stack))


def register(app: typer.Typer) -> None:
    app.add_typer(pulumi_app, name="pulumi")
