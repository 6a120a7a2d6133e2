"""Money and evidence: bill (monthly statements, settlement, closing a month)."""
from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Backdated, Dir, Now, Out, OutputTJ, handled, recording_now, workspace

metrics_app = typer.Typer(help="Utilisation metrics per server: pull from Prometheus, import CSV.",
                          no_args_is_help=True)


class OutputBill(str, enum.Enum):
    text = "text"
    json = "json"
    csv = "csv"
    xlsx = "xlsx"


def _write(data: bytes, out: Optional[Path]) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(f"Wrote {out}", err=True)


def _write_json(doc: dict, out: Optional[Path]) -> None:
    """The document as `json.dumps(indent=2)` writes it, streamed (a province's bill is tens of
    megabytes of text); a file is written next to its place and moved there when complete."""
    import io

    from ..json_text import dump
    if out is None:
        text = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n",
                                write_through=False)
        dump(doc, text.write)
        text.write("\n")
        text.flush()
        text.detach()
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            dump(doc, f.write)
            f.write("\n")
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    typer.echo(f"Wrote {out}", err=True)


@handled
def bill(month: Annotated[str, typer.Option("--month", help="The month billed, YYYY-MM.")],
         department: Annotated[Optional[str], typer.Option(
             "--department", help="Only this department's statement.")] = None,
         output: Annotated[OutputBill, typer.Option("--output", help="Output format.")] = OutputBill.text,
         out: Annotated[Optional[Path], typer.Option("--out", help="Write to FILE instead of "
                                                     "standard output (xlsx needs it).")] = None,
         close: Annotated[bool, typer.Option("--close", help="Close the month (after its last "
                                              "day): later events change it only through "
                                              "adjustment lines.")] = False,
         adjust: Annotated[bool, typer.Option("--adjust", help="Record the pending adjustments "
                                               "of a closed month.")] = False,
         directory: Dir = Path(".")):
    """The month's bill per department and system, and the bureau's summary."""
    from .. import clock
    from ..errors import GovcloudError
    from ..reports import bill_files
    from ..usecases.bill import bill as run
    from ..usecases.session import gc_paused
    if output == OutputBill.xlsx and out is None:
        raise GovcloudError("--output xlsx writes a binary file: give --out FILE",
                            fix="e.g. --out bill-2026-06.xlsx")
    # A province's bill is millions of live objects without cycles: no collection while they
    # live (and none of them left when it is back on: its first pass would walk them all).
    with gc_paused():
        doc = run(workspace(directory), month, clock.today(), department, close, adjust).to_dict()
        if output == OutputBill.json:
            _write_json(doc, out)
        elif output == OutputBill.csv:
            _write(bill_files.to_csv(doc), out)
        elif output == OutputBill.xlsx:
            _write(bill_files.to_xlsx(doc), out)
        else:
            _write(bill_files.to_text(doc).encode("utf-8"), out)
        del doc


