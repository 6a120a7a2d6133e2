"""`govcloud profile list|show|diff` and `govcloud calendar check|add-workdays|workdays`."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from . import render
from .render import escape
from .app import Dir, Out, Output, app, handled

profile_app = typer.Typer(no_args_is_help=True, help="Policy profiles: the rules of each city's regulation.")
calendar_app = typer.Typer(no_args_is_help=True, help="PRC working days (工作日) with holidays and 调休.")
app.add_typer(profile_app, name="profile")
app.add_typer(calendar_app, name="calendar")

UNITS = {"_workdays": "working days", "_days": "days", "_months": "months", "_hours": "hours",
         "_pct": "%", "_gb": "GB"}
WORD_SYMBOL = {"超过": ">", "高于": ">", "大于": ">", "以上": "≥", "至少": "≥", "不少于": "≥",
               "提前": "≥", "低于": "<", "少于": "<", "以下": "≤", "及以下": "≤", "以内": "≤",
               "内": "≤", "未超过": "≤", "不超过": "≤"}


def _maybe_ws(directory: Path | None):
    """The workspace at DIR when it is one (for its own profiles and calendar), else None."""
    from ..workspace import CONFIG_NAME, Workspace
    d = directory or Path(".")
    return Workspace.at(d) if (d / CONFIG_NAME).is_file() else None


def format_value(key: str, rule) -> str:
    v = rule.value
    if hasattr(v, "resources_pct"):
        sym = WORD_SYMBOL.get(rule.word or "", "")
        text = (f"resources {sym}{v.resources_pct}% (any of {', '.join(v.measures)}) or monthly fee "
                f"{sym}{v.fee_pct}%")
        return text + (f" ({rule.word})" if rule.word else "")
    if isinstance(v, bool):
        text = "yes" if v else "no"
    elif isinstance(v, list):
        text = ", ".join(str(x) for x in v)
    else:
        text = str(v)
    unit = next((u for suffix, u in UNITS.items() if key.endswith(suffix)), "")
    if unit and not isinstance(v, (bool, str)):
        if v == 1 and unit.endswith("s"):
            unit = unit[:-1]
        text = f"{text} {unit}" if unit != "%" else f"{text}%"
    if rule.word:
        text = f"{WORD_SYMBOL.get(rule.word, '')} {text} ({rule.word})"
    return text


def rule_rows(profile) -> list[dict[str, Any]]:
    rows = []
    for key, rule in profile.rules:
        if rule is None:
            continue
        rows.append({"key": key, "value": rule.model_dump(mode="json")["value"],
                     "display": format_value(key, rule), "word": rule.word,
                     "article": rule.article, "setting": rule.setting, "note": rule.note,
                     "enforced": True})
    for key, rule in sorted(profile.reference.items()):
        rows.append({"key": key, "value": rule.model_dump(mode="json")["value"],
                     "display": format_value(key, rule), "word": rule.word,
                     "article": rule.article, "setting": rule.setting, "note": rule.note,
                     "enforced": False})
    return rows


def _header(p) -> dict[str, Any]:
    from .. import clock
    return {"code": p.code, "name_zh": p.name_zh, "regulation": p.regulation, "status": p.status,
            "effective_from": p.effective_from.isoformat() if p.effective_from else None,
            "expires_on": p.expires_on.isoformat() if p.expires_on else None,
            "warnings": p.warnings(clock.today()), "notes": p.notes}


def _warn(warnings: list[str]) -> None:
    for w in warnings:
        render.err_console.print(f"[yellow]Warning:[/] {escape(w)}")


@profile_app.command("list")
@handled
def profile_list(directory: Dir = None, output: Out = Output.text):
    """The profiles shipped (and in the workspace's catalog/profiles/)."""
    from ..lifecycle_service import profile_named
    from ..workspace import available_profiles
    ws = _maybe_ws(directory)
    names = available_profiles([ws.root / "catalog" / "profiles"] if ws else None)
    rows = [_header(profile_named(ws, n)) for n in names]
    if output == Output.json:
        return render.emit_json(rows)
    for r in rows:
        flag = f"  [yellow]({'; '.join(r['warnings'])})[/]" if r["warnings"] else ""
        render.console.print(f"{r['code']:<10} {r['status']:<9} {escape(r['regulation'])}{flag}")


@profile_app.command("show")
@handled
def profile_show(name: Annotated[Optional[str], typer.Argument(help="Profile (default: the workspace's).")] = None,
                 directory: Dir = None, output: Out = Output.text):
    """Every rule of a profile with its article; settings (not the regulation's own) marked."""
    from ..lifecycle_service import profile_named
    ws = _maybe_ws(directory)
    p = profile_named(ws, name)
    head, rows = _header(p), rule_rows(p)
    if output == Output.json:
        return render.emit_json({**head, "rules": [r for r in rows if r["enforced"]],
                                 "reference": [r for r in rows if not r["enforced"]]})
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
    c.print("\n[dim]\\[setting]: the regulation leaves this open; the value is this profile's default, "
            "not the regulation's.[/]")


@profile_app.command("diff")
@handled
def profile_diff(a: Annotated[str, typer.Argument(help="First profile.")],
                 b: Annotated[str, typer.Argument(help="Second profile.")],
                 directory: Dir = None, output: Out = Output.text,
                 all_rules: Annotated[bool, typer.Option("--all", help="Also list rules that agree.")] = False):
    """How two cities' rules differ: value, comparison word, article, setting."""
    from ..lifecycle_service import profile_named
    ws = _maybe_ws(directory)
    pa, pb = profile_named(ws, a), profile_named(ws, b)
    ra = {r["key"]: r for r in rule_rows(pa)}
    rb = {r["key"]: r for r in rule_rows(pb)}
    enforced = [k for k, _ in pa.rules if k in ra or k in rb]
    keys = enforced + sorted((set(ra) | set(rb)) - set(enforced))
    diffs, same = [], []

    def pick(r):
        return None if r is None else {k: r[k] for k in ("value", "word", "article", "setting",
                                                         "enforced", "display")}
    for k in keys:
        x, y = ra.get(k), rb.get(k)
        key_of = (lambda r: None if r is None else (r["value"], r["word"], r["setting"]))
        (same if key_of(x) == key_of(y) else diffs).append({"key": k, a: pick(x), b: pick(y)})
    head = {"a": _header(pa), "b": _header(pb)}
    if output == Output.json:
        return render.emit_json({**head, "differences": diffs, "same": same})
    c = render.console
    c.print(f"[bold]{a}[/] ({escape(pa.name_zh)}, {pa.status})  vs  [bold]{b}[/] "
            f"({escape(pb.name_zh)}, {pb.status})")
    _warn(head["a"]["warnings"] + head["b"]["warnings"])

    def cell(r, name):
        if r is None:
            return "[dim]—[/]"
        mark = " [yellow]\\[setting][/]" if r["setting"] else ""
        ref = " [dim](reference)[/]" if not r["enforced"] else ""
        return f"{escape(r['display'])} [dim]{escape(r['article'])}[/]{mark}{ref}"
    rows = diffs + (same if all_rules else [])
    for d in rows:
        c.print(f"  {d['key']}")
        c.print(f"    {a:<10} {cell(d[a], a)}")
        c.print(f"    {b:<10} {cell(d[b], b)}")
    n_ref = sum(1 for d in diffs if not (d[a] or d[b])["enforced"])
    c.print(f"{len(diffs) - n_ref} rules and {n_ref} reference rules differ; {len(same)} agree.")


# --- calendar --------------------------------------------------------------------------------
def _date(text: str, what: str):
    from ..clock import parse_date
    return parse_date(text, what)


@calendar_app.command("check")
@handled
def calendar_check(files: Annotated[Optional[list[Path]], typer.Argument(
                       help="Calendar files to check (default: shipped + workspace catalog/calendar).")] = None,
                   directory: Dir = None, output: Out = Output.text):
    """Validate calendar files (cn-<year>.yaml): holiday blocks, 调休 days, file name = year."""
    from ..lifecycle_service import calendar_check as run
    rows = run(_maybe_ws(directory), list(files or []))
    if output == Output.json:
        return render.emit_json({"valid": True, "files": rows})
    for r in rows:
        used = "" if r["used"] else "  [dim](overridden by a later directory)[/]"
        render.console.print(f"[green]ok[/] {escape(r['file'])}: {r['year']}, {r['workdays']} working "
                             f"days, {r['holidays']} days off in holiday blocks, "
                             f"{r['makeup_workdays']} make-up working days{used}")
    years = sorted({r["year"] for r in rows})
    render.console.print(f"Valid: {len(rows)} file(s); years {', '.join(map(str, years)) or 'none'}.")


@calendar_app.command("add-workdays")
@handled
def calendar_add(start: Annotated[str, typer.Argument(help="Start date (not counted).")],
                 n: Annotated[int, typer.Argument(help="Working days to add (negative: before).")],
                 directory: Dir = None, output: Out = Output.text):
    """The date N working days after DATE (the start day is not counted)."""
    from ..lifecycle_service import workspace_calendar
    d = _date(start, "DATE")
    result = workspace_calendar(_maybe_ws(directory)).add_workdays(d, n)
    if output == Output.json:
        return render.emit_json({"from": d.isoformat(), "workdays": n, "date": result.isoformat()})
    render.console.print(result.isoformat())


@calendar_app.command("workdays")
@handled
def calendar_workdays(start: Annotated[str, typer.Argument(help="From (not counted).")],
                      end: Annotated[str, typer.Argument(help="To (counted).")],
                      directory: Dir = None, output: Out = Output.text):
    """Count working days in (FROM, TO]: FROM not counted, TO counted."""
    from ..lifecycle_service import workspace_calendar
    a, b = _date(start, "FROM"), _date(end, "TO")
    n = workspace_calendar(_maybe_ws(directory)).workdays_between(a, b)
    if output == Output.json:
        return render.emit_json({"from": a.isoformat(), "to": b.isoformat(), "workdays": n})
    render.console.print(str(n))


@calendar_app.command("is-workday")
@handled
def calendar_is_workday(day: Annotated[str, typer.Argument(help="Date.")],
                        directory: Dir = None, output: Out = Output.text):
    """Whether DATE is a working day (exit 0) or a day off (exit 3), with the holiday's name."""
    from ..lifecycle_service import workspace_calendar
    d = _date(day, "DATE")
    cal = workspace_calendar(_maybe_ws(directory))
    work, name = cal.is_workday(d), cal.holiday_name(d)
    if output == Output.json:
        render.emit_json({"date": d.isoformat(), "workday": work, "holiday": name})
    else:
        what = "working day" + (" (调休 make-up day)" if work and d.weekday() >= 5 else "")
        render.console.print(f"{d} {d.strftime('%A')}: " + (what if work else
                             f"day off{' (' + name + ')' if name else ''}"))
    if not work:
        raise typer.Exit(3)
