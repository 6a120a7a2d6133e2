"""A compile with nothing changed since the last successful one is skipped, and only then."""
import pytest

from orchestrator.usecases import compile as compile_uc
from orchestrator.errors import GovcloudError
from orchestrator.clock import today
from orchestrator.usecases.compile import compile_workspace
from orchestrator.workspace import Workspace


@pytest.fixture
def runs(monkeypatch):
    """Counts the compiles that really ran."""
    calls = []
    real = compile_uc._compile_workspace

    def counting(ws, day, *rest):
        calls.append(ws)
        return real(ws, day, *rest)
    monkeypatch.setattr(compile_uc, "_compile_workspace", counting)
    return calls


def _tree(root):
    return {p: (p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(root.rglob("*")) if p.is_file()}


def test_nothing_changed_is_skipped_with_the_same_report(ws, runs):
    first = compile_workspace(Workspace.at(ws), today())
    before = _tree(ws / "stacks")
    again = compile_workspace(Workspace.at(ws), today())
    assert len(runs) == 1
    assert _tree(ws / "stacks") == before
    assert again.written == [] and again.removed == []
    assert again.unchanged == first.written   # all of them, in the same (stack) order
    assert (again.stacks, again.monthly_fee) == (first.stacks, first.monthly_fee)


def test_an_edited_approval_is_compiled(ws, runs):
    compile_workspace(Workspace.at(ws), today())
    path = sorted((ws / "approvals").glob("*.yaml"))[0]
    path.write_text(path.read_text(encoding="utf-8").replace("gb: 100", "gb: 120", 1),
                    encoding="utf-8")
    rep = compile_workspace(Workspace.at(ws), today())
    assert len(runs) == 2 and rep.written


def test_a_broken_approval_is_refused_after_a_good_compile(ws, runs):
    compile_workspace(Workspace.at(ws), today())
    (ws / "approvals" / "bad.yaml").write_text("approval_no: [\n", encoding="utf-8")
    with pytest.raises(GovcloudError):
        compile_workspace(Workspace.at(ws), today())
    (ws / "approvals" / "bad.yaml").unlink()
    compile_workspace(Workspace.at(ws), today())
    assert len(runs) == 3   # the failed run dropped the index: the next one compiles


def test_edited_or_removed_outputs_are_written_again(ws, runs):
    rep = compile_workspace(Workspace.at(ws), today())
    spec = ws / rep.written[0]
    text = spec.read_text(encoding="utf-8")
    spec.write_text(text.replace("monthly_fee", "monthly_fee ", 1), encoding="utf-8")
    assert compile_workspace(Workspace.at(ws), today()).written == [rep.written[0]]
    assert spec.read_text(encoding="utf-8") == text
    spec.unlink()
    assert compile_workspace(Workspace.at(ws), today()).written == [rep.written[0]]
    Workspace.at(ws).spec_cache_path.unlink()
    compile_workspace(Workspace.at(ws), today())
    assert Workspace.at(ws).spec_cache_path.is_file()
    assert len(runs) == 4


def test_another_day_or_config_is_compiled(ws, runs, monkeypatch):
    compile_workspace(Workspace.at(ws), today())
    monkeypatch.setenv("GOVCLOUD_TODAY", "2031-01-02")
    try:
        compile_workspace(Workspace.at(ws), today())
    except GovcloudError:
        pass   # the day may make a profile rule fail: it was checked, which is the point
    assert len(runs) == 2
    monkeypatch.delenv("GOVCLOUD_TODAY")
    compile_workspace(Workspace.at(ws), today())
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text(encoding="utf-8") + "\n# a comment\n", encoding="utf-8")
    compile_workspace(Workspace.at(ws), today())
    assert len(runs) == 4


def test_the_inputs_digest_walks_files_in_rglob_order(tmp_path):
    """compile._tree_files lists what sorted(rglob("*")) + is_file() listed (the digest's
    order and content), without entering symlinked directories or __pycache__."""
    import os
    from pathlib import Path
    from orchestrator.usecases.compile import _tree_files
    root, other = tmp_path / "r", tmp_path / "other"
    for d in (root / "a" / "__pycache__", root / "a-b", other):
        d.mkdir(parents=True)
    for f in (root / "a" / "x", root / "a.b", root / "a-b" / "y", root / "Z", other / "f",
              root / "a" / "__pycache__" / "c.pyc"):
        f.write_text(f.name)
    os.symlink(other, root / "linkdir")
    os.symlink(other / "f", root / "linkfile")
    os.symlink(tmp_path / "nowhere", root / "broken")
    os.symlink(root / "loop", root / "loop")
    old = [(str(p.relative_to(root)), str(p)) for p in sorted(Path(root).rglob("*"))
           if "__pycache__" not in p.parts and p.is_file()]
    assert _tree_files(str(root), "") == old
    assert [rel for rel, _ in old] == ["Z", "a/x", "a-b/y", "a.b", "linkfile"]