@metrics_app.command("pull")
@handled
def metrics_pull(source: Annotated[str, typer.Option("--from", help="Prometheus base URL, e.g. "
                                                     "http://127.0.0.1:9090.")],
                 since: Annotated[str, typer.Option("--since", help="YYYY-MM-DD or ISO date-time "
                                                    "(China time).")],
                 until: Annotated[str, typer.Option("--until", help="YYYY-MM-DD or ISO date-time.")],
                 step: Annotated[Optional[int], typer.Option("--step", help="Seconds between "
                                                             "points (default: metrics.yaml, 300).")] = None,
                 directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Pull each metric for every server through query_range (every server in each request;
    a range in requests of at most 500,000 points) and store it per server with the range."""
    from ..usecases import metrics as uc
    from . import render
    res = uc.pull(workspace(directory), source, uc.parse_time(since, "--since"),
                  uc.parse_time(until, "--until"), step)
    d = res.to_dict()
    if output == OutputTJ.json:
        return render.emit_json(d)
    typer.echo(f"Pulled {d['points']} points in {d['series']} series for {d['servers']} servers "
               f"from {d['source']} ({d['since']} .. {d['until']}, step {d['step']} s, "
               f"{d['requests']} requests)")
    if d["unknown_servers"]:
        typer.echo(f"Ignored {len(res.unknown)} series of servers not in the specs: "
                   + ", ".join(d["unknown_servers"][:5]))


@metrics_app.command("import")
@handled
def metrics_import(file: Annotated[Path, typer.Argument(help="CSV: server,metric,timestamp,value.")],
                   directory: Dir = Path("."), output: Out = OutputTJ.text):
    """Import metrics from a CSV file (platforms without Prometheus)."""
    from ..usecases import metrics as uc
    from . import render
    d = uc.import_csv(workspace(directory), file).to_dict()
    if output == OutputTJ.json:
        return render.emit_json(d)
    typer.echo(f"Imported {d['points']} points in {d['series']} series from {d['file']}")


@handled
def rightsize(draft: Annotated[Optional[Path], typer.Option(
                  "--draft", help="Write each recommendation that changes an approval as a "
                                  "change-document draft <DIR>/<APPROVAL>-RS<date><n>.yaml.")] = None,
              remind: Annotated[bool, typer.Option("--remind", help="Record the reminders of "
                                                   "recommendations whose clock has not started "
                                                   "(重庆 第十七条).")] = False,
              urge: Annotated[Optional[str], typer.Option("--urge", help="Record that the bureau "
                                                          "urged DEPARTMENT/SYSTEM to shrink.")] = None,
              now: Now = None, backdated: Backdated = None, directory: Dir = Path("."),
              output: Out = OutputTJ.text):
    """Recommendations from the profile's right-sizing rules over the stored metrics, with
    their evidence (window, statistic, threshold, article) and the monthly fee delta."""
    from ..usecases.rightsize import rightsize as run
    from . import render
    # --remind and --urge record events; without them it only reads (drafts are proposals)
    res = run(workspace(directory), recording_now(now, backdated, dry_run=not (remind or urge)),
              draft, remind, urge)
    d = res.to_dict()
    if output == OutputTJ.json:
        return render.emit_json(d)
    for r in d["recommendations"]:
        where = r["server"] or r["stack"]
        typer.echo(f"{r['action'].upper():<8} {r['resource']:<9} {where}  [{r['rule']}] "
                   f"{d['profile']} {r['article']}" + (" (setting)" if r["setting"] else ""))
        for e in r["evidence"]:
            typer.echo(f"    {e['statistic']}({e['metric']}) = {e['value']} {e['word']} "
                       f"{e['threshold']}: {'yes' if e['met'] else 'no'}  "
                       f"[{e['window_from'][:16]} .. {e['window_to'][:16]}, {e['samples']} samples]")
        if r["proposal"]:
            typer.echo(f"    proposal: {json.dumps(r['proposal'], ensure_ascii=False)}  "
                       f"fee delta {r['fee_delta']} CNY/month")
        if r["escalation"]:
            typer.echo(f"    escalation: {r['escalation']['stage']} "
                       f"(reminded {r['escalation']['reminded_on']})")
        if r["note"]:
            typer.echo(f"    note: {r['note']}")
    typer.echo(f"{len(d['recommendations'])} recommendations, fee delta {d['fee_delta']} CNY/month")
    for f in d["drafts"]:
        typer.echo(f"Wrote {f}")
    for f in d["recorded"]:
        typer.echo(f"Recorded {f}")


@handled
def report(month: Annotated[str, typer.Option("--month", help="The month reported, YYYY-MM.")],
           out: Annotated[Path, typer.Option("--out", help="Directory for the HTML and XLSX "
                                             "files.")],
           department: Annotated[Optional[str], typer.Option(
               "--department", help="Only this department's report.")] = None,
           directory: Dir = Path("."), output: Out = OutputTJ.text):
    """The monthly report the profile asks for: report-<M>[-<dept>].html (self-contained, inline
    SVG charts, printable) and .xlsx with the same figures; for a profile whose reports also go
    to each department (四川 第十七、二十二条) one pair per department as well."""
    from .. import clock
    from ..reports import report_files
    from ..usecases import report as uc
    from . import render
    from ..usecases.session import gc_paused
    ws = workspace(directory)
    today = clock.today()
    out.mkdir(parents=True, exist_ok=True)
    files, first = [], None
    # Six bills of a province: millions of live objects without cycles (as in `bill`).
    with gc_paused():
        gathered = uc.gather(ws, month, today)     # read once for every report below
        targets = [department] if department else [None] + (
            uc.departments(ws, gathered) if uc.per_department(ws) else [])
        for dep in targets:
            doc = uc.report(ws, month, today, dep, gathered)
            first = first or doc
            base = out / (f"report-{month}" + (f"-{dep}" if dep else ""))
            base.with_suffix(".html").write_text(report_files.to_html(doc), encoding="utf-8")
            base.with_suffix(".xlsx").write_bytes(report_files.to_xlsx(doc))
            files += [str(base.with_suffix(".html")), str(base.with_suffix(".xlsx"))]
            del doc
        del gathered
        if output == OutputTJ.json:
            render.emit_json({**first, "files": files})
        first = None
    if output == OutputTJ.json:
        return
    for f in files:
        typer.echo(f"Wrote {f}")


def register(app: typer.Typer) -> None:
    app.command()(report)
    app.command()(rightsize)
    app.command()(bill)
    app.add_typer(metrics_app, name="metrics")
