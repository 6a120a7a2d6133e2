"""`govcloud report`: the monthly report per the profile's duties, as self-contained HTML and
XLSX with the same figures; checked in a real headless Chromium (tests/money/browser.py)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.money import browser
from tests.money.helpers import SMALL, record, small, ws_with
from tests.money.test_rightsize import flat

CHINA = dt.timezone(dt.timedelta(hours=8))
END = int(dt.datetime(2026, 6, 30, 23, 0, tzinfo=CHINA).timestamp())


def sample_ws(tmp_path, city="sichuan", evil=False, hr_name=None):
    hr_name = hr_name or ("人社局<script>alert(1)</script>" if evil else "人社局")
    ws = ws_with(tmp_path, city, small("A-1", approved_on="2026-03-02"),
                 small("A-2", system="hr-portal", dept=("hr", hr_name), approved_on="2026-03-02"),
                 small("A-W", approved_on="2026-06-01", system="hr-portal", dept=("hr", hr_name),
                       term={"kind": "window", "start": "2026-06-10", "end": "2026-07-19"},
                       servers=[{**SMALL[0], "name": "burst"}]))
    for no in ("A-1", "A-2"):
        record(ws, no, "provisioned", "2026-03-04")
        record(ws, no, "delivery-confirmed", "2026-03-05")
        record(ws, no, "went-live", "2026-03-05")
    record(ws, "A-W", "provisioned", "2026-06-10")
    from orchestrator.usecases.metrics import open_metrics
    from orchestrator.usecases.rightsize import facts
    w = Workspace.at(ws)
    from tests.money.helpers import _compile
    _compile(ws)
    servers, _ = facts(w)
    with open_metrics(w) as st:
        st.put_points({(s.address, m): flat(v, 30, step=3600, until=END)
                       for s in servers for m, v in (("mem_pct", 85 if "hr" in s.stack else 20),
                                                     ("cpu_pct", 10))})
    return ws


def test_report_files_and_figures(tmp_path, cli):
    from openpyxl import load_workbook
    ws = sample_ws(tmp_path, evil=True)
    out = tmp_path / "out"
    r = cli("report", "--month", "2026-06", "--out", str(out), "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    d = r.json()
    # 四川 第十七、二十二条: to the bureau and to each department
    assert sorted(p.rsplit("/", 1)[1] for p in d["files"]) == [
        "report-2026-06-edu.html", "report-2026-06-edu.xlsx", "report-2026-06-hr.html",
        "report-2026-06-hr.xlsx", "report-2026-06.html", "report-2026-06.xlsx"]
    assert [x["article"] for x in d["duties"]] == ["第十七条", "第二十二条"]
    bill = cli("bill", "--month", "2026-06", "-C", ws, "--output", "json").json()
    assert d["bill"]["payable"] == bill["payable"] and d["fees"]["total"][-1] == bill["payable"]
    assert d["fees"]["months"] == ["2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert d["windows_next_month"] == [{"approval": "A-W", "stack": "hr/hr-portal",
                                        "kind": "window", "end": "2026-07-19"}]
    html = (out / "report-2026-06.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html   # escaped
    assert not re.search(r'(src|href)=|url\(|<link|<script', html)          # self-contained
    assert html.count('<svg id="chart-') == 4
    hr = (out / "report-2026-06-hr.html").read_text(encoding="utf-8")
    assert "edu/edu-portal" not in hr and "hr/hr-portal" in hr
    wb = load_workbook(io.BytesIO((out / "report-2026-06.xlsx").read_bytes()))
    assert wb.sheetnames[:2] == ["服务费 fees", "利用率 utilisation"]
    fees = wb["服务费 fees"]
    assert [c.value for c in fees[2]][2:] == d["fees"]["months"]
    assert str(fees.cell(fees.max_row, 8).value) in (bill["payable"], bill["payable"].rstrip("0"))
    util = {row[0].value: row for row in wb["利用率 utilisation"].iter_rows(min_row=2)}
    assert util["hr/hr-portal"][5].value == 85.0
    again = tmp_path / "again"
    assert cli("report", "--month", "2026-06", "--out", str(again), "-C", ws).exit_code == 0
    for f in out.iterdir():
        assert (again / f.name).read_bytes() == f.read_bytes(), f.name           # reproducible


def test_report_xlsx_keeps_a_formula_looking_department_name_as_text(tmp_path, cli):
    from tests.money.test_billing import HOSTILE, formulas
    ws = sample_ws(tmp_path, hr_name=HOSTILE[0])
    out = tmp_path / "out"
    assert cli("report", "--month", "2026-06", "--out", str(out), "-C", ws).exit_code == 0
    books = sorted(out.glob("*.xlsx"))
    assert len(books) == 3
    for f in books:
        assert formulas(f.read_bytes()) == [], f.name
    from openpyxl import load_workbook
    fees = load_workbook(out / "report-2026-06.xlsx")["服务费 fees"]
    assert HOSTILE[0] in [c.value for row in fees.iter_rows() for c in row]


def test_quarterly_duty_is_due_at_the_quarter_end_only(tmp_path):
    from orchestrator.usecases.report import report
    ws = ws_with(tmp_path, "datong", small("D-1"))
    w = Workspace.at(ws)
    due = lambda m: {x["key"]: x["due"] for x in report(w, m, dt.date(2026, 12, 1))["duties"]}  # noqa: E731
    assert due("2026-06") == {"construction-operations": True, "operations-monthly": True}
    assert due("2026-05") == {"construction-operations": False, "operations-monthly": True}


def test_report_in_headless_chromium_draws_its_charts_without_console_errors(tmp_path, cli):
    ws = sample_ws(tmp_path)
    out = tmp_path / "out"
    assert cli("report", "--month", "2026-06", "--out", str(out), "-C", ws).exit_code == 0
    page = out / "report-2026-06.html"
    png, boxes, console = browser.render(page, tmp_path / "shot")
    assert console == [], console
    assert sorted(b["id"] for b in boxes) == ["chart-cpu-pct", "chart-fees", "chart-mem-pct",
                                              "chart-trend"]
    bottom = int(max(b["y"] + b["h"] for b in boxes)) + 1
    img = browser.decode_png(png, bottom)
    (tmp_path / "report.png").write_bytes(png)
    for b in boxes:
        assert b["w"] > 300 and b["h"] > 60, b
        assert browser.coloured(img, b) > 500, b             # bars, lines and text drew
    # Negative controls: the same page with its charts hidden has blank boxes, and a page that
    # logs to the console is caught.
    hidden = tmp_path / "hidden.html"
    hidden.write_text(page.read_text(encoding="utf-8").replace(
        "</style>", "svg.chart { visibility: hidden; }</style>"), encoding="utf-8")
    png2, boxes2, _ = browser.render(hidden, tmp_path / "shot2")
    img2 = browser.decode_png(png2, bottom)
    assert all(browser.coloured(img2, b) == 0 for b in boxes2)
    noisy = tmp_path / "noisy.html"
    noisy.write_text(page.read_text(encoding="utf-8").replace(
        "</body>", "<script>console.error('planted')</script></body>"), encoding="utf-8")
    _, _, console3 = browser.render(noisy, tmp_path / "shot3")
    assert any("planted" in ln for ln in console3)
