"""Log retention (巴中 第二十九条, 四川 第三十一条: 至少完整保存6个月; elsewhere govcloud's documented
6-month default): `audit prune --before D` refuses anything younger than the minimum, keeps the
chain verifiable from an `audit-pruned` anchor entry, and `audit export` writes JSON lines. On
SQLite and PostgreSQL. Tampering after a prune is still detected (negative controls)."""
from __future__ import annotations

import json
import sqlite3

import pytest

from tests.clock import at
from tests.policy.builders import workspace
from tests.pg_support import set_state_url

# The audit entries are stamped with the real clock (now: late 2026); the prunes move "today"
# (GOVCLOUD_NOW: a --now after the clock is refused) far enough ahead for them to leave the
# retention period.
LATER = at("2027-08-01")          # keep_from = 2027-02-01


@pytest.fixture(params=["sqlite", "postgres"])
def logged_ws(request, tmp_path, cli):
    ws = workspace(tmp_path, "bazhong")
    if request.param == "postgres":
        set_state_url(ws, request.getfixturevalue("pg_url"))
    for i in range(3):
        assert cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29",
                   "--summary", f"change {i}").exit_code == 0
    return ws


def verify(cli, ws):
    return cli("audit", "verify", "-C", ws, "--output", "json")


def test_prune_refuses_the_retention_period_and_keeps_the_chain(logged_ws, cli):
    ws = logged_ws
    before = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert len(before) == 3
    # 6 months before 2027-08-01 is 2027-02-01: 2027-02-02 reaches into it
    r = cli("audit", "prune", "-C", ws, "--before", "2027-02-02", env=LATER)
    assert r.exit_code == 1 and "第二十九条" in r.output and "at least 6 months" in r.output
    assert "--before 2027-02-01 or earlier" in r.output
    r = cli("audit", "prune", "-C", ws, "--before", "2027-01-01",
            env=at("2027-03-01"))
    assert r.exit_code == 1                      # in March 2027 nothing from 2026-12 may go
    dry = cli("audit", "prune", "-C", ws, "--before", "2027-02-01", "--dry-run", "--output", "json",
              env=LATER).json()
    assert dry["pruned"] == 3 and dry["dry_run"]
    assert len(cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]) == 3
    res = cli("audit", "prune", "-C", ws, "--before", "2027-02-01", "--output", "json",
              env=LATER).json()
    assert (res["pruned"], res["from_seq"], res["to_seq"], res["last_hash"]) == (3, 1, 3, before[-1]["hash"])
    after = cli("audit", "list", "-C", ws, "--output", "json").json()["entries"]
    assert [(e["seq"], e["action"]) for e in after] == [(4, "audit-pruned")]
    assert after[0]["prev_hash"] == before[-1]["hash"] and after[0]["detail"]["to_seq"] == 3
    v = verify(cli, ws)
    assert v.exit_code == 0 and v.json()["intact"], v.output
    # the log goes on from the anchor
    assert cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29").exit_code == 0
    assert verify(cli, ws).json()["intact"]


def test_entries_removed_outside_prune_are_still_detected(tmp_path, cli):
    ws = workspace(tmp_path, "sichuan")
    for i in range(4):
        cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29")
    assert cli("audit", "prune", "-C", ws, "--before", "2027-02-01", env=LATER).exit_code == 0
    assert verify(cli, ws).json()["intact"]
    for i in range(2):
        cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29")
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    with db:      # someone deletes the audit-pruned entry and the next one, and moves the anchor
        row = db.execute("SELECT seq, hash FROM audit WHERE seq = 6").fetchone()
        db.execute("DELETE FROM audit WHERE seq <= 6")
        db.execute("UPDATE meta SET value = ? WHERE key = 'audit_anchor'", (f"{row[0]}:{row[1]}",))
    db.close()
    v = verify(cli, ws)
    assert v.exit_code == 1 and "no audit-pruned entry records that prune" in v.json()["first_bad"]["reason"]


def test_profiles_without_a_retention_rule_use_the_documented_default(tmp_path, cli):
    ws = workspace(tmp_path, "chongqing")
    cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29")
    r = cli("audit", "prune", "-C", ws, "--before", "2027-02-02", env=LATER)
    assert r.exit_code == 1 and "网络安全法" in r.output and "govcloud default" in r.output
    assert cli("audit", "prune", "-C", ws, "--before", "2027-02-01", env=LATER).exit_code == 0


def test_export_is_json_lines_with_the_anchor(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong")
    for i in range(2):
        cli("platform-change", "-C", ws, "--date", "2026-10-09", "--notified", "2026-09-29",
            "--summary", f"调整 {i}")
    r = cli("audit", "export", "-C", ws)
    lines = [json.loads(x) for x in r.output.splitlines()]
    assert lines[0]["format"] == "govcloud-audit-export/1" and lines[0]["anchor"] is None
    assert [e["seq"] for e in lines[1:]] == [1, 2] and lines[2]["detail"]["summary"] == "调整 1"
    assert lines[0]["head"]["hash"] == lines[2]["hash"]
    cli("audit", "prune", "-C", ws, "--before", "2027-02-01", env=LATER)
    out = tmp_path / "audit.jsonl"
    assert cli("audit", "export", "-C", ws, "--to", out).exit_code == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["anchor"] == {"seq": 2, "hash": lines[1]["prev_hash"]}
    assert [e["action"] for e in lines[1:]] == ["audit-pruned"]
