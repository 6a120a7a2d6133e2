"""stacks/example/ is the compiled form of the shipped examples and must stay current.

The test only compares; regenerating is its own command, so the test can always fail:
``.venv/bin/python -m tests.unit.test_example_stacks`` rewrites stacks/example/.
"""
import re
import shutil
import sys
import tempfile
from pathlib import Path

from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.usecases.init import init_workspace
from orchestrator.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "stacks" / "example"


def _compile(tmp_path) -> Path:
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong")
    cfg = ws / "govcloud.toml"
    cfg.write_text(re.sub(r'id = "ws-[0-9a-f]+"', 'id = "ws-000000000000"', cfg.read_text()))
    compile_workspace(Workspace.at(ws), today())
    return ws / "stacks"


def _files(root: Path) -> dict[Path, bytes]:
    return {p.relative_to(root): p.read_bytes() for p in root.rglob("*.yaml")}


def test_example_stacks_are_current(tmp_path):
    assert _files(EXAMPLE), "stacks/example is empty"
    assert _files(_compile(tmp_path)) == _files(EXAMPLE), \
        "stacks/example is stale: run `.venv/bin/python -m tests.unit.test_example_stacks`"


def test_a_stale_example_is_caught(tmp_path):
    # Negative control: the same comparison on a copy with one byte changed.
    copy = tmp_path / "copy"
    shutil.copytree(EXAMPLE, copy)
    spec = sorted(copy.rglob("*.yaml"))[-1]
    spec.write_bytes(spec.read_bytes() + b"#")
    assert _files(copy) != _files(EXAMPLE)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        fresh = _compile(Path(tmp))
        shutil.rmtree(EXAMPLE, ignore_errors=True)
        shutil.copytree(fresh, EXAMPLE)
    print(f"rewrote {EXAMPLE}", file=sys.stderr)
