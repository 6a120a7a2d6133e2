"""A ``govcloud-report/1`` document as one self-contained HTML file (jinja2, autoescaped,
inline SVG, print styles, no script and nothing fetched) and as XLSX with the same figures."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from markupsafe import Markup

from . import svg
from .xlsx import MONEY, append_row, fixed_bytes, header_row, workbook

MAX_CHART_ROWS = 30


def charts(doc: dict[str, Any]) -> dict[str, Markup]:
    fees = doc["fees"]
    out = {"trend": svg.line_chart(
        "chart-trend", fees["months"],
        [("total", [float(v) for v in fees["total"]])]
        + [(d["department_name"], [float(v) for v in d["payable"]])
           for d in sorted(fees["departments"], key=lambda d: -float(d["payable"][-1]))[:9]],
        "服务费趋势 fees per month (CNY)")}
    deps = sorted(doc["bill"]["departments"], key=lambda d: -float(d["payable"]))
    out["fees"] = svg.bar_chart("chart-fees", [(d["department_name"], float(d["payable"]))
                                               for d in deps[:MAX_CHART_ROWS]],
                                f"{doc['month']} 各部门服务费 fees per department", "CNY")
    for metric, title in (("mem_pct", "内存使用率 memory"), ("cpu_pct", "CPU 使用率 CPU")):
        rows = sorted(doc["utilisation"], key=lambda u: -(u[metric]["peak"] or 0))
        th = [(t["value"], f"{t['word']}{t['value']:g}% {t['article']} ({t['rule']})")
              for t in doc["thresholds"] if t["metric"] == metric]
        out[metric] = svg.utilisation_chart(
            f"chart-{metric.replace('_', '-')}",
            [(u["stack"], u[metric]["mean"], u[metric]["peak"]) for u in rows[:MAX_CHART_ROWS]],
            th, f"{title}: mean (dark) and peak (light) per system")
    return {k: Markup(v) for k, v in out.items()}


def proposal_text(p: dict[str, Any]) -> str:
    """{"flavor": {"from": a, "to": b}, ...} -> "flavor a → b, ..."."""
    if not p:
        return "—"
    parts = []
    for k, v in p.items():
        parts.append(f"{k} {v['from']} → {v['to']}" if isinstance(v, dict) and "from" in v
                     else f"{k} {v}")
    return ", ".join(parts)


def to_html(doc: dict[str, Any]) -> str:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from ..workspace import PACKAGE_ROOT
    env = Environment(loader=FileSystemLoader(PACKAGE_ROOT / "templates"),
                      undefined=StrictUndefined, autoescape=select_autoescape(["html", "j2"]),
                      keep_trailing_newline=True)
    env.filters["proposal"] = proposal_text
    return env.get_template("report.html.j2").render(r=doc, charts=charts(doc))


def to_xlsx(doc: dict[str, Any]) -> bytes:
    wb = workbook()
    ws = wb.active
    ws.title = "服务费 fees"
    append_row(ws, [f"{doc['profile_name']} {doc['month']}"
               + (f" {doc['department']}" if doc["department"] else "")])
    header_row(ws, ["department", "部门", *doc["fees"]["months"]])
    for d in doc["fees"]["departments"]:
        append_row(ws, [d["department"], d["department_name"],
                        *(Decimal(v) for v in d["payable"])])
    append_row(ws, ["total", "合计", *(Decimal(v) for v in doc["fees"]["total"])])
    for row in ws.iter_rows(min_row=3, min_col=3):
        for c in row:
            c.number_format = MONEY
    ws.freeze_panes = "C3"
    sheets = [
        ("利用率 utilisation", ["system", "servers", "cpu mean %", "cpu peak %", "mem mean %",
                               "mem peak %", "disk peak %"],
         [[u["stack"], u["servers"], u["cpu_pct"]["mean"], u["cpu_pct"]["peak"],
           u["mem_pct"]["mean"], u["mem_pct"]["peak"], u["disk_used_pct"]["peak"]]
          for u in doc["utilisation"]]),
        ("优化建议 recommendations", ["action", "resource", "system", "server", "rule", "article",
                                     "proposal", "fee delta CNY/month"],
         [[r["action"], r["resource"], r["stack"], r["server"] or "", r["rule"], r["article"],
           proposal_text(r["proposal"]), Decimal(r["fee_delta"]) if r["fee_delta"] else None]
          for r in doc["recommendations"]]),
        ("期限 deadlines", ["obligation", "actor", "met", "missed", "article"],
         [[d["what"], d["actor"], d["met"], d["missed"], d["citation"]] for d in doc["deadlines"]]),
        ("到期 windows", ["approval", "system", "kind", "end"],
         [[w["approval"], w["stack"], w["kind"], w["end"]] for w in doc["windows_next_month"]]),
        ("退出 decommissions", ["approval", "system", "event", "on"],
         [[d["approval"], d["stack"], d["kind"], d["on"]] for d in doc["decommissions"]]
         + [["", c["stack"], "certificate " + c["file"], c["on"]] for c in doc["certificates"]]),
    ]
    for title, head, rows in sheets:
        sh = wb.create_sheet(title)
        header_row(sh, head)
        for r in rows:
            append_row(sh, r)
        sh.freeze_panes = "A2"
        if title.startswith("优化建议"):
            for row in sh.iter_rows(min_row=2, min_col=8, max_col=8):
                row[0].number_format = MONEY
    a = doc["audit"]
    sh = wb.create_sheet("审计 audit")
    header_row(sh, ["entries", "intact", "first bad"])
    append_row(sh, [a["entries"], "yes" if a["intact"] else "NO",
               str(a["first_bad"]) if a["first_bad"] else ""])
    return fixed_bytes(wb, doc["last"])
