"""State history: every write keeps a version (`state list --at SERIAL`), `state pull` /
`state push` (refusing a lower serial, another lineage, another workspace), on both backends."""
from __future__ import annotations

import json

import pytest

from tests.conftest import amend
from tests.pg_support import set_state_url

on_both = pytest.mark.parametrize("backend", ["sqlite", "postgres"])


@pytest.fixture
def hws(request, ws, cli, backend):
    if backend == "postgres":
        set_state_url(ws, request.getfixturevalue("pg_url"))
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    return ws


def _list(cli, ws, *args):
    r = cli("state", "list", "-C", ws, "--output", "json", *args)
    assert r.exit_code == 0, r.output
    return r.json()


@on_both
def test_every_write_keeps_a_version(hws, cli, backend):
    ws = hws
    full = _list(cli, ws)
    assert full["serial"] == 56 and len(full["resources"]) == 56
    amend(ws / "approvals" / "BZ-2026-0012.yaml",
          lambda d: d["zones"]["internet"]["servers"][0].update(count=1))
    assert cli("compile", "-C", ws).exit_code == 0
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    now = _list(cli, ws)
    assert len(now["resources"]) < 56 and now["serial"] > 56
    back = _list(cli, ws, "--at", "56")
    assert back["serial"] == 56 and back["resources"] == full["resources"]
    assert _list(cli, ws, "--at", "0")["resources"] == []
    assert len(_list(cli, ws, "--at", "10")["resources"]) == 10
    r = cli("state", "list", "-C", ws, "--at", str(now["serial"] + 5))
    assert r.exit_code == 1 and "no state serial" in r.output


@on_both
def test_pull_push_round_trip_and_refusals(hws, cli, backend, tmp_path):
    ws = hws
    r = cli("state", "pull", "-C", ws)
    doc = r.json()
    assert doc["format"] == "govcloud-state/1" and doc["serial"] == 56
    f = tmp_path / "state.json"
    f.write_text(json.dumps(doc))
    assert cli("state", "push", f, "-C", ws, "--output", "json").json()["changed"] is False
    # the same serial with other content: refused
    doc["resources"] = doc["resources"][1:]
    f.write_text(json.dumps(doc))
    r = cli("state", "push", f, "-C", ws)
    assert r.exit_code == 1 and "needs a higher serial" in r.output
    # another lineage: refused
    f.write_text(json.dumps({**doc, "serial": 99, "lineage": "another"}))
    r = cli("state", "push", f, "-C", ws)
    assert r.exit_code == 1 and "another state" in r.output
    # a lower serial: refused
    old = cli("state", "pull", "-C", ws, "--at", "40").json()
    f.write_text(json.dumps(old))
    r = cli("state", "push", f, "-C", ws)
    assert r.exit_code == 1 and "lower than" in r.output
    assert _list(cli, ws)["serial"] == 56                   # nothing changed by the refusals
    # a higher serial: accepted, audited, the replaced version kept
    f.write_text(json.dumps({**doc, "serial": 57}))
    r = cli("state", "push", f, "-C", ws, "--output", "json")
    assert r.exit_code == 0 and r.json()["changed"] is True
    assert len(_list(cli, ws)["resources"]) == 55
    assert len(_list(cli, ws, "--at", "56")["resources"]) == 56
    entries = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert entries[-1]["action"] == "state-push"
    # the cloud still has the object the pushed state forgot: the next plan adopts it
    plan = cli("plan", "-C", ws, "--output", "json").json()
    assert plan["summary"]["adopt"] == 1


def test_push_refuses_another_workspaces_state(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    doc = cli("state", "pull", "-C", ws).json()
    f = tmp_path / "s.json"
    f.write_text(json.dumps({**doc, "workspace_id": "ws-000000000000", "serial": 5}))
    r = cli("state", "push", f, "-C", ws)
    assert r.exit_code == 1 and "workspace" in r.output
