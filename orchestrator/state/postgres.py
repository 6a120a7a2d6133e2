"""PostgreSQL state store: many workspaces may share one database, each keyed by its workspace id.

Same contract and semantics as the SQLite store (orchestrator/state/sqlite.py).

Tables (created on first use; ``govcloud_schema`` holds the schema version, migrations run
under a transaction-level advisory lock so that two first uses at once do not race):

    govcloud_schema      (id=1, version)
    govcloud_workspaces  (ws PK, created_at)                    -- the per-workspace "head" row
    govcloud_meta        (ws, key) -> value                      -- lineage, serial, plan_key, audit_head
    govcloud_resources   (ws, address) -> record, serial
    govcloud_locks       (ws PK) -> id, holder, pid, operation, created_at, backend_pid
    govcloud_audit       (ws, seq) -> ts, actor, action, target, approval, detail, prev_hash, hash
    govcloud_events      (ws, id) -> subject, kind, on_date, detail, recorded_at
    govcloud_workflows   (ws, name) -> data, updated_at
    govcloud_approval_digests (ws, number) -> sha256, file, recorded_at   -- applied approvals

Every write runs in one transaction that first takes ``SELECT ... FOR UPDATE`` on the
workspace's row in ``govcloud_workspaces``: one writer per workspace at a time (like SQLite's
``BEGIN IMMEDIATE``), so the serial never skips or repeats and the audit chain never forks,
whatever the number of processes; workspaces sharing the database do not block each other.

Locks (orchestrator/state/pg_lock.py) are session-level advisory locks taken on the store's
own connection, with rows naming their holders (``govcloud_locks`` for the whole workspace,
``govcloud_scope_locks`` per stack scope). When the holder dies (kill -9 included) or its session
ends (a restart, ``pg_terminate_backend``), PostgreSQL frees them, and the holder's next write
fails on the same dead connection with LockLost: it cannot write after another took the lock.

Passwords: use libpq's PGPASSWORD or ~/.pgpass; a password written in the URL works but is
replaced by ``***`` in every message.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
import threading
import uuid
from contextlib import contextmanager
from typing import Any, Iterator
from urllib.parse import unquote, urlsplit

from ..core.audit import GENESIS, AuditEntry, entry_hash
from ..errors import StateError
from ..redact import redact_data
from ..models.config import redact_url
from .base import (RESOURCE_COLUMNS, StateRecord, StateSnapshot, StateStore, audit_entry_of,
                   department_of, events_of, record_json, records_of)
from .pg_lock import PgLocking, lock_key

SCHEMA_VERSION = 5

# Each migration brings the schema from version i to i+1 (index i). Never edit a released one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS govcloud_workspaces (
      ws TEXT PRIMARY KEY, created_at TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS govcloud_meta (
      ws TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (ws, key));
    CREATE TABLE IF NOT EXISTS govcloud_resources (
      ws TEXT NOT NULL, address TEXT NOT NULL, kind TEXT NOT NULL, target TEXT NOT NULL,
      cloud_id TEXT, status TEXT NOT NULL, stack TEXT, approval TEXT, properties TEXT NOT NULL,
      refs TEXT NOT NULL, serial BIGINT NOT NULL, PRIMARY KEY (ws, address));
    CREATE TABLE IF NOT EXISTS govcloud_locks (
      ws TEXT PRIMARY KEY, id TEXT NOT NULL, holder TEXT NOT NULL, pid INTEGER NOT NULL,
      operation TEXT NOT NULL, created_at TEXT NOT NULL, backend_pid INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS govcloud_audit (
      ws TEXT NOT NULL, seq BIGINT NOT NULL, ts TEXT NOT NULL, actor TEXT NOT NULL,
      action TEXT NOT NULL, target TEXT NOT NULL, approval TEXT, detail TEXT NOT NULL,
      prev_hash TEXT NOT NULL, hash TEXT NOT NULL, PRIMARY KEY (ws, seq));
    CREATE TABLE IF NOT EXISTS govcloud_events (
      ws TEXT NOT NULL, id BIGINT NOT NULL, subject TEXT NOT NULL, kind TEXT NOT NULL,
      on_date TEXT NOT NULL, detail TEXT NOT NULL, recorded_at TEXT NOT NULL,
      PRIMARY KEY (ws, id));
    CREATE INDEX IF NOT EXISTS govcloud_events_subject ON govcloud_events (ws, subject);
    CREATE TABLE IF NOT EXISTS govcloud_workflows (
      ws TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL,
      PRIMARY KEY (ws, name));
    """,
    """
    CREATE TABLE IF NOT EXISTS govcloud_approval_digests (
      ws TEXT NOT NULL, number TEXT NOT NULL, sha256 TEXT NOT NULL, file TEXT NOT NULL,
      recorded_at TEXT NOT NULL, PRIMARY KEY (ws, number));
    """,
    # 3: state history (every put/remove keeps a version: state list --at, state pull/push)
    """
    CREATE TABLE IF NOT EXISTS govcloud_history (
      ws TEXT NOT NULL, serial BIGINT NOT NULL, address TEXT NOT NULL, record TEXT,
      at TEXT NOT NULL, PRIMARY KEY (ws, serial, address));
    """,
    # 4: the holders of scoped (per-stack) locks, beside govcloud_locks' whole-workspace one
    """
    CREATE TABLE IF NOT EXISTS govcloud_scope_locks (
      ws TEXT NOT NULL, scope TEXT NOT NULL, id TEXT NOT NULL, holder TEXT NOT NULL,
      pid INTEGER NOT NULL, operation TEXT NOT NULL, created_at TEXT NOT NULL,
      backend_pid INTEGER NOT NULL, PRIMARY KEY (ws, scope));
    """,
    # 5: temporary terms by due date (the expiry tick reads only what is due: usecases/expire.py)
    """
    CREATE TABLE IF NOT EXISTS govcloud_term_due (
      ws TEXT NOT NULL, approval TEXT NOT NULL, due_on TEXT NOT NULL, PRIMARY KEY (ws, approval));
    CREATE INDEX IF NOT EXISTS govcloud_term_due_on ON govcloud_term_due (ws, due_on);
    """,
]
assert len(MIGRATIONS) == SCHEMA_VERSION

