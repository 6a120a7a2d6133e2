"""The PostgreSQL store's locks: session-level advisory locks on the store's own connection.

A whole-workspace holder takes the workspace key exclusively; a scoped holder (a department's
pipeline) takes it shared plus one exclusive key per scope, so scoped holders of different
scopes run together and nobody runs beside a whole-workspace holder. Keys are tried without
blocking, in sorted order, and all given back when one is taken: no deadlock.

The locks live on the connection that writes the state, not on a separate one: if that session
ends (the server restarted, ``pg_terminate_backend``, a network cut noticed by the server) the
locks are gone and so is the connection, so the holder's next write fails. That failure is
raised as LockLost (with a clear message), never retried on a new connection: another runner
may hold the lock by then.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import uuid

from ..errors import LockLost
from .base import (LockInfo, default_actor, scope_key, scoped_operation, still_held,
                   wait_for_lock)


def lock_key(workspace_id: str, scope: str | None = None) -> int:
    """The 64-bit advisory-lock key of a workspace (stable across versions: never change it),
    or of one of its scopes."""
    raw = b"govcloud-state-lock:" + workspace_id.encode("utf-8")
    if scope is not None:
        raw += b"\0scope:" + scope.encode("utf-8")
    return int.from_bytes(hashlib.sha256(raw).digest()[:8], "big", signed=True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


_HELD_BY = ("SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = %s "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid::bigint = %s AND objid::bigint = %s AND objsubid = 1")


class PgLocking:
    """Mixed into PostgresStateStore (which provides _conn, _mutex, _tx, _query, _errors,
    _connect, workspace_id, _key, _psycopg)."""

    _held: tuple[LockInfo, list[str] | None] | None

    def _lock_lost(self, exc, msg: str) -> None:
        """Called on every database error: while a lock is held, a dead connection is LockLost."""
        if self._held is None:
            return
        if not (self._conn.closed or isinstance(exc, self._psycopg.OperationalError)):
            return
        info = self._held[0]
        raise LockLost(f"lost the state lock {info.id} ('{info.operation}'): the database "
                       f"connection ended ({self._redact(msg)}); stopped before the next write, "
                       "another runner may hold the lock now",
                       fix="check the database, then run the command again: its next plan shows "
                           "what is left (objects made but not recorded are adopted by their "
                           "tags)") from None

    def _held_by(self, backend_pid: int, key: int) -> bool:
        return bool(self._query(_HELD_BY, (backend_pid, (key >> 32) & 0xFFFFFFFF,
                                           key & 0xFFFFFFFF)))

    def _lock_rows(self, scopes: list[str] | None = None) -> list[tuple]:
        """(id, holder, pid, operation, created_at, backend_pid, scope or None): the whole
        workspace's row first."""
        rows = self._query("SELECT id, holder, pid, operation, created_at, backend_pid, NULL "
                           "FROM govcloud_locks WHERE ws = %s", (self.workspace_id,))
        q = ("SELECT id, holder, pid, operation, created_at, backend_pid, scope FROM "
             "govcloud_scope_locks WHERE ws = %s")
        if scopes is None:
            rows += self._query(q + " ORDER BY scope", (self.workspace_id,))
        else:
            rows += self._query(q + " AND scope = ANY(%s) ORDER BY scope",
                                (self.workspace_id, scopes))
        return rows

    def current_lock(self) -> LockInfo | None:
        """The whole-workspace holder's record (live or stale, like SQLite's), else a live
        scoped holder's."""
        with self._errors("cannot read the state lock"):
            for row in self._lock_rows():
                if row[6] is None or self._held_by(row[5], lock_key(self.workspace_id, row[6])):
                    return LockInfo(*row[:5])
        return None

    def _live_holder(self, scopes: list[str] | None = None) -> LockInfo | None:
        """A holder whose session still holds its advisory lock."""
        for row in self._lock_rows(scopes):
            if self._held_by(row[5], lock_key(self.workspace_id, row[6])):
                return LockInfo(*row[:5])
        return None

    def _try_keys(self, conn, scopes: list[str] | None) -> bool:
        if scopes is None:
            return conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()[0]
        if not conn.execute("SELECT pg_try_advisory_lock_shared(%s)", (self._key,)).fetchone()[0]:
            return False
        taken = []
        for s in scopes:
            k = lock_key(self.workspace_id, s)
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (k,)).fetchone()[0]:
                for t in taken:
                    conn.execute("SELECT pg_advisory_unlock(%s)", (t,))
                conn.execute("SELECT pg_advisory_unlock_shared(%s)", (self._key,))
                return False
            taken.append(k)
        return True

    def _unlock_keys(self, conn, scopes: list[str] | None) -> None:
        if scopes is None:
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            return
        for s in reversed(scopes):
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(self.workspace_id, s),))
        conn.execute("SELECT pg_advisory_unlock_shared(%s)", (self._key,))

    def acquire(self, operation: str, timeout: float, scopes=None) -> LockInfo:
        scopes = scope_key(scopes)
        with self._errors("cannot take the state lock"), self._mutex:
            conn = self._conn
            wait_for_lock(lambda: self._try_keys(conn, scopes) or None, timeout,
                          lambda: self._live_holder(scopes),
                          "the workspace state" if scopes is None else
                          f"the state of {', '.join(scopes)}")
            info = LockInfo(uuid.uuid4().hex[:12], default_actor(), os.getpid(),
                            scoped_operation(operation, scopes), _now())
            row = (info.id, info.holder, info.pid, info.operation, info.created_at,
                   conn.info.backend_pid)
            try:
                with self._tx() as cur:
                    if scopes is None:
                        cur.execute(
                            "INSERT INTO govcloud_locks VALUES (%s,%s,%s,%s,%s,%s,%s) "
                            "ON CONFLICT (ws) DO UPDATE SET id = EXCLUDED.id, "
                            "holder = EXCLUDED.holder, pid = EXCLUDED.pid, "
                            "operation = EXCLUDED.operation, created_at = EXCLUDED.created_at, "
                            "backend_pid = EXCLUDED.backend_pid", (self.workspace_id, *row))
                    for s in scopes or ():
                        cur.execute(
                            "INSERT INTO govcloud_scope_locks VALUES (%s,%s,%s,%s,%s,%s,%s,%s) "
                            "ON CONFLICT (ws, scope) DO UPDATE SET id = EXCLUDED.id, "
                            "holder = EXCLUDED.holder, pid = EXCLUDED.pid, "
                            "operation = EXCLUDED.operation, created_at = EXCLUDED.created_at, "
                            "backend_pid = EXCLUDED.backend_pid", (self.workspace_id, s, *row))
            except BaseException:
                if not conn.closed:
                    self._unlock_keys(conn, scopes)
                raise
        self._held = (info, scopes)
        return info

    def release(self, lock: LockInfo) -> None:
        held, self._held = self._held, None
        with self._errors("cannot release the state lock"), self._mutex:
            try:
                with self._tx() as cur:
                    cur.execute("DELETE FROM govcloud_locks WHERE ws = %s AND id = %s",
                                (self.workspace_id, lock.id))
                    cur.execute("DELETE FROM govcloud_scope_locks WHERE ws = %s AND id = %s",
                                (self.workspace_id, lock.id))
            finally:
                if held is not None and not self._conn.closed:
                    self._unlock_keys(self._conn, held[1])

    def force_unlock(self, lock_id: str) -> LockInfo:
        with self._errors("cannot remove the state lock"):
            rows = [r for r in self._lock_rows() if r[0] == lock_id]
        if not rows or rows[0][6] is None:
            info = self._lock_to_force(lock_id)
            scopes = None
        else:
            info, scopes = LockInfo(*rows[0][:5]), [r[6] for r in rows]
        with self._errors("cannot remove the state lock"):
            conn = self._connect()
            try:
                if not self._try_keys(conn, scopes):
                    raise still_held(info)
                with self._tx() as cur:
                    cur.execute("DELETE FROM govcloud_locks WHERE ws = %s AND id = %s",
                                (self.workspace_id, lock_id))
                    cur.execute("DELETE FROM govcloud_scope_locks WHERE ws = %s AND id = %s",
                                (self.workspace_id, lock_id))
            finally:
                conn.close()
        return info
