"""Copy a workspace's SQLite state into PostgreSQL, row for row (``govcloud state migrate``).

Everything the state holds moves: meta (lineage, serial, plan key, audit head and anchor),
resources, their history, the audit log with its hashes, lifecycle events (their ids kept),
workflows and applied-approval digests, in one PostgreSQL transaction: a failure leaves the
target as it was. Lock holder rows are not copied: the migration holds the source's whole
lock, so no other holder is alive, and a lock belongs to a live session, never to a database.
"""
from __future__ import annotations

from typing import Any

from ..errors import StateError
from .postgres import PostgresStateStore
from .sqlite import SQLiteStateStore

# (SQLite table, its columns in order, PostgreSQL table): the PostgreSQL tables add ``ws`` first.
TABLES = [
    ("resources", "address, kind, target, cloud_id, status, stack, approval, properties, refs, "
                  "serial", "govcloud_resources"),
    ("history", "serial, address, record, at", "govcloud_history"),
    ("audit", "seq, ts, actor, action, target, approval, detail, prev_hash, hash",
     "govcloud_audit"),
    ("events", "id, subject, kind, on_date, detail, recorded_at", "govcloud_events"),
    ("workflows", "name, data, updated_at", "govcloud_workflows"),
    ("approval_digests", "number, sha256, file, recorded_at", "govcloud_approval_digests"),
    ("term_due", "approval, due_on", "govcloud_term_due"),
]


def registered(url: str, workspace_id: str) -> bool:
    """Whether the target database already knows this workspace (before we open it, which
    registers it): even an empty state there has its own lineage and plan key."""
    import psycopg
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as con:
        if not con.execute("SELECT to_regclass('govcloud_workspaces') IS NOT NULL").fetchone()[0]:
            return False
        return con.execute("SELECT 1 FROM govcloud_workspaces WHERE ws = %s",
                           (workspace_id,)).fetchone() is not None


def refuse(shown_url: str, workspace_id: str, what: str) -> StateError:
    return StateError(f"the target database {shown_url} already holds state for workspace "
                      f"{workspace_id} ({what}): refusing to mix two states",
                      fix="migrate into an empty database (or one without this workspace)")


def target_rows(target: PostgresStateStore) -> dict[str, int]:
    """What the target already holds for this workspace (every count must be 0)."""
    out = {}
    for name, _cols, pg in TABLES:
        out[name] = target._query(f"SELECT count(*) FROM {pg} WHERE ws = %s",
                                  (target.workspace_id,))[0][0]
    return out


def copy(source: SQLiteStateStore, target: PostgresStateStore) -> dict[str, int]:
    """Copy every row; refuse a target that holds anything of this workspace."""
    held = {k: n for k, n in target_rows(target).items() if n}
    if held or target.get_meta("audit_head"):
        raise refuse(target.shown_url, target.workspace_id,
                     ", ".join(f"{n} {k}" for k, n in held.items() or [("audit head", 1)]))
    db = source._db
    counts: dict[str, int] = {}
    ws = target.workspace_id
    with target._errors("cannot copy the state"), target._tx() as cur:
        meta = db.execute("SELECT key, value FROM meta").fetchall()
        cur.executemany("INSERT INTO govcloud_meta VALUES (%s, %s, %s) ON CONFLICT (ws, key) "
                        "DO UPDATE SET value = EXCLUDED.value", [(ws, k, v) for k, v in meta])
        counts["meta"] = len(meta)
        for name, cols, pg in TABLES:
            rows = db.execute(f"SELECT {cols} FROM {name}").fetchall()
            marks = ",".join(["%s"] * (cols.count(",") + 2))
            cur.executemany(f"INSERT INTO {pg} VALUES ({marks})", [(ws, *r) for r in rows])
            counts[name] = len(rows)
    return counts


def same(source: SQLiteStateStore, target: PostgresStateStore) -> list[str]:
    """What differs between the two after the copy (empty: identical)."""
    problems: list[str] = []
    a, b = source.read(), target.read()
    if (a.lineage, a.serial) != (b.lineage, b.serial):
        problems.append(f"lineage/serial {a.lineage}/{a.serial} became {b.lineage}/{b.serial}")
    if a.records != b.records:
        problems.append("the resources differ")
    if [e.hash for e in source.audit_entries()] != [e.hash for e in target.audit_entries()]:
        problems.append("the audit entries differ")
    if source.events() != target.events():
        problems.append("the lifecycle events differ")
    for key in ("plan_key", "audit_head", "audit_anchor"):
        if source.get_meta(key) != target.get_meta(key):
            problems.append(f"meta {key} differs")
    return problems


def summary(counts: dict[str, Any]) -> str:
    return ", ".join(f"{n} {k}" for k, n in counts.items())
