"""A --now before today (China time) on a command that records events writes the past: refused
unless the run says it is a back-dated correction (--backdated REASON, written to every audit
entry of the run). Read-only commands and dry runs take any --now."""
from __future__ import annotations

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


@pytest.mark.parametrize("args", [
    ["apply", "--auto-approve"], ["expire"], ["notify"], ["ci", "apply"],
    ["decommission", "edu-portal", "--auto-approve"], ["backup", "destroy", "--due", "--auto-approve"],
    ["extend", "BZ-W", "--until", "2026-08-20"],
])
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
