"""`govcloud show PLANFILE`: a saved plan read back for review, with and without the state."""
from __future__ import annotations

import json
import sqlite3


def test_show_reads_a_plan_without_state_and_checks_its_digest_with_it(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    plan_file = tmp_path / "p.json"
    assert cli("plan", "-C", ws, "-o", plan_file).exit_code == 0
    # No workspace: shown, but never claimed verified.
    r = cli("show", plan_file, "--output", "json")
    assert r.exit_code == 0, r.output
    d = r.json()
    assert d["format"] == "govcloud-show/1" and d["verified"] is None
    assert d["summary"]["create"] == 56 and len(d["actions"]) == 56
    # per approval (the domains belong to none): what each approval's review covers
    assert d["approvals"] == {"(none)": {"create": 2}, "BZ-2026-0012": {"create": 24},
                              "BZ-2026-0031": {"create": 30}}
    text = cli("show", plan_file).output
    assert "+ create  server:local/edu/edu-portal-internet/web-1" in text and "not checked" in text
    # With the workspace: verified.
    assert cli("show", plan_file, "-C", ws, "--output", "json").json()["verified"] is True
    # Negative control: one altered reason is caught, and nothing is written anywhere.
    doc = json.loads(plan_file.read_text())
    doc["actions"][5]["reason"] = "trust me"
    plan_file.write_text(json.dumps(doc))
    before = sqlite3.connect(ws / ".govcloud" / "state.db").execute("SELECT value FROM meta "
                                                                     "WHERE key='serial'").fetchone()
    d = cli("show", plan_file, "-C", ws, "--output", "json").json()
    assert d["verified"] is False and "ALTERED" in d["verification"]
    after = sqlite3.connect(ws / ".govcloud" / "state.db").execute("SELECT value FROM meta "
                                                                    "WHERE key='serial'").fetchone()
    assert before == after
    assert cli("apply", "-C", ws, plan_file).exit_code == 1   # apply agrees with show


def test_show_refuses_what_is_not_a_plan(tmp_path, cli):
    bad = tmp_path / "x.json"
    bad.write_text('{"format": "something-else"}')
    r = cli("show", bad, "--output", "json")
    assert r.exit_code == 1 and r.json()["format"] == "govcloud-error/1"
    r = cli("show", tmp_path / "missing.json")
    assert r.exit_code == 1 and "not found" in r.output


def test_show_of_a_stale_plan_says_apply_would_refuse(applied_ws, cli, tmp_path):
    from tests.conftest import amend
    amend(applied_ws / "approvals" / "BZ-2026-0012.yaml",
          lambda d: d["zones"]["internet"]["servers"][0].update(count=3))
    cli("compile", "-C", applied_ws)
    plan_file = tmp_path / "p.json"
    assert cli("plan", "-C", applied_ws, "-o", plan_file).exit_code == 0
    d = cli("show", plan_file, "-C", applied_ws, "--output", "json").json()
    assert d["verified"] and "stale" not in d["verification"]
    assert {a["address"] for a in d["actions"]} >= {"server:local/edu/edu-portal-internet/web-3"}
    assert d["approvals"]["BZ-2026-0012"] == {"create": 3, "update": 1}
    assert cli("apply", "-C", applied_ws, "--auto-approve").exit_code == 0
    d = cli("show", plan_file, "-C", applied_ws, "--output", "json").json()
    assert "stale" in d["verification"]
