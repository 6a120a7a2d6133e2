"""`govcloud decommission SYSTEM`, `govcloud restore SYSTEM --from BACKUP --into VOLUME` and
`govcloud certificate verify FILE`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, recording_today, Dir, LockTimeout, Now, Out, OutputTJ, handled, workspace
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
        auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Start without asking "
                                                   "(pipelines); a resumed run was approved before.")] = False,
        now: Now = None, backdated: Backdated = None,
        sanitizer: Annotated[str, typer.Option(help="zeros | random | crypto-erase")] = "zeros",
        verify: Annotated[str, typer.Option(help="full | sample")] = "full",
        backup_dir: Annotated[Optional[Path], typer.Option(help="Backup target directory.")] = None,
        operator: Annotated[Optional[str], typer.Option(help="Person performing sanitization.")] = None,
        override_exit_order: Annotated[Optional[str], typer.Option(
            "--override-exit-order", metavar="REASON",
            help="Proceed without the exit events the profile requires (audited with REASON).")] = None,
        lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """Back up, take offline, wipe (verified), reclaim and certify a system's resources, in the
    order of the profile's exit process. Shows the plan and asks on a terminal."""
    import sys

    from ..errors import GovcloudError
    from .render import escape

    from ..decommission import Options
    from ..usecases.decommission import decommission as run
    from . import render
    as_json = output == OutputTJ.json
    say = (lambda s: None) if as_json else (lambda s: render.console.print(escape(s)))

    def confirm(objects) -> bool:
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise GovcloudError("decommission needs confirmation but stdin is not a terminal",
                                fix="pass --auto-approve (check the list with --dry-run first)")
        return typer.confirm(f"Back up, wipe and delete these {len(objects)} objects?")

    def live(text: str) -> None:
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()
    tty = not as_json and sys.stderr.isatty()
    opts = Options(dry_run=dry_run, max_deletes=max_deletes, now=recording_today(now, backdated, dry_run),
                   sanitizer=sanitizer, verify_mode=verify, backup_dir=backup_dir,
                   operator=operator, override_reason=override_exit_order,
                   confirm=None if dry_run else confirm, live=live if tty else None)
    res = run(workspace(directory), system, opts, lock_timeout, say)
    if as_json:
        return render.emit_json(res.to_dict())
    if res.status == "finished":
        total = res.workflow.get("reclaimed", {}).get("total")
        render.console.print(f"[green]Decommissioned {escape(res.stack)}[/] on "
                             f"{res.workflow['finished']}: {total} objects reclaimed. "
                             f"Certificate: {escape(', '.join(res.certificate_files.values()))}")


@certificate_app.command("verify")
@handled
def certificate_verify(file: Annotated[Path, typer.Argument(help="A certificate (.json, .md or .html), "
                                                            "under any name.")],
                       key: Annotated[Optional[Path], typer.Option(
                           "--key", help="The provider's public key (PEM); default: the "
                           "workspace's.")] = None,
                       directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Check a certificate by its content: its digest and the provider's Ed25519 signature,
    and, inside the issuing workspace, the audit chain; exit 1 on any change."""
    from ..usecases.decommission import certificate_verify as run
    from . import render
    from .options import maybe_workspace
    from .render import escape
    res = run(maybe_workspace(directory), file, key)
    if output == OutputTJ.json:
        return render.emit_json(res)
    where = (f"; matches audit entry {res['audit_entry']}" if res["audit_checked"] else
             "; outside a workspace: the audit chain was not checked")
    render.console.print(f"[green]Valid:[/] {escape(file.name)} ({escape(str(res['stack']))}) is "
                         f"signed by {res['signed_by']}{escape(where)}.")
    if not res["key_trusted"]:
        render.err_console.print("[yellow]Warning:[/] checked with the key inside the certificate "
                                 "only; pass --key with the provider's public key to trust it.")


@certificate_app.command("public-key")
@handled
def certificate_public_key(directory: Dir = Path(".")):
    """Print the provider's public key (PEM) that certificates are signed with."""
    from ..usecases.decommission import provider_public_key
    typer.echo(provider_public_key(workspace(directory)), nl=False)


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
