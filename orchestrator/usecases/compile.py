"""`govcloud compile`: approvals -> stack specs under stacks/ and stacks/ipam.yaml, written only
when their bytes change, and skipped as a whole when nothing it reads changed."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from contextlib import closing
from dataclasses import asdict, dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..core import ipam as ipam_mod
from ..core import yaml_emit
from ..core.compile import compile_one, needed_blocks, spec_yaml, stack_groups
from ..cache_file import write_cache
from ..extensions import EXTENSIONS_DIR, extension_ends
from ..inputs import ParseCache
from ..workspace import GENERATED_HEADER, SHIPPED_CATALOG, Workspace
from . import stack_index
from .approval_checks import ApprovalChecks
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
        inputs, shared = _compile_inputs_digest(ws, today)
        report = _unchanged_since_last_compile(ws, inputs)
        if report is not None:
            return report
        ws.compile_index_path.unlink(missing_ok=True)
        previous = stack_index.load(ws, shared)   # read before a failed compile can leave it
        stack_index.path(ws).unlink(missing_ok=True)
        report, stacks = _compile_workspace(ws, today, shared, previous)
        stack_index.save(ws, shared, {"stacks": stacks, "spec_cache": _stat(ws.spec_cache_path),
                                      "server_index": _stat(ws.server_index_path)})
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


def _compile_inputs_digest(ws: Workspace, today: dt.date) -> tuple[str, str]:
    """(everything, shared): SHA-256 over everything validate and compile read —
    govcloud.toml, catalog/ (the workspace's and the shipped one), the orchestrator's code,
    the library versions (``shared``: what every stack depends on), then approvals/, changes/,
    extensions/ and the day. stacks/ipam.yaml is read too, but compile rewrites it: it is
    checked as an output (allocation keeps existing blocks, so what compile left gives the
    same specs again)."""
    import sys
    import pydantic
    from ..workspace import PACKAGE_ROOT
    h = hashlib.sha256()
    h.update(f"{sys.version}|{yaml.__version__}|{pydantic.VERSION}\0".encode())
    shared_roots = [ws.root / "govcloud.toml", ws.root / "catalog", SHIPPED_CATALOG,
                    PACKAGE_ROOT / "orchestrator"]
    shared = ""
    for i, root in enumerate([*shared_roots, ws.approvals_dir, ws.changes_dir,
                              ws.root / EXTENSIONS_DIR]):
        if i == len(shared_roots):
            shared = h.hexdigest()
            h.update(f"{today.isoformat()}\0".encode())
        h.update(f"{i}\0".encode())   # not the path: a copied workspace is the same inputs
        if root.is_file():
            h.update(root.read_bytes() + b"\0")
            continue
        if not root.is_dir():
            h.update(b"-\0")
            continue
        for rel, p in _tree_files(str(root), ""):
            with open(p, "rb") as f:
                h.update(rel.encode() + b"\0" + f.read() + b"\0")
    return h.hexdigest(), shared


def _tree_files(directory: str, prefix: str) -> list[tuple[str, str]]:
    """(relative path, path) of the files under ``directory`` in the order of
    ``sorted(Path(directory).rglob("*"))`` (names sorted level by level: a directory's files
    come where its name sorts), symlinked directories not entered (as rglob does not) and
    __pycache__ left out. os.scandir: pathlib's objects were ~0.2 s for 10,000 approvals."""
    out: list[tuple[str, str]] = []
    try:
        with os.scandir(directory) as it:
            entries = sorted(it, key=lambda e: e.name)
    except PermissionError:   # (rglob skips an unreadable directory)
        return out
    for e in entries:
        if e.name == "__pycache__":
            continue
        rel = prefix + e.name
        try:
            if e.is_dir(follow_symlinks=False):
                out.extend(_tree_files(e.path, rel + "/"))
            elif e.is_file():   # a symlink to a file is followed, as Path.is_file does
                out.append((rel, e.path))
        except OSError:   # a symlink loop: not a file, as Path.is_file says
            continue
    return out


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
    write_cache(ws.compile_index_path, json.dumps(index))


def _compile_workspace(ws: Workspace, today: dt.date, shared: str,
                       previous: dict[str, dict[str, Any]]) -> tuple[CompileReport, dict]:
    """Validates everything (cross-approval checks and IPAM see every approval), then compiles
    only the stacks whose inputs differ from ``previous`` (stack_index.py); the others' specs,
    spec-cache entries and fees are reused. Returns the report and the new stack index."""
    parse_cache = ParseCache(ws.parse_cache_path, checked_by=shared)
    checks = ApprovalChecks(ws.data_dir / "approval-check-cache.json", shared)
    approvals = check_inputs(ws, today, parse_cache, checks)
    config = ws.config
    pools = {z: (zc.tenant_pool, zc.subnet_prefix) for z, zc in config.zones.items()}
    alloc = ipam_mod.allocate(ipam_mod.carry_moves(ws.load_ipam(), approvals.values()),
                              needed_blocks(list(approvals.values())), pools)
    ends = extension_ends(ws)   # recorded extensions move a term's end
    catalog, profile = ws.catalog, ws.profile
    written, unchanged = [], []
    keep = set()
    file_of = {id(a): f for f, a in approvals.items()}
    old = _OldCache(ws, previous)
    stacks: dict[str, dict[str, Any]] = {}
    fee = Decimal(0)
    # streamed: 10,000 approvals' data is large
    with ws.spec_cache_writer() as cache, closing(old):
        stacks_dir = ws.stacks_dir   # checked once (spec_path checks it per call)
        for stack, group in stack_groups(list(approvals.values())).items():
            dept, system = stack.split("/")
            path = stacks_dir / dept / f"{system}.yaml"     # = ws.spec_path(stack)
            rel = f"stacks/{stack}.yaml"                    # = ws.rel(path)
            keep.add(path)
            files = [file_of[id(a)] for a in group]
            digest = stack_index.stack_digest(
                shared, files, [checks.model_json(f, a) for f, a in zip(files, group)],
                [a.approval_no for a in group], ends,
                sorted((z, alloc[z][stack]) for z in {z for a in group for z in a.zones}))
            prev = old.stacks.get(stack)
            raw = old.entry(rel, prev) if isinstance(prev, dict) and \
                prev.get("inputs") == digest and prev.get("stat") == _stat(path) else None
            if raw is not None:
                _, span = cache(rel, None, None, raw=raw)
                unchanged.append(rel)
                stacks[stack] = {**prev, "span": list(span)}
                fee += Decimal(prev["fee"])
                continue
            spec = compile_one(group, catalog, profile, config, alloc, ends)
            data = spec.model_dump(mode="json")
            text = GENERATED_HEADER + f"# Sources: {', '.join(sorted(files))}\n" + \
                spec_yaml(data)
            (written if _write_if_changed(path, text) else unchanged).append(rel)
            sha, span = cache(rel, text, data)
            fee += spec.monthly_fee
            stacks[stack] = {"inputs": digest, "stat": _stat(path), "sha256": sha,
                             "fee": str(spec.monthly_fee), "span": list(span)}
    ipam_text = GENERATED_HEADER + _dump({"zones": alloc})
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
    checks.save(approvals)
    return CompileReport(written, unchanged, removed, len(stacks), f"{fee:.2f}"), stacks


class _OldCache:
    """The last compile's spec cache and server index, read only when a stack may be reused,
    and only if both are the files the stack index was written with (their stats): a kept
    entry's bytes are read at the span the index recorded, not decoded, and the cache is
    never held whole."""

    def __init__(self, ws: Workspace, previous: dict[str, Any]) -> None:
        self._ws, self._file, self._rows = ws, None, None
        trusted = bool(previous) and previous.get("spec_cache") == _stat(ws.spec_cache_path) \
            and previous.get("server_index") == _stat(ws.server_index_path)
        self.stacks: dict[str, Any] = previous.get("stacks", {}) if trusted else {}

    def entry(self, rel: str, prev: dict[str, Any]) -> tuple[str, bytes, list] | None:
        """(sha256, entry JSON, server rows) of ``rel`` as the last compile wrote them."""
        try:
            if self._file is None:
                self._rows = {}
                self._file = open(self._ws.spec_cache_path, "rb")
                self._rows = json.loads(
                    self._ws.server_index_path.read_text(encoding="utf-8"))["specs"]
            sha, (start, end) = prev["sha256"], prev["span"]
            row = self._rows[rel]
            self._file.seek(start)
            entry_json = self._file.read(end - start)
            if row["sha256"] != sha or not entry_json.startswith(f'{{"sha256": "{sha}", '.encode()):
                return None
            return sha, entry_json, row["servers"]
        except (OSError, KeyError, TypeError, ValueError):
            return None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
