"""`govcloud audit list | verify | prune | export`: the hash-chained audit log and its retention."""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
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


def audit_list(ws: Workspace, last: int = 0, department: str | None = None) -> AuditLog:
    """The last ``last`` entries (0: all); only a department's with ``department``."""
    with open_state(ws) as store:
        entries = store.audit_entries()
    if department:
        entries = [e for e in entries if _of_department(e, department)]
    return AuditLog(entries[-last:] if last else entries, len(entries))


@dataclass
class AuditCheck:
    entries: int
    first_bad: ChainBreak | None
    checkpoint_problems: list[str] | None = None   # with --checkpoint FILE

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-audit-verify/1", "entries": self.entries,
                "intact": self.first_bad is None,
                "first_bad": self.first_bad.__dict__ if self.first_bad else None,
                "checkpoint_problems": self.checkpoint_problems}


def audit_verify(ws: Workspace) -> AuditCheck:
    with open_state(ws) as store:
        head, entries = store.audit_consistent()
        return AuditCheck(len(entries), verify_chain(entries, head, store.audit_anchor()))


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
            [Issue("--before", f"on or before {keep_from}: logs are kept {months} months ({source}); "
                   f"运行操作日志至少完整保存{months}个月", rule="log_retention_months")],
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


# --- checkpoints and department exports (orchestrator/checkpoint.py) ----------------------
def checkpoint_verify(ws: Workspace, path: Path, public_pem: str | None = None) -> list[str]:
    """Problems of the state against the checkpoint in ``path`` (empty: it continues it).
    ``public_pem``: the provider's public key as the verifier got it (default: this
    workspace's)."""
    from .. import checkpoint
    from ..errors import GovcloudError
    from ..trust.provider_key import load_or_create
    cp = checkpoint.read(path)
    if cp is None:
        raise GovcloudError(f"checkpoint file {path} not found")
    with open_state(ws) as store:
        return checkpoint.compare(cp, store, public_pem or load_or_create(ws.root).public_pem(),
                                  ws.config.workspace.id)


def checkpoint_write(ws: Workspace, accept_rollback: bool = False) -> dict[str, Any]:
    """Publish the current head as the checkpoint. Refused when the state does not continue
    the published one, unless ``accept_rollback`` (then an audit entry records the decision)."""
    from .. import checkpoint
    from ..state.base import default_actor
    with open_state(ws) as store, store.locked("audit-checkpoint", 30):
        root, wid = ws.root, ws.config.workspace.id
        old = checkpoint.read(root / checkpoint.FILE_NAME)
        if old is not None:
            from ..trust.provider_key import load_or_create
            problems = checkpoint.compare(old, store, load_or_create(root).public_pem(), wid)
            if problems and not accept_rollback:
                checkpoint.guard(root, wid, store)   # raises, naming the problems
            if problems:
                store.append_audit(default_actor(), "checkpoint-rollback-accepted", wid, None,
                                   {"previous": {k: old.get(k) for k in ("lineage", "seq", "hash")},
                                    "problems": problems})
        cp = checkpoint.make(root, wid, store)
        checkpoint.write(root / checkpoint.FILE_NAME, cp)
        return cp


def _of_department(e: AuditEntry, dept: str) -> bool:
    t = e.target
    stack = str(e.detail.get("stack") or "")
    return (t == dept or t.startswith(f"{dept}/") or f"/{dept}/" in t or t.endswith(f"/{dept}")
            or stack.startswith(f"{dept}/"))


def department_entries(ws: Workspace, dept: str) -> list[AuditEntry]:
    with open_state(ws) as store:
        return [e for e in store.audit_entries() if _of_department(e, dept)]


EXPORT_FORMAT = "govcloud-audit-export/1"
_EXPORT_SIGNED = ("format", "workspace_id", "department", "entries", "head", "at")


def _export_bytes(doc: dict[str, Any]) -> bytes:
    import json
    return json.dumps({k: doc.get(k) for k in _EXPORT_SIGNED}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":"), default=str).encode("utf-8")


def department_export(ws: Workspace, dept: str) -> dict[str, Any]:
    """A department's entries with the chain's head, signed with the provider's key: the
    department verifies it with the public key alone (等保 8.2.3.3: provider operations
    auditable by the cloud customer)."""
    import base64
    import datetime as dt
    from ..trust.provider_key import load_or_create
    key = load_or_create(ws.root)
    with open_state(ws) as store:
        entries = [e for e in store.audit_entries() if _of_department(e, dept)]
        head = store.audit_head() or (0, "")
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT, "workspace_id": ws.config.workspace.id, "department": dept,
        "entries": [e.to_dict() for e in entries], "head": {"seq": head[0], "hash": head[1]},
        "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    doc["key_id"] = key.key_id
    doc["public_key"] = key.public_pem()
    doc["signature"] = base64.b64encode(key.sign(_export_bytes(doc))).decode()
    return doc


def export_verify(doc: dict[str, Any], public_pem: str) -> list[str]:
    """Problems of an export (empty: signed by ``public_pem``'s key, every entry whole)."""
    import base64
    from ..core.audit import entry_hash
    from ..trust.provider_key import verify
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        return [f"not a {EXPORT_FORMAT} document"]
    try:
        sig = base64.b64decode(doc.get("signature") or "", validate=True)
    except ValueError:
        sig = b""
    problems = []
    if not verify(public_pem, _export_bytes(doc), sig):
        problems.append("the signature does not verify with the provider's public key")
    for e in doc.get("entries") or []:
        try:
            ok = entry_hash(e["seq"], e["ts"], e["actor"], e["action"], e["target"],
                            e["approval"], e["detail"], e["prev_hash"]) == e["hash"]
        except (KeyError, TypeError):
            ok = False
        if not ok:
            problems.append(f"entry {e.get('seq') if isinstance(e, dict) else '?'} does not "
                            "match its hash")
    return problems
