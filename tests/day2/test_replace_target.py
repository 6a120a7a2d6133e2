"""`plan/apply -replace ADDRESS` (on purpose, data wiped and verified first) and `-target`
(only that object and what it depends on, with Terraform's warning)."""
from __future__ import annotations

from tests.conftest import cloud_rows, amend

P = "local/edu/edu-portal-internet"


def _ids(ws):
    return {r[2]: r[0] for r in cloud_rows(ws) if r[2]}


def test_replace_makes_a_new_object_after_wiping_the_old(applied_ws, cli):
    ws = applied_ws
    before = _ids(ws)
    vol = f"volume:{P}/web-1-data1"
    plan = cli("plan", "-C", ws, "-replace", vol, "--output", "json").json()
    changing = {a["address"]: a for a in plan["actions"] if a["action"] != "no-op"}
    assert set(changing) == {vol, f"volume_attachment:{P}/web-1-data1"}
    assert changing[vol]["cause"] == "replace-requested"
    # the control: without -replace nothing changes
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve", f"--replace={vol}")
    assert r.exit_code == 0, r.output
    after = _ids(ws)
    assert after[vol] != before[vol] and vol in after
    assert after[f"server:{P}/web-1"] == before[f"server:{P}/web-1"]
    entries = cli("audit", "list", "-C", ws, "--last", "0", "--output", "json").json()["entries"]
    destroy = next(e for e in entries if e["action"] == "replace-destroy" and e["target"] == vol)
    assert destroy["detail"]["cloud_id"] == before[vol] and destroy["detail"]["sanitization"]
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0


def test_replace_refuses_what_no_approval_wants_and_saved_plans(applied_ws, cli, tmp_path):
    ws = applied_ws
    r = cli("plan", "-C", ws, "-replace", f"server:{P}/web-9", "--output", "json")
    assert r.exit_code == 1 and "no stack spec wants" in r.json()["error"]
    saved = tmp_path / "p.json"
    assert cli("plan", "-C", ws, "-o", saved).exit_code == 0
    r = cli("apply", saved, "-C", ws, "-replace", f"server:{P}/web-1")
    assert r.exit_code == 1 and "saved plan" in r.output


def test_target_plans_only_that_object_and_its_dependencies(applied_ws, cli):
    ws = applied_ws
    amend(ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    amend(ws / "approvals" / "BZ-2026-0031.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    assert cli("compile", "-C", ws).exit_code == 0
    full = cli("plan", "-C", ws, "--output", "json").json()
    full_changes = {a["address"] for a in full["actions"] if a["action"] != "no-op"}
    assert any("hrss" in a for a in full_changes)
    srv = f"server:{P}/web-3"
    r = cli("plan", "-C", ws, "-target", srv)
    assert r.exit_code == 0 and "Resource targeting is in effect" in r.output
    plan = cli("plan", "-C", ws, "-target", srv, "--output", "json").json()
    changing = {a["address"] for a in plan["actions"] if a["action"] != "no-op"}
    assert changing == {srv, f"quota:{P}/quota"}       # and the quota raised first
    addresses = {a["address"] for a in plan["actions"]}
    assert {f"project:{P}", f"network:{P}/net", f"security_group:{P}/sg",
            "domain:local/edu"} <= addresses
    r = cli("apply", "-C", ws, "--auto-approve", "-target", srv)
    assert r.exit_code == 0 and "Applied changes may be incomplete" in r.output
    assert srv in _ids(ws)
    rest = cli("plan", "-C", ws, "--output", "json").json()
    remaining = {a["address"] for a in rest["actions"] if a["action"] != "no-op"}
    assert remaining == full_changes - {srv, f"quota:{P}/quota"}
    r = cli("plan", "-C", ws, "-target", "server:local/nope/x/y", "--output", "json")
    assert r.exit_code == 1 and "-target" in r.json()["error"]
    # a whole system
    plan = cli("plan", "-C", ws, "-target", "hrss/social-insurance", "--output", "json").json()
    assert {a["address"] for a in plan["actions"] if a["action"] != "no-op"} == {
        a for a in remaining if "/hrss/" in a}
    # what points at the target is not a dependency: web-3's data volume waits for a full plan
    assert {f"volume:{P}/web-3-data1", f"volume_attachment:{P}/web-3-data1"} <= remaining