# The key of the transaction-level advisory lock that serializes migrations.
_SCHEMA_LOCK_KEY = int.from_bytes(hashlib.sha256(b"govcloud-state-schema").digest()[:8], "big",
                                  signed=True)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _secrets_in(url: str) -> list[str]:
    out = []
    try:
        parts = urlsplit(url)
        if parts.password:
            out += [parts.password, unquote(parts.password)]
    except ValueError:
        pass
    out += re.findall(r"password=([^&]+)", url)
    return [s for s in out if s]


class PostgresStateStore(PgLocking, StateStore):
    def __init__(self, url: str, workspace_id: str, connect_timeout: float = 10):
        try:
            import psycopg
        except ImportError:
            raise StateError("the PostgreSQL state backend needs psycopg 3",
                             fix='pip install "psycopg[binary]" (or: pip install -e ".[postgres]")'
                             ) from None
        self._psycopg = psycopg
        self.url = url
        self.shown_url = redact_url(url)
        self._secrets = _secrets_in(url)
        self.workspace_id = workspace_id
        self._key = lock_key(workspace_id)
        self._connect_timeout = connect_timeout
        self._mutex = threading.RLock()   # one statement/transaction at a time on the connection
        self._held = None                 # the lock this session holds (pg_lock.py)
        self._conn = None
        with self._errors("cannot open the state database"):
            self._conn = self._connect()
            self._migrate()
            with self._tx() as cur:
                ws, now = self.workspace_id, _now()
                cur.execute("INSERT INTO govcloud_workspaces VALUES (%s, %s) ON CONFLICT DO NOTHING",
                            (ws, now))
                for key, value in (("lineage", str(uuid.uuid4())), ("serial", "0"),
                                   ("plan_key", secrets.token_hex(32))):
                    cur.execute("INSERT INTO govcloud_meta VALUES (%s, %s, %s) "
                                "ON CONFLICT DO NOTHING", (ws, key, value))

    # --- plumbing ---------------------------------------------------------------------
    def _connect(self):
        kwargs: dict[str, Any] = {"autocommit": True, "application_name": "govcloud"}
        if "connect_timeout" not in self.url and not os.environ.get("PGCONNECT_TIMEOUT"):
            kwargs["connect_timeout"] = max(1, int(self._connect_timeout))
        return self._psycopg.connect(self.url, **kwargs)

    def _redact(self, text: str) -> str:
        text = text.replace(self.url, self.shown_url)
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except self._psycopg.Error as exc:
            msg = " ".join(str(exc).split()) or type(exc).__name__
            self._lock_lost(exc, msg)
            raise StateError(self._redact(f"{what} ({self.shown_url}, workspace "
                                          f"{self.workspace_id}): {msg}"),
                             fix="check that PostgreSQL is running and the [state] url in "
                                 "govcloud.toml (a password goes in PGPASSWORD or ~/.pgpass)"
                             ) from None

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        """A write transaction holding this workspace's head row: one writer per workspace."""
        with self._mutex, self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute("SELECT 1 FROM govcloud_workspaces WHERE ws = %s FOR UPDATE",
                        (self.workspace_id,))
            yield cur

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """Writes inside join this transaction (psycopg nests them as savepoints)."""
        with self._errors("cannot write the state"), self._tx():
            yield

    @contextmanager
    def _snapshot(self) -> Iterator[Any]:
        """A read-only transaction that sees one consistent snapshot."""
        with self._mutex, self._conn.transaction(), self._conn.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield cur

    def _query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._mutex, self._conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def _migrate(self) -> None:
        conn = self._conn
        with self._mutex, conn.cursor() as cur:
            cur.execute("SELECT to_regclass('govcloud_schema') IS NOT NULL")
            if cur.fetchone()[0]:
                cur.execute("SELECT version FROM govcloud_schema WHERE id = 1")
                row = cur.fetchone()
                if row and row[0] == SCHEMA_VERSION:
                    return                        # the common case: nothing to do, no lock taken
            with conn.transaction():
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
                cur.execute("CREATE TABLE IF NOT EXISTS govcloud_schema ("
                            "id INTEGER PRIMARY KEY CHECK (id = 1), version INTEGER NOT NULL)")
                cur.execute("INSERT INTO govcloud_schema VALUES (1, 0) ON CONFLICT DO NOTHING")
                cur.execute("SELECT version FROM govcloud_schema WHERE id = 1 FOR UPDATE")
                version = cur.fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise StateError(f"the state database {self.shown_url} has schema version "
                                     f"{version}; this govcloud knows up to {SCHEMA_VERSION}",
                                     fix="upgrade govcloud")
                for i in range(version, SCHEMA_VERSION):
                    cur.execute(MIGRATIONS[i])
                cur.execute("UPDATE govcloud_schema SET version = %s WHERE id = 1",
                            (SCHEMA_VERSION,))

    def get_meta(self, key: str) -> str | None:
        with self._errors("cannot read the state"):
            rows = self._query("SELECT value FROM govcloud_meta WHERE ws = %s AND key = %s",
                               (self.workspace_id, key))
        return rows[0][0] if rows else None

    # --- resources --------------------------------------------------------------------
    def read(self) -> StateSnapshot:
        return self._read_where("", ())

    def read_departments(self, departments: set[str]) -> StateSnapshot:
        # The stack column (DEPT/SYSTEM) narrows the scan in SQL; rows without one (a
        # department's domain) are few and kept by their address.
        return self._read_where(
            " AND (stack IS NULL OR strpos(stack, '/') = 0 OR split_part(stack, '/', 1) = ANY(%s))",
            (sorted(departments),), lambda address: department_of(address) in departments)

    def _read_where(self, where: str, args: tuple, keep=None) -> StateSnapshot:
        """The resources of this workspace ``where`` (an SQL condition to AND, with ``args``)
        and ``keep(address)``, with the serial they were read at, in one snapshot."""
        ws = self.workspace_id
        with self._errors("cannot read the state"), self._snapshot() as cur:
            cur.execute(f"SELECT {RESOURCE_COLUMNS} FROM govcloud_resources WHERE ws = %s{where}",
                        (ws, *args))
            rows = cur.fetchall() if keep is None else [r for r in cur.fetchall() if keep(r[0])]
            cur.execute("SELECT key, value FROM govcloud_meta WHERE ws = %s "
                        "AND key IN ('lineage', 'serial')", (ws,))
            meta = dict(cur.fetchall())
        return StateSnapshot(meta["lineage"], int(meta["serial"]), records_of(rows))

    def changed_since(self, serial: int) -> set[str] | None:
        ws = self.workspace_id
        with self._errors("cannot read the state history"), self._snapshot() as cur:
            cur.execute("SELECT value FROM govcloud_meta WHERE ws = %s AND key = 'serial'", (ws,))
            now = int(cur.fetchone()[0])
            if now == serial:
                return set()
            cur.execute("SELECT MIN(serial) FROM govcloud_history WHERE ws = %s", (ws,))
            first = cur.fetchone()[0]
            if now < serial or first is None or first > serial + 1:
                return None
            cur.execute("SELECT DISTINCT address FROM govcloud_history WHERE ws = %s AND "
                        "serial > %s AND address <> ''", (ws, serial))
            return {r[0] for r in cur.fetchall()}

    def _bump(self, cur) -> int:
        cur.execute("UPDATE govcloud_meta SET value = (value::bigint + 1)::text "
                    "WHERE ws = %s AND key = 'serial' RETURNING value", (self.workspace_id,))
        return int(cur.fetchone()[0])

    def _history_base(self, cur) -> None:
        """Before the first versioned write: the records as they are, at the current serial."""
        if getattr(self, "_history_ok", False):
            return
        ws = self.workspace_id
        cur.execute("SELECT 1 FROM govcloud_history WHERE ws = %s LIMIT 1", (ws,))
        if cur.fetchone() is None:
            cur.execute("SELECT value FROM govcloud_meta WHERE ws = %s AND key = 'serial'", (ws,))
            serial = int(cur.fetchone()[0])
            cur.execute("SELECT address, kind, target, cloud_id, status, stack, approval, "
                        "properties, refs FROM govcloud_resources WHERE ws = %s", (ws,))
            rows = [(ws, serial, r[0], record_json(StateRecord(*r[:7], json.loads(r[7]),
                                                                json.loads(r[8]))), _now())
                    for r in cur.fetchall()] or [(ws, serial, "", None, _now())]
            cur.executemany("INSERT INTO govcloud_history VALUES (%s,%s,%s,%s,%s)", rows)
        self._history_ok = True

    def _version(self, cur, serial: int, address: str, record: StateRecord | None) -> None:
        cur.execute("INSERT INTO govcloud_history VALUES (%s,%s,%s,%s,%s) ON CONFLICT "
                    "(ws, serial, address) DO UPDATE SET record = EXCLUDED.record",
                    (self.workspace_id, serial, address,
                     record_json(record) if record is not None else None, _now()))

    def history_rows(self, upto: int):
        ws = self.workspace_id
        with self._errors("cannot read the state history"):
            first = self._query("SELECT MIN(serial) FROM govcloud_history WHERE ws = %s", (ws,))
            rows = self._query("SELECT serial, address, record FROM govcloud_history WHERE ws = %s "
                               "AND serial <= %s AND address <> '' ORDER BY serial", (ws, upto))
        return (first[0][0] if first else None), [tuple(r) for r in rows]

    def replace_all(self, records: list[StateRecord], serial: int) -> int:
        ws = self.workspace_id
        with self._errors("cannot replace the state"), self._tx() as cur:
            self._history_base(cur)
            cur.execute("DELETE FROM govcloud_resources WHERE ws = %s RETURNING address", (ws,))
            for (address,) in cur.fetchall():
                self._version(cur, serial, address, None)
            for rec in records:
                self._upsert(cur, rec, serial)
            cur.execute("UPDATE govcloud_meta SET value = %s WHERE ws = %s AND key = 'serial'",
                        (str(serial), ws))
            return serial

    def put(self, record: StateRecord) -> int:
        with self._errors(f"cannot write state for {record.address}"), self._tx() as cur:
            self._history_base(cur)
            serial = self._bump(cur)
            self._upsert(cur, record, serial)
            return serial

    def _upsert(self, cur, record: StateRecord, serial: int) -> None:
        cur.execute(
            "INSERT INTO govcloud_resources VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s) "
            "ON CONFLICT (ws, address) DO UPDATE SET kind = EXCLUDED.kind, "
            "target = EXCLUDED.target, cloud_id = EXCLUDED.cloud_id, status = EXCLUDED.status, "
            "stack = EXCLUDED.stack, approval = EXCLUDED.approval, "
            "properties = EXCLUDED.properties, refs = EXCLUDED.refs, serial = EXCLUDED.serial",
            (self.workspace_id, record.address, record.kind, record.target, record.cloud_id,
             record.status, record.stack, record.approval,
             json.dumps(record.properties, sort_keys=True, ensure_ascii=False),
             json.dumps(record.refs, sort_keys=True), serial))
        self._version(cur, serial, record.address, record)

    def remove(self, address: str) -> int:
        with self._errors(f"cannot remove {address} from state"), self._tx() as cur:
            self._history_base(cur)
            serial = self._bump(cur)
            cur.execute("DELETE FROM govcloud_resources WHERE ws = %s AND address = %s",
                        (self.workspace_id, address))
            self._version(cur, serial, address, None)
            return serial

    # --- audit ------------------------------------------------------------------------
    def append_audit(self, actor: str, action: str, target: str, approval: str | None,
                     detail: dict[str, Any]) -> AuditEntry:
        detail = redact_data(json.loads(json.dumps(detail, default=str)))   # no credentials
        ws = self.workspace_id
        with self._errors("cannot append to the audit log"), self._tx() as cur:
            cur.execute("SELECT seq, hash FROM govcloud_audit WHERE ws = %s "
                        "ORDER BY seq DESC LIMIT 1", (ws,))
            row = cur.fetchone()
            seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
            ts = _now()
            h = entry_hash(seq, ts, actor, action, target, approval, detail, prev)
            cur.execute("INSERT INTO govcloud_audit VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)",
                        (ws, seq, ts, actor, action, target, approval,
                         json.dumps(detail, sort_keys=True, ensure_ascii=False), prev, h))
            cur.execute("INSERT INTO govcloud_meta VALUES (%s, 'audit_head', %s) "
                        "ON CONFLICT (ws, key) DO UPDATE SET value = EXCLUDED.value",
                        (ws, f"{seq}:{h}"))
        return AuditEntry(seq, ts, actor, action, target, approval, detail, prev, h)

    def prune_audit(self, through_seq: int) -> int:
        ws = self.workspace_id
        with self._errors("cannot prune the audit log"), self._tx() as cur:
            cur.execute("SELECT seq, hash FROM govcloud_audit WHERE ws = %s AND seq = %s",
                        (ws, through_seq))
            row = cur.fetchone()
            if row is None:
                return 0
            cur.execute("DELETE FROM govcloud_audit WHERE ws = %s AND seq <= %s", (ws, through_seq))
            n = cur.rowcount
            cur.execute("INSERT INTO govcloud_meta VALUES (%s, 'audit_anchor', %s) "
                        "ON CONFLICT (ws, key) DO UPDATE SET value = EXCLUDED.value",
                        (ws, f"{row[0]}:{row[1]}"))
        return n

    def audit_entries(self) -> list[AuditEntry]:
        with self._errors("cannot read the audit log"):
            rows = self._query("SELECT seq, ts, actor, action, target, approval, detail, "
                               "prev_hash, hash FROM govcloud_audit WHERE ws = %s ORDER BY seq",
                               (self.workspace_id,))
        return [audit_entry_of(r) for r in rows]

    # --- lifecycle events and workflows ----------------------------------------------
    def record_event(self, subject: str, kind: str, on: str, detail: dict[str, Any]) -> int:
        detail = redact_data(detail)   # a webhook URL's token never reaches the state
        ws = self.workspace_id
        with self._errors("cannot record an event"), self._tx() as cur:
            cur.execute("INSERT INTO govcloud_events SELECT %s, "
                        "COALESCE((SELECT max(id) FROM govcloud_events WHERE ws = %s), 0) + 1, "
                        "%s, %s, %s, %s, %s RETURNING id",
                        (ws, ws, subject, kind, on,
                         json.dumps(detail, sort_keys=True, ensure_ascii=False, default=str), _now()))
            return int(cur.fetchone()[0])

    def events(self, subject: str | None = None) -> list[dict[str, Any]]:
        q = ("SELECT id, subject, kind, on_date, detail, recorded_at FROM govcloud_events "
             "WHERE ws = %s")
        with self._errors("cannot read events"):
            rows = self._query(q + (" AND subject = %s ORDER BY id" if subject else " ORDER BY id"),
                               (self.workspace_id, subject) if subject else (self.workspace_id,))
        return events_of(rows)

    def put_workflow(self, name: str, data: dict[str, Any]) -> None:
        with self._errors(f"cannot save workflow {name}"), self._tx() as cur:
            cur.execute("INSERT INTO govcloud_workflows VALUES (%s,%s,%s,%s) "
                        "ON CONFLICT (ws, name) DO UPDATE SET data = EXCLUDED.data, "
                        "updated_at = EXCLUDED.updated_at",
                        (self.workspace_id, name,
                         json.dumps(data, sort_keys=True, ensure_ascii=False, default=str), _now()))

    def get_workflow(self, name: str) -> dict[str, Any] | None:
        with self._errors(f"cannot read workflow {name}"):
            rows = self._query("SELECT data FROM govcloud_workflows WHERE ws = %s AND name = %s",
                               (self.workspace_id, name))
        return json.loads(rows[0][0]) if rows else None

    def record_approval_digest(self, number: str, sha256: str, file: str) -> None:
        with self._errors(f"cannot record the digest of approval {number}"), self._tx() as cur:
            cur.execute("INSERT INTO govcloud_approval_digests VALUES (%s,%s,%s,%s,%s) "
                        "ON CONFLICT (ws, number) DO UPDATE SET sha256 = EXCLUDED.sha256, "
                        "file = EXCLUDED.file, recorded_at = EXCLUDED.recorded_at",
                        (self.workspace_id, number, sha256, file, _now()))

    def approval_digests(self) -> dict[str, tuple[str, str]]:
        with self._errors("cannot read the applied approvals' digests"):
            rows = self._query("SELECT number, sha256, file FROM govcloud_approval_digests "
                               "WHERE ws = %s", (self.workspace_id,))
        return {r[0]: (r[1], r[2]) for r in rows}

    def replace_term_due(self, rows: list[tuple[str, str]], inputs: str) -> None:
        ws = self.workspace_id
        with self._errors("cannot write the term index"), self._tx() as cur:
            cur.execute("DELETE FROM govcloud_term_due WHERE ws = %s", (ws,))
            with cur.copy("COPY govcloud_term_due (ws, approval, due_on) FROM STDIN") as cp:
                for approval, due in rows:
                    cp.write_row((ws, approval, due))
            cur.execute("INSERT INTO govcloud_meta VALUES (%s, 'term_due_inputs', %s) "
                        "ON CONFLICT (ws, key) DO UPDATE SET value = EXCLUDED.value", (ws, inputs))

    def last_event_id(self) -> int:
        with self._errors("cannot read events"):
            return int(self._query("SELECT COALESCE(MAX(id), 0) FROM govcloud_events WHERE ws = %s",
                                   (self.workspace_id,))[0][0])

    def terms_due(self, on: str, limit: int = 100) -> list[tuple[str, str]]:
        with self._errors("cannot read the term index"):
            rows = self._query("SELECT approval, due_on FROM govcloud_term_due WHERE ws = %s "
                               "AND due_on <= %s ORDER BY due_on LIMIT %s",
                               (self.workspace_id, on, limit))
        return [tuple(r) for r in rows]

    def close(self) -> None:
        self._held = None
        if self._conn is not None:
            self._conn.close()
