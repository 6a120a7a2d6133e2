"""`govcloud status` (deadlines from the profile, working days left, overdue highlighted, JSON)
and `govcloud confirm-delivery`, on the shipped examples (巴中: 3 wd to provision, 5 to deploy)."""
from __future__ import annotations

from tests.policy.builders import approval, kinds, workspace


def rows(cli, ws, *args):
    r = cli("status", "-C", ws, "--output", "json", *args)
    assert r.exit_code == 0, r.output
    return r.json(), {a["approval_no"]: a for a in r.json()["approvals"]}


def test_overdue_provisioning_is_highlighted(ws, cli):
    # BZ-2026-0012 approved 2026-03-02 (Mon): provisioned within 3 wd, by 2026-03-05.
    data, by = rows(cli, ws, "--now", "2026-03-05")
    nd = by["BZ-2026-0012"]["next_deadline"]
    assert (nd["key"], nd["due"], nd["workdays_left"], nd["overdue"]) == ("provision", "2026-03-05", 0, False)
    assert "第十八条" in nd["citation"]
    data, by = rows(cli, ws, "--now", "2026-03-06")
    nd = by["BZ-2026-0012"]["next_deadline"]
    assert nd["overdue"] and nd["workdays_left"] == -1 and data["overdue"] == 1
    assert any("draft" in w for w in data["profile_warnings"])          # 巴中 is a 送审稿
    r = cli("status", "-C", ws, "--now", "2026-03-06")
    assert "OVERDUE" in r.output and "1 overdue" in r.output
    r = cli("status", "-C", ws, "--now", "2026-03-06", "--overdue")
    assert r.exit_code == 3 and "BZ-2026-0012" in r.output and "BZ-2026-0031" not in r.output


def test_provisioned_then_delivery_confirmed(ws, cli, monkeypatch):
    cli("compile", "-C", ws)
    r = cli("confirm-delivery", "BZ-2026-0012", "-C", ws, "--date", "2026-03-04")
    assert r.exit_code == 1 and "not provisioned yet" in r.output
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-03-04")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert kinds(ws, "BZ-2026-0012") == ["approved", "provisioned"]
    data, by = rows(cli, ws)
    a = by["BZ-2026-0012"]
    assert a["state"] == "provisioned" and a["events"]["provisioned"] == "2026-03-04"
    prov = next(d for d in a["deadlines"] if d["key"] == "provision")
    assert prov["done_on"] == "2026-03-04" and not prov["late"]
    # 巴中 第十八条: deployed within 5 wd of the configuration: 2026-03-11
    assert a["next_deadline"]["key"] == "deploy" and a["next_deadline"]["due"] == "2026-03-11"
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-03-11")
    r = cli("confirm-delivery", "BZ-2026-0012", "-C", ws)
    assert r.exit_code == 0 and "confirmed on 2026-03-11" in r.output
    assert cli("confirm-delivery", "BZ-2026-0012", "-C", ws).exit_code == 0      # same again: no-op
    r = cli("confirm-delivery", "BZ-2026-0012", "-C", ws, "--date", "2026-03-10")
    assert r.exit_code == 1 and "already confirmed on 2026-03-11" in r.output
    data, by = rows(cli, ws)
    a = by["BZ-2026-0012"]
    assert a["state"] == "delivered" and not a["overdue"]
    # 巴中 第十九条: the tests are due within 1 month of the deployment, owed by the department
    nd = a["next_deadline"]
    assert (nd["key"], nd["due"], nd["actor"]) == ("tests", "2026-04-11", "department")
    assert "第十九条" in nd["citation"]
    assert kinds(ws, "BZ-2026-0012").count("delivery-confirmed") == 1
    audit = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert [e for e in audit if e["action"] == "delivery-confirmed"]


def test_a_changed_approval_records_changed(ws, cli, monkeypatch):
    from tests.policy.builders import write_change
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-04-20")
    cli("apply", "-C", ws, "--auto-approve")
    write_change(ws, "BZ-CH-1", "BZ-2026-0012.yaml",
                 lambda z: z["internet"]["servers"][0].update(count=3))
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert kinds(ws, "BZ-2026-0012") == ["approved", "provisioned", "changed"]
    assert kinds(ws, "BZ-2026-0031") == ["approved", "provisioned"]
    write_change(ws, "BZ-CH-2", "BZ-2026-0031.yaml",          # a reduction is a change too
                 lambda z: z["internet"]["servers"][0].update(count=1))
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert kinds(ws, "BZ-2026-0031") == ["approved", "provisioned", "changed"]


def test_a_change_approval_provisioned_marks_its_base_changed(tmp_path, cli, monkeypatch):
    base = approval("BZ-A", approved_on="2026-03-02")
    more = approval("BZ-C", approved_on="2026-05-06", change_of="BZ-A", servers=[{
        "name": "more", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
        "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])
    ws = workspace(tmp_path, "datong", base)
    cli("compile", "-C", ws)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-03-03")
    cli("apply", "-C", ws, "--auto-approve")
    from tests.policy.builders import write
    write(ws, more)
    r = cli("compile", "-C", ws)   # still 2026-03-03: the change is dated in the future
    assert r.exit_code == 1 and "approved_on: 2026-05-06 is after today (2026-03-03)" in r.output
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-05-07")     # 大同 第十五条: within 2 wd of 05-06
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert kinds(ws, "BZ-C") == ["approved", "provisioned"]
    assert kinds(ws, "BZ-A") == ["approved", "provisioned", "changed"]
    by = {a["approval_no"]: a for a in cli("status", "-C", ws, "--output", "json").json()["approvals"]}
    d = next(x for x in by["BZ-C"]["deadlines"] if x["key"] == "provision")
    assert (d["rule"], d["due"], d["done_on"], d["late"]) == (
        "change_deadline_workdays", "2026-05-08", "2026-05-07", False)


def test_a_deadline_in_a_year_without_calendar_names_the_file(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong", approval("BZ-L", approved_on="2026-12-30"))
    data, by = rows(cli, ws, "--now", "2026-12-30")
    nd = [d for d in by["BZ-L"]["deadlines"] if d["key"] == "provision"][0]
    assert nd["due"] is None and "cn-2027.yaml" in nd["error"]
    assert any("cn-2027.yaml" in w for w in by["BZ-L"]["warnings"])
    # the operator adds next year's schedule to the workspace: the deadline appears
    cal = ws / "catalog" / "calendar"
    cal.mkdir(parents=True)
    (cal / "cn-2027.yaml").write_text(CN_2027, encoding="utf-8")
    data, by = rows(cli, ws, "--now", "2026-12-30")
    nd = by["BZ-L"]["next_deadline"]
    assert nd["due"] == "2027-01-05" and nd["error"] is None   # 12-31, (元旦 01-01..03), 01-04, 01-05


# Test data shaped like a State Council notice (NOT the official 2027 schedule).
CN_2027 = """year: 2027
source: "test fixture, not an official schedule"
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
makeup_workdays: []
"""
