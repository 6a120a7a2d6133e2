"""Monthly bills per city, from each article's own numbers (orchestrator/core/billing.py,
usecases/bill.py). The server used everywhere costs 168.00 a month (helpers.SMALL)."""
from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal

import pytest

from orchestrator.calendar_files import workspace_calendar
from orchestrator.core.billing import ApprovalInput, bill_month
from orchestrator.errors import GovcloudError
from orchestrator.models.spec import BillingLine
from orchestrator.reports import bill_files
from orchestrator.usecases.bill import bill
from orchestrator.workspace import Workspace, load_profile
from tests.money.helpers import record, small, ws_with
from tests.policy.builders import model

LATER = dt.date(2026, 12, 1)


def run(ws, month, today=LATER, **kw):
    return bill(Workspace.at(ws), month, today, **kw).to_dict()


def system(doc):
    assert len(doc["systems"]) == 1, doc["systems"]
    return doc["systems"][0]


def test_chongqing_30_starts_at_the_confirmed_completion_time_not_the_confirmation_day(tmp_path):
    """重庆 第三十条: 起始时间以…确认的云资源配置完成时间为准; 不足1个月的按照实际使用天数进行折算."""
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"))
    record(ws, "CQ-1", "provisioned", "2026-06-08")
    record(ws, "CQ-1", "configuration-completed", "2026-06-15", at="2026-06-10T16:00:00+08:00")
    june = system(run(ws, "2026-06"))
    assert june["lines"][0]["first"] == "2026-06-10" and june["lines"][0]["days"] == 21
    assert june["total"] == "117.60"                  # 168 x 21 / 30 (from 06-15: 89.60)
    record(ws, "CQ-1", "terminated", "2026-07-22", at="2026-07-20T18:00:00+08:00")
    july = system(run(ws, "2026-07"))
    assert july["lines"][0]["last"] == "2026-07-20" and july["total"] == "108.39"  # 168x20/31
    assert run(ws, "2026-08")["systems"] == []


def test_chongqing_without_the_event_falls_back_to_provisioned_and_says_so(tmp_path):
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"))
    record(ws, "CQ-1", "provisioned", "2026-06-08")
    s = system(run(ws, "2026-06"))
    assert s["total"] == "128.80"                     # 168 x 23 / 30
    assert any("fallback" in n and "provisioned" in n for n in s["notes"])


def test_datong_14_16_from_the_delivery_confirmation_to_the_reclaim_deadline(tmp_path):
    """大同 第十四条 交付确认函确认后开始计算; 第十六条 审核通过后2个工作日内收回…终止计算服务费: the
    provider reclaims late (10-20), billing stops on the deadline (09-29 + 2 wd = 10-08 across
    National Day), and the lateness is a note and a settlement deduction."""
    ws = ws_with(tmp_path, "datong", small("DT-1"))
    record(ws, "DT-1", "provisioned", "2026-09-10")
    record(ws, "DT-1", "delivery-confirmed", "2026-09-14")
    sept = system(run(ws, "2026-09"))
    assert sept["total"] == "95.20"                   # 168 x 17 / 30
    record(ws, "DT-1", "exit-requested", "2026-09-29")
    record(ws, "DT-1", "exit-approved", "2026-09-29")
    record(ws, "DT-1", "reclaimed", "2026-10-20")
    record(ws, "DT-1", "terminated", "2026-10-20")
    octo = system(run(ws, "2026-10"))
    assert octo["lines"][0]["last"] == "2026-10-08" and octo["total"] == "43.35"   # 168x8/31
    assert any("after the deadline 2026-10-08" in n for n in octo["notes"])
    (ded,) = octo["deductions"]
    assert ded["item"] == "deadline.reclaim" and ded["amount"] == "-0.8700"   # 2 % of 43.35
    assert "第十六条" in ded["article"] and "第三十条" in ded["article"]
    assert octo["payable"] == "42.48"


