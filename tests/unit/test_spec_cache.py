"""The spec cache speeds up plan but never hides a change to a spec file."""
import json

from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.workspace import Workspace


def test_cache_matches_the_yaml_and_an_edited_file_is_reparsed(ws):
    w = Workspace.at(ws)
    compile_workspace(w, today())
    cache = json.loads(w.spec_cache_path.read_text())
    assert set(cache) == {"stacks/edu/edu-portal.yaml", "stacks/hrss/social-insurance.yaml"}
    from_cache = {s.stack: s for s in w.load_specs()}
    w.spec_cache_path.unlink()
    from_yaml = {s.stack: s for s in w.load_specs()}
    assert from_cache == from_yaml
    # a spec edited by hand (the cache still holds the old data) is read from the file
    w.spec_cache_path.write_text(json.dumps(cache))
    path = ws / "stacks" / "edu" / "edu-portal.yaml"
    path.write_text(path.read_text().replace("name: 教育服务门户", "name: 改过的名字", 1))
    edited = {s.stack: s for s in w.load_specs()}["edu/edu-portal"]
    assert edited.system["name"] == "改过的名字"
