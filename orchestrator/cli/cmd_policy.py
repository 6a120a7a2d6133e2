"""`govcloud profile list|show|diff` and `govcloud calendar check|import|provisional|add-workdays|
workdays|is-workday`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .listing import Cols, Fmt, emit
from .options import Dir, Out, OutputTJ, handled, maybe_workspace

profile_app = typer.Typer(no_args_is_help=True, help="Policy profiles: the rules of each city's regulation.")
calendar_app = typer.Typer(no_args_is_help=True, help="PRC working days (工作日) with holidays and 调休.")


def _warn(warnings: list[str]) -> None:
    from .render import escape

    from . import render
    for w in warnings:
        render.err_console.print(f"[yellow]Warning:[/] {escape(w)}")


@profile_app.command("list")
@handled
def profile_list(directory: Dir = None, output: Out = OutputTJ.text, fmt: Fmt = None,
                 column: Cols = None):
    """The profiles shipped (and in the workspace's catalog/profiles/)."""
    from .render import escape

    from .. import clock
    from ..usecases.policy import profile_list as run
    from . import render
    res = run(maybe_workspace(directory), clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res)
    if fmt or column:
        rows = res["profiles"]
        return emit(rows, list(rows[0]) if rows else ["code"], fmt, column)
    for r in res["profiles"]:
        flag = f"  [yellow]({'; '.join(r['warnings'])})[/]" if r["warnings"] else ""
        render.console.print(f"{r['code']:<10} {r['status']:<9} {escape(r['regulation'])}{flag}")


@profile_app.command("show")
@handled
def profile_show(name: Annotated[Optional[str], typer.Argument(help="Profile (default: the workspace's).")] = None,
                 directory: Dir = None, output: Out = OutputTJ.text):
    """Every rule of a profile with its article; settings (not the regulation's own) marked."""
    from .render import escape

    from .. import clock
    from ..usecases.policy import profile_show as run
    from . import render
    res = run(maybe_workspace(directory), name, clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    p, head, rows = res.profile, res.header, res.rows
    c = render.console
    c.print(f"[bold]{p.code}[/]: {escape(p.regulation)}")
    c.print(f"  status {p.status}; in force from {head['effective_from'] or 'unknown'}; "
            f"expires {head['expires_on'] or 'never (no term stated)'}")
    _warn(head["warnings"])
    c.print("\nRules (enforced, scheduled or reported by govcloud):")
    for r in [r for r in rows if r["enforced"]]:
        mark = "  [yellow]\\[setting][/]" if r["setting"] else ""
        c.print(f"  {r['key']:<38} {escape(r['display'])}  [dim]{escape(p.name_zh)} "
                f"{escape(r['article'])}[/]{mark}")
        if r["note"]:
            c.print(f"  {'':<38} [dim]{escape(r['note'])}[/]")
    ref = [r for r in rows if not r["enforced"]]
    if ref:
        c.print("\nFor reference (in the regulation; not enforced by govcloud):")
        for r in ref:
            mark = "  [yellow]\\[setting][/]" if r["setting"] else ""
            c.print(f"  {r['key']:<38} {escape(r['display'])}  [dim]{escape(r['article'])}[/]{mark}")
    titles = {"billing": "Billing (govcloud bill):",
              "rightsizing": "Right-sizing (govcloud rightsize):",
              "reports": "Reports (govcloud report):"}
    for section, rows_ in res.money.items():
        c.print(f"\n{titles[section]}" + ("" if rows_ else " [dim]none in this profile[/]"))
        for r in rows_:
            mark = "  [yellow]\\[setting][/]" if r["setting"] else ""
            c.print(f"  {r['key']:<38} {escape(r['display'])}  [dim]{escape(p.name_zh)} "
                    f"{escape(r['article'])}[/]{mark}")
            if r["note"]:
                c.print(f"  {'':<38} [dim]{escape(r['note'])}[/]")
    c.print("\n[dim]\\[setting]: the regulation leaves this open; the value is this profile's default, "
            "not the regulation's.[/]")


@profile_app.command("diff")
@handled
def profile_diff(a: Annotated[str, typer.Argument(help="First profile.")],
                 b: Annotated[str, typer.Argument(help="Second profile.")],
                 directory: Dir = None, output: Out = OutputTJ.text,
                 all_rules: Annotated[bool, typer.Option("--all", help="Also list rules that agree.")] = False):
    """How two cities' rules differ: value, comparison word, article, setting."""
    from .render import escape

    from .. import clock
    from ..usecases.policy import profile_diff as run
    from . import render
    res = run(maybe_workspace(directory), a, b, clock.today())
    if output == OutputTJ.json:
        return render.emit_json(res.to_dict())
    pa, pb = res.a, res.b
    c = render.console
    c.print(f"[bold]{a}[/] ({escape(pa.name_zh)}, {pa.status})  vs  [bold]{b}[/] "
            f"({escape(pb.name_zh)}, {pb.status})")
    _warn(pa.warnings(res.today) + pb.warnings(res.today))

    def cell(r):
        if r is None:
            return "[dim]—[/]"
        mark = " [yellow]\\[setting][/]" if r["setting"] else ""
        ref = " [dim](reference)[/]" if not r["enforced"] else ""
        return f"{escape(r['display'])} [dim]{escape(r['article'])}[/]{mark}{ref}"
    for d in res.differences + (res.same if all_rules else []):
        c.print(f"  {d['key']}")
        c.print(f"    {a:<10} {cell(d[a])}")
        c.print(f"    {b:<10} {cell(d[b])}")
    n_ref = sum(1 for d in res.differences if not (d[a] or d[b])["enforced"])
    c.print(f"{len(res.differences) - n_ref} rules and {n_ref} reference rules differ; "
            f"{len(res.same)} agree.")


# --- calendar --------------------------------------------------------------------------------
def _date(text: str, what: str):
    from ..clock import parse_date
    return parse_date(text, what)


@calendar_app.command("check")
@handled
def calendar_check(files: Annotated[Optional[list[Path]], typer.Argument(
                       help="Calendar files to check (default: shipped + workspace catalog/calendar).")] = None,
                   directory: Dir = None, output: Out = OutputTJ.text):
    """Validate calendar files (cn-<year>.yaml): holiday blocks, 调休 days, file name = year."""
    from .render import escape

    from ..usecases.policy import calendar_check as run
    from . import render
    res = run(maybe_workspace(directory), list(files or []))
    if output == OutputTJ.json:
        return render.emit_json(res)
    rows = res["files"]
    for r in rows:
        used = "" if r["used"] else "  [dim](overridden by a later directory)[/]"
        render.console.print(f"[green]ok[/] {escape(r['file'])}: {r['year']}, {r['workdays']} working "
                             f"days, {r['holidays']} days off in holiday blocks, "
                             f"{r['makeup_workdays']} make-up working days{used}")
    years = sorted({r["year"] for r in rows})
    render.console.print(f"Valid: {len(rows)} file(s); years {', '.join(map(str, years)) or 'none'}.")


def _prov(res) -> str:
    years = res.get("provisional") or []
    return (f"  (provisional: counted on the statutory-holiday calendar of "
            f"{', '.join(map(str, years))}, not the State Council's notice)") if years else ""


def _written(res) -> None:
    from .render import escape

    from . import render
    what = {None: "wrote", "provisional": "replaced the provisional calendar in",
            "official": "replaced (--force)", "invalid": "replaced the unreadable"}[res["replaced"]]
    if not res["written"]:
        what = "unchanged (already the same):"
    render.console.print(f"{what} {escape(res['file'])}: {res['year']}, {res['workdays']} working "
                         f"days, {res['holidays']} days off in holiday blocks, "
                         f"{res['makeup_workdays']} make-up working days")
    for w in res["warnings"]:
        render.err_console.print(f"[yellow]Warning:[/] {escape(w)}")


@calendar_app.command("import")
@handled
def calendar_import(notice: Annotated[Path, typer.Argument(
                        help="The State Council's notice (国务院办公厅关于YYYY年部分节假日安排的通知) "
                             "pasted as UTF-8 text.")],
                    to: Annotated[Optional[Path], typer.Option("--to",
                        help="Directory to write cn-YYYY.yaml into (default: the workspace's "
                             "catalog/calendar).")] = None,
                    force: Annotated[bool, typer.Option("--force",
                        help="Replace a different official file for the same year.")] = False,
                    directory: Dir = None, output: Out = OutputTJ.text):
    """Turn the yearly holiday notice into catalog/calendar/cn-YYYY.yaml (checked date by date)."""
    from ..usecases.policy import calendar_import as run
    from . import render
    res = run(maybe_workspace(directory), notice, to, force)
    if output == OutputTJ.json:
        return render.emit_json(res)
    _written(res)


@calendar_app.command("provisional")
@handled
def calendar_provisional(year: Annotated[int, typer.Argument(help="Year without a notice yet.")],
                         to: Annotated[Optional[Path], typer.Option("--to",
                             help="Directory (default: the workspace's catalog/calendar).")] = None,
                         directory: Dir = None, output: Out = OutputTJ.text):
    """Enable a PROVISIONAL calendar for YEAR from the statutory holidays (全国年节及纪念日放假办法
    第二、六条) until the notice is out; every result counted in it says "provisional"."""
    from ..usecases.policy import calendar_provisional as run
    from . import render
    res = run(maybe_workspace(directory), year, to)
    if output == OutputTJ.json:
        return render.emit_json(res)
    _written(res)
    render.err_console.print("[yellow]Provisional:[/] statutory holidays only, without the notice's "
                             "调休; replace it with `govcloud calendar import NOTICE.txt` when the "
                             "notice is published.")


@calendar_app.command("add-workdays")
@handled
def calendar_add(start: Annotated[str, typer.Argument(help="Start date (not counted).")],
                 n: Annotated[int, typer.Argument(help="Working days to add (negative: before).")],
                 directory: Dir = None, output: Out = OutputTJ.text):
    """The date N working days after DATE (the start day is not counted)."""
    from ..usecases.policy import add_workdays
    from . import render
    res = add_workdays(maybe_workspace(directory), _date(start, "DATE"), n)
    if output == OutputTJ.json:
        return render.emit_json(res)
    render.console.print(res["date"] + _prov(res))


@calendar_app.command("workdays")
@handled
def calendar_workdays(start: Annotated[str, typer.Argument(help="From (not counted).")],
                      end: Annotated[str, typer.Argument(help="To (counted).")],
                      directory: Dir = None, output: Out = OutputTJ.text):
    """Count working days in (FROM, TO]: FROM not counted, TO counted."""
    from ..usecases.policy import workdays_between
    from . import render
    res = workdays_between(maybe_workspace(directory), _date(start, "FROM"), _date(end, "TO"))
    if output == OutputTJ.json:
        return render.emit_json(res)
    render.console.print(str(res["workdays"]) + _prov(res))


@calendar_app.command("is-workday")
@handled
def calendar_is_workday(day: Annotated[str, typer.Argument(help="Date.")],
                        directory: Dir = None, output: Out = OutputTJ.text):
    """Whether DATE is a working day (exit 0) or a day off (exit 3), with the holiday's name."""
    from ..usecases.policy import is_workday
    from . import render
    d = _date(day, "DATE")
    res = is_workday(maybe_workspace(directory), d)
    work, name = res["workday"], res["holiday"]
    if output == OutputTJ.json:
        render.emit_json(res)
    else:
        what = "working day" + (" (调休 make-up day)" if work and d.weekday() >= 5 else "")
        render.console.print(f"{d} {d.strftime('%A')}: " + (what if work else
                             f"day off{' (' + name + ')' if name else ''}") + _prov(res))
    if not work:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.add_typer(profile_app, name="profile")
    app.add_typer(calendar_app, name="calendar")
