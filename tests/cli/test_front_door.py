"""The front door behaves like git and terraform: `-C DIR` before the command, `--version`, and
exit codes a pipeline can rely on (0 ok, 1 error, usage errors included, 2 only for
`plan --detailed-exitcode` with changes, 3 attention needed). Each usage error is checked
through typer's CliRunner (what the other tests use) and through a real process."""
from __future__ import annotations

import pytest

from orchestrator import __version__
from orchestrator.usecases.init import init_workspace
from tests.cli.proc import govcloud

USAGE_ERRORS = {
    "unknown option": (["validate", "--no-such-flag"], "No such option: --no-such-flag"),
    "unknown root option": (["--no-such-flag", "validate"], "No such option: --no-such-flag"),
    "missing argument": (["decommission"], "Missing argument"),
    "unknown command": (["valdate"], "No such command 'valdate'"),
    "bad value": (["apply", "--parallelism", "many"], "--parallelism"),
    "nested group": (["state", "show"], "Missing argument"),
    "no command": ([], "Usage: govcloud"),
}


@pytest.mark.parametrize("args,message", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_usage_error_exits_1_through_clirunner(cli, args, message):
    r = cli(*args)
    assert r.exit_code == 1 and message in r.output, r.output


@pytest.mark.parametrize("args,message", USAGE_ERRORS.values(), ids=USAGE_ERRORS.keys())
def test_a_usage_error_exits_1_in_a_real_process(args, message):
    p = govcloud(*args)
    assert p.returncode == 1, p.stderr
    assert message in p.stderr and "Usage: govcloud" in p.stderr and p.stdout == ""
    assert "Traceback" not in p.stderr


def test_version_option_and_command(cli):
    assert (cli("--version").exit_code, cli("--version").output) == (0, f"govcloud {__version__}\n")
    assert cli("version").output == f"govcloud {__version__}\n"
    p = govcloud("--version")
    assert (p.returncode, p.stdout) == (0, f"govcloud {__version__}\n")


def test_dir_before_the_command_is_every_commands_workspace(ws, cli, tmp_path):
    r = cli("-C", ws, "validate")
    assert r.exit_code == 0 and "Valid: 2 approvals" in r.output, r.output
    assert cli("--dir", ws, "compile").exit_code == 0
    assert cli("-C", ws, "state", "list").exit_code == 0          # a nested group's command
    assert (ws / "stacks" / "edu" / "edu-portal.yaml").is_file()
    p = govcloud("-C", ws, "plan", "--detailed-exitcode", cwd=tmp_path)
    assert p.returncode == 2 and "Plan: " in p.stdout, p.stderr


def test_dir_after_the_command_wins(ws, cli, tmp_path):
    nowhere = tmp_path / "nowhere"
    assert cli("-C", nowhere, "validate", "-C", ws).exit_code == 0
    r = cli("-C", ws, "validate", "-C", nowhere)
    assert r.exit_code == 1 and "nowhere is not a govcloud workspace" in r.output


def test_dir_reaches_commands_that_default_to_no_workspace(cli, tmp_path):
    # profile show reads the workspace's profile when -C names one
    init_workspace(tmp_path / "dt", "datong")
    assert "datong" in cli("-C", tmp_path / "dt", "profile", "show").output.splitlines()[0]
    assert "bazhong" in cli("profile", "show").output.splitlines()[0]


def test_exit_2_only_with_detailed_exitcode(ws, cli):
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("plan", "-C", ws)
    assert r.exit_code == 0 and "to create" in r.output
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 2
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    assert cli("plan", "-C", ws, "--detailed-exitcode").exit_code == 0


def test_exit_3_when_attention_is_needed(ws, cli):
    # 2026-03-06: BZ-2026-0012 (approved 03-02) is past 巴中's 3 working days to provision
    r = cli("status", "-C", ws, "--overdue", env={"GOVCLOUD_TODAY": "2026-03-06"})
    assert r.exit_code == 3 and "BZ-2026-0012" in r.output
    assert cli("status", "-C", ws, "--overdue", env={"GOVCLOUD_TODAY": "2026-03-02"}).exit_code == 0
    assert cli("calendar", "is-workday", "2026-10-01").exit_code == 3      # 国庆节
    assert cli("calendar", "is-workday", "2026-10-09").exit_code == 0


@pytest.mark.parametrize("args", [["plan", "--help"], ["-C", ".", "state", "--help"], ["--help"],
                                  ["--version"], ["valdate"], ["state", "lst"]])
def test_building_only_the_invoked_command_changes_no_output(args):
    # what main() runs (root.invoked_only) against the whole app (what CliRunner runs)
    from typer.testing import CliRunner

    from orchestrator.cli.app import app
    from orchestrator.cli.root import invoked_only
    whole, pruned = (CliRunner().invoke(a, args) for a in (app, invoked_only(app, args)))
    assert (pruned.exit_code, pruned.output) == (whole.exit_code, whole.output)


def test_only_the_invoked_command_is_built():
    from orchestrator.cli.app import app
    from orchestrator.cli.root import invoked_only

    def kept(*args):
        a = invoked_only(app, list(args))
        return len(a.registered_commands), len(a.registered_groups)
    whole = (len(app.registered_commands), len(app.registered_groups))
    assert kept("-C", "ws", "plan", "--help") == (1, 0) and kept("state", "list") == (0, 1)
    assert kept("--version") == (0, 0)
    assert kept("--help") == kept("valdate") == kept("--install-completion", "zsh") == whole