def test_datong_reclaim_on_time_stops_at_the_reclaim_and_deducts_nothing(tmp_path):
    ws = ws_with(tmp_path, "datong", small("DT-1"))
    record(ws, "DT-1", "provisioned", "2026-09-10")
    record(ws, "DT-1", "delivery-confirmed", "2026-09-14")
    record(ws, "DT-1", "exit-requested", "2026-09-29")
    record(ws, "DT-1", "exit-approved", "2026-09-29")
    record(ws, "DT-1", "reclaimed", "2026-09-30")
    record(ws, "DT-1", "terminated", "2026-09-30")
    assert run(ws, "2026-10")["systems"] == []
    sept = system(run(ws, "2026-09"))
    assert sept["total"] == "95.20" and sept["deductions"] == []


def test_datong_late_provisioning_is_deducted_in_the_month_it_fell_due(tmp_path):
    """大同 第十三条: 2 working days from the approval; done on the 4th working day."""
    ws = ws_with(tmp_path, "datong", small("DT-1", approved_on="2026-06-01"))
    record(ws, "DT-1", "provisioned", "2026-06-05")
    record(ws, "DT-1", "delivery-confirmed", "2026-06-05")
    s = system(run(ws, "2026-06"))
    (ded,) = s["deductions"]
    assert ded["item"] == "deadline.provision" and "第十三条" in ded["article"]
    assert "profile setting" in ded["note"] and ded["amount"] == "-2.9100"   # 2 % of 145.60
    assert s["total"] == "145.60" and s["payable"] == "142.69"


def test_bazhong_43_starts_at_deployment_completion(tmp_path):
    """巴中 第四十三条: 获得…配额并完成信息系统部署之日起，开始计算."""
    ws = ws_with(tmp_path, "bazhong", small("BZ-1"))
    record(ws, "BZ-1", "provisioned", "2026-06-01")
    record(ws, "BZ-1", "deployment-completed", "2026-06-05")
    record(ws, "BZ-1", "delivery-confirmed", "2026-06-12")
    s = system(run(ws, "2026-06"))
    assert s["lines"][0]["first"] == "2026-06-05" and s["total"] == "145.60"   # 168 x 26/30
    assert not s["notes"]


def test_bozhou_21_23_from_go_live_to_offline_not_termination(tmp_path):
    """亳州 第二十一条 正式上线…云服务商开始计费; 第二十三条 信息系统下线后…停止计费."""
    ws = ws_with(tmp_path, "bozhou", small("BZ-1"))
    record(ws, "BZ-1", "provisioned", "2026-06-01")
    record(ws, "BZ-1", "delivery-confirmed", "2026-06-03")
    record(ws, "BZ-1", "went-live", "2026-06-11")
    assert system(run(ws, "2026-06"))["total"] == "112.00"      # 168 x 20 / 30
    record(ws, "BZ-1", "offline", "2026-08-10")
    record(ws, "BZ-1", "terminated", "2026-08-20")
    aug = system(run(ws, "2026-08"))
    assert aug["lines"][0]["last"] == "2026-08-10" and aug["total"] == "54.19"   # 168x10/31


def test_sichuan_start_and_stop_are_settings_of_the_profile(tmp_path):
    """四川 states neither: the profile's settings (delivery confirmation, reclaim) say so."""
    ws = ws_with(tmp_path, "sichuan", small("SC-1"))
    record(ws, "SC-1", "provisioned", "2026-06-10")
    record(ws, "SC-1", "delivery-confirmed", "2026-06-16")
    doc = run(ws, "2026-06")
    assert system(doc)["total"] == "84.00"                      # 168 x 15 / 30
    assert doc["rule"]["start_setting"] and doc["rule"]["stop_setting"]
    assert "setting" in bill_files.to_text(doc)


def test_nothing_is_billed_before_the_start_event(tmp_path):
    ws = ws_with(tmp_path, "bozhou", small("BZ-1"))
    record(ws, "BZ-1", "provisioned", "2026-06-01")             # not live yet, not confirmed
    assert run(ws, "2026-06")["systems"] == []


