"""openpyxl helpers shared by the bill and the report: header rows, number formats, and saving
a workbook to the same bytes every time (fixed document dates, fixed zip entry times)."""
from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

MONEY = "#,##0.00"
QTY = "#,##0.####"


def workbook():
    """A new openpyxl Workbook, or an error saying how to install openpyxl."""
    try:
        from openpyxl import Workbook
    except ImportError:
        from ..errors import GovcloudError
        raise GovcloudError("XLSX output needs openpyxl, which is not installed",
                            fix='pip install -e ".[money]"  (or: pip install openpyxl==3.1.5)')
    return Workbook()


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
