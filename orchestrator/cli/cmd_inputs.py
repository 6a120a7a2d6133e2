"""`govcloud init`, `validate`, `compile`: the workspace's files, before any cloud is asked."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import Dir, Out, OutputTJ, handled, workspace


@handled
def init(directory: Annotated[Path, typer.Argument(help="Directory to create the workspace in.")],
         profile: Annotated[str, typer.Option(help="Policy profile (city).")] = "bazhong",
         examples: Annotated[bool, typer.Option(help="Copy the example approvals.")] = True,
         signatures: Annotated[bool, typer.Option(
             help="Require signed approvals; sign the examples with a demo bureau key.")] = True,
         output: Out = OutputTJ.text):
    """Create a workspace: govcloud.toml, the service catalog and example approvals."""
    from ..usecases.init import init_workspace
    from . import render
    info = init_workspace(directory, profile, examples, signatures)
    if output == OutputTJ.json:
        return render.emit_json(info.to_dict())
    render.console.print(f"Created workspace {info.workspace} ({info.id}, profile {info.profile}):")
    for f in info.files:
        render.console.print(f"  {f}")
    if info.demo_key:
        render.console.print(render.escape(
            f"Signed approvals are required ([approvals] in govcloud.toml). Made a DEMO bureau "
            f"key, {info.demo_key} (secret, not committed), listed in trust/approvers.yaml, and "
            "signed the examples with it. For real use, replace it with the bureau's key "
            "(README: Trust)."))
    render.console.print("Next: govcloud validate -C DIR; govcloud compile -C DIR; govcloud plan -C DIR")


@handled
def validate(directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Check config, catalog, profile and every approval. Touches nothing."""
    from .. import clock
    from ..usecases.validate import validate as run
    from . import render
    res = run(workspace(directory), clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(f"[green]Valid:[/] {len(res.approvals)} approvals, catalog of "
                         f"{res.catalog_items} items, profile {res.profile} "
                         f"({res.profile_name_zh}, {res.profile_status}).")
    for warning in res.warnings:  # draft, expired, not yet in force
        render.console.print(f"[yellow]Warning:[/] {warning}.")


@handled
def compile_cmd(directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Compile approvals into stack specs under stacks/ (deterministic)."""
    from .. import clock
    from ..usecases.compile import compile_workspace
    from . import render
    rep = compile_workspace(workspace(directory), clock.today())
    if output == OutputTJ.json:
        return render.emit_json(rep.to_dict())
    for f in rep.written:
        render.console.print(f"  [green]wrote[/]     {f}")
    for f in rep.removed:
        render.console.print(f"  [red]removed[/]   {f}")
    render.console.print(f"Compiled {rep.stacks} stacks ({len(rep.written)} written, "
                         f"{len(rep.unchanged)} unchanged, {len(rep.removed)} removed); "
                         f"approved monthly fee ¥{rep.monthly_fee}.")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(validate)
    app.command("compile")(compile_cmd)
