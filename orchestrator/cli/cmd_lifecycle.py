"""Lifecycle commands: status, confirm-delivery, extend, request-exit, platform-change."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, recording_now, Dir, Now, Out, OutputTJ, date_from, handled, now_from, workspace
from .complete import complete_approval


def _deadline_text(d) -> str:
    if d is None:
        return "—"
    who = f"[{d.actor}] " if getattr(d, "actor", "") else ""
    return who + _deadline_body(d)


def _deadline_body(d) -> str:
    if d.error:
        return f"{d.what}: {d.error}"
    left = ""
    if d.workdays_left is not None:
        left = (f", {-d.workdays_left} working day{'s' if d.workdays_left != -1 else ''} overdue"
                if d.overdue else f", {d.workdays_left} working day{'s' if d.workdays_left != 1 else ''} left")
    return f"{d.what}: {d.due}{left}"


def _todo(remedy: str, actor: str = "", indent: str = "      ") -> str | None:
    """The line under a deadline, flag or warning: who acts and what to do (core/remedies.py)."""
    from .render import escape
    if not remedy:
        return None
    who = f" ({actor})" if actor else ""
    return f"{indent}[dim]what to do{escape(who)}:[/] {escape(remedy)}"


@handled
def status(directory: Dir = Path("."), now: Now = None, output: Out = OutputTJ.text,
           overdue_only: Annotated[bool, typer.Option("--overdue", help="Only overdue approvals; "
                                                      "exit 3 when there are any.")] = False):
    """Each approval's state, next deadline and working days left; overdue ones highlighted."""
    from .render import escape

    from ..usecases.lifecycle import status as run
    from . import render
    rep = run(workspace(directory), now_from(now).date(), overdue_only)
    if output == OutputTJ.json:
        render.emit_json(rep.to_dict())
    else:
        c = render.console
        c.print(f"Status on {rep.today} (profile {rep.profile}):")
        for n in rep.to_dict()["profile_warning_details"]:
            render.err_console.print(f"[yellow]Warning:[/] {escape(n['text'])}")
            if (todo := _todo(n["remedy"], n["actor"], "  ")) is not None:
                render.err_console.print(todo)
        for w in rep.calendar_warnings:
            render.err_console.print(f"[yellow]Warning:[/] {escape(w)}")
        if rep.annual_request:
            ar = rep.annual_request
            c.print(escape(f"[{ar['actor']}] {ar['what']}: due {ar['due']}") +
                    f"  [dim]{escape(ar['citation'])}[/]")
            if (todo := _todo(ar.get("remedy", ""), "", "  ")) is not None:
                c.print(todo)
        for r in rep.shown:
            nd = r.next_deadline
            style = "bold red" if r.overdue else ("yellow" if r.warnings or r.flags else "")
            term = "" if r.kind == "permanent" else f" {r.kind} {r.start}..{r.end}"
            state = f"held until {r.held_until}" if r.held_until else r.state
            head = f"{r.approval_no}  {r.stack}  [{state}]{term}"
            c.print(f"[{style}]{escape(head)}[/]" if style else escape(head))
            over = [d for d in r.deadlines if d.overdue]
            shown = [(f"[bold red]OVERDUE[/] ", d) for d in over]
            if nd is not None and nd not in over:
                shown.append(("next: ", nd))
            for label, d in shown:
                c.print(f"    {label}{escape(_deadline_text(d))}  [dim]{escape(d.citation)}[/]")
                if (todo := _todo(d.remedy)) is not None:      # the actor leads the line above
                    c.print(todo)
            row = r.to_dict()
            for label, notes in (("[yellow]warning:[/]", row["warning_details"]),
                                 ("[red]flag:[/]", row["flag_details"])):
                for n in notes:
                    c.print(f"    {label} {escape(n['text'])}")
                    if (todo := _todo(n["remedy"], n["actor"])) is not None:
                        c.print(todo)
        for stack, count in sorted(rep.orphaned.items()):
            c.print(f"[yellow]{escape(stack + '  [orphaned]')}[/]  {count} objects, no approval compiles "
                    "to it any more: nothing is deleted; it leaves only through the exit process "
                    "(request-exit APPROVAL, then decommission SYSTEM; the approval need not be restored)")
        n = sum(1 for r in rep.rows if r.overdue)
        c.print(f"{len(rep.rows)} approvals, " + (f"[bold red]{n} overdue[/]" if n else "none overdue")
                + (f", {len(rep.orphaned)} orphaned systems" if rep.orphaned else "") + ".")
    if rep.calendar_missing:   # a deadline could not be computed: never a silent 0
        raise typer.Exit(1)
    if overdue_only and rep.shown:
        raise typer.Exit(3)


