"""Signed checkpoints of the audit chain's head, kept outside the state.

The chain's head lives in the state database, so whoever can write the database can cut the
tail off, delete everything or restore an older copy, and the chain still verifies. A
checkpoint is the head (workspace, state lineage, entry count, last hash) signed with the
provider's Ed25519 key (orchestrator/trust/provider_key.py), written to
``<workspace>/audit-checkpoint.json`` — a file the operator or the GitOps repository keeps — each
time a command that holds the workspace lock moved the head. Format
``govcloud-audit-checkpoint/1``::

    {"format": "govcloud-audit-checkpoint/1", "workspace_id": "ws-...", "lineage": "...",
     "seq": 42, "hash": "<entry 42's hash>", "at": "2026-...Z",
     "key_id": "ed25519:...", "public_key": "-----BEGIN PUBLIC KEY-----...",
     "signature": "<base64 Ed25519 over the canonical JSON of the fields before key_id>"}

``compare`` says whether a state is the checkpoint's or a continuation of it: the same lineage
and, at entry ``seq``, the same hash. Anything else is a truncation, a rollback or a rewrite,
and the commands that take the lock refuse to run on it.
"""
from __future__ import annotations

import base64
import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

from .errors import GovcloudError, Issue
from .state.base import StateStore

FORMAT = "govcloud-audit-checkpoint/1"
FILE_NAME = "audit-checkpoint.json"
SIGNED_FIELDS = ("format", "workspace_id", "lineage", "seq", "hash", "at")


def signed_bytes(cp: dict[str, Any]) -> bytes:
    return json.dumps({k: cp.get(k) for k in SIGNED_FIELDS}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def head_of(store: StateStore) -> tuple[int, str]:
    head = store.audit_head()
    return head if head else (0, "")


def make(root: Path, workspace_id: str, store: StateStore) -> dict[str, Any]:
    from .trust.provider_key import load_or_create
    key = load_or_create(root)
    seq, h = head_of(store)
    cp: dict[str, Any] = {
        "format": FORMAT, "workspace_id": workspace_id, "lineage": store.get_meta("lineage"),
        "seq": seq, "hash": h,
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    cp["key_id"] = key.key_id
    cp["public_key"] = key.public_pem()
    cp["signature"] = base64.b64encode(key.sign(signed_bytes(cp))).decode()
    return cp


def write(path: Path, cp: dict[str, Any]) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")   # runners of other stacks publish too
    tmp.write_text(json.dumps(cp, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def read(path: Path) -> dict[str, Any] | None:
    """The checkpoint in ``path`` (None when there is none); an error when it is damaged."""
    try:
        data = json.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise GovcloudError(f"{path.name} is not a readable audit checkpoint ({exc})",
                            fix="restore it from the GitOps repository") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GovcloudError(f"{path.name} is not a {FORMAT} file")
    return data


def signature_ok(cp: dict[str, Any], public_pem: str) -> bool:
    from .trust.provider_key import verify
    try:
        sig = base64.b64decode(cp.get("signature") or "", validate=True)
    except ValueError:
        return False
    return verify(public_pem, signed_bytes(cp), sig)


def compare(cp: dict[str, Any], store: StateStore, public_pem: str,
            workspace_id: str) -> list[str]:
    """What is wrong with the state against checkpoint ``cp`` (empty: the state is the
    checkpoint's, or continues it)."""
    if not signature_ok(cp, public_pem):
        return ["the checkpoint's signature does not verify with the provider's public key "
                "(the checkpoint was forged or altered)"]
    problems = []
    if cp.get("workspace_id") != workspace_id:
        problems.append(f"the checkpoint is of workspace {cp.get('workspace_id')}")
    lineage = store.get_meta("lineage")
    if cp.get("lineage") != lineage:
        problems.append(f"the state's lineage is {lineage}, the checkpoint's {cp.get('lineage')} "
                        "(the state database was replaced or lost and started anew)")
    seq, h = int(cp.get("seq") or 0), cp.get("hash")
    head, entries = store.audit_consistent()
    by_seq = {e.seq: e for e in entries}
    anchor = store.audit_anchor()          # entries up to it were pruned (audit prune)
    last = entries[-1].seq if entries else (anchor[0] if anchor else 0)
    if seq > last:
        problems.append(f"the audit log ends at entry {last}, the checkpoint records {seq} "
                        "(entries were cut off, or an older database was restored)")
    elif seq and anchor is not None and seq <= anchor[0]:
        if seq == anchor[0] and anchor[1] != h:
            problems.append(f"audit entry {seq} differs from the checkpoint's (the log was rewritten)")
    elif seq and (seq not in by_seq or by_seq[seq].hash != h):
        problems.append(f"audit entry {seq} differs from the checkpoint's (the log was rewritten)")
    if not problems:
        from .core.audit import verify_chain
        brk = verify_chain(entries, head, anchor)
        if brk is not None:
            problems.append(f"the audit chain breaks at entry {brk.seq}: {brk.reason}")
    return problems


def guard(root: Path, workspace_id: str, store: StateStore) -> None:
    """Refuse a state that is not the published checkpoint's or a continuation of it."""
    cp = read(root / FILE_NAME)
    if cp is None:
        return
    from .trust.provider_key import load_or_create
    problems = compare(cp, store, load_or_create(root).public_pem(), workspace_id)
    if problems:
        raise GovcloudError(f"the state does not continue the published audit checkpoint "
                            f"{FILE_NAME} (entry {cp.get('seq')}): refusing to act on it",
                            [Issue(FILE_NAME, p) for p in problems],
                            fix="restore the state that matches the checkpoint; or, if this "
                                "state is the one to keep, accept it explicitly: `govcloud audit "
                                "checkpoint --accept-rollback` (recorded in the audit log)")


def publish(root: Path, workspace_id: str, store: StateStore) -> dict[str, Any] | None:
    """Write a new checkpoint when the head moved since the published one."""
    path = root / FILE_NAME
    try:
        old = read(path)
    except GovcloudError:
        old = None
    seq, h = head_of(store)
    if old is not None and old.get("seq") == seq and old.get("hash") == h and \
            old.get("lineage") == store.get_meta("lineage"):
        return old
    cp = make(root, workspace_id, store)
    write(path, cp)
    return cp
