"""Decommission backups as rows, and which of them may be destroyed on a day.

A backup is recorded by decommission's backup step in its system's workflow document (``media[i]
["backup"]``: ``uri``, ``sha256``, ``destroy_on`` from the profile's ``backup_retention_months``)
and, once ``govcloud backup destroy`` has begun on it, carries ``destruction`` (``state``:
wiping, wipe-failed, verified, destroyed). Pure: the documents and the day come in, rows and
verdicts go out; files, hashes and the clock are the caller's.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping
from urllib.parse import unquote, urlsplit

# destruction states of a backup whose destruction began and has not been recorded as done
UNFINISHED = ("wiping", "wipe-failed", "verified")


def local_path(uri: str) -> str | None:
    """The file a ``file://`` URI names; None for object storage (``s3://``)."""
    p = urlsplit(uri)
    return unquote(p.path) if p.scheme == "file" else None


def row(doc: Mapping[str, Any], medium: Mapping[str, Any], today: dt.date) -> dict[str, Any]:
    """One backup as ``backup list`` shows it (the state: held, due, destroying, destroyed)."""
    b = medium["backup"]
    done = b.get("destruction") or {}
    return {"system": doc["stack"], "medium": medium["id"], "kind": medium["kind"],
            "uri": b["uri"], "path": local_path(b["uri"]), "sha256": b["sha256"],
            "destroy_on": b.get("destroy_on"), "state": state(doc, b, today),
            "destroyed_on": done.get("on") if done.get("state") == "destroyed" else None,
            "verification": (done.get("verification") or {}).get("result"),
            "size_bytes": medium.get("size_bytes")}


def state(doc: Mapping[str, Any], backup: Mapping[str, Any], today: dt.date) -> str:
    done = (backup.get("destruction") or {}).get("state")
    if done == "destroyed":
        return "destroyed"
    if done in UNFINISHED:
        return "destroying"
    return "due" if why_not_due(doc, backup, today) is None else "held"


def why_not_due(doc: Mapping[str, Any], backup: Mapping[str, Any], today: dt.date) -> str | None:
    """Why the backup may not be destroyed on ``today`` (None: it may). Never early: its destroy
    date must have come, and its system's decommission must have finished."""
    on = backup.get("destroy_on")
    if on is None:
        return "no destroy date was recorded (the profile set no backup_retention_months)"
    if today < dt.date.fromisoformat(on):
        return f"kept until {on}"
    if not doc.get("finished"):
        return "its system's decommission has not finished"
    return None


def rows(docs: Iterable[Mapping[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """Every backup recorded in the workflow documents, by system, then medium."""
    out = [row(d, m, today) for d in docs for m in d.get("media", []) if m.get("backup")]
    return sorted(out, key=lambda r: (r["system"], r["medium"]))
