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
    from ..json_text import dumps     # json.dumps(indent=2)'s text, at the C encoder's speed
    sys.stdout.write(dumps(data, default=str) + "\n")
    sys.stdout.flush()


MAX_ERROR_LINE = 1000  # an over-long value is not echoed back (a 100 KB name...); our own
# messages (rule, article in two languages, the setting marker, what to do) fit


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
        if a.action == "create" and a.desired is not None:   # what is created, in full
            attrs = ", ".join(f"{k}={_full(v)}" for k, v in a.desired.properties.items())
            if attrs:
                console.print(f"          {escape(attrs)}")
        if a.action in ("update", "replace", "adopt"):
            for field, ch in a.changes.items():
                mark = "  [magenta](forces replacement)[/]" if ch.get("forces_replacement") else ""
                console.print(f"          {escape(field)}: {escape(_full(ch.get('old')))} -> "
                              f"{escape(_full(ch.get('new')))}{mark}")
        if a.action in ("delete", "replace") and _wipes(a.kind):
            console.print("          [bold]its data is wiped and verified before the delete[/]")
    for stack in plan.orphaned:
        console.print(f"[yellow]Orphaned:[/] {escape(stack)}: no approval compiles to it any more; "
                      "nothing of it is deleted. It leaves only through the exit process (restore "
                      "its approval, then `govcloud request-exit` and `govcloud decommission`).")
    if plan.review:
        review_text(plan.review, show_noop, bool((plan.stacks or {}).get("skipped")))
    for r in plan.refresh or ():
        how = "read in full" if r["full"] else "partly from the state"
        console.print(f"[dim]Refresh of {escape(r['target'])}: {how} — {escape(r['reason'])}.[/]")
    st = plan.stacks or {}
    skipped = st.get("skipped") or 0
    if skipped:
        console.print(f"[dim]Stacks: {st['planned']} of {st['of']} planned (departments "
                      f"{escape(', '.join(st.get('departments') or ()) or 'none')}), {skipped} "
                      f"skipped as unchanged — {escape(st.get('reason') or '')}.[/]")
    elif st:
        console.print(f"[dim]Stacks: all {st['of']} planned — {escape(st.get('reason') or '')}.[/]")
    s = plan.summary
    scheduled = sum(1 for a in plan.actions if a.cause.value == "scheduled")
    later = f", {scheduled} scheduled (window not open yet)" if scheduled else ""
    if not plan.has_changes:
        where = f" in the {st['planned']} planned stacks" if skipped else ""
        console.print(f"[green]No changes.[/] The cloud matches the stack specs "
                      f"({s['no-op'] - scheduled} objects up to date{where}{later}).")
        return
    console.print(f"\nPlan: {s['create']} to create, {s['update']} to update, "
                  f"{s['replace']} to replace, {s['delete']} to delete, {s['adopt']} to adopt, "
                  f"{s['no-op'] - scheduled} unchanged{later}.")


def _dims(d: dict[str, int]) -> str:
    return f"{d['vcpus']}/{d['ram_gb']}/{d['disk_gb']}/{d['public_ips']}"


def review_text(review: dict[str, Any], show_all: bool = False, partial: bool = False) -> None:
    """The quota view and the fee change of a plan (core/review.py); rows that say nothing new
    (usage as planned, fee unchanged) only with ``show_all``. ``partial``: a plan of some
    departments (core/plan_scope.py), whose review covers theirs only."""
    of = " of the planned departments" if partial else ""
    quota = review["quota"]
    rows = [q for q in quota if show_all or q["excess"] or any(q["scheduled"].values())
            or q["planned"] != q["used"]]
    hidden = len(quota) - len(rows)
    if rows:
        console.print("\nQuota view, per department and zone (vCPU/RAM GB/disk GB/public IPs):")
        for q in rows:
            mark = "  [red]beyond the approval[/]" if q["excess"] else ""
            console.print(f"  {escape(q['department'] + '/' + q['zone']):<28} approved "
                          f"{_dims(q['approved'])}  planned {_dims(q['planned'])}  scheduled "
                          f"{_dims(q['scheduled'])}  quota {_dims(q['quota'])}  used "
                          f"{_dims(q['used'])}{mark}")
        if hidden:
            console.print(f"  ({hidden} more within their approvals, usage unchanged)")
    else:
        console.print(f"\nQuota view{of}: all {len(quota)} departments x zones within their "
                      "approvals, usage unchanged (--show-unchanged lists them).")
    t = review["fee_total"]
    fees = [f for f in review["fees"] if show_all or f["before"] != f["after"]]
    if not fees:
        console.print(f"Monthly fees{of} unchanged: {t['after']} yuan a month.")
        return
    base = review.get("fees_before") or "applied"
    console.print("Monthly fees, yuan (before: " + ("in force at the last apply" if base ==
                  "applied" else f"as at {escape(base[:12])}") + "; after: priced from the "
                  "catalog now):")
    for f in fees:
        console.print(f"  {escape(f['approval']):<16} {escape(f['system']):<28} "
                      f"{f['before'] or '—':>10} -> {f['after'] or '—':>10}  "
                      f"({_signed(f['change'])})")
    if len(fees) < len(review["fees"]):
        console.print(f"  ({len(review['fees']) - len(fees)} more unchanged)")
    console.print(f"  Total: {t['before']} -> {t['after']} ({_signed(t['change'])} a month)")


