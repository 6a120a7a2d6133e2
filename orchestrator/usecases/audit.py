"""`govcloud audit list | verify`: the hash-chained audit log."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..core.audit import AuditEntry, ChainBreak, verify_chain
from ..workspace import Workspace
from .session import open_state


@dataclass
class AuditLog:
    entries: list[AuditEntry]         # oldest first
    total: int                        # entries in the log, shown or not

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-audit-list/1", "total": self.total,
                "entries": [e.to_dict() for e in self.entries]}


def audit_list(ws: Workspace, last: int = 0) -> AuditLog:
    """The last ``last`` entries (0: all)."""
    with open_state(ws) as store:
        entries = store.audit_entries()
    return AuditLog(entries[-last:] if last else entries, len(entries))


@dataclass
class AuditCheck:
    entries: int
    first_bad: ChainBreak | None

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-audit-verify/1", "entries": self.entries,
                "intact": self.first_bad is None,
                "first_bad": self.first_bad.__dict__ if self.first_bad else None}


def audit_verify(ws: Workspace) -> AuditCheck:
    with open_state(ws) as store:
        entries = store.audit_entries()
        return AuditCheck(len(entries), verify_chain(entries, store.audit_head()))
