"""Plans a reviewer can read: creates show their attributes, updates their full values, the
Markdown is escaped (no table break, no HTML, no javascript: link), window resources not yet
open count as scheduled; the quota view and the fee change (a catalog price change shows)."""
from __future__ import annotations

from decimal import Decimal

import yaml

from orchestrator.core import review
from orchestrator.workspace import Workspace
from tests.policy.builders import approval, workspace

EVIL = "A|B <script>alert(1)</script> [x](javascript:alert(1)) `tick`"


def _update_plan(old, new):
    from orchestrator.models.plan import Action, Plan
    act = Action("project:local/edu/edu-portal-internet", "project", "local", "update",
                 "updatable fields differ", {"description": {"old": old, "new": new}},
                 None, {"cloud_id": "x", "status": "ok", "refs": {}, "properties": {}},
                 "drift")
    return Plan("ws-000000000000", "lineage", 7, "sha256:" + "0" * 64, [act],
                digest="hmac-sha256:" + "0" * 64)


def test_text_plan_shows_create_attributes_and_full_update_values(ws, cli, capsys):
    long = "教育服务门户" + "长" * 150
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("plan", "-C", ws)
    flat = "".join(r.output.split())
    assert "flavor=ecs.s2m4" in flat and "vcpus=2" in flat and "image=kylin-v10-sp3" in flat, r.output
    from orchestrator.cli import render
    render.plan_text(_update_plan("old", long))
    out = "".join(capsys.readouterr().out.split())
    assert long in out and "..." not in out             # never cut at 120 characters


def test_markdown_escapes_every_input_value():
    from orchestrator.cli import render
    md = render.plan_markdown(_update_plan("plain", EVIL))
    assert "<script>" not in md and "javascript:" not in md, md
    rows = [line for line in md.splitlines() if line.startswith("| ~ | update |")]
    assert rows, md
    for row in rows:   # a cell's | is escaped: every row has exactly the table's 5 separators
        unescaped = len(row.replace("\\|", "")) - len(row.replace("\\|", "").replace("|", ""))
        assert unescaped == 5, row
    assert "A\\|B &lt;script&gt;" in md
    # negative control: the unescaped value would break the row
    assert EVIL.count("|") and "<script>" in EVIL


def test_window_resources_not_yet_open_count_as_scheduled(tmp_path, cli):
    window = approval("BZ-W", approved_on="2026-06-01",
                      term={"kind": "window", "start": "2026-06-20", "end": "2026-07-19"})
    ws = workspace(tmp_path, "bozhou", window)
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve", "--backdated", "test", "--now", "2026-06-10").exit_code == 0
    r = cli("plan", "-C", ws, "--now", "2026-06-10")
    assert "scheduled (window not open yet)" in r.output, r.output
    r = cli("plan", "-C", ws, "--now", "2026-06-10", "--output", "markdown")
    assert "scheduled" in r.output, r.output


def test_quota_view_and_fee_change_from_a_catalog_price_change(ws):
    w = Workspace.at(ws)
    approvals = w.load_approvals()
    fees = review.monthly_fees(approvals.values(), w.catalog)
    assert fees["BZ-2026-0012"] == ("edu/edu-portal", Decimal("5710.00"))
    # the catalog raises the price of a flavor the approval uses: a fee change, never silent
    data = yaml.safe_load((ws / "catalog" / "services.yaml").read_text(encoding="utf-8"))
    for item in data["items"]:
        if item["code"] == "ecs.s2m4":
            item["unit_price"] = float(item["unit_price"]) + 10
            item["price_ceiling"] = max(float(item["price_ceiling"]), item["unit_price"])
    (ws / "catalog" / "services.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                                  encoding="utf-8")
    w2 = Workspace.at(ws)
    after = review.monthly_fees(w2.load_approvals().values(), w2.catalog)
    rows = {r.approval: r for r in review.fee_changes(fees, after)}
    assert rows["BZ-2026-0012"].change == Decimal("20.00")     # 2 web servers x 10 yuan
    assert rows["BZ-2026-0031"].change == Decimal("0.00")
    # quota view: approved equals what the plan holds; a hand-edited excess is flagged
    rows = review.quota_view(approvals.values(), w.catalog, [], {})
    edu = {(q.department, q.zone): q for q in rows}[("edu", "internet")]
    assert edu.approved == {"vcpus": 4, "ram_gb": 8, "disk_gb": 280, "public_ips": 1} and not edu.excess
    edu.planned["vcpus"] = 6
    assert edu.excess == {"vcpus": 2}
