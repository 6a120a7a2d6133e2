"""Money and evidence: bill (monthly statements, settlement, closing a month)."""
from __future__ import annotations

import enum
import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from .options import Dir, handled, workspace


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
    if output == OutputBill.xlsx and out is None:
        raise GovcloudError("--output xlsx writes a binary file: give --out FILE",
                            fix="e.g. --out bill-2026-06.xlsx")
    doc = run(workspace(directory), month, clock.today(), department, close, adjust).to_dict()
    if output == OutputBill.json:
        _write((json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8"), out)
    elif output == OutputBill.csv:
        _write(bill_files.to_csv(doc), out)
    elif output == OutputBill.xlsx:
        _write(bill_files.to_xlsx(doc), out)
    else:
        _write(bill_files.to_text(doc).encode("utf-8"), out)


def register(app: typer.Typer) -> None:
    app.command()(bill)
