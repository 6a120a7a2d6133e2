"""`plan --refresh-only` / `apply --refresh-only`: drift the approval allows goes into the
state; anything else is a violation, shown and never accepted; the cloud is never changed."""
from __future__ import annotations

import json
import sqlite3

from tests.conftest import cloud_rows

P = "local/edu/edu-portal-internet"


def _cloud_edit(ws, address, **props):
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    (raw,) = db.execute("SELECT props FROM objects WHERE address=?", (address,)).fetchone()
    db.execute("UPDATE objects SET props=? WHERE address=?",
               (json.dumps({**json.loads(raw), **props}), address))
    db.commit()
    db.close()


def _state_props(ws, address):
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    try:
        return json.loads(db.execute("SELECT properties FROM resources WHERE address=?",
                                     (address,)).fetchone()[0])
    finally:
        db.close()


def test_refresh_only_accepts_allowed_drift_and_reports_violations(applied_ws, cli):
    ws = applied_ws
    r = cli("plan", "-C", ws, "--refresh-only", "--output", "json")
    assert r.exit_code == 0 and r.json()["accepted"] == [] and r.json()["violations"] == []
    quota = f"quota:{P}/quota"
    server = f"server:{P}/web-1"
    _cloud_edit(ws, quota, cores=2)                        # below the approved 4: within it
    _cloud_edit(ws, server, flavor="ecs.s8m16", vcpus=8)   # not what was approved
    cloud_before = cloud_rows(ws)
    r = cli("plan", "-C", ws, "--refresh-only", "--output", "json")
    assert r.exit_code == 3, r.output                      # violations: attention needed
    d = r.json()
    assert d["format"] == "govcloud-refresh/1" and d["applied"] is False
    assert [a["address"] for a in d["accepted"]] == [quota]
    assert [v["address"] for v in d["violations"]] == [server]
    assert d["violations"][0]["changes"]["flavor"] == {"state": "ecs.s2m4", "cloud": "ecs.s8m16",
                                                       "approved": "ecs.s2m4"}
    assert _state_props(ws, quota)["cores"] == 4           # plan wrote nothing
    r = cli("apply", "-C", ws, "--refresh-only", "--auto-approve", "--output", "json")
    assert r.exit_code == 3
    assert r.json()["written"] == 1 and r.json()["applied"] is True
    assert _state_props(ws, quota)["cores"] == 2           # accepted into the state
    assert _state_props(ws, server)["flavor"] == "ecs.s2m4"  # the violation was not
    assert cloud_rows(ws) == cloud_before                  # the cloud never changed
    entries = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert [e["target"] for e in entries if e["action"] == "refresh"] == [quota]
    # a normal plan still puts both back as approved
    plan = cli("plan", "-C", ws, "--output", "json").json()
    assert {a["address"] for a in plan["actions"] if a["action"] != "no-op"} == {quota, server}


def test_a_stale_state_record_is_accepted_and_a_deleted_object_is_a_violation(applied_ws, cli):
    ws = applied_ws
    vol = f"volume:{P}/web-1-data1"
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    db.execute("UPDATE resources SET properties=? WHERE address=?",
               (json.dumps({**_state_props(ws, vol), "size_gb": 50}), vol))
    db.commit()
    db.close()
    cdb = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    cdb.execute("DELETE FROM objects WHERE address=?", (f"floating_ip:{P}/eip-1",))
    cdb.commit()
    cdb.close()
    d = cli("plan", "-C", ws, "--refresh-only", "--output", "json").json()
    assert [a["address"] for a in d["accepted"]] == [vol]
    assert "50 -> 100" in d["accepted"][0]["reason"]
    assert [v["address"] for v in d["violations"]] == [f"floating_ip:{P}/eip-1"]
    assert cli("apply", "-C", ws, "--refresh-only", "-C", ws, "--auto-approve").exit_code == 3
    assert _state_props(ws, vol)["size_gb"] == 100


def test_refresh_only_takes_no_replace_or_target(applied_ws, cli):
    r = cli("plan", "-C", applied_ws, "--refresh-only", "-target", f"server:{P}/web-1")
    assert r.exit_code == 1 and "--refresh-only takes no" in r.output
