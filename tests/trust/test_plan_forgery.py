"""Plans cannot be forged: the key and the state are private files, and a plan re-signed with
the stolen key still cannot do what no stack spec allows (SSH opened to 0.0.0.0/0, a quota
raised, an object the specs still want deleted)."""
from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest

from orchestrator import planfile
from orchestrator.models.plan import Action, Plan
from tests.conftest import cloud_rows

SSH_WORLD = {"direction": "ingress", "protocol": "tcp", "port_min": 22, "port_max": 22,
             "remote_ip_prefix": "0.0.0.0/0"}


def mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_state_files_and_plans_are_0600_and_fixed_on_existing_files(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("plan", "-C", ws, "-o", tmp_path / "p.json").exit_code == 0
    db = ws / ".govcloud" / "state.db"
    for p in (db, db.with_name("state.db.lock"), tmp_path / "p.json"):
        assert mode(p) == 0o600, f"{p.name} is {oct(mode(p))}"
    for p in db.parent.glob("state.db-*"):
        assert mode(p) == 0o600, f"{p.name} is {oct(mode(p))}"
    os.chmod(db, 0o644)                    # as an older govcloud left it
    assert mode(db) == 0o644               # negative control: the check sees a wrong mode
    assert cli("plan", "-C", ws).exit_code == 0
    assert mode(db) == 0o600


def _forge(ws: Path, src: Path, dst: Path, edit) -> None:
    """Edit a saved plan and sign it again with the key taken from the state database."""
    data = json.loads(src.read_text(encoding="utf-8"))
    edit(data["actions"])
    con = sqlite3.connect(ws / ".govcloud" / "state.db")
    key = con.execute("SELECT value FROM meta WHERE key='plan_key'").fetchone()[0]
    con.close()
    p = Plan(data["workspace_id"], data["state"]["lineage"], data["state"]["serial"],
             data["inputs_digest"], [Action.from_dict(a) for a in data["actions"]], "", "",
             data.get("approvals") or {}, data.get("review"))
    data["summary"] = p.summary
    data.pop("provider_signature", None)   # an attacker without the provider key drops it
    data["digest"] = planfile.sign(p, key)
    dst.write_text(json.dumps(data), encoding="utf-8")


def _open_ssh(actions):
    sg = next(a for a in actions if a["kind"] == "security_group" and a["desired"])
    sg["desired"]["properties"]["rules"].append(SSH_WORLD)


def _raise_quota(actions):
    q = next(a for a in actions if a["kind"] == "quota" and a["desired"])
    field = next(k for k, v in q["desired"]["properties"].items() if type(v) is int)
    q["desired"]["properties"][field] *= 100


def _rename_server(actions):
    s = next(a for a in actions if a["kind"] == "server" and a["desired"])
    s["desired"]["properties"]["flavor"] = "ecs.huge"


@pytest.mark.parametrize("edit", [_open_ssh, _raise_quota, _rename_server])
def test_resigned_plan_doing_more_than_the_specs_is_refused(ws, cli, tmp_path, edit):
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("plan", "-C", ws, "-o", tmp_path / "p.json").exit_code == 0
    _forge(ws, tmp_path / "p.json", tmp_path / "forged.json", edit)
    r = cli("apply", "-C", ws, tmp_path / "forged.json")
    assert r.exit_code == 1, r.output
    assert "no stack spec allows" in r.output and "Nothing was changed" in r.output, r.output
    assert cloud_rows(ws) == [], "the forged plan touched the cloud"


def test_negative_control_an_honest_resigned_plan_applies(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("plan", "-C", ws, "-o", tmp_path / "p.json").exit_code == 0
    _forge(ws, tmp_path / "p.json", tmp_path / "same.json", lambda actions: None)
    r = cli("apply", "-C", ws, tmp_path / "same.json")
    assert r.exit_code == 0, r.output
    assert len(cloud_rows(ws)) > 0


def test_delete_of_a_wanted_object_is_refused(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    before = sorted(cloud_rows(ws))
    assert cli("plan", "-C", ws, "-o", tmp_path / "p.json").exit_code == 0
    data = json.loads((tmp_path / "p.json").read_text())

    def delete_first(actions):
        a = next(a for a in actions if a["kind"] == "server")
        a["action"], a["cause"], a["desired"] = "delete", "removed-from-spec", None
    _forge(ws, tmp_path / "p.json", tmp_path / "forged.json", delete_first)
    assert data["summary"]["delete"] == 0
    r = cli("apply", "-C", ws, tmp_path / "forged.json")
    assert r.exit_code == 1 and "still wants" in r.output, r.output
    assert sorted(cloud_rows(ws)) == before
