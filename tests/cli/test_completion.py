"""Shell completion: a workspace's system codes and approval numbers, read cheaply (file names,
`approval_no:` lines), from the workspace given by -C; `--install-completion SHELL` installs
that shell's script, whatever the current shell is."""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.cli import complete
from tests.cli.proc import govcloud


@pytest.fixture
def compiled(ws, cli) -> Path:
    assert cli("compile", "-C", ws).exit_code == 0
    return ws


def test_system_codes_from_the_stack_files(compiled):
    assert complete.system_codes(compiled) == [("edu-portal", "department edu"),
                                               ("social-insurance", "department hrss")]
    assert complete.system_codes(compiled, "so") == [("social-insurance", "department hrss")]
    assert [v for v, _ in complete.system_codes(compiled, "edu/")] == ["edu/edu-portal"]
    assert complete.system_codes(compiled.parent / "not-a-workspace") == []


def test_approval_numbers_without_parsing_or_validating(ws):
    assert complete.approval_numbers(ws) == [("BZ-2026-0012", "system edu-portal"),
                                             ("BZ-2026-0031", "system social-insurance")]
    (ws / "approvals" / "broken.yaml").write_text(
        "approval_no: 'BZ-2026-0099'   # not valid otherwise\nsystem:\n  code: x\nzones: [\n",
        encoding="utf-8")
    (ws / "approvals" / "notes.txt").write_text("approval_no: NOT-AN-APPROVAL\n", encoding="utf-8")
    assert complete.approval_numbers(ws, "BZ-2026-009") == [("BZ-2026-0099", "system x")]
    assert len(complete.approval_numbers(ws)) == 3


def test_the_workspace_is_the_commands_dir_else_the_roots_else_cwd(compiled):
    from typer._click.shell_completion import _resolve_context
    from typer.main import get_command

    from orchestrator.cli.app import app
    group = get_command(app)
    seen = [complete.workspace_of(_resolve_context(group, {}, "govcloud", args))
            for args in (["-C", str(compiled), "decommission"],
                         ["-C", "y", "decommission", "-C", "x"], ["decommission"])]
    assert seen == [compiled, Path("x"), Path(".")]


def zsh_complete(words: str, instruction: str = "zsh_complete", cwd=None):
    p = govcloud(env={"_GOVCLOUD_COMPLETE": instruction, "_TYPER_COMPLETE_ARGS": words}, cwd=cwd)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_zsh_completes_system_codes_end_to_end(compiled):
    out = zsh_complete(f"govcloud -C {compiled} decommission ")
    assert '"edu-portal":"department edu"' in out and '"social-insurance"' in out
    # typer's own order (what the installed script sends), -C after the command, from cwd
    assert '"edu-portal"' in zsh_complete(f"govcloud decommission -C {compiled} e", "complete_zsh")
    assert '"edu-portal"' in zsh_complete("govcloud decommission e", cwd=compiled)


def test_approval_numbers_complete_for_every_approval_argument(ws, cli):
    for command in ("confirm-delivery", "extend", "request-exit"):
        out = zsh_complete(f"govcloud -C {ws} {command} BZ-2026-00")
        assert '"BZ-2026-0012":"system edu-portal"' in out and '"BZ-2026-0031"' in out, out
    r = cli(env={"_GOVCLOUD_COMPLETE": "complete_bash", "COMP_WORDS": f"govcloud -C {ws} extend B",
                 "COMP_CWORD": "4"})
    assert r.output.split() == ["BZ-2026-0012", "BZ-2026-0031"]


def test_command_names_complete(tmp_path):
    out = zsh_complete("govcloud decomm")
    assert out.startswith("_arguments") and '"decommission":"Back up' in out


@pytest.mark.parametrize("shell,installed,marker", [
    ("zsh", ".zfunc/_govcloud", "compdef _govcloud_completion govcloud"),
    ("fish", ".config/fish/completions/govcloud.fish", "complete --command govcloud"),
    ("bash", ".bash_completions/govcloud.sh", "complete -o default -F _govcloud_completion"),
])
def test_install_completion_honours_the_named_shell(tmp_path, shell, installed, marker):
    # run from bash (what typer's detection would pick); the named shell must win
    p = govcloud("--install-completion", shell, env={"HOME": str(tmp_path), "SHELL": "/bin/bash"})
    assert p.returncode == 0 and f"{shell} completion installed" in p.stdout, p.stderr
    assert marker in (tmp_path / installed).read_text()
    others = {".zfunc", ".config", ".bash_completions"} - {installed.split("/")[0]}
    assert not any((tmp_path / o).exists() for o in others)


def test_show_completion_and_an_unknown_shell(tmp_path):
    p = govcloud("--show-completion", "zsh")
    assert p.returncode == 0 and "#compdef govcloud" in p.stdout
    p = govcloud("--install-completion", "tcsh", env={"HOME": str(tmp_path)})
    assert p.returncode == 1 and "'tcsh' is not one of bash, zsh" in p.stderr
    assert list(tmp_path.iterdir()) == []
