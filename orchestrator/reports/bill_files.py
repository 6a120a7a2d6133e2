"""A ``govcloud-bill/1`` document as text, CSV (UTF-8 with BOM, so Excel reads Chinese) and
XLSX (openpyxl: a summary sheet for the bureau plus one sheet per department, frozen header
rows, number formats). Same document, same bytes: no timestamps, fixed zip entry dates."""
from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from .xlsx import MONEY, QTY, FastRows, fixed_bytes, styled_row, workbook

COLUMNS = ("department", "system", "approval", "term", "item", "name", "unit", "quantity",
           "unit_price", "first", "last", "days", "amount", "article", "note")


def rows(doc: dict[str, Any]):
    """One row per line (fees, deductions), then per adjustment; amounts as Decimal."""
    return _rows(doc["systems"], doc.get("adjustments", []))


def _rows(systems: list[dict[str, Any]], adjustments: list[dict[str, Any]]):
    for s in systems:
        for ln in s["lines"] + s["deductions"]:
            yield (s["department"], s["system"], ln["approval"], ln["term"], ln["item"],
                   ln["name"], ln["unit"], Decimal(ln["quantity"]), Decimal(ln["unit_price"]),
                   ln["first"] or "", ln["last"] or "", ln["days"], Decimal(ln["amount"]),
                   ln["article"], ln["note"])
        yield (s["department"], s["system"], "", "system-total", "", "合计 (rounded once, "
               "half-up to the fen)", "", None, None, "", "", None, Decimal(s["payable"]), "", "")
    for a in adjustments:
        dept, system = a["stack"].split("/", 1)
        yield (dept, system, "", "adjustment", "", "调整 (after closing)", "", None, None,
               a["recorded_on"], "", None, Decimal(a["amount"]), "", a["note"])


def _cell(v: Any) -> str:
    """A CSV cell; text that a spreadsheet would run as a formula (=, +, -, @ first) is
    prefixed with an apostrophe (names come from approvals)."""
    if v is None:
        return ""
    if isinstance(v, str) and v[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + v
    return str(v)


def to_csv(doc: dict[str, Any]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for r in rows(doc):
        w.writerow([_cell(v) for v in r])
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def to_text(doc: dict[str, Any]) -> str:
    out = [f"Bill for {doc['month']} ({doc['first']}..{doc['last']}), profile {doc['profile']} "
           f"{doc['profile_name']}" + (" [closed]" if doc["closed"] else "")]
    r = doc["rule"]
    out.append(f"  starts at {r['start_event']} ({r['start_article']}"
               f"{', setting' if r['start_setting'] else ''}); stops at {r['stop_event']} "
               f"({r['stop_article']}{', setting' if r['stop_setting'] else ''}); "
               f"{r['proration']}; {r['rounding']}"
               f"{' (setting)' if r['rounding_setting'] else ''}")
    for s in doc["systems"]:
        out.append(f"\n{s['department_name']} ({s['department']}) / {s['system_name']} "
                   f"({s['system']})")
        for ln in s["lines"]:
            out.append(f"  {ln['approval']:<14} {ln['term']:<9} {ln['item']:<14} "
                       f"{ln['quantity']:>7} {ln['unit']:<6} x {ln['unit_price']:>8} "
                       f"{ln['first']}..{ln['last']} {ln['days']:>2} d  {ln['amount']:>12}")
        for d in s["deductions"]:
            out.append(f"  {'deduction':<24} {d['item']:<22} {d['amount']:>40}  "
                       f"[{d['article']}] {d['note']}")
        out.append(f"  {'total':<70}{s['total']:>12}" + (f"  payable {s['payable']}"
                                                          if s["deductions"] else ""))
        for n in s["notes"]:
            out.append(f"  note: {n}")
    for a in doc.get("adjustments", []):
        out.append(f"adjustment {a['stack']} {a['amount']} (recorded {a['recorded_on']}): "
                   f"{a['note']}")
    out.append("\nSummary for the bureau:")
    for d in doc["departments"]:
        out.append(f"  {d['department_name']} ({d['department']}): {d['systems']} systems, "
                   f"fees {d['total']}, deductions {d['deducted']}, payable {d['payable']}")
    out.append(f"  total {doc['total']}, deductions {doc['deducted']}, adjustments "
               f"{doc['adjusted']}, payable {doc['payable']} CNY")
    for p in doc["pending_adjustments"]:
        out.append(f"  pending adjustment {p['stack']} {p['amount']}: {p['note']} "
                   f"(record it with --adjust)")
    return "\n".join(out) + "\n"


def to_xlsx(doc: dict[str, Any]) -> bytes:
    """Write-only workbook: a summary sheet, then one sheet per department (their rows through
    FastRows: the same bytes as openpyxl's, a million cells in seconds)."""
    wb = workbook(write_only=True)
    fast = FastRows()
    ws = wb.create_sheet("汇总 summary")
    ws.freeze_panes = "A3"
    styled_row(ws, [f"政务云服务费 {doc['month']}  {doc['profile_name']}"
               + ("  (已结账 closed)" if doc["closed"] else "")])
    styled_row(ws, ["department", "部门", "systems", "fees 服务费", "deductions 扣减",
                    "payable 应付"], header=True)
    summary = fast.sheet(ws, 3)
    money = {3: MONEY, 4: MONEY, 5: MONEY}
    for d in doc["departments"]:
        summary.append([d["department"], d["department_name"], d["systems"],
                        Decimal(d["total"]), Decimal(d["deducted"]), Decimal(d["payable"])], money)
    summary.append(["total", "合计", sum(d["systems"] for d in doc["departments"]),
                    Decimal(doc["total"]), Decimal(doc["deducted"]), Decimal(doc["payable"])],
                   money)
    # Each department's rows made when its sheet is written (not all held at once).
    systems: dict[str, list] = {}
    adjustments: dict[str, list] = {}
    for sys_ in doc["systems"]:
        systems.setdefault(sys_["department"], []).append(sys_)
    for a in doc.get("adjustments", []):
        adjustments.setdefault(a["stack"].split("/", 1)[0], []).append(a)
    line_formats = {6: QTY, 7: MONEY, 11: "#,##0.0000"}
    for dept in doc["departments"]:
        sh = wb.create_sheet(dept["department"][:31])
        sh.freeze_panes = "A3"
        lines = fast.sheet(sh)
        lines.append([f"{dept['department_name']} {doc['month']}"])
        lines.append(list(COLUMNS[1:]), header=True)
        code = dept["department"]
        for r in _rows(systems.get(code, []), adjustments.get(code, [])):
            lines.append(r[1:], line_formats)
    return fixed_bytes(wb, doc["last"], fast)
