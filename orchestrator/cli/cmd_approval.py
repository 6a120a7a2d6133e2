"""`govcloud approval sign | verify | keygen`: the bureau's signatures on approvals."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, List, Optional

import typer

from .options import Dir, Now, Out, OutputTJ, handled, maybe_workspace, today_from, workspace

approval_app = typer.Typer(no_args_is_help=True, help="Signed approvals: the bureau signs, "
                                                      "everyone verifies (README: Trust).")


@handled
def sign(files: Annotated[List[Path], typer.Argument(help="Approval or change files to sign.")],
         key: Annotated[Path, typer.Option("--key", help="The bureau's signing key file.")],
         directory: Annotated[Optional[Path], typer.Option("-C", "--dir",
                                                           help="Workspace (to refuse its provider key).")] = None,
         now: Now = None, output: Out = OutputTJ.text):
    """Write FILE.sig next to each FILE: a detached signature over its exact bytes."""
    from ..usecases.approval import sign as run
    from . import render
    ws = maybe_workspace(directory)
    res = run(files, key, today_from(now), ws.root if ws else None)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    for s in res.signed:
        render.console.print(render.escape(f"Signed {s['file']} with {s['key_id']} "
                                           f"({s['algorithm']}): {s['signature']}"))


@handled
def verify(files: Annotated[Optional[List[Path]], typer.Argument(
               help="Files to check (default: every approval and change document).")] = None,
           directory: Dir = Path("."), now: Now = None, output: Out = OutputTJ.text):
    """Check the signatures against trust/approvers.yaml; exit 1 if any is not valid."""
    from ..usecases.approval import verify as run
    from . import render
    res = run(workspace(directory), today_from(now), files or None)
    if output == OutputTJ.json:
        render.emit_json(res.to_dict())
    else:
        for v in res.verdicts:
            if v.ok:
                render.console.print(render.escape(f"ok       {v.file}: signed by {v.key_id} "
                                                   f"({v.algorithm}), {v.holder}"))
            else:
                render.console.print(render.escape(f"REFUSED  {v.file}: {v.reason}"))
        good = sum(v.ok for v in res.verdicts)
        render.console.print(f"{good} of {len(res.verdicts)} signatures valid.")
    if not res.ok:
        raise typer.Exit(1)


@handled
def keygen(key_file: Annotated[Path, typer.Argument(help="Where to write the private key (0600).")],
           key_id: Annotated[str, typer.Option("--key-id", help="The key's name in the keyring.")],
           office: Annotated[str, typer.Option(help="The holder's office.")],
           person: Annotated[str, typer.Option(help="The holder.")],
           algorithm: Annotated[str, typer.Option(help="sm2-sm3 or ed25519.")] = "sm2-sm3",
           now: Now = None, output: Out = OutputTJ.text):
    """Make a bureau signing key; print the keyring entry to add to trust/approvers.yaml."""
    from ..usecases.approval import keygen as run
    from . import render
    res = run(key_file, key_id, algorithm, office, person, today_from(now))
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(render.escape(f"Wrote {res.key_file} (secret, mode 0600). Add this entry "
                                       "under `keys:` in trust/approvers.yaml:"))
    typer.echo(res.keyring_entry, nl=False)


def register(app: typer.Typer) -> None:
    approval_app.command()(sign)
    approval_app.command()(verify)
    approval_app.command()(keygen)
    app.add_typer(approval_app, name="approval")
