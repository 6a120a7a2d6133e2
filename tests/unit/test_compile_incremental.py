"""An incremental compile (.govcloud/stack-index.json) writes byte for byte what a full compile
of the same inputs writes, and compiles only the stacks an edit affects."""
import datetime as dt
import importlib.util
import shutil
from pathlib import Path

import pytest
import yaml

from orchestrator.clock import today
from orchestrator.usecases import compile as compile_uc
from orchestrator.usecases import stack_index
from orchestrator.usecases.compile import compile_workspace
from orchestrator.usecases.init import init_workspace
from orchestrator.workspace import Workspace

ROOT = Path(__file__).resolve().parents[2]


def _bench_scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks/bench_scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> Path:
    """60 synthetic approvals (6 departments, both zones, windows), compiled once."""
    ws = tmp_path_factory.mktemp("inc") / "ws"
    init_workspace(ws, "bazhong", examples=False)
    cfg = ws / "govcloud.toml"
    cfg.write_text(cfg.read_text().replace("require_signatures = true", "require_signatures = false"))
    _bench_scale().generate(ws / "approvals", 60, today(), 1)
    compile_workspace(Workspace.at(ws), today())
    return ws


@pytest.fixture
def compiles(monkeypatch):
    """The stacks really compiled (not reused)."""
    seen = []
    real = compile_uc.compile_one

    def counting(group, *args, **kw):
        seen.append(group[0].stack)
        return real(group, *args, **kw)
    monkeypatch.setattr(compile_uc, "compile_one", counting)
    return seen


def _outputs(ws: Path) -> dict[str, bytes]:
    out = {str(p.relative_to(ws)): p.read_bytes() for p in sorted((ws / "stacks").rglob("*"))
           if p.is_file()}
    for name in ("spec-cache.json", "spec-servers.json"):
        out[name] = (ws / ".govcloud" / name).read_bytes()
    return out


def _incremental_vs_full(compiled: Path, tmp_path: Path, compiles: list, edit) -> list[str]:
    """Copies the compiled workspace twice, applies ``edit`` to both, compiles one with its
    stack index and the other without (a full compile), and compares every output byte for
    byte. Returns the stacks the incremental compile compiled."""
    inc, full = tmp_path / "inc", tmp_path / "full"
    shutil.copytree(compiled, inc, symlinks=True)
    shutil.copytree(compiled, full, symlinks=True)
    stack_index.path(Workspace.at(full)).unlink()
    for ws in (inc, full):
        edit(ws)
    compile_workspace(Workspace.at(full), today())
    n_full = len(compiles)
    assert n_full == len(Workspace.at(full).spec_files())   # control: the full one compiled all
    del compiles[:]
    rep = compile_workspace(Workspace.at(inc), today())
    assert _outputs(inc) == _outputs(full)
    assert rep.stacks == len(Workspace.at(inc).spec_files())
    assert set(rep.written) <= {f"stacks/{s}.yaml" for s in compiles}
    return list(compiles)


def _approval(ws: Path, name: str) -> Path:
    return ws / "approvals" / name


