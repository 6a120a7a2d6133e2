"""Hash-chained audit entries. Pure: hashing and verification; the state store persists them.

Each entry's hash covers its fields and the previous entry's hash, so editing, deleting or
reordering any entry breaks the chain at that point; the store also keeps the head (count and
last hash) so that cutting entries off the end is detected too.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    actor: str
    action: str
    target: str
    approval: str | None
    detail: dict[str, Any]
    prev_hash: str
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def entry_hash(seq: int, ts: str, actor: str, action: str, target: str, approval: str | None,
               detail: dict[str, Any], prev_hash: str) -> str:
    body = json.dumps([seq, ts, actor, action, target, approval, detail, prev_hash],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


PRUNED = "audit-pruned"


def verify_chain(entries: list[AuditEntry], head: tuple[int, str] | None,
                 anchor: tuple[int, str] | None = None) -> ChainBreak | None:
    """The first broken entry, or None when the chain and its recorded head are intact.

    ``anchor`` (seq, hash) is the last entry removed by ``govcloud audit prune``: the chain then
    starts after it, and the newest ``audit-pruned`` entry, itself in the chain, must record
    exactly that anchor (so removing more entries and moving the anchor is detected)."""
    prev = GENESIS if anchor is None else anchor[1]
    expected_seq = 1 if anchor is None else anchor[0] + 1
    if anchor is not None:
        marks = [e for e in entries if e.action == PRUNED]
        last = marks[-1].detail if marks else {}
        if (last.get("to_seq"), last.get("last_hash")) != anchor:
            return ChainBreak(expected_seq, f"the log starts after entry {anchor[0]}, but no "
                                            f"audit-pruned entry records that prune (entries "
                                            f"were removed outside `govcloud audit prune`)")
    for e in entries:
        if e.seq != expected_seq:
            return ChainBreak(e.seq, f"entry {expected_seq} is missing or out of order "
                                     f"(found seq {e.seq})")
        if e.prev_hash != prev:
            return ChainBreak(e.seq, "prev_hash does not match the previous entry "
                                     "(an entry was removed, inserted or reordered)")
        if entry_hash(e.seq, e.ts, e.actor, e.action, e.target, e.approval, e.detail,
                      e.prev_hash) != e.hash:
            return ChainBreak(e.seq, "entry content does not match its hash (edited)")
        prev = e.hash
        expected_seq += 1
    count = expected_seq - 1            # the last sequence number (entries before an anchor pruned)
    if head is not None and (head[0] != count or (entries and head[1] != prev)):
        return ChainBreak(count + 1, f"the log ends at entry {count} but its head records "
                                     f"{head[0]} entries (entries were cut off the end)")
    return None
