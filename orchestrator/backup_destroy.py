"""Destroying one decommission backup past its retention: the wipe-and-verify decommission uses
for a system's media (orchestrator/sanitize.py: the same sanitizer and the same full read-back),
then the file's delete, then the record — the system's workflow document, a ``backup-destroyed``
lifecycle event on each of its approvals and an audit entry — in one state transaction.

Resumable at every point. Before its first byte is overwritten a backup is marked ``wiping``
with an audit entry (a half-wiped file is never an unexplained change); once the read-back has
passed it is marked ``verified``; only then is the file deleted. A run killed anywhere continues
from the mark: a ``wiping`` or ``wipe-failed`` backup is wiped and verified again (its SHA-256
no longer matches the recorded one, which is expected there), a ``verified`` one is deleted if
still there and recorded. Whether a backup may be destroyed at all (its date, its content) is
decided before by the use case (orchestrator/usecases/backup.py).
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any, Callable

from drivers.media import Medium, allocated_bytes

from . import faults
from .core.backups import local_path
from .decommission import workflow_name
from .errors import GovcloudError, Issue
from .progress import ByteMeter
from .sanitize import make_sanitizer, verify
from .state.base import StateStore


class BackupDestroyer:
    def __init__(self, store: StateStore, today: dt.date, actor: str, method: str = "zeros",
                 say: Callable[[str], None] = lambda s: None,
                 live: Callable[[str], None] | None = None):
        self.store, self.today, self.actor, self.say, self.live = store, today, actor, say, live
        self.sanitizer = make_sanitizer(method)

    def _mark(self, doc: dict[str, Any], medium: dict[str, Any], audit: str | None,
              **destruction: Any) -> None:
        """The backup's destruction record (and an audit entry) in one transaction."""
        b = medium["backup"]
        with self.store.atomic():
            b["destruction"] = {**(b.get("destruction") or {}), **destruction}
            self.store.put_workflow(workflow_name(doc["stack"]), doc)
            if audit:
                self.store.append_audit(self.actor, audit, doc["stack"], None, self._detail(medium))

    @staticmethod
    def _detail(medium: dict[str, Any]) -> dict[str, Any]:
        b = medium["backup"]
        d = b.get("destruction") or {}
        return {"medium": medium["id"], "uri": b["uri"], "sha256": b["sha256"],
                "destroy_on": b.get("destroy_on"), "method": d.get("method"),
                "state": d.get("state"), "verification": (d.get("verification") or {}).get("result"),
                "bytes_overwritten": d.get("bytes_overwritten")}

    def destroy(self, doc: dict[str, Any], medium: dict[str, Any]) -> None:
        b = medium["backup"]
        path = Path(local_path(b["uri"]) or "")
        if (b.get("destruction") or {}).get("state") != "verified":
            self._wipe_and_verify(doc, medium, path)
        path.unlink(missing_ok=True)
        _sync_dir(path.parent)
        faults.point("backup.deleted", what=medium["id"])
        with self.store.atomic():   # the record: workflow document, events and audit entry
            b["destruction"] = {**b["destruction"], "state": "destroyed",
                                "on": self.today.isoformat()}
            self.store.put_workflow(workflow_name(doc["stack"]), doc)
            detail = {"stack": doc["stack"], **self._detail(medium)}
            for no in doc.get("approvals", []):
                self.store.record_event(no, "backup-destroyed", self.today.isoformat(), detail)
            faults.point("backup.recorded", what=medium["id"])
            self.store.append_audit(self.actor, "backup-destroyed", doc["stack"], None,
                                    self._detail(medium))
        for folder in (path.parent, path.parent.parent):   # <system>/<date>/, when now empty
            try:
                folder.rmdir()
            except OSError:
                break
        self.say(f"  [destroyed] {medium['id']} ({b['uri']}): wiped ({self.sanitizer.name}), "
                 f"verified, deleted")

    def _wipe_and_verify(self, doc: dict[str, Any], medium: dict[str, Any], path: Path) -> None:
        s = self.sanitizer
        b = medium["backup"]
        self._mark(doc, medium, "backup-wipe", state="wiping", operator=self.actor,
                   started_on=(b.get("destruction") or {}).get("started_on") or self.today.isoformat(),
                   method=s.name, nist_method=s.nist_method, technique=s.technique)
        m = Medium(medium["id"], "backup", path, medium.get("address", ""), path.stat().st_size)
        total = allocated_bytes(path)
        line = self.say if total else (lambda text: None)   # an all-holes file: no progress
        meter = ByteMeter(f"wipe {medium['id']}", total, line, self.live if total else None)
        done = s.sanitize(m, meter)
        meter.finish()
        faults.point("backup.wiped", what=medium["id"])
        meter = ByteMeter(f"verify {medium['id']}", total, line, self.live if total else None)
        check = verify(m, s, "full", progress=meter)
        meter.finish()
        if not check.ok:
            self._mark(doc, medium, "backup-wipe-failed", state="wipe-failed",
                       verification=check.to_dict())
            raise GovcloudError(
                f"wipe verification failed for backup {medium['id']} of {doc['stack']}: "
                f"not deleted", [Issue(str(path), f"{len(check.bad_ranges)} ranges still differ "
                                                  "from the wipe pattern")],
                fix="find the cause, then run the command again: the wipe is repeated and verified",
                changed_nothing=False)
        self._mark(doc, medium, None, state="verified", verification=check.to_dict(),
                   bytes_overwritten=done["bytes_overwritten"])


def _sync_dir(folder: Path) -> None:
    """Make the delete durable before it is recorded."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
