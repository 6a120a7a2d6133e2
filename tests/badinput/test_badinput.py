"""The bad-input corpus: every broken input is refused with exit 1, named precisely, no traceback,
and nothing written.

Each ``cases/NNN-name/`` directory holds the broken file(s) laid over a fresh ``govcloud init``
workspace (``approvals/*.yaml``, ``govcloud.toml``, ``catalog/services.yaml``,
``catalog/profiles/NAME.yaml``) and ``expect.yaml``:

    command:       validate (default), compile, or "init --profile X" (run on a new directory)
    keep_examples: true to keep the example approvals when the case brings its own approvals
    file:          the file the error must name
    path:          the field path the message must name ("" for a problem of the whole file)
    message:       a substring of the expected message, printed after "<path>: "

To add a case: copy a neighbouring directory, break one thing, run the command by hand, and put
the file, path and an exact piece of the message into expect.yaml.
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from orchestrator.cli.app import app

CASES_DIR = Path(__file__).resolve().parent / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if p.is_dir())
KEYS = {"command", "keep_examples", "file", "path", "message"}
assert len(CASES) >= 40, f"the bad-input corpus shrank to {len(CASES)} cases"


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every file (with its bytes) and directory under root."""
    if not root.exists():
        return {}
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
            for p in sorted(root.rglob("*"))}


@pytest.mark.parametrize("case", CASES, ids=[p.name for p in CASES])
def test_bad_input_is_refused_precisely_and_changes_nothing(case: Path, tmp_path: Path):
    expect = yaml.safe_load((case / "expect.yaml").read_text(encoding="utf-8"))
    assert isinstance(expect, dict) and set(expect) <= KEYS, f"bad expect.yaml keys: {expect}"
    assert {"file", "path", "message"} <= set(expect) and expect["message"], "incomplete expect.yaml"
    command = shlex.split(expect.get("command", "validate"))

    runner = CliRunner()
    ws = tmp_path / "ws"
    r = runner.invoke(app, ["init", str(ws), "--no-signatures"])  # the cases test the inputs
    assert r.exit_code == 0, r.output
    files = [p for p in sorted(case.rglob("*")) if p.is_file() and p.name != "expect.yaml"]
    brings_approvals = any(p.relative_to(case).parts[0] == "approvals" for p in files)
    if brings_approvals and not expect.get("keep_examples"):
        for p in (ws / "approvals").glob("*.yaml"):
            p.unlink()
    for p in files:
        dst = ws / p.relative_to(case)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)  # bytes as they are: some cases are deliberately not UTF-8

    before = _tree(ws)
    new_dir = tmp_path / "new"
    if command[0] == "init":
        args = ["init", str(new_dir), *command[1:]]
    else:
        args = [command[0], "-C", str(ws), *command[1:]]
    r = runner.invoke(app, args)
    out = r.output

    assert r.exit_code == 1, out
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)
    assert "Traceback" not in out and "internal error" not in out, out
    assert "Error:" in out and "Nothing was changed." in out, out
    message, path, file = expect["message"], expect["path"], expect["file"]
    assert file in out.replace(message, ""), f"the output does not name {file}:\n{out}"
    lines = out.splitlines()
    if path:
        named = [ln[ln.index(f"{path}: "):] for ln in lines if f"{path}: " in ln]
        assert any(message in ln for ln in named), f"no '{path}: ...{message}...' line:\n{out}"
    else:
        assert any(message in ln for ln in lines), f"no line with {message!r}:\n{out}"

    assert _tree(ws) == before, "the failing command changed the workspace"
    assert not (ws / "stacks").exists(), "stack specs were written"
    assert not (ws / ".govcloud").exists(), "a state directory was created"
    assert not new_dir.exists(), "init created a directory"
