"""Lifecycle commands: status, confirm-delivery, extend, request-exit, platform-change, expire,
and `schedule show` (cron / systemd / Kubernetes files for the expiry job)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import render
from .complete import complete_approval
from .render import escape
from .app import Dir, Out, Output, app, handled

schedule_app = typer.Typer(no_args_is_help=True, help="Run `govcloud expire` on a schedule.")
app.add_typer(schedule_app, name="schedule")

Today = Annotated[Optional[str], typer.Option("--today", help="Evaluate as of this date (default: "
                                               "today in China, or GOVCLOUD_TODAY).")]


def _day(value: Optional[str], option: str):
    from .. import clock
    return clock.today() if value is None else clock.parse_date(value, option)


def _ws(directory: Path):
    from ..workspace import Workspace
    return Workspace.at(directory)


def _deadline_text(d) -> str:
    if d is None:
        return "—"
    if d.error:
        return f"{d.what}: {d.error}"
    left = ""
    if d.workdays_left is not None:
        left = (f", {-d.workdays_left} working day{'s' if d.workdays_left != -1 else ''} overdue"
                if d.overdue else f", {d.workdays_left} working day{'s' if d.workdays_left != 1 else ''} left")
    return f"{d.what}: {d.due}{left}"


@app.command()
@handled
def status(directory: Dir = Path("."), today: Today = None, output: Out = Output.text,
           overdue_only: Annotated[bool, typer.Option("--overdue", help="Only overdue approvals; "
                                                      "exit 3 when there are any.")] = False):
    """Each approval's state, next deadline and working days left; overdue ones highlighted."""
    from ..lifecycle_service import status as run
    rep = run(_ws(directory), _day(today, "--today"))
    rows = [r for r in rep.rows if r.overdue] if overdue_only else rep.rows
    if output == Output.json:
        data = rep.to_dict()
        data["approvals"] = [r.to_dict() for r in rows]
        render.emit_json(data)
    else:
        c = render.console
        c.print(f"Status on {rep.today} (profile {rep.profile}):")
        for w in rep.profile_warnings:
            render.err_console.print(f"[yellow]Warning:[/] {escape(w)}")
        for r in rows:
            nd = r.next_deadline
            style = "bold red" if r.overdue else ("yellow" if r.warnings or r.flags else "")
            term = "" if r.kind == "permanent" else f" {r.kind} {r.start}..{r.end}"
            head = f"{r.approval_no}  {r.stack}  [{r.state}]{term}"
            c.print(f"[{style}]{escape(head)}[/]" if style else escape(head))
            over = [d for d in r.deadlines if d.overdue]
            for d in over:
                c.print(f"    [bold red]OVERDUE[/] {escape(_deadline_text(d))}  [dim]{escape(d.citation)}[/]")
            if nd is not None and nd not in over:
                c.print(f"    next: {escape(_deadline_text(nd))}  [dim]{escape(nd.citation)}[/]")
            for w in r.warnings:
                c.print(f"    [yellow]warning:[/] {escape(w)}")
            for f in r.flags:
                c.print(f"    [red]flag:[/] {escape(f)}")
        n = sum(1 for r in rep.rows if r.overdue)
        c.print(f"{len(rep.rows)} approvals, " + (f"[bold red]{n} overdue[/]" if n else "none overdue") + ".")
    if overdue_only and rows:
        raise typer.Exit(3)


@app.command("confirm-delivery")
@handled
def confirm_delivery(approval: Annotated[str, typer.Argument(help="Approval number.",
                                                             autocompletion=complete_approval)],
                     date: Annotated[Optional[str], typer.Option("--date", help="Confirmation date "
                                                                 "(default: today).")] = None,
                     directory: Dir = Path("."), output: Out = Output.text):
    """Record the delivery confirmation (交付确认) of a provisioned approval; billing starts there."""
    from .. import clock
    from ..lifecycle_service import confirm_delivery as run
    today = clock.today()
    res = run(_ws(directory), approval, _day(date, "--date"), today)
    if output == Output.json:
        return render.emit_json(res)
    if res["recorded"]:
        render.console.print(f"Recorded: delivery of {approval} confirmed on {res['confirmed_on']} "
                             f"(billing starts).")
    else:
        render.console.print(f"Already recorded: delivery of {approval} confirmed on "
                             f"{res['confirmed_on']}.")


