"""Specs read from the spec cache are built without validating their resources again; they must
be exactly what validation would give, and anything not shaped as compile writes it is
validated in full."""
import copy
import json

from orchestrator.models.spec import StackSpec
from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.workspace import Workspace, _from_cache


def _cache(ws):
    w = Workspace.at(ws)
    compile_workspace(w, today())
    return json.loads(w.spec_cache_path.read_text(encoding="utf-8"))


def test_trusted_specs_equal_validated_ones(ws):
    for rel, entry in _cache(ws).items():
        data = entry["data"]
        fast, slow = _from_cache(data), StackSpec.model_validate(data)
        assert fast is not None, rel
        assert fast == slow
        assert fast.model_dump(mode="json") == slow.model_dump(mode="json") == data
        for a, b in zip(fast.resources, slow.resources):
            assert list(a.__dict__.items()) == list(b.__dict__.items())
            assert a.__pydantic_fields_set__ == b.__pydantic_fields_set__
            assert a.model_dump_json() == b.model_dump_json()
            moved = a.model_copy(update={"properties": {"x": 1}})
            assert moved.properties == {"x": 1} and a.properties == b.properties


def test_anything_else_is_validated(ws):
    data = next(iter(_cache(ws).values()))["data"]
    broken = []
    for change in (lambda r: r.update(extra=1), lambda r: r.pop("kind"),
                   lambda r: r.update(name=5), lambda r: r.update(not_before="2026-13-01"),
                   lambda r: r.update(refs={"project": 3}), lambda r: r.update(windows=[])):
        d = copy.deepcopy(data)
        change(d["resources"][0])
        broken.append(_from_cache(d))
    assert broken == [None] * len(broken)
    assert _from_cache({**data, "resources": "x"}) is None
