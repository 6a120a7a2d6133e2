"""Rendering for the CLI: rich on a terminal, plain lines otherwise, JSON on request.

rich is imported on first use (`console`, `err_console`, `escape`), not with this module:
it costs ~0.15 s CPU, and `--help`, `--version` and JSON output need none of it.
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import GovcloudError

if TYPE_CHECKING:
    from rich.console import Console

    from ..models.plan import Plan

    console: Console
    err_console: Console


def __getattr__(name: str):
    """`console` and `err_console`, made on first use (PEP 562)."""
    if name not in ("console", "err_console"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from rich.console import Console
    value = Console(stderr=name == "err_console", highlight=False, soft_wrap=True)
    globals()[name] = value
    return value


def _out() -> Console:
    g = globals()
    return g["console"] if "console" in g else __getattr__("console")


def _err() -> Console:
    g = globals()
    return g["err_console"] if "err_console" in g else __getattr__("err_console")


def escape(markup: str) -> str:
    """rich.markup.escape, imported when first needed."""
    from rich.markup import escape as rich_escape
    return rich_escape(markup)


SYMBOL = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("-/+", "magenta"),
          "delete": ("-", "red"), "adopt": ("<=", "cyan"), "no-op": (" ", "dim")}


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


def error(exc: GovcloudError, as_json: bool) -> None:
    if as_json:
        emit_json(exc.to_dict())
        return
    _err().print(f"[bold red]Error:[/] {escape(exc.summary)}")
    for issue in exc.issues:
        _err().print(f"  {escape(str(issue))}")
    if exc.fix:
        _err().print(f"  [bold]Fix:[/] {escape(exc.fix)}")
    if exc.changed_nothing:
        _err().print("Nothing was changed.")


def plan_text(plan: Plan, show_noop: bool = False) -> None:
    changing = [a for a in plan.actions if a.action != "no-op" or show_noop]
    if changing:
        _out().print("govcloud will perform these actions, in dependency order:\n")
    for a in changing:
        sym, color = SYMBOL[a.action]
        _out().print(f"  [{color}]{sym:>3} {a.action:<7}[/] {escape(a.address)}")
        _out().print(f"          [dim]{escape(a.reason)}[/]")
        if a.action in ("update", "replace", "adopt"):
            for field, ch in a.changes.items():
                mark = "  [magenta](forces replacement)[/]" if ch.get("forces_replacement") else ""
                _out().print(f"          {escape(field)}: {escape(_short(ch.get('old')))} -> "
                              f"{escape(_short(ch.get('new')))}{mark}")
    s = plan.summary
    if not plan.has_changes:
        _out().print(f"[green]No changes.[/] The cloud matches the stack specs "
                      f"({s['no-op']} objects up to date).")
        return
    _out().print(f"\nPlan: {s['create']} to create, {s['update']} to update, "
                  f"{s['replace']} to replace, {s['delete']} to delete, {s['adopt']} to adopt, "
                  f"{s['no-op']} unchanged.")


def _short(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v
    return text if len(text) <= 120 else text[:117] + "..."


class Progress:
    """Live progress bar on a terminal; one plain line per finished step otherwise."""

    def __init__(self, total: int, quiet: bool = False):
        self.total = total
        self.done = 0
        self.quiet = quiet
        self.live = _out().is_terminal and not quiet
        self._bar = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, \
                TextColumn, TimeElapsedColumn
            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(), console=_out())
            self._task = self._bar.add_task("applying", total=total)

    def __enter__(self):
        if self._bar:
            self._bar.start()
        return self

    def __exit__(self, *exc):
        if self._bar:
            self._bar.stop()

    def event(self, kind, step, result) -> None:
        if kind != "done":
            if self._bar:
                self._bar.update(self._task, description=f"{step[1]} {step[0]}"[:70])
            return
        self.done += 1
        color = {"ok": "green", "failed": "red", "skipped": "yellow"}[result.outcome]
        line = (f"[{self.done}/{self.total}] {result.action} {escape(result.address)} "
                f"({result.phase}): [{color}]{result.outcome}[/] {escape(result.detail)} "
                f"[dim]{result.seconds:.2f}s[/]")
        if self._bar:
            self._bar.advance(self._task)
            if result.outcome != "ok":
                self._bar.console.print(line)
        elif not self.quiet:
            _out().print(line)


def plan_markdown(plan: Plan) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ..workspace import PACKAGE_ROOT
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    changes = [a for a in plan.actions if a.action != "no-op"]
    symbols = {k: v[0] for k, v in SYMBOL.items()}
    return env.get_template("plan.md.j2").render(plan=plan, changes=changes, symbols=symbols)
