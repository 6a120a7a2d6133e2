"""`govcloud inventory`: the cloud's objects per system, drift and unowned objects marked."""
from __future__ import annotations

import json
import sqlite3
import uuid

P = "local/edu/edu-portal-internet"


def test_inventory_marks_drift_missing_and_unowned(applied_ws, cli):
    ws = applied_ws
    d = cli("inventory", "-C", ws, "--system", "edu-portal", "--output", "json").json()
    assert d["format"] == "govcloud-inventory/1" and d["unreadable"] == []
    (s,) = d["systems"]
    assert s["stack"] == "edu/edu-portal" and s["unowned"] == []
    assert {o["mark"] for o in s["objects"]} == {"ok"}        # the control: all as approved
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    srv = f"server:{P}/web-1"
    (props, project_id) = db.execute("SELECT props, project_id FROM objects WHERE address=?",
                                     (srv,)).fetchone()
    db.execute("UPDATE objects SET props=? WHERE address=?",
               (json.dumps({**json.loads(props), "flavor": "ecs.s8m16"}), srv))
    db.execute("DELETE FROM objects WHERE address=?", (f"floating_ip:{P}/eip-1",))
    stray = uuid.uuid4().hex   # made in the department's project outside govcloud
    db.execute("INSERT INTO objects VALUES (?,?,?,?,?,?,?,?,?,?,?)",
               (stray, "volume", project_id, "hand-made", json.dumps({"name": "hand-made",
                "size_gb": 5, "volume_type": "ssd"}), json.dumps({"project": project_id}),
                "{}", "ACTIVE", None, None, 0.0))
    db.commit()
    db.close()
    r = cli("inventory", "-C", ws, "--output", "json")
    (s,) = [x for x in r.json()["systems"] if x["stack"] == "edu/edu-portal"]
    marks = {o["address"]: o for o in s["objects"]}
    assert marks[srv]["mark"] == "drift"
    assert marks[srv]["changes"]["flavor"] == {"cloud": "ecs.s8m16", "approved": "ecs.s2m4"}
    assert marks[f"floating_ip:{P}/eip-1"]["mark"] == "missing"
    (u,) = s["unowned"]
    assert u["cloud_id"] == stray and u["project"] == "local/edu/edu-portal-internet"
    assert "no ownership tag" in u["why"]
    text = cli("inventory", "-C", ws).output
    assert "UNOWNED" in text and "drift" in text


def test_a_released_object_shows_as_unowned_with_why(applied_ws, cli, tmp_path):
    ws = applied_ws
    from tests.conftest import amend
    # drop web-2's data disk from the approval, then state rm it: kept, unowned, explained
    amend(ws / "approvals" / "BZ-2026-0012.yaml",
              lambda d: d["zones"]["internet"]["servers"][0].update(count=1))
    assert cli("compile", "-C", ws).exit_code == 0
    addr = f"volume:{P}/web-2-data1"
    assert cli("state", "rm", f"volume_attachment:{P}/web-2-data1", "-C", ws).exit_code == 0
    assert cli("state", "rm", addr, "-C", ws).exit_code == 0
    s = next(x for x in cli("inventory", "-C", ws, "--output", "json").json()["systems"]
             if x["stack"] == "edu/edu-portal")
    assert any(u["kind"] == "volume" and "state rm" in u["why"] for u in s["unowned"])
