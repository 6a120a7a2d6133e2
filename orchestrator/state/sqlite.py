"""SQLite state store: one database file per workspace, a lock file beside it.

The lock is an OS file lock (flock) on ``<db>.lock`` plus a row naming its holder: the OS frees
the lock when the holder dies (kill -9 included), so a crashed apply never leaves the workspace
locked, and a waiting process can always say who holds it. Its transactions and a group
commit's held-back writes: sqlite_batch.py.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import threading
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from ..core.audit import GENESIS, AuditEntry, entry_hash
from ..errors import StateError
from ..redact import redact_data
from .base import (RESOURCE_COLUMNS, LockInfo, StateRecord, StateSnapshot, StateStore,
                   audit_entry_of, default_actor, department_of, events_of, record_json,
                   records_of, scope_key, scoped_operation, still_held, wait_for_lock)
from .sqlite_batch import BatchedWrites, HeldBack, Transaction

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS resources (
  address TEXT PRIMARY KEY, kind TEXT NOT NULL, target TEXT NOT NULL, cloud_id TEXT,
  status TEXT NOT NULL, stack TEXT, approval TEXT, properties TEXT NOT NULL, refs TEXT NOT NULL,
  serial INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS locks (name TEXT PRIMARY KEY, id TEXT NOT NULL, holder TEXT NOT NULL,
  pid INTEGER NOT NULL, operation TEXT NOT NULL, created_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, actor TEXT NOT NULL,
  action TEXT NOT NULL, target TEXT NOT NULL, approval TEXT, detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, subject TEXT NOT NULL, kind TEXT NOT NULL,
  on_date TEXT NOT NULL, detail TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_subject ON events(subject);
CREATE TABLE IF NOT EXISTS workflows (name TEXT PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS approval_digests (number TEXT PRIMARY KEY, sha256 TEXT NOT NULL,
  file TEXT NOT NULL, recorded_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS term_due (approval TEXT PRIMARY KEY, due_on TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS term_due_on ON term_due(due_on);
CREATE TABLE IF NOT EXISTS history (serial INTEGER NOT NULL, address TEXT NOT NULL, record TEXT,
  at TEXT NOT NULL, PRIMARY KEY (serial, address));
"""


def _private_files(path: Path) -> None:
    """The database (it holds the plan key), its -wal/-shm and lock files: mode 0600, created so
    and fixed on existing files; its directory is made 0700. Never world-readable."""
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
                  path.with_name(path.name + ".lock")):
            if p.exists() and (p.stat().st_mode & 0o077):
                os.chmod(p, 0o600)
    except FileExistsError:
        raise StateError(f"cannot open the state database {path}: {path.parent} is not a "
                         "directory", fix=f"move {path.parent} away; it must be a directory") from None
    except NotADirectoryError:
        raise StateError(f"cannot open the state database {path}: a file stands where a "
                         f"directory of its path should be", fix="move it away") from None
    except OSError as exc:   # permissions, a read-only file system, a full disk
        raise StateError(f"cannot open the state database {path}: {exc.strerror} "
                         f"({exc.filename}){_why(path)}", fix=_fix(path)) from None


def _why(path: Path) -> str:
    """What the file system says about a database error the user can fix."""
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return " (the workspace is read-only here)"
    free = shutil.disk_usage(path.parent).free
    return f" (the disk holding it is full: {free // 1024} KiB free)" if free < (1 << 20) else ""


def _fix(path: Path) -> str:
    why = _why(path)
    if "read-only" in why:
        return "make the workspace writable (govcloud records every change in it)"
    if "full" in why:
        return "free space on that disk, then run the command again (nothing was half-written)"
    return "if the database is damaged, restore it from your backup and check it with " \
           "`govcloud audit verify`"