def test_window_and_change_are_their_own_lines_split_at_their_dates(tmp_path):
    burst = small("CQ-W", term={"kind": "window", "start": "2026-06-20", "end": "2026-07-04"})
    more = small("CQ-C", change_of="CQ-1", approved_on="2026-06-10",
                 servers=[{**small("x")["zones"]["internet"]["servers"][0], "name": "more"}])
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"), burst, more)
    record(ws, "CQ-1", "configuration-completed", "2026-06-01", at="2026-06-01T09:00:00+08:00")
    record(ws, "CQ-C", "provisioned", "2026-06-16")
    record(ws, "CQ-W", "provisioned", "2026-06-19")             # before its start: from 06-20
    s = system(run(ws, "2026-06"))
    spans = {(ln["approval"], ln["term"]): (ln["first"], ln["last"], ln["days"])
             for ln in s["lines"]}
    assert spans[("CQ-1", "permanent")] == ("2026-06-01", "2026-06-30", 30)
    assert spans[("CQ-C", "change")] == ("2026-06-16", "2026-06-30", 15)
    assert spans[("CQ-W", "window")] == ("2026-06-20", "2026-06-30", 11)
    assert s["total"] == str(Decimal("168") + Decimal("84.00") + Decimal("61.60"))
    july = system(run(ws, "2026-07"))
    w = [ln for ln in july["lines"] if ln["term"] == "window"]
    assert w[0]["last"] == "2026-07-04" and w[0]["days"] == 4      # end = first day without


def test_rounded_once_per_system_not_per_line():
    """Two lines of 0.0125 each: per line 0.01 + 0.01 = 0.02; once per system 0.025 -> 0.03."""
    cat_line = BillingLine(approval="X", item="svc.x", description="", quantity=Decimal(1),
                           unit="个·月", unit_price=Decimal("0.35"), amount=Decimal("0.35"))
    profile = load_profile("chongqing")
    cal = workspace_calendar(None)
    inputs = []
    for no in ("CQ-A", "CQ-B"):
        a = model(small(no))
        ev = [{"kind": "configuration-completed", "on": "2026-02-28", "detail": {}}]
        inputs.append(ApprovalInput(a, [cat_line], ev))
    b = bill_month("2026-02", inputs, profile, cal, {})
    (s,) = b.systems
    assert [ln.amount for ln in s.lines] == [Decimal("0.0125")] * 2
    assert s.total == Decimal("0.03")


def test_same_month_twice_gives_byte_identical_files(tmp_path):
    ws = ws_with(tmp_path, "datong", small("DT-1"), small("DT-2", system="hr", dept=("hr", "人社局")))
    for no in ("DT-1", "DT-2"):
        record(ws, no, "provisioned", "2026-06-02")
        record(ws, no, "delivery-confirmed", "2026-06-03")
    w = Workspace.at(ws)
    docs = [bill(w, "2026-06", LATER).to_dict() for _ in range(2)]
    assert json.dumps(docs[0]) == json.dumps(docs[1])
    assert bill_files.to_csv(docs[0]) == bill_files.to_csv(docs[1])
    x1, x2 = bill_files.to_xlsx(docs[0]), bill_files.to_xlsx(docs[1])
    assert x1 == x2
    record(ws, "DT-1", "changed", "2026-06-20")                 # negative control: a real change
    other = bill(w, "2026-06", LATER, department="hr").to_dict()
    assert bill_files.to_xlsx(other) != x1


