"""`govcloud compile`: approvals -> stack specs under stacks/ and stacks/ipam.yaml, written only
when their bytes change, and skipped as a whole when nothing it reads changed."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from ..core import ipam as ipam_mod
from ..core import yaml_emit
from ..core.compile import compile_all, needed_blocks, spec_yaml
from ..extensions import EXTENSIONS_DIR, extension_ends
from ..inputs import ParseCache
from ..workspace import GENERATED_HEADER, SHIPPED_CATALOG, Workspace
from .session import gc_paused
from .validate import check_inputs

COMPILE_FORMAT = "govcloud-compile/1"


@dataclass
class CompileReport:
    written: list[str]
    unchanged: list[str]
    removed: list[str]
    stacks: int
    monthly_fee: str

    def to_dict(self) -> dict[str, Any]:
        return {"format": COMPILE_FORMAT, **asdict(self)}


def compile_workspace(ws: Workspace, today: dt.date) -> CompileReport:
    """``today``: the profile's rules are checked as of that day."""
    with gc_paused():
        inputs = _compile_inputs_digest(ws, today)
        report = _unchanged_since_last_compile(ws, inputs)
        if report is not None:
            return report
        ws.compile_index_path.unlink(missing_ok=True)
        report = _compile_workspace(ws, today)
        _write_compile_index(ws, inputs, report)
        return report


def _dump(data: Any) -> str:
    text = yaml_emit.dump(data)   # the same bytes, faster (orchestrator/core/yaml_emit.py)
    if text is not None:
        return text
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)


try:
    _Dumper = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def _write_if_changed(path: Path, text: str) -> bool:
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return True


# A compile whose inputs are byte for byte those of the last successful one, on the same day
# (profile rules read the date), with the same code, and whose outputs are as it left them,
# would validate the same and write the same bytes: it is skipped (.govcloud/compile-index.json).
_INDEX_FORMAT = "govcloud-compile-index/1"


def _compile_inputs_digest(ws: Workspace, today: dt.date) -> str:
    """SHA-256 over everything validate and compile read: govcloud.toml, approvals/,
    catalog/ (the workspace's and the shipped one), extensions/, the orchestrator's code, the
    library versions and the day. stacks/ipam.yaml is read too, but compile rewrites it:
    it is checked as an output (allocation keeps existing blocks, so what compile left gives
    the same specs again)."""
    import sys
    import pydantic
    from ..workspace import PACKAGE_ROOT
    h = hashlib.sha256()
    h.update(f"{today.isoformat()}|{sys.version}|{yaml.__version__}|"
             f"{pydantic.VERSION}\0".encode())
    roots = [ws.root / "govcloud.toml", ws.approvals_dir, ws.changes_dir, ws.root / "catalog",
             ws.root / EXTENSIONS_DIR, SHIPPED_CATALOG,
             PACKAGE_ROOT / "orchestrator"]
    for root in roots:
        h.update(str(root).encode() + b"\0")
        if root.is_file():
            h.update(root.read_bytes() + b"\0")
            continue
        if not root.is_dir():
            h.update(b"-\0")
            continue
        for p in sorted(root.rglob("*")):
            if "__pycache__" in p.parts or not p.is_file():
                continue
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def _unchanged_since_last_compile(ws: Workspace, inputs: str) -> CompileReport | None:
    try:
        index = json.loads(ws.compile_index_path.read_text(encoding="utf-8"))
        if index.get("format") != _INDEX_FORMAT or index.get("inputs") != inputs:
            return None
        outputs: dict[str, list[int]] = index["outputs"]
        on_disk = {ws.rel(p) for p in ws.spec_files()}
        if on_disk != set(outputs) - {"stacks/ipam.yaml"} or \
                _stat(ws.spec_cache_path) != index["spec_cache"] or \
                _stat(ws.server_index_path) != index["server_index"] or \
                any(_stat(ws.root / rel) != st for rel, st in outputs.items()):
            return None
        in_stack_order = sorted(on_disk, key=lambda rel: rel[len("stacks/"):-len(".yaml")])
        return CompileReport([], in_stack_order, [], index["stacks"], index["monthly_fee"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _write_compile_index(ws: Workspace, inputs: str, report: CompileReport) -> None:
    rels = [*report.written, *report.unchanged, "stacks/ipam.yaml"]
    index = {"format": _INDEX_FORMAT, "inputs": inputs, "stacks": report.stacks,
             "monthly_fee": report.monthly_fee, "spec_cache": _stat(ws.spec_cache_path),
             "server_index": _stat(ws.server_index_path),
             "outputs": {rel: _stat(ws.root / rel) for rel in sorted(rels)}}
    if None in index["outputs"].values() or index["spec_cache"] is None or \
            index["server_index"] is None:
        return
    try:
        tmp = ws.compile_index_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(index), encoding="utf-8")
        tmp.replace(ws.compile_index_path)
    except OSError:
        pass


def _compile_workspace(ws: Workspace, today: dt.date) -> CompileReport:
    parse_cache = ParseCache(ws.parse_cache_path)
    approvals = check_inputs(ws, today, parse_cache)
    config = ws.config
    pools = {z: (zc.tenant_pool, zc.subnet_prefix) for z, zc in config.zones.items()}
    alloc = ipam_mod.allocate(ipam_mod.carry_moves(ws.load_ipam(), approvals.values()),
                              needed_blocks(list(approvals.values())), pools)
    result = compile_all(list(approvals.values()), ws.catalog, ws.profile, config, alloc,
                         ends=extension_ends(ws))   # recorded extensions move a term's end
    written, unchanged = [], []
    keep = set()
    sources: dict[str, list[str]] = {}   # one pass: a scan per stack was quadratic
    for f, a in approvals.items():
        sources.setdefault(a.stack, []).append(f)
    with ws.spec_cache_writer() as cache:   # streamed: 10,000 approvals' data is large
        for stack, spec in result.specs.items():
            path = ws.spec_path(stack)
            keep.add(path)
            data = spec.model_dump(mode="json")
            text = GENERATED_HEADER + f"# Sources: {', '.join(sorted(sources[stack]))}\n" + \
                spec_yaml(data)
            (written if _write_if_changed(path, text) else unchanged).append(ws.rel(path))
            cache(ws.rel(path), text, data)
    ipam_text = GENERATED_HEADER + _dump({"zones": result.ipam})
    _write_if_changed(ws.stacks_dir / "ipam.yaml", ipam_text)
    removed = []
    for path in ws.spec_files():  # specs of systems no longer approved (generated files only)
        if path not in keep and path.read_text(encoding="utf-8").startswith(GENERATED_HEADER):
            path.unlink()
            removed.append(ws.rel(path))
            if not any(path.parent.iterdir()):
                path.parent.rmdir()
    try:
        parse_cache.save()   # only now: the inputs were valid and the specs are written
    except OSError:
        pass
    fee = sum((s.monthly_fee for s in result.specs.values()), start=0)
    return CompileReport(written, unchanged, removed, len(result.specs), f"{fee:.2f}")
