"""`govcloud audit list | verify | prune | export`: the hash-chained audit log and its retention."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any, Iterator

from ..core.audit import PRUNED, AuditEntry, ChainBreak, verify_chain
from ..core.workdays import add_months
from ..errors import GovcloudError, Issue
from ..state.base import default_actor
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
        return AuditCheck(len(entries), verify_chain(entries, store.audit_head(),
                                                     store.audit_anchor()))


# --- retention: prune and export ----------------------------------------------------------------
@dataclass
class AuditPruned:
    before: str
    keep_from: str | None             # the profile's retention: entries since then are kept
    retention_months: int
    retention_rule: str               # where the minimum comes from
    pruned: int
    from_seq: int | None
    to_seq: int | None
    last_hash: str | None
    dry_run: bool

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-audit-prune/1", **self.__dict__}


def _retention(ws: Workspace) -> tuple[int, str]:
    r = ws.profile.rules.log_retention_months
    if r is not None:
        return r.value, ws.profile.cite(r)
    return DEFAULT_LOG_RETENTION_MONTHS, DEFAULT_RETENTION_SOURCE


# Where a profile states no retention: 《网络安全法》第二十一条（三） asks network operators to keep
# network logs "不少于六个月"; govcloud applies that as its default (README, Log retention).
DEFAULT_LOG_RETENTION_MONTHS = 6
DEFAULT_RETENTION_SOURCE = ("govcloud default: 《中华人民共和国网络安全法》第二十一条（三） 留存相关的"
                            "网络日志不少于六个月 (the profile states no retention)")


def audit_prune(ws: Workspace, before: dt.date, today: dt.date, dry_run: bool = False) -> AuditPruned:
    """Remove the audit entries dated (UTC) before ``before``, refused when that reaches into
    the retention period. The prune is itself an entry (``audit-pruned``, with the range and the
    hash of the last removed entry), and the chain stays verifiable from that anchor."""
    months, source = _retention(ws)
    keep_from = add_months(today, -months)
    if before > keep_from:
        raise GovcloudError(
            f"pruning audit entries before {before} refused: operation logs are kept at least "
            f"{months} months ({source}); entries since {keep_from} may not be pruned; "
            f"运行操作日志至少完整保存{months}个月",
            [Issue("--before", f"on or before {keep_from}", rule="log_retention_months")],
            fix=f"use --before {keep_from} or earlier")
    with open_state(ws) as store:
        entries = store.audit_entries()
        old = []
        for e in entries:                      # a prefix: the chain is in time order
            if e.ts[:10] >= before.isoformat():
                break
            old.append(e)
        result = AuditPruned(before.isoformat(), keep_from.isoformat(), months, source, len(old),
                             old[0].seq if old else None, old[-1].seq if old else None,
                             old[-1].hash if old else None, dry_run)
        if old and not dry_run:
            brk = verify_chain(entries, store.audit_head(), store.audit_anchor())
            if brk is not None:
                raise GovcloudError(f"the audit log is broken at entry {brk.seq} ({brk.reason}): "
                                    f"nothing is pruned from a log that does not verify",
                                    fix="govcloud audit verify; investigate before pruning")
            store.append_audit(default_actor(), PRUNED, ws.config.workspace.id, None, {
                "before": before.isoformat(), "from_seq": old[0].seq, "to_seq": old[-1].seq,
                "count": len(old), "last_hash": old[-1].hash, "retention_months": months})
            store.prune_audit(old[-1].seq)
    return result


def audit_export(ws: Workspace) -> Iterator[str]:
    """JSON lines: a header (format, anchor, head), then every entry, oldest first."""
    with open_state(ws) as store:
        entries = store.audit_entries()
        anchor, head = store.audit_anchor(), store.audit_head()
    yield json.dumps({"format": "govcloud-audit-export/1", "workspace": ws.config.workspace.id,
                      "entries": len(entries),
                      "anchor": {"seq": anchor[0], "hash": anchor[1]} if anchor else None,
                      "head": {"seq": head[0], "hash": head[1]} if head else None},
                     ensure_ascii=False, sort_keys=True)
    for e in entries:
        yield json.dumps(e.to_dict(), ensure_ascii=False, sort_keys=True, default=str)
