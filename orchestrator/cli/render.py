"""Rendering for the CLI: rich on a terminal, plain lines otherwise, JSON on request.

rich is imported only for a terminal or what only rich can print (console.py): `--help`,
`--version`, JSON output and plain text to a pipe load none of it.
"""
from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from ..errors import GovcloudError
from .console import Console, escape

if TYPE_CHECKING:
    from ..models.plan import Plan

console = Console()                 # rich is imported only when it is needed (console.py)
err_console = Console(stderr=True)


SYMBOL = {"create": ("+", "green"), "update": ("~", "yellow"), "replace": ("-/+", "magenta"),
          "delete": ("-", "red"), "adopt": ("<=", "cyan"), "no-op": (" ", "dim")}


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")
    sys.stdout.flush()


MAX_ERROR_LINE = 400   # an over-long value is not echoed back (a 100 KB name...)


def _shown(text: str) -> str:
    """An error line as printed: credentials redacted, at most MAX_ERROR_LINE characters."""
    from ..redact import redact
    text = redact(text)
    if len(text) > MAX_ERROR_LINE:
        text = f"{text[:MAX_ERROR_LINE]}… ({len(text) - MAX_ERROR_LINE} more characters not shown)"
    return text


def _shown_data(data: Any) -> Any:
    if isinstance(data, str):
        return _shown(data)
    if isinstance(data, dict):
        return {k: _shown_data(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_shown_data(v) for v in data]
    return data


def error(exc: GovcloudError, as_json: bool) -> None:
    if as_json:
        emit_json(_shown_data(exc.to_dict()))
        return
    err_console.print(f"[bold red]Error:[/] {escape(_shown(exc.summary))}")
    for issue in exc.issues:
        err_console.print(f"  {escape(_shown(str(issue)))}")
    if exc.fix:
        err_console.print(f"  [bold]Fix:[/] {escape(_shown(exc.fix))}")
    if exc.changed_nothing:
        err_console.print("Nothing was changed.")


def plan_text(plan: Plan, show_noop: bool = False) -> None:
    changing = [a for a in plan.actions if a.action != "no-op" or show_noop]
    if changing:
        console.print("govcloud will perform these actions, in dependency order:\n")
    for a in changing:
        sym, color = SYMBOL[a.action]
        console.print(f"  [{color}]{sym:>3} {a.action:<7}[/] {escape(a.address)}")
        console.print(f"          [dim]{escape(a.reason)}[/]")
        if a.action in ("update", "replace", "adopt"):
            for field, ch in a.changes.items():
                mark = "  [magenta](forces replacement)[/]" if ch.get("forces_replacement") else ""
                console.print(f"          {escape(field)}: {escape(_short(ch.get('old')))} -> "
                              f"{escape(_short(ch.get('new')))}{mark}")
        if a.action in ("delete", "replace") and _wipes(a.kind):
            console.print("          [bold]its data is wiped and verified before the delete[/]")
    for stack in plan.orphaned:
        console.print(f"[yellow]Orphaned:[/] {escape(stack)}: no approval compiles to it any more; "
                      "nothing of it is deleted. It leaves only through the exit process (restore "
                      "its approval, then `govcloud request-exit` and `govcloud decommission`).")
    s = plan.summary
    if not plan.has_changes:
        console.print(f"[green]No changes.[/] The cloud matches the stack specs "
                      f"({s['no-op']} objects up to date).")
        return
    console.print(f"\nPlan: {s['create']} to create, {s['update']} to update, "
                  f"{s['replace']} to replace, {s['delete']} to delete, {s['adopt']} to adopt, "
                  f"{s['no-op']} unchanged.")


def _wipes(kind: str) -> bool:
    from ..core.resources import KINDS
    return kind in KINDS and KINDS[kind].wiped_before_delete


def _short(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v
    return text if len(text) <= 120 else text[:117] + "..."


class Progress:
    """Live progress bar on a terminal; one plain line per finished step otherwise."""

    def __init__(self, total: int, quiet: bool = False):
        self.total = total
        self.done = 0
        self.quiet = quiet
        self.live = console.is_terminal and not quiet
        self._bar = None
        if self.live:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress as RichProgress, \
                TextColumn, TimeElapsedColumn
            self._bar = RichProgress(TextColumn("{task.description}"), BarColumn(),
                                     MofNCompleteColumn(), TimeElapsedColumn(),
                                     console=console.rich())
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
            console.print(line)


def plan_markdown(plan: Plan) -> str:
    from ..markup import environment
    from ..workspace import PACKAGE_ROOT
    env = environment(PACKAGE_ROOT / "templates", "markdown")   # every value escaped
    changes = [a for a in plan.actions if a.action != "no-op"]
    symbols = {k: v[0] for k, v in SYMBOL.items()}
    return env.get_template("plan.md.j2").render(plan=plan, changes=changes, symbols=symbols)
