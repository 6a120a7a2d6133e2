"""`govcloud backup list` and `govcloud backup destroy [--due] [SYSTEM]`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .complete import complete_system
from .options import Backdated, recording_today, Dir, LockTimeout, Now, Out, OutputTJ, handled, today_from, workspace

backup_app = typer.Typer(no_args_is_help=True,
                         help="Decommission backups: where each is held, and their destruction.")


@backup_app.command("list")
@handled
def backup_list(directory: Dir = Path("."), now: Now = None, output: Out = OutputTJ.text):
    """Every backup held or destroyed: system, medium, where, SHA-256, destroy date, state."""
    from ..usecases.backup import list_backups
    from . import render
    res = list_backups(workspace(directory), today_from(now))
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    if not res.backups:
        render.console.print("No decommission backups.")
        return
    for r in res.backups:
        when = (f"destroyed {r['destroyed_on']} (verification: {r['verification']})"
                if r["state"] == "destroyed" else f"destroy on {r['destroy_on'] or 'never'}")
        render.console.print(render.escape(
            f"{r['system']}  {r['medium']}  {r['state']:<10}  {when}  {r['uri']}  "
            f"sha256 {r['sha256'][:16]}…"))


@backup_app.command("destroy")
@handled
def backup_destroy(
        system: Annotated[Optional[str], typer.Argument(
            help="System code (or DEPARTMENT/SYSTEM); every backup of it must be due.",
            autocompletion=complete_system)] = None,
        due: Annotated[bool, typer.Option("--due", help="Only the backups whose destroy date "
                                          "has come (of SYSTEM, or of every system).")] = False,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be destroyed; stop.")] = False,
        auto_approve: Annotated[bool, typer.Option("--auto-approve", help="Destroy without asking "
                                                   "(pipelines).")] = False,
        sanitizer: Annotated[str, typer.Option(help="zeros | random")] = "zeros",
        operator: Annotated[Optional[str], typer.Option(help="Person performing sanitization.")] = None,
        directory: Dir = Path("."), now: Now = None, backdated: Backdated = None,
        lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """Wipe, verify (full read-back) and delete backups past their retention, each recorded on
    its system (workflow, `backup-destroyed` event, audit entry). Never early."""
    import sys

    from ..errors import GovcloudError
    from ..usecases.backup import DestroyOptions, destroy_backups
    from . import render
    if sanitizer not in ("zeros", "random"):
        raise GovcloudError(f"--sanitizer {sanitizer!r}: use zeros or random")
    as_json = output == OutputTJ.json
    say = (lambda s: None) if as_json else (lambda s: render.console.print(render.escape(s)))

    def confirm(rows) -> bool:
        if auto_approve:
            return True
        if not sys.stdin.isatty():
            raise GovcloudError("backup destroy needs confirmation but stdin is not a terminal",
                                fix="pass --auto-approve (check the list with --dry-run first)")
        return typer.confirm(f"Wipe, verify and delete these {len(rows)} backups?")

    def live(text: str) -> None:
        sys.stderr.write("\r\033[K" + text)
        sys.stderr.flush()
    opts = DestroyOptions(due_only=due, dry_run=dry_run, sanitizer=sanitizer, operator=operator,
                          confirm=confirm, live=live if not as_json and sys.stderr.isatty() else None)
    res = destroy_backups(workspace(directory), system, recording_today(now, backdated, dry_run), opts, lock_timeout, say)
    if as_json:
        return render.emit_json(res.to_dict())
    if res.destroyed:
        render.console.print(f"[green]Destroyed {len(res.destroyed)} backups[/] on {res.today}: "
                             "wiped, verified and deleted; recorded in the audit log and on each "
                             "system's approvals (backup-destroyed).")


def register(app: typer.Typer) -> None:
    app.add_typer(backup_app, name="backup")