def _files(compiled: Path) -> list[str]:
    return sorted(p.name for p in (compiled / "approvals").glob("*.yaml"))


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _save(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_one_touched_approval_compiles_its_stack_only(compiled, tmp_path, compiles):
    name = _files(compiled)[7]
    stack = "{}/{}".format(*(lambda d: (d["department"]["code"], d["system"]["code"]))(
        _load(_approval(compiled, name))))

    def edit(ws):
        p = _approval(ws, name)
        p.write_text(p.read_text(encoding="utf-8").replace("gb: 40", "gb: 60", 1), encoding="utf-8")
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == [stack]


def test_a_removed_approval(compiled, tmp_path, compiles):
    name = _files(compiled)[3]
    done = _incremental_vs_full(compiled, tmp_path, compiles,
                                lambda ws: _approval(ws, name).unlink())
    assert len(done) <= 1   # its stack is gone, or compiled from its other approvals


def test_a_new_approval(compiled, tmp_path, compiles):
    src = _files(compiled)[5]

    def edit(ws):
        data = _load(_approval(ws, src))
        data["approval_no"] = "BZ-2026-09999"
        data["system"] = {**data["system"], "code": "snew-web", "name": "新系统"}
        _save(_approval(ws, "BZ-2026-09999.yaml"), data)
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == \
        [f"{_load(_approval(compiled, src))['department']['code']}/snew-web"]


def test_an_approval_moved_to_another_department(compiled, tmp_path, compiles):
    name = _files(compiled)[2]
    other = _load(_approval(compiled, _files(compiled)[4]))["department"]

    def edit(ws):
        data = _load(_approval(ws, name))
        data["department"] = other
        data["system"] = {**data["system"], "code": "smoved"}
        _save(_approval(ws, name), data)
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == [f"{other['code']}/smoved"]


def test_an_extension(compiled, tmp_path, compiles):
    name = next(n for n in _files(compiled)
                if _load(_approval(compiled, n))["term"]["kind"] == "window")
    data = _load(_approval(compiled, name))
    end = data["term"]["end"]

    def edit(ws):
        (ws / "extensions").mkdir(exist_ok=True)
        (ws / "extensions" / f"{data['approval_no']}.yaml").write_text(yaml.safe_dump({
            "approval_no": data["approval_no"], "extensions": [{
                "previous_end": end, "until": end + dt.timedelta(days=20),
                "requested_on": today()}]}), encoding="utf-8")
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == \
        [f"{data['department']['code']}/{data['system']['code']}"]


def test_a_catalog_price_change_compiles_everything(compiled, tmp_path, compiles):
    def edit(ws):
        p = ws / "catalog" / "services.yaml"
        p.write_text(p.read_text(encoding="utf-8").replace('unit_price: "80.00"',
                                                           'unit_price: "81.00"', 1), encoding="utf-8")
    done = _incremental_vs_full(compiled, tmp_path, compiles, edit)
    assert len(done) == len(Workspace.at(compiled).spec_files())


def test_a_corrupt_index_is_a_full_compile(compiled, tmp_path, compiles):
    def edit(ws):
        stack_index.path(Workspace.at(ws)).write_text("{not json", encoding="utf-8")
        p = _approval(ws, _files(compiled)[0])
        p.write_text(p.read_text(encoding="utf-8") + "# touched\n", encoding="utf-8")
    done = _incremental_vs_full(compiled, tmp_path, compiles, edit)
    assert len(done) == len(Workspace.at(compiled).spec_files())


def test_a_comment_compiles_nothing(compiled, tmp_path, compiles):
    def edit(ws):
        p = _approval(ws, _files(compiled)[0])
        p.write_text(p.read_text(encoding="utf-8") + "# touched\n", encoding="utf-8")
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == []


def test_a_removed_spec_cache_compiles_everything(compiled, tmp_path, compiles):
    def edit(ws):
        Workspace.at(ws).spec_cache_path.unlink()
        p = _approval(ws, _files(compiled)[0])
        p.write_text(p.read_text(encoding="utf-8").replace("gb: 40", "gb: 60", 1), encoding="utf-8")
    done = _incremental_vs_full(compiled, tmp_path, compiles, edit)
    assert len(done) == len(Workspace.at(compiled).spec_files())


def test_an_edited_spec_file_is_compiled_again(compiled, tmp_path, compiles):
    victim = sorted((compiled / "stacks").glob("*/*.yaml"))[1]
    rel = victim.relative_to(compiled / "stacks")

    def edit(ws):
        p = ws / "stacks" / rel
        p.write_text(p.read_text(encoding="utf-8").replace("monthly_fee", "monthly_fee ", 1),
                     encoding="utf-8")
        a = _approval(ws, _files(compiled)[0])
        a.write_text(a.read_text(encoding="utf-8") + "# touched\n", encoding="utf-8")
    assert _incremental_vs_full(compiled, tmp_path, compiles, edit) == [str(rel)[:-len(".yaml")]]
