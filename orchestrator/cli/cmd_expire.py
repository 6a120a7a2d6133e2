"""`govcloud expire` (the scheduled job) and `govcloud schedule show` (its cron / systemd /
Kubernetes files)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, recording_now, Dir, Now, Out, OutputTJ, handled, workspace

schedule_app = typer.Typer(no_args_is_help=True, help="Run `govcloud expire` on a schedule.")


@handled
def expire(directory: Dir = Path("."), now: Now = None, backdated: Backdated = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what is due; change nothing.")] = False,
           max_deletes: Annotated[int, typer.Option("--max-deletes", min=0,
               help="Refuse (exit 1, nothing changed) when more objects are due.")] = 50,
           notify: Annotated[Optional[list[str]], typer.Option("--notify",
               help="Notifier: jsonl:PATH, webhook:URL or an http(s) URL (repeatable; default "
                    "GOVCLOUD_NOTIFY).")] = None,
           lock_timeout: Annotated[float, typer.Option("--lock-timeout",
               help="Seconds to wait for the workspace lock before skipping this run.")] = 10.0,
           parallelism: Annotated[int, typer.Option(min=1, max=64)] = 4,
           output: Out = OutputTJ.text):
    """The scheduled job: remove ended windows' resources (owned only), lower quotas, record."""
    from ..notify import from_specs
    from ..usecases.expire import expire as run
    from . import render
    rep = run(workspace(directory), recording_now(now, backdated, dry_run), dry_run, max_deletes, lock_timeout,
              from_specs(notify), parallelism)
    if output == OutputTJ.json:
        render.emit_json(rep.to_dict())
    elif rep.skipped:
        from .render import escape
        render.console.print(f"Skipped at {rep.now}: {escape(rep.skipped)}. The next run will act.")
        return
    elif rep.nothing_due:
        render.console.print(f"Nothing to expire at {rep.now} (the term index: nothing due, "
                             "inputs and state unchanged).")
        return
    else:
        _print_report(rep, dry_run)
    if not rep.ok:
        raise typer.Exit(1)


def _print_report(rep, dry_run: bool) -> None:
    from .render import escape

    from . import render
    c = render.console
    head = "Would remove" if dry_run else "Removed"
    if not rep.deletes and not rep.quota and not rep.rules:
        c.print(f"Nothing to expire at {rep.now}"
                + (f"; {len(rep.stale)} due objects skipped:" if rep.stale else "."))
    for d in rep.deletes:
        c.print(f"  {'would delete' if dry_run else 'delete'} {escape(d['address'])}  "
                f"[dim]{d['approval']}, expired on {d['expires_on']}[/]")
    for q in rep.quota:
        ch = ", ".join(f"{k} {v['old']}->{v['new']}" for k, v in q["changes"].items())
        c.print(f"  {'would lower' if dry_run else 'lower'} {escape(q['address'])}: {ch}")
    for r in rep.rules:
        closed = ", ".join(f"{x['protocol']}/{x['port_min'] or '*'} from {x['remote_ip_prefix']}"
                           for x in r["closed"])
        c.print(f"  {'would close' if dry_run else 'close'} {escape(r['address'])}: "
                f"{escape(closed)}  [dim]{escape(r['reason'])}[/]")
    for s in rep.stale:
        c.print(f"  [yellow]skipped[/] {escape(s['address'])}: {escape(s['why'])}")
    for s in rep.held:
        c.print(f"  [dim]kept[/] {escape(s['address'])}: {escape(s['why'])} (an apply decides)")
    for n in rep.notices:
        c.print(f"  {'would notify' if dry_run else 'notice'}: {escape(n['message'])}")
    for f in rep.notify_failures:
        c.print(f"  [red]notification failed:[/] {escape(f)}")
    if rep.deletes or rep.quota or rep.rules:
        c.print(f"{head} {len(rep.deletes)} objects, lowered {len(rep.quota)} quotas, "
                f"closed the rules of {len(rep.rules)} security groups"
                + (f", {rep.failed} failed" if rep.failed else "")
                + (f"; expired: {', '.join(rep.expired)}" if rep.expired else "") + ".")
    elif rep.expired:
        c.print(f"Recorded as expired: {', '.join(rep.expired)}.")


@schedule_app.command("show")
@handled
def schedule_show(kind: Annotated[str, typer.Argument(help="cron | systemd | kubernetes")],
                  directory: Dir = Path("."),
                  every: Annotated[int, typer.Option("--every", help="Minutes between runs.")] = 5,
                  notify: Annotated[Optional[list[str]], typer.Option("--notify",
                      help="Notifier for the job (repeatable).")] = None,
                  user: Annotated[Optional[str], typer.Option(help="User the job runs as.")] = None,
                  image: Annotated[str, typer.Option(help="Container image (kubernetes).")] =
                      "registry.example.gov.cn/govcloud:latest",
                  pvc: Annotated[str, typer.Option(help="Workspace volume claim (kubernetes).")] =
                      "govcloud-workspace",
                  write: Annotated[Optional[Path], typer.Option("--write",
                      help="Write the files into this directory instead of printing them.")] = None,
                  output: Out = OutputTJ.text):
    """Print (or write) the unit files that run the expiry job for this workspace."""
    from ..usecases.schedule import schedule_show as run
    from . import render
    res = run(workspace(directory), kind, every, notify, user, image, pvc, write)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    if write is not None:
        for name in res.files:
            render.console.print(f"wrote {write / name}")
        return
    for name, text in res.files.items():
        if len(res.files) > 1:
            render.console.print(f"# ---- {name}")
        render.console.print(text, end="", markup=False)


def register(app: typer.Typer) -> None:
    app.command()(expire)
    app.add_typer(schedule_app, name="schedule")
