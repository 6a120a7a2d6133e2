"""stacks/example/ is the compiled form of the shipped examples and must stay current."""
import os
import re
import shutil
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


def test_example_stacks_are_current(tmp_path):
    fresh = _compile(tmp_path)
    if os.environ.get("GOVCLOUD_REGEN"):
        shutil.rmtree(EXAMPLE, ignore_errors=True)
        shutil.copytree(fresh, EXAMPLE)
    got = {p.relative_to(fresh): p.read_bytes() for p in fresh.rglob("*.yaml")}
    want = {p.relative_to(EXAMPLE): p.read_bytes() for p in EXAMPLE.rglob("*.yaml")}
    assert got == want, "stacks/example is stale: see stacks/README.md to regenerate"
