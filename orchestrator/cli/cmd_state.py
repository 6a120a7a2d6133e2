"""`govcloud state list | show | pull | push | rm | mv | recover | unlock | migrate` and `govcloud audit
list | verify | checkpoint | prune | export | export-signed | verify-export`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .listing import Cols, Fmt, emit
from .options import Backdated, Dir, LockTimeout, Now, Out, OutputTJ, handled, recording_today, workspace

state_app = typer.Typer(no_args_is_help=True, help="Inspect the state store and its lock.")
audit_app = typer.Typer(no_args_is_help=True, help="The hash-chained audit log.")


@state_app.command("list")
@handled
def state_list(directory: Dir = Path("."), output: Out = OutputTJ.text,
               at: Annotated[Optional[int], typer.Option(
                   "--at", metavar="SERIAL", help="The state as it was at this serial.")] = None,
               fmt: Fmt = None, column: Cols = None):
    """List the resources recorded in state (now, or at an earlier serial)."""
    from ..usecases.state import state_list as run
    from . import render
    res = run(workspace(directory), at)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    if fmt or column:
        return emit([{**r.__dict__} for r in res.records],
                    ["address", "kind", "target", "cloud_id", "status", "stack", "approval"],
                    fmt, column)
    for r in res.records:
        flag = " [red](tainted)[/]" if r.status == "tainted" else ""
        render.console.print(f"{r.address}  {r.cloud_id}{flag}")
    render.console.print(f"[dim]{len(res.records)} resources; serial {res.serial}; lineage "
                         f"{res.lineage}{'; ' + res.lock.describe() if res.lock else ''}[/]")


@state_app.command("show")
@handled
def state_show(address: str, directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Show one recorded resource."""
    from ..usecases.state import state_show as run
    from . import render
    rec = run(workspace(directory), address)
    if output == OutputTJ.json:
        return render.emit_json({"format": "govcloud-state-show/1", **rec.__dict__})
    render.console.print_json(data=rec.__dict__)


