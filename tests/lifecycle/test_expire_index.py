"""The expiry job's term index: a tick with nothing due and unchanged inputs reads one index
range and stops (``nothing_due``, no plan, no audit entry); a changed input, a term coming due
(its first warning) or its end brings the full run back, which acts as before."""
from __future__ import annotations

import datetime as dt

from tests.clock import at
from tests.policy.builders import approval, kinds, workspace

WINDOW = approval("BZ-W", approved_on="2026-06-01",
                  term={"kind": "window", "start": "2026-06-20", "end": "2026-09-17"},
                  servers=[{"name": "burst", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
                            "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}])


def expire(cli, ws, now: str) -> dict:
    r = cli("expire", "-C", ws, "--output", "json", env=at(now))
    assert r.exit_code == 0, r.output
    return r.json()


def audit_len(cli, ws) -> int:
    return cli("audit", "list", "-C", ws, "--last", "0", "--output", "json").json()["total"]


def test_the_index_skips_idle_ticks_and_never_a_due_one(tmp_path, cli, monkeypatch):
    from orchestrator.usecases.expire_index import due_on
    from orchestrator.workspace import Workspace
    ws = workspace(tmp_path, "bozhou", approval("BZ-P", approved_on="2026-06-01"), WINDOW)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    first = expire(cli, ws, "2026-07-01T08:00")
    assert first["nothing_due"] is False                 # no index yet: a full run builds it
    n = audit_len(cli, ws)
    second = expire(cli, ws, "2026-07-01T08:05")         # the scheduler's next tick
    assert second["nothing_due"] is True and second["notices"] == []
    assert audit_len(cli, ws) == n
    # An input changed (govcloud.toml edited) runs in full again, then idles.
    p = ws / "govcloud.toml"
    p.write_text(p.read_text() + "\n# touched\n")
    assert expire(cli, ws, "2026-07-01T08:10")["nothing_due"] is False
    assert expire(cli, ws, "2026-07-01T08:15")["nothing_due"] is True
    # A state change (a lifecycle event) does too; so does each day's first tick.
    from orchestrator.usecases.session import open_state
    with open_state(Workspace.at(ws)) as store:
        store.record_event("BZ-W", "note", "2026-07-01", {})
    assert expire(cli, ws, "2026-07-01T08:20")["nothing_due"] is False
    assert expire(cli, ws, "2026-07-02T08:00")["nothing_due"] is False
    assert expire(cli, ws, "2026-07-02T08:05")["nothing_due"] is True
    # The term's first warning day (conservative: before the real first warning) and every
    # tick after it run in full: the index says it is due.
    due = due_on(dt.date(2026, 9, 17), Workspace.at(ws).profile)
    assert dt.date(2026, 7, 2) < due < dt.date(2026, 9, 18)
    assert expire(cli, ws, f"{due.isoformat()}T08:00")["nothing_due"] is False
    assert expire(cli, ws, f"{due.isoformat()}T08:05")["nothing_due"] is False
    # ... and so is the day after the last day: the burst server is removed, the term expired.
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-09-18")
    end = expire(cli, ws, "2026-09-18T08:00")
    assert end["nothing_due"] is False and len(end["deletes"]) == 1 and end["failed"] == 0
    assert kinds(ws, "BZ-W").count("expired") == 1
    assert expire(cli, ws, "2026-09-18T08:05")["nothing_due"] is True   # nothing left to do


def test_the_first_warning_is_never_later_than_the_index(tmp_path, cli, monkeypatch):
    """Negative control of the margin: every warning the full job sends falls on or after
    the due date the index gave its term."""
    from orchestrator.usecases.expire_index import due_on
    from orchestrator.workspace import Workspace
    ws = workspace(tmp_path, "bozhou", WINDOW)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-06-20")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    due = due_on(dt.date(2026, 9, 17), Workspace.at(ws).profile)
    day, warned = dt.date(2026, 7, 1), []
    while day < dt.date(2026, 9, 18):
        rep = expire(cli, ws, f"{day.isoformat()}T08:00")
        if any(n["type"] == "expiry-warning" for n in rep["notices"]):
            warned.append(day)
        day += dt.timedelta(days=7)
    assert warned and min(warned) >= due, (warned, due)
