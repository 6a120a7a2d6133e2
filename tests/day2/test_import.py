"""`govcloud import ADDRESS CLOUD_ID`: an object made outside govcloud taken under management
when it matches its approved spec; refused when it does not, or another workspace owns it."""
from __future__ import annotations

import sqlite3

from drivers.base import driver_class
from orchestrator.models.cloud import Request
from orchestrator.workspace import Workspace
from tests.conftest import amend

P = "local/edu/edu-portal-internet"
VOL = f"volume:{P}/logs"


def _hand_made(ws, props, owner=None) -> str:
    """A volume made in the department's project by hand (or by another workspace)."""
    w = Workspace.at(ws)
    mine = driver_class("local")("local", {}, w.root, w.config.workspace.id)
    project = mine.find(f"project:{P}")
    other = driver_class("local")("local", {}, w.root, owner or "ws-eeeeeeeeeeee")
    obj = other.create(Request(VOL, "volume", props["name"], props, {"project": project.cloud_id},
                               {"govcloud.workspace": other.owner, "govcloud.address": VOL}))
    if owner is None:   # no tags at all: made outside govcloud
        db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
        db.execute("UPDATE objects SET tags='{}', owner=NULL, address=NULL WHERE id=?", (obj.cloud_id,))
        db.commit()
        db.close()
    return obj.cloud_id


def _approve_logs_volume(ws, cli) -> dict:
    amend(ws / "approvals" / "BZ-2026-0012.yaml", lambda d: d["zones"]["internet"].setdefault(
        "volumes", []).append({"name": "logs", "type": "blk.ssd", "gb": 50}))
    assert cli("compile", "-C", ws).exit_code == 0
    # the approval raised the quota: apply just that (the volume itself will be imported)
    assert cli("apply", "-C", ws, "--auto-approve", "-target", f"quota:{P}/quota").exit_code == 0
    plan = cli("plan", "-C", ws, "--output", "json").json()
    (a,) = [a for a in plan["actions"] if a["address"] == VOL]
    assert a["action"] == "create"
    return a["desired"]["properties"]


def test_import_tags_and_records_a_matching_object(applied_ws, cli):
    ws = applied_ws
    props = _approve_logs_volume(ws, cli)
    cid = _hand_made(ws, props)
    r = cli("import", VOL, cid, "-C", ws, "--output", "json")
    assert r.exit_code == 0, r.output
    assert r.json() == {"format": "govcloud-import/1", "address": VOL, "cloud_id": cid}
    plan = cli("plan", "-C", ws, "--output", "json").json()
    (a,) = [a for a in plan["actions"] if a["address"] == VOL]
    assert a["action"] == "no-op" and a["prior"]["cloud_id"] == cid      # no second volume
    entries = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert entries[-1]["action"] == "import" and entries[-1]["detail"]["cloud_id"] == cid
    r = cli("import", VOL, cid, "-C", ws)
    assert r.exit_code == 1 and "managed already" in r.output


def test_import_refuses_a_mismatch_another_owner_and_unapproved(applied_ws, cli):
    ws = applied_ws
    props = _approve_logs_volume(ws, cli)
    wrong = _hand_made(ws, {**props, "size_gb": 40})
    r = cli("import", VOL, wrong, "-C", ws, "--output", "json")
    assert r.exit_code == 1 and "does not match" in r.json()["error"]
    assert any(i["field"] == "size_gb" for i in r.json()["issues"])
    db = sqlite3.connect(ws / ".govcloud" / "local-cloud" / "cloud.db")
    db.execute("DELETE FROM objects WHERE id=?", (wrong,))
    db.commit()
    db.close()
    theirs = _hand_made(ws, props, owner="ws-dddddddddddd")
    r = cli("import", VOL, theirs, "-C", ws)
    assert r.exit_code == 1 and "owned by workspace ws-dddddddddddd" in r.output
    r = cli("import", f"volume:{P}/not-approved", theirs, "-C", ws)
    assert r.exit_code == 1 and "no stack spec" in r.output
    assert VOL not in {x["address"] for x in cli("state", "list", "-C", ws, "--output",
                                                  "json").json()["resources"]}
