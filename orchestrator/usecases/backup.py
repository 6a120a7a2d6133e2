"""`govcloud backup list` and `govcloud backup destroy [--due] [SYSTEM]`: the decommission
backups a workspace holds, and their destruction once their retention has run out.

Destroying is refused, with nothing changed, for a backup whose destroy date has not come
(named with its date and the profile's retention rule: never early), for one in object storage
(govcloud cannot overwrite and read back an object), for a file that is missing, and for a file
whose content no longer has the SHA-256 recorded when it was made: a backup altered since is
reported, never silently destroyed — the record would claim the destruction of a copy that
was no longer there, and the change itself needs explaining first. The wipe, verify, delete and
record of each backup: orchestrator/backup_destroy.py.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from drivers.media import content_sha256

from ..core import backups
from ..decommission import workflow_name
from ..errors import GovcloudError, Issue
from ..state.base import StateStore, default_actor
from ..workspace import Workspace
from .session import locked, open_state


@dataclass
class BackupList:
    today: dt.date
    backups: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-backup-list/1", "today": self.today.isoformat(),
                "backups": self.backups}


@dataclass
class DestroyResult:
    today: dt.date
    dry_run: bool
    due: list[dict[str, Any]]                         # destroyed now (a dry run: would be)
    destroyed: list[dict[str, Any]] = field(default_factory=list)
    not_due: list[dict[str, Any]] = field(default_factory=list)   # kept (with --due)

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-backup-destroy/1", "today": self.today.isoformat(),
                "dry_run": self.dry_run, "due": self.due, "destroyed": self.destroyed,
                "not_due": self.not_due}


@dataclass
class DestroyOptions:
    due_only: bool = False
    dry_run: bool = False
    sanitizer: str = "zeros"
    operator: str | None = None
    confirm: Callable[[list[dict[str, Any]]], bool] | None = None   # None: approved
    live: Callable[[str], None] | None = None


def _docs(store: StateStore, system: str | None) -> list[dict[str, Any]]:
    stacks = (store.get_workflow("decommission-index") or {}).get("stacks", [])
    if system is not None:
        stacks = [s for s in stacks if system in (s, s.split("/")[-1])]
        if not stacks:
            raise GovcloudError(f"{system} has no decommission record, so no backups",
                                fix="`govcloud backup list` shows the systems with backups")
    return [d for s in stacks if (d := store.get_workflow(workflow_name(s)))]


def _with_files(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A backup held or due whose file is gone is shown as missing (not destroyed by govcloud)."""
    for r in rows:
        if r["state"] in ("held", "due") and r["path"] and not Path(r["path"]).is_file():
            r["state"] = "missing"
    return rows


def list_backups(ws: Workspace, today: dt.date) -> BackupList:
    """Every backup the workspace's decommission records hold; read only, no lock."""
    with open_state(ws) as store:
        return BackupList(today, _with_files(backups.rows(_docs(store, None), today)))


def _retention(ws: Workspace) -> str:
    rule = ws.profile.rules.backup_retention_months
    if rule is None:
        return "the profile sets no backup_retention_months"
    return f"backup_retention_months {rule.value}: {ws.profile.cite(rule)}"


def _refusals(todo: list[tuple[dict, dict]], today: dt.date) -> list[Issue]:
    """Why a selected backup may not be destroyed now (empty: every one may)."""
    out = []
    for doc, m in todo:
        b = m["backup"]
        where = f"{doc['stack']} {m['id']}"
        started = (b.get("destruction") or {}).get("state")
        path = backups.local_path(b["uri"])
        if path is None:
            out.append(Issue(where, f"{b['uri']} is in object storage: govcloud cannot overwrite "
                                    "and read back an object; destroy it with the storage's own "
                                    "tools and keep their record"))
        elif started == "verified":
            continue                        # wiped and verified: only the delete and the record
        elif not Path(path).is_file():
            out.append(Issue(where, f"{path} is missing: there is nothing to wipe or verify, "
                                    "and govcloud records no destruction it did not do"))
        elif started is None and content_sha256(Path(path)) != b["sha256"]:
            out.append(Issue(where, f"{path} was altered since the backup was made: its SHA-256 "
                                    f"is not the recorded {b['sha256'][:16]}…; find out what "
                                    "changed it (it is not destroyed unexplained)"))
    return out


def destroy_backups(ws: Workspace, system: str | None, today: dt.date, opts: DestroyOptions,
                    lock_timeout: float, say: Callable[[str], None] = lambda s: None) -> DestroyResult:
    """Destroy the backups of ``system`` (every one must be due), or with ``due_only`` those
    whose destroy date has come (of ``system``, or of every system)."""
    from ..backup_destroy import BackupDestroyer
    if system is None and not opts.due_only:
        raise GovcloudError("backup destroy needs a SYSTEM or --due",
                            fix="`govcloud backup destroy --due` destroys every backup whose "
                                "destroy date has come; `govcloud backup list` shows them")
    with open_state(ws) as store, locked(store, "backup-destroy", lock_timeout, ws):
        docs = _docs(store, system)
        todo, not_due = [], []
        for doc in docs:
            for m in (m for m in doc.get("media", []) if m.get("backup")):
                st = backups.state(doc, m["backup"], today)
                if st in ("due", "destroying"):
                    todo.append((doc, m))
                elif st == "held":
                    not_due.append((doc, m, backups.why_not_due(doc, m["backup"], today)))
        if not_due and not opts.due_only:
            raise GovcloudError(
                f"{len(not_due)} backups of {system} may not be destroyed on {today} "
                f"({_retention(ws)})",
                [Issue(f"{d['stack']} {m['id']}", f"{why} ({_retention(ws)}); 备份保存期满前不得销毁",
                       rule="backup_retention_months") for d, m, why in not_due],
                fix="a backup is never destroyed early: run on or after its date, or pass --due "
                    "to destroy only those whose date has come")
        problems = _refusals(todo, today)
        if problems:
            raise GovcloudError(f"{len(problems)} of the {len(todo)} backups due cannot be "
                                "destroyed", problems,
                                fix="deal with each, or name another SYSTEM")
        due = [backups.row(d, m, today) for d, m in todo]
        res = DestroyResult(today, opts.dry_run, due,
                            not_due=[{**backups.row(d, m, today), "why": why}
                                     for d, m, why in not_due])
        for r in due:
            say(f"  wipe+delete {r['system']} {r['medium']} {r['uri']}")
        for r in res.not_due:
            say(f"  keep        {r['system']} {r['medium']}: {r['why']}")
        if res.not_due:
            say(f"  (retention: {_retention(ws)})")
        if opts.dry_run or not todo:
            say(f"{'Dry run: ' if opts.dry_run else ''}{len(todo)} backups to destroy. "
                "Nothing was changed.")
            return res
        if opts.confirm is not None and not opts.confirm(due):
            raise GovcloudError("backup destroy cancelled")
        gone = BackupDestroyer(store, today, opts.operator or default_actor(), opts.sanitizer,
                               say, opts.live)
        for doc, m in todo:
            gone.destroy(doc, m)
            res.destroyed.append(backups.row(doc, m, today))
    return res
