"""`govcloud decommission SYSTEM` and `govcloud certificate verify FILE`."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import GovcloudError
from . import render
from .complete import complete_system
from .render import escape
from .app import Dir, LockTimeout, Out, Output, _today, _ws, app, handled

certificate_app = typer.Typer(no_args_is_help=True, help="Certificates of sanitization.")
app.add_typer(certificate_app, name="certificate")


@app.command()
@handled
def decommission(
        system: Annotated[str, typer.Argument(
            help="System code (or DEPARTMENT/SYSTEM).", autocompletion=complete_system)],
        directory: Dir = Path("."),
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would be wiped and deleted; stop.")] = False,
        max_deletes: Annotated[Optional[int], typer.Option("--max-deletes", help="Refuse above this many objects.")] = None,
        resume: Annotated[bool, typer.Option("--resume", help="Continue a held or interrupted run.")] = False,
        now: Annotated[Optional[str], typer.Option("--now", help="Today's date for the hold (YYYY-MM-DD).")] = None,
        sanitizer: Annotated[str, typer.Option(help="zeros | random | crypto-erase")] = "zeros",
        verify: Annotated[str, typer.Option(help="full | sample")] = "full",
        backup_dir: Annotated[Optional[Path], typer.Option(help="Backup target directory.")] = None,
        operator: Annotated[Optional[str], typer.Option(help="Person performing sanitization.")] = None,
        lock_timeout: LockTimeout = 30.0, output: Out = Output.text):
    """Back up, take offline, wipe (verified), reclaim and certify a system's resources."""
    from ..decommission import Decommission, Options, find_stack
    from ..service import close_all, open_drivers, open_state
    if sanitizer not in ("zeros", "random", "crypto-erase"):
        raise GovcloudError(f"--sanitizer {sanitizer!r}: use zeros, random or crypto-erase")
    if sanitizer == "crypto-erase":
        raise GovcloudError("--sanitizer crypto-erase needs encrypted volume types and a key "
                            "manager; the configured targets have neither",
                            fix="use --sanitizer zeros or random")
    if verify not in ("full", "sample"):
        raise GovcloudError(f"--verify {verify!r}: use full or sample")
    ws = _ws(directory)
    spec = find_stack(ws, system)
    store = open_state(ws)
    as_json = output == Output.json
    say = (lambda s: None) if as_json else (lambda s: render.console.print(escape(s)))
    try:
        with store.locked("decommission", lock_timeout):
            targets = {z.target for z in spec.zones.values()}
            drivers = open_drivers(ws, targets)
            try:
                opts = Options(dry_run=dry_run, max_deletes=max_deletes, now=_today(now),
                               sanitizer=sanitizer, verify_mode=verify, backup_dir=backup_dir,
                               operator=operator)
                say(f"Decommissioning {spec.stack} ({spec.system['name']}):")
                result = Decommission(ws, store, drivers, spec, opts, say).run()
            finally:
                close_all(drivers)
    finally:
        store.close()
    if as_json:
        return render.emit_json(result)
    if result.get("finished"):
        files = result.get("certificate", {}).get("files", {})
        render.console.print(f"[green]Decommissioned {spec.stack}[/] on {result['finished']}. "
                             f"Certificate: {', '.join(files.values())}")


@certificate_app.command("verify")
@handled
def certificate_verify(file: Annotated[Path, typer.Argument(help="A certificate (.json, .md or .html).")],
                       directory: Dir = Path("."), output: Out = Output.text):
    """Check a certificate against the hash recorded in the audit chain; exit 1 if changed."""
    from ..certificate import verify_certificate
    from ..service import open_state
    store = open_state(_ws(directory))
    try:
        res = verify_certificate(store, file)
    finally:
        store.close()
    if output == Output.json:
        return render.emit_json(res)
    render.console.print(f"[green]Valid:[/] {file.name} matches audit entry {res['audit_entry']} "
                         f"({res['stack']}).")