def test_csv_has_a_bom_and_xlsx_a_sheet_per_department(tmp_path):
    from openpyxl import load_workbook
    ws = ws_with(tmp_path, "datong", small("DT-1"), small("DT-2", system="hr", dept=("hr", "人社局")))
    for no in ("DT-1", "DT-2"):
        record(ws, no, "delivery-confirmed", "2026-06-03")
    doc = run(ws, "2026-06")
    raw = bill_files.to_csv(doc)
    assert raw.startswith(b"\xef\xbb\xbf") and "市教育局".encode() not in raw  # names: systems
    assert "通用型云服务器".encode("utf-8") in raw
    wb = load_workbook(io.BytesIO(bill_files.to_xlsx(doc)))
    assert wb.sheetnames == ["汇总 summary", "edu", "hr"]
    for sh in wb.worksheets:
        assert sh.freeze_panes == "A3"
    summary = wb["汇总 summary"]
    assert summary["D3"].number_format == "#,##0.00"
    assert summary["D5"].value == Decimal(doc["total"]) or float(summary["D5"].value) == float(doc["total"])
    edu = wb["edu"]
    assert edu["A3"].value == "edu-portal" and edu["L3"].number_format == "#,##0.0000"


def test_a_closed_month_changes_only_through_a_recorded_adjustment(tmp_path):
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"))
    record(ws, "CQ-1", "configuration-completed", "2026-06-10", at="2026-06-10T10:00:00+08:00")
    with pytest.raises(GovcloudError, match="not over yet"):
        run(ws, "2026-06", today=dt.date(2026, 6, 30), close=True)
    closed = run(ws, "2026-06", today=dt.date(2026, 7, 1), close=True)
    assert closed["closed"] and closed["payable"] == "117.60"
    # A late correction: the completion was really on 06-05 (recorded after closing).
    record(ws, "CQ-1", "configuration-completed", "2026-07-03", at="2026-06-05T10:00:00+08:00")
    again = run(ws, "2026-06")
    assert again["payable"] == "117.60"                          # unchanged ...
    (p,) = again["pending_adjustments"]
    assert p["amount"] == "28.00"                                # ... 168 x 5 / 30 pending
    adjusted = run(ws, "2026-06", adjust=True)
    assert adjusted["payable"] == "145.60" and adjusted["adjustments"][0]["amount"] == "28.00"
    assert adjusted["pending_adjustments"] == []
    assert run(ws, "2026-06") == adjusted                        # recorded once


def test_chongqing_41_acceptance_deferred_deducts_the_setting(tmp_path):
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"))
    record(ws, "CQ-1", "configuration-completed", "2026-06-01", at="2026-06-01T10:00:00+08:00")
    (ws / "settlement").mkdir()
    (ws / "settlement" / "acceptance-2026.yaml").write_text("result: deferred\ndocument: 验收-2026\n",
                                                            encoding="utf-8")
    s = system(run(ws, "2026-06"))
    (ded,) = s["deductions"]
    assert ded["item"] == "acceptance" and ded["article"] == "第四十一条"
    assert ded["amount"] == "-8.4000" and s["payable"] == "159.60"   # 5 % of 168.00
    (ws / "settlement" / "acceptance-2026.yaml").write_text("result: passed\n", encoding="utf-8")
    assert system(run(ws, "2026-06"))["deductions"] == []
    (ws / "settlement" / "acceptance-2026.yaml").write_text("result: maybe\n", encoding="utf-8")
    with pytest.raises(GovcloudError) as e:
        run(ws, "2026-06")
    assert "settlement/acceptance-2026.yaml" in e.value.summary


def test_bad_month_and_unknown_department(tmp_path):
    ws = ws_with(tmp_path, "chongqing", small("CQ-1"))
    with pytest.raises(GovcloudError, match="YYYY-MM"):
        run(ws, "2026-6")
    with pytest.raises(GovcloudError, match="did you mean 'edu'"):
        run(ws, "2026-06", department="edux")


