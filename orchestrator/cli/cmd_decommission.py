"""`govcloud decommission SYSTEM`, `govcloud restore SYSTEM --from BACKUP --into VOLUME` and
`govcloud certificate verify FILE`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Dir, LockTimeout, Now, Out, OutputTJ, handled, today_from, workspace
from .complete import complete_system

certificate_app = typer.Typer(no_args_is_help=True, help="Certificates of sanitization.")


@handled
def decommission(
        system: Annotated[str, typer.Argument(
            help="System code (or DEPARTMENT/SYSTEM).", autocompletion=complete_system)],
        directory: Dir = Path("."),
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be wiped and deleted; stop.")] = False,
        max_deletes: Annotated[Optional[int], typer.Option("--max-deletes", help="Refuse above this many objects.")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue a held or interrupted run.")] = False,
        now: Now = None,
        sanitizer: Annotated[str, typer.Option(help="zeros | random | crypto-erase")] = "zeros",
        verify: Annotated[str, typer.Option(help="full | sample")] = "full",
        backup_dir: Annotated[Optional[Path], typer.Option(help="Backup target directory.")] = None,
        operator: Annotated[Optional[str], typer.Option(help="Person performing sanitization.")] = None,
        lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """Back up, take offline, wipe (verified), reclaim and certify a system's resources."""
    from .render import escape

    from ..decommission import Options
    from ..usecases.decommission import decommission as run
    from . import render
    as_json = output == OutputTJ.json
    say = (lambda s: None) if as_json else (lambda s: render.console.print(escape(s)))
    opts = Options(dry_run=dry_run, max_deletes=max_deletes, now=today_from(now),
                   sanitizer=sanitizer, verify_mode=verify, backup_dir=backup_dir,
                   operator=operator)
    res = run(workspace(directory), system, opts, lock_timeout, say)
    if as_json:
        return render.emit_json(res.to_dict())
    if res.status == "finished":
        render.console.print(f"[green]Decommissioned {res.stack}[/] on {res.workflow['finished']}. "
                             f"Certificate: {', '.join(res.certificate_files.values())}")


@certificate_app.command("verify")
@handled
def certificate_verify(file: Annotated[Path, typer.Argument(help="A certificate (.json, .md or .html).")],
                       directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Check a certificate against the hash recorded in the audit chain; exit 1 if changed."""
    from ..usecases.decommission import certificate_verify as run
    from . import render
    res = run(workspace(directory), file)
    if output == OutputTJ.json:
        return render.emit_json(res)
    render.console.print(f"[green]Valid:[/] {file.name} matches audit entry {res['audit_entry']} "
                         f"({res['stack']}).")


@handled
def restore(system: Annotated[str, typer.Argument(help="The decommissioned system (DEPT/SYSTEM).")],
            backup: Annotated[str, typer.Option("--from", help="Backup file, URI or medium id.")],
            into: Annotated[str, typer.Option("--into", help="Volume address of an approved system.")],
            directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
            output: Out = OutputTJ.text):
    """Write a decommission backup into an approved volume, SHA-256 checked before and after."""
    from ..usecases.restore import restore as run
    from . import render
    res = run(workspace(directory), system, backup, into, lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(f"Restored {render.escape(res.backup)} ({res.bytes} bytes, SHA-256 "
                         f"{res.sha256[:16]}… verified) into {render.escape(res.into)} "
                         f"({res.cloud_id}).")


def register(app: typer.Typer) -> None:
    app.command()(decommission)
    app.command()(restore)
    app.add_typer(certificate_app, name="certificate")
