"""openpyxl helpers shared by the bill and the report: header rows, number formats, and saving
a workbook to the same bytes every time (fixed document dates, fixed zip entry times)."""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import zipfile
from decimal import Decimal
from typing import Any

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
    out = []
    for i, v in enumerate(values):
        fmt = (formats or {}).get(i)
        if header or fmt or looks_like_formula(v):
            c = WriteOnlyCell(ws, value=v)
            if header:
                _header_style(c)
            if fmt:
                c.number_format = fmt
            as_text(c)
            out.append(c)
        else:
            out.append(v)
    ws.append(out)


def append_row(ws, values: list) -> None:
    """``ws.append(values)`` for an ordinary sheet, with text that openpyxl would take for a
    formula or an error code kept as text (see ``looks_like_formula``)."""
    ws.append(values)
    for c in ws[ws.max_row]:
        as_text(c)


def looks_like_formula(v: Any) -> bool:
    """Text openpyxl would store as a formula ("=...") or an error code ("#N/A"). Names and
    notes come from approvals, so such text must stay text: a cell "=HYPERLINK(...)" or
    "=cmd|' /C calc'!A0" would otherwise be evaluated when the bill is opened."""
    return type(v) is str and ((len(v) > 1 and v[0] == "=") or v in _ERROR_CODES)


def as_text(c) -> None:
    """Store a formula-looking text value of cell ``c`` as a string (openpyxl writes a string
    cell as inline or shared text, never as <f>)."""
    if looks_like_formula(c.value):
        c.data_type = "s"


def header_row(ws, names: list[str]) -> None:
    from openpyxl.styles import Font, PatternFill
    append_row(ws, names)
    for c in ws[ws.max_row]:
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDEBF7")


HEADER = "header"     # FastRows style key: the bold, filled header cells of styled_row


class FastRows:
    """Rows of write-only sheets written as openpyxl writes them, byte for byte, without an
    openpyxl cell per value: its pure-Python XML writer (no lxml here) took half a minute for a
    province's bill (a million cells). Plain values (text, numbers, None) are written here,
    formula-looking text as text (as ``styled_row`` writes it); anything else (a control
    character, a date, a bool, NaN) is given to openpyxl's own cell writer, so its rules and
    errors stay. The rows
    go into the saved file by ``fixed_bytes(wb, day, rows)``, after any row openpyxl wrote in
    the same sheet (``first_row`` is the next row number)."""

    def __init__(self):
        self._sheets: list[tuple[Any, list[str]]] = []
        self._styles: dict[tuple[int, str], str] = {}

    def sheet(self, ws, first_row: int = 1) -> "_SheetRows":
        rows = _SheetRows(self, ws, first_row)
        self._sheets.append((ws, rows))
        return rows

    def style_id(self, ws, key: str) -> str:
        """The cell style of number format ``key`` (or HEADER), registered as openpyxl
        registers it (on first use, in column order): the same styles.xml."""
        sid = self._styles.get((id(ws.parent), key))
        if sid is None:
            from openpyxl.cell import WriteOnlyCell
            c = WriteOnlyCell(ws)
            if key == HEADER:
                _header_style(c)
            else:
                c.number_format = key
            sid = self._styles[(id(ws.parent), key)] = str(c.style_id)
        return sid

    def tails(self) -> dict[str, bytes]:
        """zip entry name -> the rows' XML, once the workbook was saved (sheet paths known);
        asked once."""
        return {ws.path.lstrip("/"): rows.xml() for ws, rows in self._sheets if rows.any}


_FINITE_CHECKED = (float, Decimal)