def _unflock(fds: list[int]) -> None:
    for fd in reversed(fds):
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    fds.clear()


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class SQLiteStateStore(BatchedWrites, StateStore):
    def __init__(self, path: Path):
        self.path = path
        _private_files(path)
        self._mutex = threading.RLock()  # one writer thread at a time inside this process
        self._depth = 0                  # nesting of _tx in the thread holding the mutex
        self._inner_failed = False
        self._batch: HeldBack | None = None   # inside batched(): writes held back
        try:
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(SCHEMA)
            _private_files(path)   # the -wal and -shm files now exist too
            with self._tx() as db:
                db.execute("INSERT OR IGNORE INTO meta VALUES ('lineage', ?)", (str(uuid.uuid4()),))
                db.execute("INSERT OR IGNORE INTO meta VALUES ('serial', '0')")
                db.execute("INSERT OR IGNORE INTO meta VALUES ('plan_key', ?)", (secrets.token_hex(32),))
        except sqlite3.Error as exc:
            raise StateError(f"cannot open the state database {path}: {exc}{_why(path)}",
                             fix=_fix(path)) from None
        self._lock_fds: list[int] = []

    def _tx(self) -> "Transaction":
        """A write transaction; nested in the same thread (``atomic``) it joins the outer one."""
        return Transaction(self)

    @contextmanager
    def atomic(self) -> Iterator[None]:
        try:
            with self._tx():
                yield
        except sqlite3.Error as exc:
            raise StateError(f"cannot write the state database {self.path}: {exc}"
                             f"{_why(self.path)}", fix=_fix(self.path)) from None

    def get_meta(self, key: str) -> str | None:
        if self._batch is not None and self._mine():
            self._settle()
        row = self._db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    # --- resources --------------------------------------------------------------------
    def read(self) -> StateSnapshot:
        with self._mutex:
            if self._batch is not None:
                self._settle()
            rows = self._db.execute(f"SELECT {RESOURCE_COLUMNS} FROM resources").fetchall()
            lineage, serial = self.get_meta("lineage"), int(self.get_meta("serial"))
        return StateSnapshot(lineage, serial, records_of(rows))

    def read_departments(self, departments: set[str]) -> StateSnapshot:
        # The stack column (DEPT/SYSTEM) narrows the scan in SQL; rows without one (a
        # department's domain) are few and filtered by their address.
        with self._mutex:
            rows = self._db.execute(
                f"SELECT {RESOURCE_COLUMNS} FROM resources WHERE stack IS NULL OR "
                "instr(stack, '/') = 0 OR "
                "substr(stack, 1, instr(stack, '/') - 1) IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(departments)),)).fetchall()
            lineage, serial = self.get_meta("lineage"), int(self.get_meta("serial"))
        return StateSnapshot(lineage, serial, records_of(
            [r for r in rows if department_of(r[0]) in departments]))

    def changed_since(self, serial: int) -> set[str] | None:
        with self._mutex:
            now = int(self.get_meta("serial"))
            if now == serial:
                return set()
            first = self._db.execute("SELECT MIN(serial) FROM history").fetchone()[0]
            if now < serial or first is None or first > serial + 1:
                return None
            return {r[0] for r in self._db.execute(
                "SELECT DISTINCT address FROM history WHERE serial > ? AND address <> ''",
                (serial,))}

    def _bump(self, db) -> int:
        db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key='serial'")
        return int(db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()[0])

    def _history_base(self, db) -> None:
        """Before the first versioned write: the records as they are, at the current serial."""
        if getattr(self, "_history_ok", False):
            return
        if db.execute("SELECT 1 FROM history LIMIT 1").fetchone() is None:
            serial = int(db.execute("SELECT value FROM meta WHERE key='serial'").fetchone()[0])
            rows = db.execute("SELECT address, kind, target, cloud_id, status, stack, approval, "
                              "properties, refs FROM resources").fetchall()
            db.executemany("INSERT INTO history VALUES (?,?,?,?)", [
                (serial, r[0], record_json(StateRecord(*r[:7], json.loads(r[7]), json.loads(r[8]))),
                 _now()) for r in rows] or [(serial, "", None, _now())])
        self._history_ok = True

    def history_rows(self, upto: int):
        if self._batch is not None and self._mine():
            self._settle()
        row = self._db.execute("SELECT MIN(serial) FROM history").fetchone()
        rows = self._db.execute("SELECT serial, address, record FROM history WHERE serial <= ? "
                                "AND address <> '' ORDER BY serial", (upto,)).fetchall()
        return (row[0] if row else None), rows

    def replace_all(self, records: list[StateRecord], serial: int) -> int:
        try:
            with self._tx() as db:
                self._settle()
                self._history_base(db)
                gone = [r[0] for r in db.execute("SELECT address FROM resources")]
                db.execute("DELETE FROM resources")
                db.executemany("INSERT OR REPLACE INTO history VALUES (?,?,?,?)",
                               [(serial, a, None, _now()) for a in gone])
                for rec in records:
                    self._write(db, rec, serial)
                db.execute("UPDATE meta SET value=? WHERE key='serial'", (str(serial),))
                return serial
        except sqlite3.Error as exc:
            raise StateError(f"cannot replace the state: {exc}") from None

    @staticmethod
    def _row_of(record: StateRecord, serial: int) -> tuple:
        return (record.address, record.kind, record.target, record.cloud_id, record.status,
                record.stack, record.approval, json.dumps(record.properties, sort_keys=True,
                                                          ensure_ascii=False),
                json.dumps(record.refs, sort_keys=True), serial)

    def _write(self, db, record: StateRecord, serial: int) -> None:
        db.execute("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?,?,?,?,?)",
                   self._row_of(record, serial))
        db.execute("INSERT OR REPLACE INTO history VALUES (?,?,?,?)",
                   (serial, record.address, record_json(record), _now()))

    def put(self, record: StateRecord) -> int:
        try:
            with self._tx() as db:
                b = self._batch
                if b is not None:
                    b.serial += 1
                    b.resources[record.address] = self._row_of(record, b.serial)
                    b.history.append((b.serial, record.address, record_json(record), _now()))
                    return b.serial
                self._history_base(db)
                serial = self._bump(db)
                self._write(db, record, serial)
                return serial
        except sqlite3.Error as exc:
            raise StateError(f"cannot write state for {record.address}: {exc}{_why(self.path)}",
                             fix=_fix(self.path)) from None

    def remove(self, address: str) -> int:
        try:
            with self._tx() as db:
                b = self._batch
                if b is not None:
                    b.serial += 1
                    b.resources[address] = None
                    b.history.append((b.serial, address, None, _now()))
                    return b.serial
                self._history_base(db)
                serial = self._bump(db)
                db.execute("DELETE FROM resources WHERE address=?", (address,))
                db.execute("INSERT OR REPLACE INTO history VALUES (?,?,?,?)",
                           (serial, address, None, _now()))
                return serial
        except sqlite3.Error as exc:
            raise StateError(f"cannot remove {address} from state: {exc}") from None

    # --- locking ----------------------------------------------------------------------
    # The workspace lock file is flocked exclusively by a whole-workspace holder and shared by
    # every scoped holder, who also flocks one file per scope (``<db>.lock.<digest>``)
    # exclusively. Locks are tried without blocking, in one order, and dropped all together
    # when one is taken: two runners never wait on each other in a cycle.
    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def _scope_path(self, scope: str) -> Path:
        digest = hashlib.sha256(scope.encode("utf-8")).hexdigest()[:16]
        return self.path.with_name(f"{self.path.name}.lock.{digest}")

    def current_lock(self) -> LockInfo | None:
        """The whole-workspace holder's record, else a live scoped holder's."""
        rows = self._db.execute("SELECT id, holder, pid, operation, created_at, name FROM locks "
                                "ORDER BY name <> 'workspace', name").fetchall()
        for row in rows:
            if row[5] == "workspace" or self._scope_held(row[5][len("scope:"):]):
                return LockInfo(*row[:5])
        return None

    def _scope_held(self, scope: str) -> bool:
        fd = self._try_flock(self._scope_path(scope), fcntl.LOCK_SH)
        if fd is None:
            return True
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        return False

    def _holder_of(self, scopes: list[str] | None):
        def holder() -> LockInfo | None:
            if scopes is None:
                return self.current_lock()
            rows = self._db.execute(
                "SELECT id, holder, pid, operation, created_at FROM locks WHERE name IN "
                f"({','.join('?' * (len(scopes) + 1))}) ORDER BY name <> 'workspace'",
                ["workspace", *("scope:" + s for s in scopes)]).fetchall()
            return LockInfo(*rows[0]) if rows else None
        return holder

    def _try_flock(self, path: Path | None = None, mode: int = fcntl.LOCK_EX) -> int | None:
        fd = os.open(path or self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            os.close(fd)
            return None

    def _try_all(self, scopes: list[str] | None) -> list[int] | None:
        if scopes is None:
            fd = self._try_flock()
            return None if fd is None else [fd]
        fds: list[int] = []
        for path, mode in [(self.lock_path, fcntl.LOCK_SH)] + [
                (self._scope_path(s), fcntl.LOCK_EX) for s in scopes]:
            fd = self._try_flock(path, mode)
            if fd is None:
                _unflock(fds)
                return None
            fds.append(fd)
        return fds

    def acquire(self, operation: str, timeout: float, scopes=None) -> LockInfo:
        scopes = scope_key(scopes)
        fds = wait_for_lock(lambda: self._try_all(scopes), timeout, self._holder_of(scopes),
                            "the workspace state" if scopes is None else
                            f"the state of {', '.join(scopes)}")
        info = LockInfo(uuid.uuid4().hex[:12], default_actor(), os.getpid(),
                        scoped_operation(operation, scopes), _now())
        try:
            with self._tx() as db:
                db.executemany("INSERT OR REPLACE INTO locks VALUES (?,?,?,?,?,?)", [
                    (name, info.id, info.holder, info.pid, info.operation, info.created_at)
                    for name in (["workspace"] if scopes is None else
                                 ["scope:" + s for s in scopes])])
        except BaseException:
            _unflock(fds)
            raise
        self._lock_fds = fds
        return info

    def release(self, lock: LockInfo) -> None:
        try:   # the flocks are the lock; the rows only name the holder (a stale row is ignored)
            with self._tx() as db:
                db.execute("DELETE FROM locks WHERE id=?", (lock.id,))
        except sqlite3.Error as exc:
            raise StateError(f"cannot release the workspace lock in {self.path}: {exc}"
                             f"{_why(self.path)}", fix=_fix(self.path)) from None
        finally:
            _unflock(getattr(self, "_lock_fds", []))
            self._lock_fds = []

    def force_unlock(self, lock_id: str) -> LockInfo:
        row = self._db.execute("SELECT id, holder, pid, operation, created_at, name FROM locks "
                               "WHERE id=? ORDER BY name LIMIT 1", (lock_id,)).fetchone()
        if row is None or row[5] == "workspace":
            info = self._lock_to_force(lock_id)
            path = None
        else:
            info, path = LockInfo(*row[:5]), self._scope_path(row[5][len("scope:"):])
        fd = self._try_flock(path)
        if fd is None:
            raise still_held(info)
        try:
            with self._tx() as db:
                db.execute("DELETE FROM locks WHERE id=?", (lock_id,))
        finally:
            _unflock([fd])
        return info

    # --- audit ------------------------------------------------------------------------
    def append_audit(self, actor: str, action: str, target: str, approval: str | None,
                     detail: dict[str, Any]) -> AuditEntry:
        detail = redact_data(json.loads(json.dumps(detail, default=str)))   # no credentials
        b = self._batch
        if b is not None and self._mine():   # inside batched(): chained on its last entry
            entry = self._audit_row(b.head, actor, action, target, approval, detail)
            b.audit.append(entry)
            b.head = (entry[0], entry[8])
            return AuditEntry(*entry[:6], detail, *entry[7:])
        with self.atomic(), self._tx() as db:
            row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            entry = self._audit_row(row, actor, action, target, approval, detail)
            db.execute("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)", entry)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)",
                       (f"{entry[0]}:{entry[8]}",))
        return AuditEntry(*entry[:6], detail, *entry[7:])

    @staticmethod
    def _audit_row(last, actor: str, action: str, target: str, approval: str | None,
                   detail: dict[str, Any]) -> tuple:
        """The audit row after ``last`` ((seq, hash) or None): its hash covers the previous."""
        seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        ts = _now()
        h = entry_hash(seq, ts, actor, action, target, approval, detail, prev)
        return (seq, ts, actor, action, target, approval,
                json.dumps(detail, sort_keys=True, ensure_ascii=False), prev, h)

    def prune_audit(self, through_seq: int) -> int:
        with self._tx() as db:
            self._settle()
            row = db.execute("SELECT seq, hash FROM audit WHERE seq = ?", (through_seq,)).fetchone()
            if row is None:
                return 0
            n = db.execute("DELETE FROM audit WHERE seq <= ?", (through_seq,)).rowcount
            db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_anchor', ?)",
                       (f"{row[0]}:{row[1]}",))
        return n

    def audit_entries(self) -> list[AuditEntry]:
        if self._batch is not None and self._mine():
            self._settle()
        rows = self._db.execute("SELECT seq, ts, actor, action, target, approval, detail, "
                                "prev_hash, hash FROM audit ORDER BY rowid").fetchall()
        return [audit_entry_of(r) for r in rows]

    # --- lifecycle events and workflows ----------------------------------------------
    def record_event(self, subject: str, kind: str, on: str, detail: dict[str, Any]) -> int:
        detail = redact_data(detail)   # a webhook URL's token never reaches the state
        with self.atomic(), self._tx() as db:
            cur = db.execute("INSERT INTO events(subject, kind, on_date, detail, recorded_at) "
                             "VALUES (?,?,?,?,?)", (subject, kind, on, json.dumps(
                                 detail, sort_keys=True, ensure_ascii=False, default=str), _now()))
            return cur.lastrowid

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        q = "SELECT id, subject, kind, on_date, detail, recorded_at FROM events"
        rows = self._db.execute(q + (" WHERE subject=? ORDER BY id" if subject else " ORDER BY id"),
                                (subject,) if subject else ()).fetchall()
        return events_of(rows)

    def put_workflow(self, name: str, data: dict[str, Any]) -> None:
        with self.atomic(), self._tx() as db:
            db.execute("INSERT OR REPLACE INTO workflows VALUES (?,?,?)",
                       (name, json.dumps(data, sort_keys=True, ensure_ascii=False, default=str), _now()))

    def get_workflow(self, name: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT data FROM workflows WHERE name=?", (name,)).fetchone()
        return json.loads(row[0]) if row else None

    def record_approval_digest(self, number: str, sha256: str, file: str) -> None:
        with self._tx() as db:
            db.execute("INSERT OR REPLACE INTO approval_digests VALUES (?,?,?,?)",
                       (number, sha256, file, _now()))

    def approval_digests(self) -> dict[str, tuple[str, str]]:
        rows = self._db.execute("SELECT number, sha256, file FROM approval_digests").fetchall()
        return {r[0]: (r[1], r[2]) for r in rows}

    def replace_term_due(self, rows: list[tuple[str, str]], inputs: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM term_due")
            db.executemany("INSERT INTO term_due VALUES (?,?)", rows)
            db.execute("INSERT OR REPLACE INTO meta VALUES ('term_due_inputs', ?)", (inputs,))

    def last_event_id(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(id), 0) FROM events").fetchone()[0]

    def terms_due(self, on: str, limit: int = 100) -> list[tuple[str, str]]:
        return [tuple(r) for r in self._db.execute(
            "SELECT approval, due_on FROM term_due WHERE due_on <= ? ORDER BY due_on LIMIT ?",
            (on, limit)).fetchall()]

    def close(self) -> None:
        self._db.close()