def test_cli_writes_each_format_and_xlsx_needs_a_file(tmp_path, cli):
    ws = ws_with(tmp_path, "datong", small("DT-1"))
    record(ws, "DT-1", "delivery-confirmed", "2026-06-03")
    files = {}
    for fmt in ("text", "json", "csv", "xlsx"):
        for n in (1, 2):
            out = tmp_path / f"bill{n}.{fmt}"
            r = cli("bill", "--month", "2026-06", "--output", fmt, "--out", str(out), "-C", ws)
            assert r.exit_code == 0, r.output
            files.setdefault(fmt, []).append(out.read_bytes())
        assert files[fmt][0] == files[fmt][1], fmt
    assert json.loads(files["json"][0])["format"] == "govcloud-bill/1"
    assert files["xlsx"][0][:2] == b"PK" and files["csv"][0][:3] == b"\xef\xbb\xbf"
    assert "156.80" in files["text"][0].decode()               # 168 x 28 / 30
    r = cli("bill", "--month", "2026-06", "--output", "xlsx", "-C", ws)
    assert r.exit_code == 1 and "--out FILE" in r.output


def test_billing_prices_the_same_quantities_as_compile():
    """core.billing.priced_items (plain tuples, for speed) agrees with core.pricing."""
    from collections import Counter

    from orchestrator.core.billing import priced_items
    from orchestrator.core.pricing import price_approval
    from orchestrator.workspace import PACKAGE_ROOT
    import yaml
    from orchestrator.models.catalog import Catalog
    catalog = Catalog.model_validate(yaml.safe_load(
        (PACKAGE_ROOT / "catalog" / "services.yaml").read_text(encoding="utf-8")))
    for f in sorted((PACKAGE_ROOT / "catalog" / "examples" / "approvals").glob("*.yaml")):
        a = model(yaml.safe_load(f.read_text(encoding="utf-8")))
        want, got = Counter(), Counter()
        for ln in price_approval(a, catalog):
            want[(ln.item, ln.unit_price)] += ln.quantity
        for p in priced_items(a, catalog):
            got[(p.item, p.unit_price)] += p.quantity
        assert got == want and want


def test_csv_cells_are_never_formulas():
    from orchestrator.reports.bill_files import _cell
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("@x") == "'@x"
    assert _cell(Decimal("-0.87")) == "-0.87" and _cell("市教育局") == "市教育局"


def test_a_change_document_splits_the_month_at_the_apply_that_carried_it_out(tmp_path):
    """changes/<NO>.yaml (2 servers instead of 1), approved 06-10, applied 06-16: June is billed
    1 server 06-01..06-15 and 2 servers 06-16..06-30; before it is applied, 1 server all month."""
    import yaml
    base = small("CQ-1")
    ws = ws_with(tmp_path, "chongqing", base)
    record(ws, "CQ-1", "configuration-completed", "2026-06-01", at="2026-06-01T09:00:00+08:00")
    zones = json.loads(json.dumps(base["zones"]))
    zones["internet"]["servers"][0]["count"] = 2
    (ws / "changes").mkdir()
    (ws / "changes" / "CQ-1-C1.yaml").write_text(yaml.safe_dump(
        {"change_no": "CQ-1-C1", "changes": "CQ-1", "approved_on": "2026-06-10",
         "approvers": base["approvers"], "zones": zones}, allow_unicode=True), encoding="utf-8")
    before = system(run(ws, "2026-06"))
    assert before["total"] == "168.00" and {ln["term"] for ln in before["lines"]} == {"permanent"}
    record(ws, "CQ-1", "changed", "2026-06-16")
    s = system(run(ws, "2026-06"))
    spans = sorted({(ln["term"], ln["first"], ln["last"], ln["quantity"]) for ln in s["lines"]
                    if ln["item"] == "ecs.s2m4"})
    assert spans == [("change", "2026-06-16", "2026-06-30", "2"),
                     ("permanent", "2026-06-01", "2026-06-15", "1")]
    assert s["total"] == "252.00"                  # 168 x 15/30 + 336 x 15/30
    assert system(run(ws, "2026-07"))["total"] == "336.00"