@handled
def confirm_delivery(approval: Annotated[str, typer.Argument(help="Approval number.",
                                                             autocompletion=complete_approval)],
                     date: Annotated[Optional[str], typer.Option("--date", help="Confirmation date "
                                                                 "(default: today).")] = None,
                     directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Record the delivery confirmation (交付确认) of a provisioned approval; billing starts there."""
    from .. import clock
    from ..usecases.lifecycle import confirm_delivery as run
    from . import render
    res = run(workspace(directory), approval, date_from(date, "--date"), clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    if res.recorded:
        render.console.print(f"Recorded: delivery of {approval} confirmed on {res.confirmed_on} "
                             f"(billing starts).")
    else:
        render.console.print(f"Already recorded: delivery of {approval} confirmed on "
                             f"{res.confirmed_on}.")


@handled
def extend(approval: Annotated[str, typer.Argument(help="Approval number of a window or emergency term.",
                                                 autocompletion=complete_approval)],
           until: Annotated[str, typer.Option("--until", help="New end date: the last day of service (included, as the form writes it).")],
           request_date: Annotated[Optional[str], typer.Option("--request-date",
               help="When the department asked for it (default: today).")] = None,
           directory: Dir = Path("."), now: Now = None, backdated: Backdated = None,
           output: Out = OutputTJ.text):
    """Check an extension against the profile (notice period, length) and record it."""
    from .. import clock
    from ..usecases.lifecycle import extend as run
    from . import render
    when = recording_now(now, backdated)
    res = run(workspace(directory), approval, clock.parse_date(until, "--until"),
              clock.parse_date(request_date, "--request-date") if request_date else when.date(),
              when)
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    notice = (f", {res.notice_workdays} working days before the end"
              if res.notice_workdays is not None else "")
    render.console.print(f"[green]Extension accepted:[/] {approval} now ends on {res.until} "
                         f"(was {res.previous_end}; requested {res.requested_on}{notice}).")
    render.console.print(f"Recorded in {res.file}. Next: govcloud compile, review and commit "
                         f"{res.file} with the changed stacks/.")


def _exit_command(kind: str):
    def command(approval: Annotated[str, typer.Argument(help="Approval number (also one whose "
                                                        "file is gone: an orphaned system).",
                                                        autocompletion=complete_approval)],
                date: Annotated[Optional[str], typer.Option("--date", help="Date of the document "
                                                            "(default: today).")] = None,
                document: Annotated[Optional[str], typer.Option("--document", help="The document: "
                                                                "its number or file.")] = None,
                directory: Dir = Path("."), output: Out = OutputTJ.text):
        from .render import escape

        from .. import clock
        from ..usecases import lifecycle as uc
        from . import render
        run = uc.request_exit if kind == "exit-requested" else uc.approve_exit
        res = run(workspace(directory), approval, date_from(date, "--date"), clock.today(),
                  document)
        if output == OutputTJ.json:
            return render.emit_json(res.to_dict())
        verb = "Recorded" if res.recorded else "Already recorded"
        what = "requested" if kind == "exit-requested" else "approved by the bureau"
        doc = f" (document {res.document})" if res.document else ""
        render.console.print(escape(f"{verb}: exit of {approval} {what} on {res.requested_on}{doc}."))
        for d in res.deadlines:
            render.console.print(f"  {escape(d['what'])}: {d['due']}  [dim]{escape(d['citation'])}[/]")
            if (todo := _todo(d["remedy"], d["actor"], "    ")) is not None:
                render.console.print(todo)
        render.console.print("Decommission the system with `govcloud decommission SYSTEM`.")
    command.__doc__ = ("Record the department's written exit request (退出申请); refused while a "
                       "migrated system's old one must be kept, or before the events the profile "
                       "puts first (四川 第十八条: backup and offline)." if kind == "exit-requested" else
                       "Record the bureau's approval of an exit (审核通过); 大同 第十六条's reclaim "
                       "clock starts here.")
    return handled(command)


request_exit = _exit_command("exit-requested")
approve_exit = _exit_command("exit-approved")


@handled
def platform_change(date: Annotated[str, typer.Option("--date", help="When the platform change happens.")],
                    notified: Annotated[str, typer.Option("--notified", help="When departments were told.")],
                    summary: Annotated[str, typer.Option("--summary", help="What changes.")] = "",
                    major: Annotated[bool, typer.Option("--major", help="A 重大调整: needs "
                        "--assessment and the bureau's --approval/--approved-on first.")] = False,
                    plan: Annotated[Optional[str], typer.Option("--plan", help="The change plan "
                        "(调整方案) filed for review.")] = None,
                    assessment: Annotated[Optional[str], typer.Option("--assessment", help="The "
                        "third-party or expert assessment report.")] = None,
                    approval: Annotated[Optional[str], typer.Option("--approval", help="The "
                        "bureau's approval (document).")] = None,
                    approved_on: Annotated[Optional[str], typer.Option("--approved-on", help="When "
                        "the bureau approved it.")] = None,
                    directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Check and record a provider's planned platform change against the notice rule."""
    from .. import clock
    from ..usecases.lifecycle import platform_change as run
    from . import render
    res = run(workspace(directory), clock.parse_date(date, "--date"),
              clock.parse_date(notified, "--notified"), summary, major, plan, assessment, approval,
              clock.parse_date(approved_on, "--approved-on") if approved_on else None,
              today=clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    render.console.print(f"Recorded: platform change on {res.change_on}, departments notified "
                         f"{res.notice_workdays} working days ahead ({res.notified_on}).")


@handled
def record_event(approval: Annotated[str, typer.Argument(help="Approval number.",
                                                         autocompletion=complete_approval)],
                 kind: Annotated[str, typer.Argument(help="trial-passed, security-tested, "
                     "tests-completed, test-report-approved, cutover, went-live, "
                     "deployment-completed, configuration-completed, emergency-filed, "
                     "contract-signed, contract-filed, project-approval-filed.")],
                 document: Annotated[Optional[str], typer.Option("--document", help="The report, "
                     "letter, contract or filing number (required for results and filings).")] = None,
                 date: Annotated[Optional[str], typer.Option("--date", help="When it happened "
                     "(default: today).")] = None,
                 at: Annotated[Optional[str], typer.Option("--at", help="When it happened, to the "
                     "minute (ISO date-time, China time), for clocks in hours.")] = None,
                 until: Annotated[Optional[str], typer.Option("--until", help="contract-signed: "
                     "the trial period's last day set in the contract (重庆 第二十条).")] = None,
                 note: Annotated[str, typer.Option("--note", help="Free text.")] = "",
                 directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Record a go-live step, a test or assessment result or a filing, with its document;
    refused when the profile's go-live gate asks for another result first."""
    from .render import escape

    from .. import clock
    from ..usecases.milestones import record_event as run
    from . import render
    res = run(workspace(directory), approval, kind, date_from(date, "--date"), clock.today(),
              document, clock.parse_now(at, "--at") if at else None,
              clock.parse_date(until, "--until") if until else None, note, now=clock.now())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    verb = "Recorded" if res.recorded else "Already recorded"
    doc = f" ({res.document})" if res.document else ""
    render.console.print(escape(f"{verb}: {kind} of {approval} on {res.at or res.on}{doc}."))


def register(app: typer.Typer) -> None:
    app.command()(status)
    app.command("confirm-delivery")(confirm_delivery)
    app.command()(extend)
    app.command("request-exit")(request_exit)
    app.command("approve-exit")(approve_exit)
    app.command("platform-change")(platform_change)
    app.command("record-event")(record_event)