@state_app.command("unlock")
@handled
def state_unlock(lock_id: str, directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Remove a lock record left by a process that is gone (needs the exact lock id)."""
    from ..usecases.state import state_unlock as run
    from . import render
    info = run(workspace(directory), lock_id)
    if output == OutputTJ.json:
        return render.emit_json({"format": "govcloud-state-unlock/1", "unlocked": info.__dict__})
    render.console.print(f"Unlocked: {info.describe()}")


@state_app.command("recover")
@handled
def state_recover(directory: Dir = Path("."),
                  confirm: Annotated[bool, typer.Option(
                      help="Confirm: rebuild this empty state from the cloud's tagged objects.")] = False):
    """Confirm rebuilding a lost state from the cloud (the next plan adopts by tags)."""
    from ..errors import GovcloudError
    from ..usecases.state import state_recover as run
    from . import render
    if not confirm:
        raise GovcloudError("state recover needs --confirm", fix="read the plan's message first")
    res = run(workspace(directory))
    render.console.print(f"Recovery confirmed (audit entry {res['audit_entry']}); run `govcloud plan`.")


@state_app.command("migrate")
@handled
def state_migrate(to: Annotated[str, typer.Option(
                      "--to", metavar="URL", help="The PostgreSQL URL to move the state to.")],
                  directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
                  switch: Annotated[bool, typer.Option(
                      help="Point govcloud.toml's [state] url at it when done.")] = True,
                  output: Out = OutputTJ.text):
    """Move the SQLite state into an empty PostgreSQL database (everything, verified)."""
    from ..usecases.state_migrate import state_migrate as run
    from . import render
    res = run(workspace(directory), to, lock_timeout, switch)
    if output == OutputTJ.json:
        return render.emit_json(res)
    c = res["copied"]
    render.console.print(render.escape(
        f"State migrated to {res['to']}: {c['resources']} resources, {c['audit']} audit entries "
        f"(chain verified), {c['events']} lifecycle events, {c['history']} history rows, "
        f"{c['workflows']} workflows, {c['approval_digests']} approval digests."))
    render.console.print(render.escape(
        "govcloud.toml now points at it; the SQLite file is kept, untouched, as a backup."
        if res["switched"] else f"To use it: {res['how']}."))


@state_app.command("pull")
@handled
def state_pull(directory: Dir = Path("."),
               at: Annotated[Optional[int], typer.Option(
                   "--at", metavar="SERIAL", help="The state as it was at this serial.")] = None):
    """Print the whole state as one JSON document (govcloud-state/1)."""
    from ..usecases.state import state_pull as run
    from . import render
    render.emit_json(run(workspace(directory), at))


@state_app.command("push")
@handled
def state_push(file: Path, directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
               output: Out = OutputTJ.text):
    """Replace the state with a document from `state pull` (same lineage, higher serial)."""
    from ..usecases.state import state_push as run
    from . import render
    res = run(workspace(directory), file, lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res)
    render.console.print(f"State {'replaced' if res['changed'] else 'unchanged (identical)'}: "
                         f"serial {res['serial']}, {res['resources']} resources. The cloud was "
                         f"not touched; run `govcloud plan` to compare it with the pushed state.")


@state_app.command("rm")
@handled
def state_rm(address: str, directory: Dir = Path("."), lock_timeout: LockTimeout = 30.0,
             now: Now = None, backdated: Backdated = None, output: Out = OutputTJ.text):
    """Stop managing an object: its record leaves the state and govcloud's tags leave the
    object. Nothing is deleted in the cloud."""
    from ..usecases.state import state_rm as run
    from . import render
    res = run(workspace(directory), address, lock_timeout,
              recording_today(now, backdated).isoformat())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    for o in res.objects:
        where = ("kept in the cloud, no longer tagged as this workspace's (tagged "
                 "govcloud.released-from), no plan lists it; it still counts against its "
                 "project's quota"
                 if o["kept_in_cloud"] else "it was already gone from the cloud")
        render.console.print(f"Removed {render.escape(o['address'])} ({o['cloud_id']}) from "
                             f"state: {where}. Nothing was deleted.")


@state_app.command("mv")
@handled
def state_mv(source: str, destination: str, directory: Dir = Path("."),
             lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """Move an object (or DEPT/SYSTEM) to an approved address: renamed and retagged in place
    in the cloud, re-keyed in state; never destroy + create."""
    from ..usecases.state import state_mv as run
    from . import render
    res = run(workspace(directory), source, destination, lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    for o in res.objects:
        render.console.print(f"Moved {render.escape(o['from'])} -> {render.escape(o['to'])} "
                             f"({o['cloud_id']})")
    render.console.print(f"{len(res.objects)} objects moved. Add a moved: record to the approval "
                         f"so that the move is reviewed with it.")


@audit_app.command("list")
@handled
def audit_list(directory: Dir = Path("."), output: Out = OutputTJ.text,
               last: Annotated[int, typer.Option(help="Show the last N entries (0: all).")] = 50,
               department: Annotated[Optional[str], typer.Option(
                   help="Only the entries of this department (code).")] = None,
               fmt: Fmt = None, column: Cols = None):
    """Show audit entries."""
    from ..usecases.audit import audit_list as run
    from . import render
    log = run(workspace(directory), last, department)
    if output == OutputTJ.json:
        return render.emit_json(log.to_dict())
    if fmt or column:
        return emit([e.__dict__ for e in log.entries],
                    ["seq", "ts", "actor", "action", "target", "approval", "detail", "hash"],
                    fmt, column)
    for e in log.entries:
        render.console.print(f"{e.seq:>6} {e.ts} {e.actor} {e.action} {e.target}"
                             f"{' [' + e.approval + ']' if e.approval else ''}")


@audit_app.command("verify")
@handled
def audit_verify(directory: Dir = Path("."), output: Out = OutputTJ.text,
                 checkpoint: Annotated[Optional[Path], typer.Option(
                     help="Also check the state continues this signed checkpoint "
                          "(audit-checkpoint.json): truncation, rollback, rewrite.")] = None,
                 public_key: Annotated[Optional[Path], typer.Option(
                     help="The provider's public key (PEM) to check the checkpoint with "
                          "(default: this workspace's).")] = None):
    """Check the hash chain; exit 1 naming the first bad entry."""
    from ..usecases.audit import audit_verify as run
    from ..usecases.audit import checkpoint_verify
    from . import render
    ws = workspace(directory)
    res = run(ws)
    brk = res.first_bad
    if checkpoint is not None:
        pem = public_key.read_text(encoding="utf-8") if public_key else None
        res.checkpoint_problems = checkpoint_verify(ws, checkpoint, pem)
        if res.checkpoint_problems and brk is None:
            from ..core.audit import ChainBreak
            brk = res.first_bad = ChainBreak(0, "checkpoint: " + "; ".join(res.checkpoint_problems))
    if output == OutputTJ.json:
        render.emit_json(res.to_dict())
    elif brk is None:
        render.console.print(f"[green]Audit log intact:[/] {res.entries} entries, hash chain verified.")
    else:
        render.err_console.print(f"[bold red]Audit log tampered:[/] entry {brk.seq}: {brk.reason}")
    if brk is not None:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
@handled
def audit_checkpoint(directory: Dir = Path("."), output: Out = OutputTJ.text,
                     accept_rollback: Annotated[bool, typer.Option(
                         help="Accept a state that does not continue the published checkpoint "
                              "(recorded in the audit log).")] = False):
    """Publish the signed head of the audit chain to audit-checkpoint.json."""
    from ..usecases.audit import checkpoint_write
    from . import render
    cp = checkpoint_write(workspace(directory), accept_rollback)
    if output == OutputTJ.json:
        return render.emit_json({"format": "govcloud-audit-checkpoint/1", **cp})
    render.console.print(f"Checkpoint: entry {cp['seq']} {cp['hash'][:16]}… signed by {cp['key_id']}")


@audit_app.command("prune")
@handled
def audit_prune(before: Annotated[str, typer.Option("--before", help="Remove entries dated "
                    "(UTC) before this day; refused inside the profile's retention period.")],
                dry_run: Annotated[bool, typer.Option("--dry-run", help="Count only.")] = False,
                directory: Dir = Path("."), now: Now = None, backdated: Backdated = None,
                output: Out = OutputTJ.text):
    """Remove old audit entries, keeping the chain verifiable (an audit-pruned anchor entry)."""
    from .. import clock
    from ..usecases.audit import audit_prune as run
    from . import render
    from .render import escape
    # a future --now would put entries still inside the retention period before its start
    res = run(workspace(directory), clock.parse_date(before, "--before"),
              recording_today(now, backdated, dry_run), dry_run)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    verb = "Would prune" if dry_run else "Pruned"
    rng = f" (entries {res.from_seq}..{res.to_seq})" if res.pruned else ""
    render.console.print(escape(f"{verb} {res.pruned} audit entries dated before {res.before}{rng}; "
                                f"entries since {res.keep_from} are kept ({res.retention_rule})."))


@audit_app.command("export")
@handled
def audit_export(directory: Dir = Path("."),
                 to: Annotated[Optional[Path], typer.Option("--to", help="Write to this file "
                     "(default: standard output).")] = None):
    """The audit log as JSON lines: a header (format, anchor, head), then each entry."""
    from ..usecases.audit import audit_export as run
    lines = run(workspace(directory))
    if to is None:
        for line in lines:
            typer.echo(line)
        return
    with open(to, "w", encoding="utf-8") as f:
        for line in lines:
            f.write(line + "\n")



@audit_app.command("export-signed")
@handled
def audit_export_signed(department: Annotated[str, typer.Option(help="Department code.")],
                 directory: Dir = Path("."),
                 out: Annotated[Optional[Path], typer.Option("-o", "--out", help="Write here.")] = None):
    """A department's audit entries, signed with the provider's key (JSON)."""
    import json
    from ..usecases.audit import department_export
    from . import render
    doc = department_export(workspace(directory), department)
    if out is None:
        return render.emit_json(doc)
    out.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    render.console.print(f"Exported {len(doc['entries'])} entries of {department} to {out}")


@audit_app.command("verify-export")
@handled
def audit_verify_export(file: Path, public_key: Annotated[Path, typer.Option(
                            help="The provider's public key (PEM).")],
                        directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Check a department export with the provider's public key alone (no workspace or state
    is read; -C is accepted and ignored); exit 1 if not valid."""
    import json
    from ..errors import GovcloudError
    from ..usecases.audit import export_verify
    from . import render
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
        pem = public_key.read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise GovcloudError(f"cannot read {file} or {public_key}: {exc}") from None
    problems = export_verify(doc, pem)
    if output == OutputTJ.json:
        render.emit_json({"format": "govcloud-audit-verify-export/1", "valid": not problems,
                          "entries": len(doc.get("entries") or []), "problems": problems})
    elif not problems:
        render.console.print(f"[green]Valid:[/] {len(doc['entries'])} entries signed by {doc.get('key_id')}")
    else:
        for p in problems:
            render.err_console.print(f"[bold red]Invalid:[/] {p}")
    if problems:
        raise typer.Exit(1)

@handled
def import_(address: str, cloud_id: str, directory: Dir = Path("."),
            lock_timeout: LockTimeout = 30.0, output: Out = OutputTJ.text):
    """Take an existing object (not made by govcloud) under management: it must match its
    approved spec and be owned by no other workspace; it is then tagged and recorded."""
    from ..usecases.importing import import_object
    from . import render
    res = import_object(workspace(directory), address, cloud_id, lock_timeout)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(f"Imported {res.cloud_id} as {render.escape(res.address)}: tagged and "
                         f"recorded. Run `govcloud plan` to see it managed.")


def register(app: typer.Typer) -> None:
    app.command("import")(import_)
    app.add_typer(state_app, name="state")
    app.add_typer(audit_app, name="audit")
