"""`govcloud server stop | start | reboot ADDRESS`."""
from __future__ import annotations

from pathlib import Path

import typer

from .options import Dir, LockTimeout, Out, OutputTJ, handled, workspace

server_app = typer.Typer(no_args_is_help=True,
                         help="Power operations on a server of an approved system (audited).")


def _run(operation: str, address: str, directory: Path, lock_timeout: float, output: OutputTJ):
    from ..usecases.server import power
    from . import render
    res = power(workspace(directory), address, operation, lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(f"{render.escape(res.address)} ({res.cloud_id}): {res.status_before} -> "
                         f"{res.status} ({operation}; recorded in the audit log)")


@server_app.command("stop")
@handled
def stop(address: str, directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
         output: Out = OutputTJ.text):
    """Stop (shut off) a server."""
    _run("stop", address, directory, lock_timeout, output)


@server_app.command("start")
@handled
def start(address: str, directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
          output: Out = OutputTJ.text):
    """Start a stopped server."""
    _run("start", address, directory, lock_timeout, output)


@server_app.command("reboot")
@handled
def reboot(address: str, directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
           output: Out = OutputTJ.text):
    """Reboot a server (hard: stop, then start)."""
    _run("reboot", address, directory, lock_timeout, output)


def register(app: typer.Typer) -> None:
    app.add_typer(server_app, name="server")
