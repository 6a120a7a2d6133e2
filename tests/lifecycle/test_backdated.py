"""A --now before today (China time) on a command that records events writes the past: refused
unless the run says it is a back-dated correction (--backdated REASON, written to every audit
entry of the run). A --now after the clock writes the future: always refused (tests and replays
move the clock itself, GOVCLOUD_NOW / GOVCLOUD_TODAY). Read-only commands and dry runs take any
--now."""
from __future__ import annotations

import sqlite3

import pytest

from tests.lifecycle.test_windows_e2e import PERMANENT, WINDOW
from tests.policy.builders import events, workspace


@pytest.fixture
def ws(tmp_path, cli, monkeypatch):
    ws = workspace(tmp_path, "bozhou", PERMANENT, WINDOW)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-07-20")          # the clock: today is 07-20
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    return ws


def audit(cli, ws):
    return cli("audit", "list", "-C", ws, "--last", "0", "--output", "json").json()["entries"]


# Every command that records events or audit entries and takes --now.
RECORDING = [
    ["apply", "--auto-approve"], ["expire"], ["notify"], ["ci", "apply"],
    ["decommission", "edu-portal", "--auto-approve"], ["backup", "destroy", "--due", "--auto-approve"],
    ["extend", "BZ-W", "--until", "2026-08-20"], ["state", "rm", "server:x"],
    ["audit", "prune", "--before", "2026-01-01"], ["rightsize", "--urge", "edu/edu-portal"],
]


@pytest.mark.parametrize("args", RECORDING)
def test_a_past_now_on_a_recording_command_is_refused(ws, cli, args):
    before = (events(ws, "BZ-W"), len(audit(cli, ws)))
    r = cli(*args, "-C", ws, "--now", "2026-07-19T23:00")
    assert r.exit_code == 1, r.output
    assert "--now 2026-07-19T23:00 is before today (2026-07-20, China time)" in r.output
    assert "--backdated REASON" in r.output and "Nothing was changed." in r.output
    assert (events(ws, "BZ-W"), len(audit(cli, ws))) == before


def test_a_backdated_correction_is_accepted_and_audited(ws, cli):
    n = len(audit(cli, ws))
    r = cli("extend", "BZ-W", "-C", ws, "--until", "2026-08-20", "--now", "2026-07-09",
            "--backdated", "request of 07-09 recorded late")
    assert r.exit_code == 0, r.output
    new = audit(cli, ws)[n:]
    assert new and all(e["detail"]["backdated"] == "request of 07-09 recorded late" for e in new), new
    assert "extend" in [e["action"] for e in new]
    # the reason lasts one command; today's --now needs no flag
    n = len(audit(cli, ws))
    r = cli("extend", "BZ-W", "-C", ws, "--until", "2026-08-25", "--now", "2026-07-20T08:00")
    assert r.exit_code == 0, r.output
    new = audit(cli, ws)[n:]
    assert new and all("backdated" not in e["detail"] for e in new)
    r = cli("expire", "-C", ws, "--now", "2026-07-10", "--backdated", "  ")
    assert r.exit_code == 1 and "--backdated needs a reason" in r.output


@pytest.mark.parametrize("args", [["plan"], ["status"], ["expire", "--dry-run"], ["notify", "--dry-run"]])
def test_read_only_commands_and_dry_runs_take_any_now(ws, cli, args):
    r = cli(*args, "-C", ws, "--now", "2026-06-25")
    assert r.exit_code == 0, r.output


def dump(ws) -> list[str]:
    """Everything the workspace holds: the state (records, events, audit, locks) and the cloud."""
    out = []
    for db in (ws / ".govcloud" / "state.db", ws / ".govcloud" / "local-cloud" / "cloud.db"):
        con = sqlite3.connect(db)
        try:
            out += list(con.iterdump())
        finally:
            con.close()
    return out


@pytest.mark.parametrize("args", RECORDING)
def test_a_future_now_on_a_recording_command_is_refused(ws, cli, args):
    before = dump(ws)
    r = cli(*args, "-C", ws, "--now", "2026-07-21", "--output", "json")
    assert r.exit_code == 1, r.output
    err = r.json()
    assert err["issues"][0]["field"] == "--now" and err["changed_nothing"], err
    assert "--now 2026-07-21 is after the clock" in err["error"]
    assert "GOVCLOUD_NOW" in err["fix"] and "drop --now" in err["fix"]
    assert dump(ws) == before


@pytest.mark.parametrize("args", [["expire"], ["audit", "prune", "--before", "2026-01-01"]])
def test_a_backdated_reason_does_not_allow_the_future(ws, cli, args):
    before = dump(ws)
    r = cli(*args, "-C", ws, "--now", "2026-08-20T00:05", "--backdated", "late")
    assert r.exit_code == 1 and "is after the clock" in r.output and "Nothing was changed." in r.output
    assert dump(ws) == before


def test_a_date_time_may_run_ahead_of_the_clock_by_a_few_minutes(ws, cli, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-07-20T10:00")      # a clock to the minute
    r = cli("expire", "-C", ws, "--now", "2026-07-20T10:05")    # clock.SKEW: 5 minutes
    assert r.exit_code == 0, r.output
    before = dump(ws)
    r = cli("expire", "-C", ws, "--now", "2026-07-20T10:06")
    assert r.exit_code == 1 and "--now 2026-07-20T10:06 is after the clock (latest " \
        "2026-07-20T10:05+08:00, China time)" in r.output, r.output
    assert dump(ws) == before


def test_today_as_a_date_is_accepted(ws, cli, monkeypatch):
    monkeypatch.setenv("GOVCLOUD_NOW", "2026-07-20T10:00")
    r = cli("expire", "-C", ws, "--now", "2026-07-20")        # the window ended on 07-19
    assert r.exit_code == 0, r.output
    assert ("expired", "2026-07-20") in [(e["kind"], e["on"]) for e in events(ws, "BZ-W")]
    # a clock known to the day (GOVCLOUD_TODAY, the fixture's) takes any time of that day
    monkeypatch.delenv("GOVCLOUD_NOW")
    assert cli("expire", "-C", ws, "--now", "2026-07-20T23:59").exit_code == 0


@pytest.mark.parametrize("args", [
    ["plan"], ["status"], ["backup", "list"], ["inventory"], ["expire", "--dry-run"],
    ["notify", "--dry-run"], ["decommission", "edu-portal", "--dry-run"],
    ["audit", "prune", "--before", "2026-01-01", "--dry-run"],
])
def test_read_only_commands_and_dry_runs_take_a_future_now(ws, cli, args):
    before = dump(ws)
    r = cli(*args, "-C", ws, "--now", "2026-12-01")          # the clock says 2026-07-20
    assert r.exit_code == 0, r.output
    assert dump(ws) == before
