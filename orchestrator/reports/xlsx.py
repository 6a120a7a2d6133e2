"""openpyxl helpers shared by the bill and the report: header rows, number formats, and saving
a workbook to the same bytes every time (fixed document dates, fixed zip entry times)."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

MONEY = "#,##0.00"
QTY = "#,##0.####"


def workbook(write_only: bool = False):
    """A new openpyxl Workbook, or an error saying how to install openpyxl. ``write_only``:
    rows streamed to the file (a bill of 10,000 systems), sheets made with create_sheet."""
    try:
        from openpyxl import Workbook
    except ImportError:
        from ..errors import GovcloudError
        raise GovcloudError("XLSX output needs openpyxl, which is not installed",
                            fix='pip install -e ".[money]"  (or: pip install openpyxl==3.1.5)')
    return Workbook(write_only=write_only)


def styled_row(ws, values: list, formats: dict[int, str] | None = None, header: bool = False):
    """A row for a write-only sheet: cells with number formats by column index, or bold
    header cells."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill
    out = []
    for i, v in enumerate(values):
        fmt = (formats or {}).get(i)
        if header or fmt:
            c = WriteOnlyCell(ws, value=v)
            if header:
                c.font = Font(bold=True)
                c.fill = PatternFill("solid", fgColor="DDEBF7")
            if fmt:
                c.number_format = fmt
            out.append(c)
        else:
            out.append(v)
    ws.append(out)


def header_row(ws, names: list[str]) -> None:
    from openpyxl.styles import Font, PatternFill
    ws.append(names)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")


def fixed_bytes(wb, day: str) -> bytes:
    """The workbook's bytes with its created/modified dates set to ``day`` and every zip entry
    dated 1980-01-01, so the same content gives the same file."""
    when = dt.datetime.fromisoformat(day + "T00:00:00")
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "govcloud"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    raw = io.BytesIO()
    wb.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":   # openpyxl stamps "modified" at save
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*", rb"\g<1>" + stamp, data)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, data)
    return out.getvalue()
