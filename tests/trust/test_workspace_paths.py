"""A workspace path that is not what it should be is an error, never an empty set.

approvals/ as a dangling symlink (an unmounted share), a regular file, a symlink loop or a link
leading outside the workspace; a symlinked entry leading outside; stacks/ the same; a profile
name that is a path. validate, compile, plan and apply all refuse, and nothing in the state or
the embedded cloud changes. Negative control: a symlink to a directory inside the workspace
works like the directory.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import cloud_rows

COMMANDS = [["validate"], ["compile"], ["plan"], ["apply", "--auto-approve"]]


def _applied(ws: Path, cli) -> list:
    assert cli("compile", "-C", ws).exit_code == 0
    r = cli("apply", "-C", ws, "--auto-approve")
    assert r.exit_code == 0, r.output
    return sorted(cloud_rows(ws))


def _dangling(ws, tmp_path):
    shutil.rmtree(ws / "approvals")
    os.symlink(tmp_path / "unmounted-share", ws / "approvals")


def _regular_file(ws, tmp_path):
    shutil.rmtree(ws / "approvals")
    (ws / "approvals").write_text("not a directory\n")


def _loop(ws, tmp_path):
    shutil.rmtree(ws / "approvals")
    os.symlink(ws / "approvals2", ws / "approvals")
    os.symlink(ws / "approvals", ws / "approvals2")


def _outside(ws, tmp_path):
    outside = tmp_path / "elsewhere"
    shutil.move(ws / "approvals", outside)
    os.symlink(outside, ws / "approvals")


def _missing(ws, tmp_path):
    shutil.rmtree(ws / "approvals")


BROKEN = {"dangling": (_dangling, "does not exist"), "regular-file": (_regular_file, "not a directory"),
          "loop": (_loop, "cannot be followed"), "outside": (_outside, "outside the workspace"),
          "missing": (_missing, "missing")}


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("breakage", sorted(BROKEN))
def test_broken_approvals_dir_is_an_error_and_changes_nothing(ws, cli, tmp_path, breakage, command):
    before = _applied(ws, cli)
    specs = sorted(p.relative_to(ws) for p in (ws / "stacks").rglob("*.yaml"))
    BROKEN[breakage][0](ws, tmp_path)
    r = cli(*command, "-C", ws)
    assert r.exit_code == 1, r.output
    assert "approvals/" in r.output and BROKEN[breakage][1] in r.output, r.output
    assert "Valid: 0" not in r.output and "internal error" not in r.output
    assert sorted(cloud_rows(ws)) == before
    assert sorted(p.relative_to(ws) for p in (ws / "stacks").rglob("*.yaml")) == specs


def test_approval_entry_linking_outside_is_refused(ws, cli, tmp_path):
    outside = tmp_path / "x.yaml"
    first = sorted((ws / "approvals").glob("*.yaml"))[0]
    shutil.copyfile(first, outside)
    first.unlink()
    os.symlink(outside, first)
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1 and "outside the workspace" in r.output and first.name in r.output, r.output


def test_stacks_linking_outside_or_a_file_is_refused(ws, cli, tmp_path):
    (ws / "stacks").write_text("x")
    r = cli("compile", "-C", ws)
    assert r.exit_code == 1 and "stacks/" in r.output and "not a directory" in r.output, r.output
    (ws / "stacks").unlink()
    outside = tmp_path / "out-stacks"
    outside.mkdir()
    os.symlink(outside, ws / "stacks")
    r = cli("compile", "-C", ws)
    assert r.exit_code == 1 and "outside the workspace" in r.output, r.output
    assert list(outside.iterdir()) == [], "compile wrote outside the workspace"


def test_symlinked_stack_dept_leading_outside_is_refused(ws, cli, tmp_path):
    assert cli("compile", "-C", ws).exit_code == 0
    dept = next(p for p in (ws / "stacks").iterdir() if p.is_dir())
    outside = tmp_path / "dept"
    shutil.move(dept, outside)
    os.symlink(outside, dept)
    r = cli("plan", "-C", ws)
    assert r.exit_code == 1 and "outside the workspace" in r.output, r.output


def test_profile_name_cannot_be_a_path(ws, cli, tmp_path):
    (tmp_path / "x.yaml").write_text("code: x\n")
    cfg = ws / "govcloud.toml"
    text = cfg.read_text()
    cfg.write_text(text.replace('profile = "bazhong"', 'profile = "../../x"'))
    assert 'profile = "../../x"' in cfg.read_text()
    r = cli("validate", "-C", ws)
    assert r.exit_code == 1, r.output
    assert "govcloud.toml" in r.output and "workspace.profile" in r.output
    assert "not a profile name" in r.output, r.output


def test_negative_control_link_inside_the_workspace_works(ws, cli):
    n = len(list((ws / "approvals").glob("*.yaml")))
    shutil.move(ws / "approvals", ws / "approvals-real")
    os.symlink(ws / "approvals-real", ws / "approvals")
    r = cli("validate", "-C", ws)
    assert r.exit_code == 0 and f"{n} approval" in r.output, r.output