def _signed(change: str) -> str:
    return change if change.startswith("-") else "+" + change


def _wipes(kind: str) -> bool:
    from ..core.resources import KINDS
    return kind in KINDS and KINDS[kind].wiped_before_delete


def _full(v: Any) -> str:
    """A value in full (the terminal wraps it; JSON and Markdown carry it whole too)."""
    return json.dumps(v, ensure_ascii=False, default=str) if not isinstance(v, str) else v


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
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ..workspace import PACKAGE_ROOT
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"), undefined=StrictUndefined,
                      keep_trailing_newline=True, autoescape=False)
    from ..ci import report
    env.filters.update(esc=report.esc, code=report.code, value=report.value)
    changes = [a for a in plan.actions if a.action != "no-op"]
    symbols = {k: v[0] for k, v in SYMBOL.items()}
    scheduled = sum(1 for a in plan.actions if a.cause.value == "scheduled")
    return env.get_template("plan.md.j2").render(plan=plan, changes=changes, symbols=symbols,
                                                 scheduled=scheduled, attrs=report.attributes,
                                                 block=report.block,
                                                 review_tables=report.review_tables)


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+!|~"})


def md_escape(value: Any) -> str:
    """A value for Markdown text or a table cell: special characters backslashed, newlines
    flattened, HTML impossible (< and > escaped), None as an em dash."""
    if value is None or value == "":
        return "\u2014"
    return " ".join(str(value).split()).translate(_MD_SPECIAL)


def handover(doc: dict, fmt: str) -> str:
    """The handover record as Markdown or HTML (autoescaped)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from ..workspace import PACKAGE_ROOT
    # autoescape by format: select_autoescape(["html"]) would not match "handover.html.j2"
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"), undefined=StrictUndefined,
                      autoescape=fmt == "html", keep_trailing_newline=True, lstrip_blocks=True)
    env.filters["md"] = md_escape
    return env.get_template(f"handover.{'md' if fmt == 'markdown' else 'html'}.j2").render(h=doc)


def handover_text(doc: dict) -> None:
    for w in doc["warnings"]:
        err_console.print(f"[yellow]Warning:[/] {escape(w)}")
    for s in doc["systems"]:
        console.print(f"[bold]{escape(s['system']['name'] or '')}[/] ({escape(s['stack'])}) "
                      f"{escape(s['department']['name'])}; approvals {escape(', '.join(s['approvals']))}"
                      f"{'' if s['delivered'] else '  [red](not delivered yet)[/]'}")
        for z in s["zones"]:
            subnet = (z["subnet"] or {}).get("cidr") or z["cidr"]
            console.print(f"  {escape(z['zone'])}: project {escape(z['project'])} "
                          f"(id {z['project_id'] or '-'}), subnet {escape(subnet)}, external "
                          f"network {escape(z['external_network'])}")
            for v in z["servers"]:
                console.print(f"    server {escape(v['name'])}  {escape(str(v['flavor']))}  "
                              f"fixed {v['fixed_ip'] or '-'}  {escape(str(v['status']))}")
            for f in z["floating_ips"]:
                console.print(f"    floating IP {escape(f['name'])}  {f['address'] or '-'}  "
                              f"{f['bandwidth_mbps']} Mbps")
            console.print("    credential: " + (escape(z["credential_file"]) if z["credential_file"]
                                                else "none issued by this cloud"))
