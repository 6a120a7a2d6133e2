"""The per-stack index of a compile's inputs (``.govcloud/stack-index.json``), a cache.

For every stack (one spec file under stacks/) it records the SHA-256 of what that spec was
compiled from — the stack's approvals as validated (change documents applied), their extension
ends, their source file names, the IPAM blocks the stack got, and the shared digest of
govcloud.toml, catalog/ (profiles included), the shipped catalog and the code — with the spec
file's stat, its text's SHA-256, its monthly fee and where its entry lies in
.govcloud/spec-cache.json (whose stat, and the server index's, the index records too). A compile
whose stack digest, file and cache entry all match reuses the spec and copies the entry's text
instead of compiling it again. IPAM allocates across
a department, so a new approval may move another stack's block: the digest is keyed on the
block itself, which is what the spec depends on, not on the other approvals. A missing,
corrupt or other-format index, or a different shared digest, reuses nothing (a full compile).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ..cache_file import write_cache
from ..workspace import Workspace

INDEX_FORMAT = "govcloud-stack-index/1"


def path(ws: Workspace) -> Path:
    return ws.data_dir / "stack-index.json"


def load(ws: Workspace, shared: str) -> dict[str, Any]:
    """The last index ({"stacks": stack -> entry, "spec_cache": stat, "server_index": stat}),
    or {} when it cannot be trusted for ``shared``."""
    try:
        index = json.loads(path(ws).read_text(encoding="utf-8"))
        if index.get("format") != INDEX_FORMAT or index.get("shared") != shared or \
                not isinstance(index.get("stacks"), dict):
            return {}
        return index
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def save(ws: Workspace, shared: str, index: dict[str, Any]) -> None:
    write_cache(path(ws), json.dumps({"format": INDEX_FORMAT, "shared": shared, **index},
                                     ensure_ascii=False, separators=(",", ":")))


def stack_digest(shared: str, files: list[str], model_json: list[str], numbers: list[str],
                 ends: dict, blocks: list[tuple[str, str]]) -> str:
    """``files``: the stack's approval file names (sorted); ``model_json``: its Approval
    models' ``model_dump_json()`` and ``numbers`` their approval numbers, in the same order;
    ``blocks``: (zone, CIDR) of the stack."""
    h = hashlib.sha256(shared.encode() + b"\0")
    for f, text, no in zip(files, model_json, numbers):
        h.update(f.encode() + b"\0" + text.encode() + b"\0")
        end = ends.get(no)
        h.update((end.isoformat() if end is not None else "-").encode() + b"\0")
    h.update(json.dumps(blocks).encode())
    return h.hexdigest()
