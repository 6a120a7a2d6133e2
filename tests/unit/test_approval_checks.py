"""The per-approval check cache (usecases/approval_checks.py) and the text-checked parse cache
skip work for unchanged approvals only: an edited approval, a changed catalog or another code
digest checks again, and every failure is still reported."""
import json

import pytest

from orchestrator.core import validate as core_validate
from orchestrator.errors import GovcloudError, InputError
from orchestrator.clock import today
from orchestrator.models import base
from orchestrator.usecases.compile import compile_workspace
from orchestrator.workspace import Workspace


@pytest.fixture
def own_checks(monkeypatch):
    """The approval numbers check_approval was called for."""
    seen = []
    real = core_validate.check_approval

    def counting(a, *args, **kw):
        seen.append(a.approval_no)
        return real(a, *args, **kw)
    monkeypatch.setattr(core_validate, "check_approval", counting)
    return seen


def _touch(ws, old: str, new: str, name: str = "BZ-2026-0012.yaml"):
    p = ws / "approvals" / name
    text = p.read_text(encoding="utf-8")
    assert old in text
    p.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_only_the_edited_approval_is_checked_again(ws, own_checks):
    compile_workspace(Workspace.at(ws), today())
    assert sorted(own_checks) == ["BZ-2026-0012", "BZ-2026-0031"]
    own_checks.clear()
    _touch(ws, "gb: 40}", "gb: 60}")
    compile_workspace(Workspace.at(ws), today())
    assert own_checks == ["BZ-2026-0012"]


def test_an_edit_that_breaks_the_approval_is_reported(ws):
    compile_workspace(Workspace.at(ws), today())
    _touch(ws, "{type: blk.essd, gb: 500}", "{type: blk.essd, gb: 20000}")
    with pytest.raises(InputError) as exc:
        compile_workspace(Workspace.at(ws), today())
    assert "20000 GB exceeds the 16384 GB maximum of blk.essd" in str(exc.value.issues)


def test_a_catalog_change_checks_every_approval_again(ws, own_checks):
    compile_workspace(Workspace.at(ws), today())
    catalog = ws / "catalog" / "services.yaml"
    text = catalog.read_text(encoding="utf-8")
    assert "max_gb: 16384" in text
    catalog.write_text(text.replace("max_gb: 16384", "max_gb: 400"), encoding="utf-8")
    own_checks.clear()
    with pytest.raises(GovcloudError) as exc:   # the unchanged approvals' 500 GB disks
        compile_workspace(Workspace.at(ws), today())
    assert {(i.file, "exceeds the 400 GB maximum of blk.essd" in i.message)
            for i in exc.value.issues} == {("approvals/BZ-2026-0012.yaml", True),
                                           ("approvals/BZ-2026-0031.yaml", True)}
    assert sorted(own_checks) == ["BZ-2026-0012", "BZ-2026-0031"]


def test_a_failed_compile_records_no_pass(ws, own_checks):
    w = Workspace.at(ws)
    _touch(ws, "{type: blk.essd, gb: 500}", "{type: blk.nope, gb: 500}")
    with pytest.raises(InputError):
        compile_workspace(w, today())
    assert not (w.data_dir / "approval-check-cache.json").exists()


@pytest.fixture
def text_checks(monkeypatch):
    """The strings the control-character check looked at."""
    seen = []
    real = base._CONTROL

    def recording(text):
        seen.append(text)
        return real(text)
    monkeypatch.setattr(base, "_CONTROL", recording)
    return seen


def test_texts_of_cached_approvals_are_checked_once_per_code(ws, text_checks):
    w = Workspace.at(ws)
    compile_workspace(w, today())
    cache = json.loads(w.parse_cache_path.read_text(encoding="utf-8"))
    assert cache["checked_by"] and len(cache["entries"]) == 2
    names = {d["system"]["name"] for d in cache["entries"].values()}
    assert len(names) == 2 and names <= set(text_checks)
    text_checks.clear()
    w.compile_index_path.unlink()   # so that compile does not skip itself
    compile_workspace(Workspace.at(ws), today())
    assert text_checks and not names & set(text_checks)   # the catalog's and config's only
    _touch(ws, "gb: 40}", "gb: 60}")                       # edited: parsed and checked again
    text_checks.clear()
    compile_workspace(Workspace.at(ws), today())
    assert len(names & set(text_checks)) == 1


def test_a_cache_of_other_code_gets_its_texts_checked(ws):
    """An entry holding a control character (as no compile writes it) under another code digest
    is refused: only entries this code's checks passed are trusted."""
    w = Workspace.at(ws)
    compile_workspace(w, today())
    cache = json.loads(w.parse_cache_path.read_text(encoding="utf-8"))
    for data in cache["entries"].values():
        data["system"]["name"] = "bad\x07name"
    cache["checked_by"] = "another code digest"
    w.parse_cache_path.write_text(json.dumps(cache), encoding="utf-8")
    w.compile_index_path.unlink()
    with pytest.raises(GovcloudError) as exc:
        compile_workspace(Workspace.at(ws), today())
    assert [i.message.startswith("control character U+0007") for i in exc.value.issues] == \
        [True, True]
