"""`moved:` records: renaming a server or a whole system is a rename in the cloud and a move in
state (same cloud ids, same bytes), never destroy + create; `state mv` and `state rm`."""
from __future__ import annotations

import sqlite3

import yaml

from tests.conftest import cloud_rows
from tests.policy.builders import approval, workspace, write_as_change

P = "local/edu/edu-portal-internet"


def _applied(tmp_path, cli, data):
    ws = workspace(tmp_path, "bazhong", data)
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    return ws


def _ids(ws) -> dict[str, str]:
    return {r[2]: r[0] for r in cloud_rows(ws) if r[2]}


def _state(ws) -> dict[str, str]:
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    try:
        return dict(db.execute("SELECT address, cloud_id FROM resources").fetchall())
    finally:
        db.close()


def _plan(cli, ws) -> dict:
    r = cli("plan", "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    return r.json()


def test_renaming_a_server_group_without_moved_replaces_it(tmp_path, cli):
    """The negative control: without moved records the rename is destroy + create."""
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    data["zones"]["internet"]["servers"][0]["name"] = "api"
    write_as_change(ws, data)      # an applied approval changes by a change document
    assert cli("compile", "-C", ws).exit_code == 0
    s = _plan(cli, ws)["summary"]
    assert s["delete"] == 2 and s["create"] == 2


def test_moved_records_rename_servers_in_place(tmp_path, cli):
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    before = _ids(ws)
    data["zones"]["internet"]["servers"][0]["name"] = "api"
    data["moved"] = [{"from": f"server:{P}/app-{i}", "to": f"server:{P}/api-{i}"} for i in (1, 2)]
    write_as_change(ws, data)      # an applied approval changes by a change document
    assert cli("compile", "-C", ws).exit_code == 0
    plan = _plan(cli, ws)
    changing = {a["address"]: a for a in plan["actions"] if a["action"] != "no-op"}
    assert set(changing) == {f"server:{P}/api-1", f"server:{P}/api-2"}
    a = changing[f"server:{P}/api-1"]
    assert a["action"] == "update" and a["cause"] == "moved"
    assert a["changes"]["address"] == {"old": f"server:{P}/app-1", "new": f"server:{P}/api-1"}
    assert "forces_replacement" not in a["changes"]["name"]
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    after = _ids(ws)
    assert after[f"server:{P}/api-1"] == before[f"server:{P}/app-1"]
    assert after[f"server:{P}/api-2"] == before[f"server:{P}/app-2"]
    assert f"server:{P}/app-1" not in after and f"server:{P}/app-1" not in _state(ws)
    assert _state(ws)[f"server:{P}/api-1"] == before[f"server:{P}/app-1"]
    row = next(r for r in cloud_rows(ws) if r[0] == before[f"server:{P}/app-1"])
    assert '"name": "api-1"' in row[4]
    # converged: the moved records stay in the approval and do nothing now
    assert not any(a["action"] != "no-op" for a in _plan(cli, ws)["actions"])
    audit = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert sum(e["action"] == "move" for e in audit) == 2


def test_renaming_a_system_moves_every_object_and_keeps_its_subnet(tmp_path, cli):
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    before = _ids(ws)
    cidr = yaml.safe_load((ws / "stacks" / "ipam.yaml").read_text())["zones"]["internet"]["edu/edu-portal"]
    data["system"]["code"] = "edu-web"
    data["moved"] = [{"from": "edu/edu-portal", "to": "edu/edu-web"}]
    write_as_change(ws, data)      # an applied approval changes by a change document
    r = cli("compile", "-C", ws)
    assert r.exit_code == 0, r.output
    ipam = yaml.safe_load((ws / "stacks" / "ipam.yaml").read_text())["zones"]["internet"]
    assert ipam == {"edu/edu-web": cidr}
    plan = _plan(cli, ws)
    assert plan["summary"]["delete"] == 0 and plan["summary"]["create"] == 0
    assert plan["summary"]["replace"] == 0, [a for a in plan["actions"] if a["action"] == "replace"]
    moved = [a for a in plan["actions"] if a["cause"] == "moved"]
    assert len(moved) == len(before) - 1          # everything but the department's domain
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    after = _ids(ws)
    assert sorted(after.values()) == sorted(before.values())
    assert f"project:local/edu/edu-web-internet" in after
    assert not any(a["action"] != "no-op" for a in _plan(cli, ws)["actions"])


def test_a_move_to_an_address_no_spec_has_is_refused(tmp_path, cli):
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    data["moved"] = [{"from": f"server:{P}/app-1", "to": f"server:{P}/zzz-1"}]
    write_as_change(ws, data)      # an applied approval changes by a change document
    r = cli("compile", "-C", ws, "--output", "json")
    assert r.exit_code == 1 and "moved[0].to" in r.output


def test_state_mv_renames_in_place_to_an_approved_address_only(tmp_path, cli):
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    before = _ids(ws)
    # not approved: refused, nothing changed
    r = cli("state", "mv", f"server:{P}/app-1", f"server:{P}/api-1", "-C", ws, "--output", "json")
    assert r.exit_code == 1 and "not in any stack spec" in r.json()["error"]
    assert _ids(ws) == before
    data["zones"]["internet"]["servers"][0]["name"] = "api"
    write_as_change(ws, data)      # an applied approval changes by a change document
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("state", "mv", f"server:{P}/app-1", f"server:{P}/api-1", "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json() == {"format": "govcloud-state-mv/1", "objects": [
        {"from": f"server:{P}/app-1", "to": f"server:{P}/api-1",
         "cloud_id": before[f"server:{P}/app-1"]}]}
    assert _ids(ws)[f"server:{P}/api-1"] == before[f"server:{P}/app-1"]
    # only that one moved: app-2 -> api-2 is still a replacement in the plan
    plan = _plan(cli, ws)
    assert {a["address"] for a in plan["actions"] if a["action"] != "no-op"} == {
        f"server:{P}/app-2", f"server:{P}/api-2"}


def test_state_rm_keeps_the_object_and_no_plan_touches_it(tmp_path, cli):
    data = approval("BZ-M")
    ws = _applied(tmp_path, cli, data)
    addr = f"server:{P}/app-2"
    r = cli("state", "rm", addr, "-C", ws)
    assert r.exit_code == 1 and "still wanted" in r.output      # still approved: refused
    data["zones"]["internet"]["servers"][0]["count"] = 1
    write_as_change(ws, data)      # an applied approval changes by a change document
    assert cli("compile", "-C", ws).exit_code == 0
    # without state rm, the plan would delete it (wipe first): the control
    plan = _plan(cli, ws)
    assert ("delete", addr) in {(a["action"], a["address"]) for a in plan["actions"]}
    cloud_id = _state(ws)[addr]
    r = cli("state", "rm", addr, "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json()["objects"][0]["kept_in_cloud"] is True
    assert addr not in _state(ws)
    row = next(r for r in cloud_rows(ws) if r[0] == cloud_id)   # still there
    assert row[2] is None
    plan = _plan(cli, ws)
    assert addr not in {a["address"] for a in plan["actions"] if a["action"] != "no-op"}
    # It still uses the project's quota: the cloud refuses to lower the quota to the new
    # approval below what the project holds (the object must leave the project first).
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 1 and "quota below current usage" in r.output
    assert any(r[0] == cloud_id for r in cloud_rows(ws))             # never deleted