def test_totals_only_bills_give_the_full_bills_totals(tmp_path):
    """The report's trend bills earlier months without lines (bill_month(lines=False)): per
    system the same total and payable as the full bill, over windows, changes, an exit with a
    late reclaim and a missed deadline (datong), month after month."""
    import random
    from orchestrator.usecases.bill import compute, load
    from orchestrator.lifecycle_events import events_by_subject
    from orchestrator.usecases.session import open_state
    rng = random.Random(19)
    apps = [small("DT-1"), small("DT-2", system="hr", dept=("hr", "人社局")),
            small("DT-W", term={"kind": "window", "start": "2026-06-20", "end": "2026-08-04"}),
            small("DT-C", change_of="DT-1", approved_on="2026-06-10",
                  servers=[{**small("x")["zones"]["internet"]["servers"][0], "name": "more"}]),
            small("DT-3", system="gis", approved_on="2026-07-01")]
    ws = ws_with(tmp_path, "datong", *apps)
    for no in ("DT-1", "DT-2", "DT-W", "DT-C"):
        day = dt.date(2026, 6, 1) + dt.timedelta(days=rng.randint(0, 25))
        record(ws, no, "provisioned", day.isoformat())
        record(ws, no, "delivery-confirmed", (day + dt.timedelta(days=2)).isoformat())
    record(ws, "DT-1", "changed", "2026-07-03")
    record(ws, "DT-2", "exit-requested", "2026-07-10")
    record(ws, "DT-2", "exit-approved", "2026-07-13")
    record(ws, "DT-2", "reclaimed", "2026-08-20")              # late: billed to the deadline
    w = Workspace.at(ws)
    loaded = load(w)
    with open_state(w) as store:
        events = events_by_subject(store)
    seen = set()
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09"):
        full, totals = compute(w, month, events, loaded), compute(w, month, events, loaded,
                                                                 lines=False)
        got = [(s.stack, s.total, s.payable) for s in totals.systems]
        assert got == [(s.stack, s.total, s.payable) for s in full.systems], month
        assert all(not s.lines for s in totals.systems)
        seen.update((s.stack, bool(s.deductions)) for s in full.systems)
    assert ("hr/hr", True) in seen and {s for s, _ in seen} == {"edu/edu-portal", "hr/hr"}


HOSTILE = ["=cmd|' /C calc'!A0", '=HYPERLINK("http://127.0.0.1/x","点此")', "#N/A"]


def formulas(xlsx: bytes) -> list[str]:
    """Every cell of every sheet that a spreadsheet would evaluate (openpyxl reads a stored
    formula back as data type "f"), and the raw <f> elements of the sheets' XML."""
    import zipfile
    from openpyxl import load_workbook
    found = [f"{sh.title}!{c.coordinate}" for sh in load_workbook(io.BytesIO(xlsx)).worksheets
             for row in sh.iter_rows() for c in row if c.data_type in ("f", "e")]
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        found += [n for n in z.namelist() if n.startswith("xl/worksheets/")
                  and (b"<f>" in z.read(n) or b"<f " in z.read(n))]
    return found


def test_xlsx_cells_are_never_formulas_even_when_a_name_looks_like_one(tmp_path):
    """Names come from approvals: a department called "=cmd|..." is text in the bill's XLSX (the
    summary sheet and the department's sheet), never a formula or an error cell."""
    from openpyxl import load_workbook
    for i, evil in enumerate(HOSTILE):
        ws = ws_with(tmp_path, "datong", small("DT-1", dept=("edu", evil)), name=f"ws{i}")
        record(ws, "DT-1", "delivery-confirmed", "2026-06-03")
        raw = bill_files.to_xlsx(run(ws, "2026-06"))
        assert formulas(raw) == []
        texts = [c.value for sh in load_workbook(io.BytesIO(raw)).worksheets
                 for row in sh.iter_rows() for c in row]
        assert evil in texts or any(isinstance(t, str) and t.startswith(evil) for t in texts)


def test_the_formula_check_sees_a_formula():
    """Negative control: the same text written by plain openpyxl is a formula, and found."""
    from openpyxl import Workbook
    from orchestrator.reports.xlsx import fixed_bytes
    wb = Workbook()
    wb.active.append([HOSTILE[0]])
    assert formulas(fixed_bytes(wb, "2026-06-30")) != []
