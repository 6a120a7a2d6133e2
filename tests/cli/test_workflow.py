"""The user's path through the CLI on the embedded cloud, with exit codes and JSON output."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.conftest import amend, cloud_rows, edit_yaml
from tests.pg_support import set_state_url

# Tests marked with this run once per state backend (PostgreSQL: the session's test database).
on_both_backends = pytest.mark.parametrize("ws", ["sqlite", "postgres"], indirect=True)


@pytest.fixture
def ws(request, ws):
    if getattr(request, "param", "sqlite") == "postgres":
        set_state_url(ws, request.getfixturevalue("pg_url"))
    return ws


@on_both_backends
def test_full_path_then_second_plan_and_apply_change_nothing(ws, cli):
    assert cli("validate", "-C", ws).exit_code == 0
    assert cli("compile", "-C", ws).exit_code == 0
    plan_file = ws / "p.plan.json"
    r = cli("plan", "-C", ws, "-o", plan_file, "--detailed-exitcode")
    assert r.exit_code == 2, r.output
    assert "Plan: 56 to create" in r.output
    r = cli("apply", "-C", ws, plan_file)
    assert r.exit_code == 0, r.output
    assert "Apply complete: 56 steps done, 0 failed" in r.output
    rows = cloud_rows(ws)
    assert len(rows) == 56
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0 and "No changes" in r.output
    assert sorted(cloud_rows(ws)) == sorted(rows)


def test_plan_json_has_the_documented_shape(ws, cli):
    cli("compile", "-C", ws)
    r = cli("plan", "-C", ws, "--output", "json")
    assert r.exit_code == 0
    plan = r.json()
    assert plan["format"] == "govcloud-plan/1"
    assert plan["summary"]["create"] == 56 and plan["digest"].startswith("hmac-sha256:")
    first = plan["actions"][0]
    assert set(first) == {"address", "kind", "target", "action", "cause", "reason", "changes", "desired",
                          "prior"}
    assert first["cause"] == "new"
    assert first["kind"] == "domain"


def test_plan_never_changes_state_or_cloud(applied_ws, cli):
    db = applied_ws / ".govcloud" / "state.db"
    before_state = sqlite3.connect(db).execute("SELECT * FROM resources ORDER BY address").fetchall()
    before_cloud = cloud_rows(applied_ws)
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    cli("compile", "-C", applied_ws)
    assert cli("plan", "-C", applied_ws, "--detailed-exitcode").exit_code == 2
    after = sqlite3.connect(db).execute("SELECT * FROM resources ORDER BY address").fetchall()
    assert after == before_state and cloud_rows(applied_ws) == before_cloud


def test_changing_an_approval_plans_exactly_that_change(applied_ws, cli):
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    cli("compile", "-C", applied_ws)
    plan = cli("plan", "-C", applied_ws, "--output", "json").json()
    changing = {(a["action"], a["address"]) for a in plan["actions"] if a["action"] != "no-op"}
    pre = "local/edu/edu-portal-internet"
    assert changing == {
        ("create", f"server:{pre}/web-3"), ("create", f"volume:{pre}/web-3-data1"),
        ("create", f"volume_attachment:{pre}/web-3-data1"), ("update", f"quota:{pre}/quota")}
    quota = next(a for a in plan["actions"] if a["kind"] == "quota" and a["action"] == "update")
    assert quota["changes"]["instances"] == {"old": 2, "new": 3}
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0
    assert cli("plan", "-C", applied_ws, "--detailed-exitcode").exit_code == 0


def test_removed_approval_orphans_its_system_and_deletes_nothing(applied_ws, cli):
    """The destroy guard: `git rm` of an approval (or a rename of its system) plans no
    destruction; the system is orphaned until it leaves through the exit process."""
    before = sorted(cloud_rows(applied_ws))
    (applied_ws / "approvals" / "BZ-2026-0031.yaml").unlink()
    r = cli("compile", "-C", applied_ws)
    assert "removed" in r.output
    plan = cli("plan", "-C", applied_ws, "--output", "json").json()
    assert [a for a in plan["actions"] if a["action"] != "no-op"] == []
    held = [a for a in plan["actions"] if a["cause"] == "orphaned"]
    assert held and all("/hrss" in a["address"] for a in held)
    assert {a["address"].split(":")[0] for a in held} >= {"server", "volume", "project", "domain"}
    assert all("exit process" in a["reason"] for a in held)
    text = cli("plan", "-C", applied_ws)
    assert "Orphaned: hrss/social-insurance" in text.output
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0
    assert sorted(cloud_rows(applied_ws)) == before            # nothing touched
    status = cli("status", "-C", applied_ws, "--output", "json").json()
    assert [o["stack"] for o in status["orphaned"]] == ["hrss/social-insurance"]
    assert status["orphaned"][0]["objects"] > 10
    assert "hrss/social-insurance  [orphaned]" in cli("status", "-C", applied_ws).output
    assert cli("plan", "-C", applied_ws, "--detailed-exitcode").exit_code == 0


def test_renamed_system_code_creates_the_new_one_and_keeps_the_old(applied_ws, cli):
    # an applied approval is not edited: the renamed system is a new approval, the old one goes
    old = applied_ws / "approvals" / "BZ-2026-0031.yaml"
    edit_yaml(old, lambda d: (d["system"].update(code="pension"), d.update(approval_no="BZ-2026-0032")))
    old.rename(old.with_name("BZ-2026-0032.yaml"))
    assert cli("compile", "-C", applied_ws).exit_code == 0
    plan = cli("plan", "-C", applied_ws, "--output", "json").json()
    assert not [a for a in plan["actions"] if a["action"] == "delete"]
    assert any(a["cause"] == "orphaned" and "/social-insurance-" in a["address"]
               for a in plan["actions"])
    assert any(a["action"] == "create" and "/pension-" in a["address"] for a in plan["actions"])


def test_a_resource_removed_from_an_approved_system_is_still_deleted(applied_ws, cli):
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["extranet"].pop("volumes"))
    cli("compile", "-C", applied_ws)
    plan = cli("plan", "-C", applied_ws, "--output", "json").json()
    deletes = [a for a in plan["actions"] if a["action"] == "delete"]
    assert deletes and all(a["cause"] == "removed-from-spec" for a in deletes)
    assert [a["address"] for a in deletes] == ["volume:local/edu/edu-portal-extranet/archive"]
    assert "wiped and verified" in cli("plan", "-C", applied_ws).output


@on_both_backends
def test_stale_plan_is_refused(applied_ws, cli):
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"].update(bandwidth_mbps=30))
    cli("compile", "-C", applied_ws)
    old = applied_ws / "old.plan.json"
    assert cli("plan", "-C", applied_ws, "-o", old).exit_code == 0
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0
    r = cli("apply", "-C", applied_ws, old)
    assert r.exit_code == 1
    assert "the plan is stale: state serial" in r.output and "run `govcloud plan` again" in r.output


def test_altered_plan_is_refused_and_changes_nothing(ws, cli):
    cli("compile", "-C", ws)
    f = ws / "p.plan.json"
    cli("plan", "-C", ws, "-o", f)
    data = json.loads(f.read_text())
    data["actions"][-1]["desired"]["properties"]["bandwidth_mbps"] = 1000
    f.write_text(json.dumps(data))
    r = cli("apply", "-C", ws, f)
    assert r.exit_code == 1 and "was altered" in r.output and "Nothing was changed." in r.output
    assert cloud_rows(ws) == []


def test_plan_from_another_workspace_is_refused(ws, cli, tmp_path):
    from orchestrator.usecases.init import init_workspace
    other = tmp_path / "other"
    init_workspace(other, "bazhong")
    cli("compile", "-C", other)
    f = tmp_path / "other.plan.json"
    cli("plan", "-C", other, "-o", f)
    r = cli("apply", "-C", ws, f)
    assert r.exit_code == 1 and "was made for workspace" in r.output


@on_both_backends
def test_failed_create_is_tainted_and_replaced_next_time(ws, cli, monkeypatch):
    cli("compile", "-C", ws)
    cfg = ws / "govcloud.toml"
    plain = cfg.read_text()
    cfg.write_text(plain.replace('driver = "local"', 'driver = "local"\nfail_create = '
                                 '["server:*/edu-portal-internet/web-2"]'))
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 1 and "Apply incomplete" in r.output
    state = cli("state", "list", "-C", ws, "--output", "json").json()
    tainted = [x for x in state["resources"] if x["status"] == "tainted"]
    assert [t["address"] for t in tainted] == ["server:local/edu/edu-portal-internet/web-2"]
    broken_id = tainted[0]["cloud_id"]
    cfg.write_text(plain)
    plan = cli("plan", "-C", ws, "--output", "json").json()
    acts = {a["address"]: a for a in plan["actions"]}
    web2 = acts["server:local/edu/edu-portal-internet/web-2"]
    assert web2["action"] == "replace" and web2["reason"].startswith("tainted")
    # its data-disk attachment was skipped (depends on the server) and is created now
    assert acts["volume_attachment:local/edu/edu-portal-internet/web-2-data1"]["action"] == "create"
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    ids = [r[0] for r in cloud_rows(ws, "kind='server'")]
    assert broken_id not in ids and len(ids) == 11
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0


def test_object_deleted_outside_govcloud_is_recreated(applied_ws, cli):
    db = sqlite3.connect(applied_ws / ".govcloud" / "local-cloud" / "cloud.db")
    db.execute("DELETE FROM objects WHERE address LIKE 'floating_ip:%eip-2'")
    db.commit()
    plan = cli("plan", "-C", applied_ws, "--output", "json").json()
    changes = [a for a in plan["actions"] if a["action"] != "no-op"]
    assert [(a["action"], a["address"].rsplit("/", 1)[1]) for a in changes] == [("create", "eip-2")]
    assert "deleted outside govcloud" in changes[0]["reason"]


def test_decoy_object_without_our_tag_is_left_alone(applied_ws, cli):
    db = sqlite3.connect(applied_ws / ".govcloud" / "local-cloud" / "cloud.db")
    db.execute("INSERT INTO objects VALUES ('decoy','volume',NULL,'decoy','{\"size_gb\":1}','{}',"
               "'{\"govcloud.address\":\"volume:local/edu/edu-portal-internet/decoy\"}','ACTIVE',"
               "NULL,'volume:local/edu/edu-portal-internet/decoy',0)")
    db.commit()
    r = cli("plan", "-C", applied_ws, "--detailed-exitcode")
    assert r.exit_code == 0, r.output
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0
    assert cloud_rows(applied_ws, "id='decoy'")


def test_audit_records_changes_and_detects_tampering(applied_ws, cli):
    r = cli("audit", "verify", "-C", applied_ws)
    assert r.exit_code == 0 and "intact" in r.output
    entries = cli("audit", "list", "-C", applied_ws, "--last", "0", "--output", "json").json()["entries"]
    creates = [e for e in entries if e["action"] == "create"]
    assert len(creates) == 56
    web = next(e for e in creates if e["target"].endswith("/web-1"))
    assert web["approval"] == "BZ-2026-0012" and "@" in web["actor"]
    db = sqlite3.connect(applied_ws / ".govcloud" / "state.db")
    db.execute("UPDATE audit SET actor='mallory@x' WHERE seq=7")
    db.commit()
    r = cli("audit", "verify", "-C", applied_ws)
    assert r.exit_code == 1 and "entry 7" in r.output


def test_audit_detects_a_deleted_entry(applied_ws, cli):
    db = sqlite3.connect(applied_ws / ".govcloud" / "state.db")
    db.execute("DELETE FROM audit WHERE seq=3")
    db.commit()
    r = cli("audit", "verify", "-C", applied_ws, "--output", "json")
    assert r.exit_code == 1 and r.json()["first_bad"]["seq"] == 4


@on_both_backends
def test_state_list_show_and_unlock(applied_ws, cli):
    listing = cli("state", "list", "-C", applied_ws, "--output", "json").json()
    assert len(listing["resources"]) == 56 and listing["lock"] is None
    addr = "server:local/edu/edu-portal-internet/web-1"
    shown = cli("state", "show", addr, "-C", applied_ws, "--output", "json").json()
    assert shown["properties"]["flavor"] == "ecs.s2m4"
    r = cli("state", "show", "server:nope", "-C", applied_ws)
    assert r.exit_code == 1 and "not in state" in r.output
    r = cli("state", "unlock", "abc", "-C", applied_ws)
    assert r.exit_code == 1 and "not locked" in r.output


@on_both_backends
def test_second_apply_waits_for_the_lock_then_names_the_holder(applied_ws, cli):
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    store = open_state(Workspace.at(applied_ws))
    lock = store.acquire("apply", 1)
    try:
        r = cli("apply", "-C", applied_ws, "--auto-approve", "--lock-timeout", "0.5")
        assert r.exit_code == 1
        assert f"lock {lock.id} held by" in r.output and "for 'apply'" in r.output
        r = cli("state", "unlock", lock.id, "-C", applied_ws)
        assert r.exit_code == 1 and "still alive" in r.output
    finally:
        store.release(lock)
        store.close()
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0


def test_apply_without_a_terminal_needs_auto_approve(ws, cli):
    cli("compile", "-C", ws)
    r = cli("apply", "-C", ws)
    assert r.exit_code == 1 and "--auto-approve" in r.output
    assert cloud_rows(ws) == []


def test_errors_are_messages_not_tracebacks(tmp_path, cli):
    r = cli("plan", "-C", tmp_path)
    assert r.exit_code == 1 and "not a govcloud workspace" in r.output
    assert "Traceback" not in r.output
    r = cli("init", tmp_path / "w", "--profile", "bazong")
    assert r.exit_code == 1 and "did you mean 'bazhong'" in r.output


def test_plan_before_compile_says_what_to_do(ws, cli):
    r = cli("plan", "-C", ws)
    assert r.exit_code == 1 and "govcloud compile" in r.output


def test_plan_markdown_for_a_merge_request(applied_ws, cli):
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    cli("compile", "-C", applied_ws)
    r = cli("plan", "-C", applied_ws, "--output", "markdown")
    assert r.exit_code == 0
    assert "**3** to create, **1** to update" in r.output
    assert "| + | create | `server:local/edu/edu-portal-internet/web-3` | new in stack spec |" in r.output
    assert "`instances`: 2 → 3" in r.output


def test_apply_max_deletes_refuses_before_anything_is_touched(applied_ws, cli):
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["extranet"].pop("volumes"))
    cli("compile", "-C", applied_ws)
    before = sorted(cloud_rows(applied_ws))
    r = cli("apply", "-C", applied_ws, "--auto-approve", "--max-deletes", "0")
    assert r.exit_code == 1 and "destroys 1 objects, more than --max-deletes 0" in r.output
    assert "volume:local/edu/edu-portal-extranet/archive" in r.output
    assert sorted(cloud_rows(applied_ws)) == before
    r = cli("apply", "-C", applied_ws, "--auto-approve", "--max-deletes", "1")
    assert r.exit_code == 0, r.output
    assert len(cloud_rows(applied_ws)) == len(before) - 1