class _SheetRows:
    def __init__(self, owner: FastRows, ws, first_row: int):
        self.owner, self.ws, self.row = owner, ws, first_row
        self.any = False
        self.parts: list[str] = []
        self.data = bytearray()     # rows kept as UTF-8 (a province's bill: 10^6 cells)
        self._layouts: dict[tuple, list[tuple[str, str, str | None]]] = {}

    def _layout(self, n: int, formats: dict[int, str] | None, header: bool):
        """Per column: its letter, its ' s="…"' attribute, its style key."""
        key = (n, id(formats), header)
        got = self._layouts.get(key)
        if got is None:
            from openpyxl.utils import get_column_letter
            got = []
            for i in range(n):
                style = HEADER if header else (formats or {}).get(i)
                attr = f' s="{self.owner.style_id(self.ws, style)}"' if style else ""
                got.append((get_column_letter(i + 1), attr, style))
            self._layouts[key] = got
        return got

    def append(self, values: list, formats: dict[int, str] | None = None,
               header: bool = False) -> None:
        """One row, as ``styled_row(ws, values, formats, header)`` writes it."""
        r = str(self.row)
        out = [f'<row r="{r}">']
        add = out.append
        for (col, s, style), v in zip(self._layout(len(values), formats, header), values):
            t = type(v)
            if v is None:
                if style:
                    add(f'<c r="{col}{r}"{s} t="n" />')
            elif t is str and not _NOT_PLAIN(v) and len(v) <= 32767:    # "=..." too: text
                if not v:
                    add(f'<c r="{col}{r}"{s} t="inlineStr" />')
                else:
                    space = ' xml:space="preserve"' if v.strip() != v and v.strip() else ""
                    add(f'<c r="{col}{r}"{s} t="inlineStr"><is><t{space}>{_escape(v)}</t></is></c>')
            elif t is int or (t in _FINITE_CHECKED and math.isfinite(v)):
                add(f'<c r="{col}{r}"{s} t="n"><v>{"%.16g" % v}</v></c>')
            else:
                add(self._by_openpyxl(v, col, style))
        out.append("</row>")
        self.parts.append("".join(out))
        self.any = True
        self.row += 1
        if len(self.parts) >= 512:
            self.data += "".join(self.parts).encode("utf-8")
            self.parts.clear()

    def xml(self) -> bytearray:
        """The rows' XML, handed over once (the caller lets it go sheet by sheet)."""
        self.data += "".join(self.parts).encode("utf-8")
        self.parts.clear()
        data, self.data = self.data, bytearray()
        return data

    def _by_openpyxl(self, v: Any, col: str, style: str | None) -> str:
        from et_xmlfile import xmlfile
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell._writer import write_cell
        from openpyxl.utils import column_index_from_string
        c = WriteOnlyCell(self.ws, value=v)
        if style == HEADER:
            _header_style(c)
        elif style:
            c.number_format = style
        c.column, c.row = column_index_from_string(col), self.row
        buf = io.BytesIO()
        with xmlfile(buf) as xf:
            write_cell(xf, self.ws, c, c.has_style)
        return buf.getvalue().decode("utf-8")


def _header_style(c) -> None:
    from openpyxl.styles import Font, PatternFill
    c.font = Font(bold=True)
    c.fill = PatternFill("solid", fgColor="DDEBF7")


# What openpyxl does not write as an inline string as it is: an illegal control character (it
# raises), text beyond 32,767 characters (truncated). Formula-looking text is written as text.
_NOT_PLAIN = re.compile(r"[\000-\010\013\014\016-\037]").search
_ERROR_CODES = frozenset(('#NULL!', '#DIV/0!', '#VALUE!', '#REF!', '#NAME?', '#NUM!', '#N/A'))


def _escape(v: str) -> str:
    """Character data as ElementTree escapes it (what openpyxl's writer calls)."""
    if "&" in v:
        v = v.replace("&", "&amp;")
    if "<" in v:
        v = v.replace("<", "&lt;")
    if ">" in v:
        v = v.replace(">", "&gt;")
    return v


def fixed_bytes(wb, day: str, rows: FastRows | None = None) -> bytes:
    """The workbook's bytes with its created/modified dates set to ``day`` and every zip entry
    dated 1980-01-01, so the same content gives the same file; ``rows`` written at the end of
    their sheets' data."""
    when = dt.datetime.fromisoformat(day + "T00:00:00")
    wb.properties.created = when
    wb.properties.modified = when
    wb.properties.creator = "govcloud"
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    raw = io.BytesIO()
    wb.save(raw)
    tails = rows.tails() if rows is not None else {}
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
            if info.filename in tails:       # the rows, written in place (not copied together)
                end = data.rindex(b"</sheetData>")
                tail = tails.pop(info.filename)
                fixed.file_size = len(data) + len(tail)      # as writestr would
                with dst.open(fixed, "w") as f:
                    f.write(data[:end])
                    f.write(tail)
                    f.write(data[end:])
                del tail
                continue
            dst.writestr(fixed, data)
    return out.getvalue()