@app.command()
@handled
def extend(approval: Annotated[str, typer.Argument(help="Approval number of a window or emergency term.",
                                                 autocompletion=complete_approval)],
           until: Annotated[str, typer.Option("--until", help="New end date (the first day without the resources).")],
           request_date: Annotated[Optional[str], typer.Option("--request-date",
               help="When the department asked for it (default: today).")] = None,
           directory: Dir = Path("."), today: Today = None, output: Out = Output.text):
    """Check an extension against the profile (notice period, length) and record it."""
    from .. import clock
    from ..lifecycle_service import extend as run
    day = _day(today, "--today")
    res = run(_ws(directory), approval, clock.parse_date(until, "--until"),
              _day(request_date, "--request-date") if request_date else day, day)
    if output == Output.json:
        return render.emit_json(res)
    notice = (f", {res['notice_workdays']} working days before the end"
              if res.get("notice_workdays") is not None else "")
    render.console.print(f"[green]Extension accepted:[/] {approval} now ends on {res['until']} "
                         f"(was {res['previous_end']}; requested {res['requested_on']}{notice}).")
    render.console.print(f"Recorded in {res['file']}. Next: govcloud compile, review and commit "
                         f"{res['file']} with the changed stacks/.")


@app.command("request-exit")
@handled
def request_exit(approval: Annotated[str, typer.Argument(help="Approval number.",
                                                             autocompletion=complete_approval)],
                 date: Annotated[Optional[str], typer.Option("--date", help="Date of the written "
                                                             "exit request (default: today).")] = None,
                 directory: Dir = Path("."), output: Out = Output.text):
    """Record an exit request (退出申请); refused while a migrated system's old one must be kept."""
    from .. import clock
    from ..lifecycle_service import request_exit as run
    res = run(_ws(directory), approval, _day(date, "--date"), clock.today())
    if output == Output.json:
        return render.emit_json(res)
    verb = "Recorded" if res["recorded"] else "Already recorded"
    render.console.print(f"{verb}: exit of {approval} requested on {res['requested_on']}.")
    for d in res.get("deadlines", []):
        render.console.print(f"  {escape(d['what'])}: {d['due']}  [dim]{escape(d['citation'])}[/]")
    render.console.print("Decommission the system with `govcloud decommission SYSTEM`.")


@app.command("platform-change")
@handled
def platform_change(date: Annotated[str, typer.Option("--date", help="When the platform change happens.")],
                    notified: Annotated[str, typer.Option("--notified", help="When departments were told.")],
                    summary: Annotated[str, typer.Option("--summary", help="What changes.")] = "",
                    directory: Dir = Path("."), output: Out = Output.text):
    """Check and record a provider's planned platform change against the notice rule."""
    from .. import clock
    from ..lifecycle_service import platform_change as run
    res = run(_ws(directory), clock.parse_date(date, "--date"),
              clock.parse_date(notified, "--notified"), summary)
    if output == Output.json:
        return render.emit_json(res)
    render.console.print(f"Recorded: platform change on {res['change_on']}, departments notified "
                         f"{res['notice_workdays']} working days ahead ({res['notified_on']}).")


@app.command()
@handled
def expire(directory: Dir = Path("."),
           now: Annotated[Optional[str], typer.Option("--now", help="The job's clock: YYYY-MM-DD or "
                                                      "an ISO date-time (default: now, China time).")] = None,
           dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what is due; change nothing.")] = False,
           max_deletes: Annotated[int, typer.Option("--max-deletes", min=0,
               help="Refuse (exit 1, nothing changed) when more objects are due.")] = 50,
           notify: Annotated[Optional[list[str]], typer.Option("--notify",
               help="Notifier: jsonl:PATH, webhook:URL or an http(s) URL (repeatable; default "
                    "GOVCLOUD_NOTIFY).")] = None,
           lock_timeout: Annotated[float, typer.Option("--lock-timeout",
               help="Seconds to wait for the workspace lock before skipping this run.")] = 10.0,
           parallelism: Annotated[int, typer.Option(min=1, max=64)] = 4,
           output: Out = Output.text):
    """The scheduled job: remove ended windows' resources (owned only), lower quotas, record."""
    from .. import clock
    from ..lifecycle_service import expire as run
    from ..notify import from_specs
    when = clock.now() if now is None else clock.parse_now(now)
    rep = run(_ws(directory), when, dry_run, max_deletes, lock_timeout, from_specs(notify),
              parallelism)
    if output == Output.json:
        render.emit_json(rep.to_dict())
    else:
        c = render.console
        if rep.skipped:
            c.print(f"Skipped at {rep.now}: {escape(rep.skipped)}. The next run will act.")
            return
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
    if not rep.ok:
        raise typer.Exit(1)


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
                  output: Out = Output.text):
    """Print (or write) the unit files that run the expiry job for this workspace."""
    from ..schedule import render as render_files
    ws = _ws(directory)
    files = render_files(kind, ws.root, every, notify, user, image=image, pvc=pvc)
    if write is not None:
        write.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (write / name).write_text(text, encoding="utf-8")
    if output == Output.json:
        return render.emit_json({"files": files, "written_to": str(write) if write else None})
    if write is not None:
        for name in files:
            render.console.print(f"wrote {write / name}")
        return
    for name, text in files.items():
        if len(files) > 1:
            render.console.print(f"# ---- {name}")
        render.console.print(text, end="", markup=False)
