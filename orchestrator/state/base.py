"""The state store contract: resources, serial/lineage, locks and the audit log."""
from __future__ import annotations

import getpass
import json
import os
import socket
import time
from abc import ABC, abstractmethod
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, TypeVar

from ..core.audit import AuditEntry
from ..errors import LockError
from ..models.state import StateRecord, StateSnapshot  # noqa: F401  (part of the contract)


@dataclass(frozen=True)
class LockInfo:
    id: str
    holder: str          # user@host
    pid: int
    operation: str
    created_at: str

    def describe(self) -> str:
        return (f"lock {self.id} held by {self.holder} (pid {self.pid}) for "
                f"'{self.operation}' since {self.created_at}")


def default_actor() -> str:
    user = os.environ.get("GOVCLOUD_ACTOR")
    if user:
        return user
    try:
        name = getpass.getuser()
    except Exception:  # no passwd entry in some containers
        name = str(os.getuid())
    return f"{name}@{socket.gethostname()}"


class StateStore(ABC):
    @abstractmethod
    def read(self) -> StateSnapshot: ...

    @abstractmethod
    def put(self, record: StateRecord) -> int:
        """Insert or replace one record; bumps and returns the serial."""

    @abstractmethod
    def remove(self, address: str) -> int: ...

    # State history: every put/remove keeps a version (``history`` rows: serial, address,
    # the record as JSON or null when removed). The first write of a store that has none
    # snapshots its records first, so history starts at that serial.
    @abstractmethod
    def history_rows(self, upto: int) -> tuple[int | None, list[tuple[int, str, str | None]]]:
        """(the first serial history holds, or None; rows with serial <= ``upto``)."""

    @abstractmethod
    def replace_all(self, records: list[StateRecord], serial: int) -> int:
        """Make the state exactly ``records`` at ``serial`` (``state push``), kept in history."""

    def read_departments(self, departments: set[str]) -> StateSnapshot:
        """The records of ``departments`` only (an address's department: its third part), at
        the current serial: what a plan of those departments reads (usecases/plan_scope.py).
        Stores that can select rows override it; this one filters a whole read."""
        snap = self.read()
        return StateSnapshot(snap.lineage, snap.serial, {
            a: r for a, r in snap.records.items() if department_of(a) in departments})

    def changed_since(self, serial: int) -> set[str] | None:
        """The addresses put or removed after ``serial``, from the history; None when the
        history cannot tell (it starts later, or this store keeps none to ask cheaply)."""
        return None

    def read_at(self, serial: int) -> StateSnapshot:
        """The state as it was at ``serial`` (StateError when history does not reach it)."""
        from ..errors import StateError
        now = self.read()
        if serial == now.serial:
            return now
        if serial > now.serial or serial < 0:
            raise StateError(f"no state serial {serial}: the state is at serial {now.serial}")
        first, rows = self.history_rows(serial)
        if first is None or serial < first:
            raise StateError(f"the state history does not reach serial {serial}"
                             + (f": it starts at serial {first}" if first is not None else
                                ": no history was kept yet"),
                             fix=f"see `govcloud state list` (serial {now.serial})")
        return StateSnapshot(now.lineage, serial, records_from_history(rows))

    @abstractmethod
    def acquire(self, operation: str, timeout: float,
                scopes: Iterable[str] | None = None) -> LockInfo:
        """The whole workspace's lock (``scopes`` None: state migrate, init, a full apply), or
        the locks of the stack scopes named (departments, ``lock_scopes``) alone: holders of
        different scopes run at the same time, never beside a whole-workspace holder."""

    @abstractmethod
    def release(self, lock: LockInfo) -> None: ...

    @abstractmethod
    def current_lock(self) -> LockInfo | None: ...

    @abstractmethod
    def force_unlock(self, lock_id: str) -> LockInfo: ...

    @abstractmethod
    def append_audit(self, actor: str, action: str, target: str, approval: str | None,
                     detail: dict[str, Any]) -> AuditEntry: ...

    @abstractmethod
    def audit_entries(self) -> list[AuditEntry]: ...

    @abstractmethod
    def prune_audit(self, through_seq: int) -> int:
        """Delete the audit entries up to ``through_seq`` and remember the last one deleted as
        the chain's anchor (meta ``audit_anchor``), in one transaction. Returns how many."""

    def audit_anchor(self) -> tuple[int, str] | None:
        """(sequence, hash) of the last pruned entry: the verified chain starts after it."""
        anchor = self.get_meta("audit_anchor")
        if not anchor:
            return None
        n, h = anchor.split(":", 1)
        return int(n), h

    def audit_head(self) -> tuple[int, str] | None:
        """(sequence, hash) of the last entry, kept apart so that deleting the tail is detected."""
        head = self.get_meta("audit_head")
        if not head:
            return None
        n, h = head.split(":", 1)
        return int(n), h

    def audit_consistent(self) -> tuple[tuple[int, str] | None, list[AuditEntry]]:
        """The audit head and the entries up to it, read in that order. An entry and its head
        row commit together, so an entry another runner appends between the two reads (PostgreSQL,
        many runners) is left out here, not taken for a log cut short at the head."""
        head = self.audit_head()
        entries = self.audit_entries()
        if head is not None:
            entries = [e for e in entries if e.seq <= head[0]]
        return head, entries

    @abstractmethod
    def get_meta(self, key: str) -> str | None: ...

    # Lifecycle events (approved, provisioned, delivery-confirmed, changed, expired, exit...),
    # keyed by a subject such as an approval number or a stack.
    @abstractmethod
    def record_event(self, subject: str, kind: str, on: str, detail: dict[str, Any]) -> int: ...

    @abstractmethod
    def events(self, subject: str | None = None) -> list[dict[str, Any]]: ...

    # Resumable multi-step workflows (decommissioning...): one JSON document per name.
    @abstractmethod
    def put_workflow(self, name: str, data: dict[str, Any]) -> None: ...

    @abstractmethod
    def get_workflow(self, name: str) -> dict[str, Any] | None: ...

    # Applied-approval digests: per approval number, the SHA-256 of the exact approval bytes
    # that were applied and the file they came from (replay and in-place-edit checks).
    @abstractmethod
    def record_approval_digest(self, number: str, sha256: str, file: str) -> None: ...

    @abstractmethod
    def approval_digests(self) -> dict[str, tuple[str, str]]:
        """approval number -> (sha256, file)."""

    # The expiry job's index of temporary terms by due date (usecases/expire_index.py): the
    # first day each may need it (a warning or its end), replaced as a whole with the
    # fingerprint of the inputs it was computed from (meta ``term_due_inputs``).
    @abstractmethod
    def replace_term_due(self, rows: list[tuple[str, str]], inputs: str) -> None:
        """Make the index exactly ``rows`` (approval, due ISO date)."""

    @abstractmethod
    def last_event_id(self) -> int:
        """The newest lifecycle event's id (0 when none): a cheap "did anything happen"."""

    @abstractmethod
    def terms_due(self, on: str, limit: int = 100) -> list[tuple[str, str]]:
        """(approval, due) with due <= ``on``, earliest first: an index range, not a scan."""

    @abstractmethod
    def atomic(self) -> Any:
        """A context manager: every write made inside it by this thread (put, remove,
        append_audit, record_event, put_workflow) commits together or not at all. A state
        change and its audit entry (and its lifecycle event) are one record: a kill between
        them must not leave one without the other."""

    def batched(self) -> Any:
        """A context manager inside ``atomic``: the writes made in it may be held back and
        written together at its end, in the same transaction (a group commit's records), each
        with its own serial and audit entry as if written one by one. Default: written as made."""
        return nullcontext()

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> "StateStore":   # `with open_state(ws) as store:` closes it
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _lock_to_force(self, lock_id: str) -> LockInfo:
        """The current lock if ``lock_id`` names it (force_unlock's first check)."""
        info = self.current_lock()
        if info is None or info.id != lock_id:
            raise LockError(f"no lock with id {lock_id!r}" + (f"; the current one is {info.id}"
                                                               if info else "; the state is not locked"))
        return info

    @contextmanager
    def locked(self, operation: str, timeout: float,
               scopes: Iterable[str] | None = None) -> Iterator[LockInfo]:
        lock = self.acquire(operation, timeout, scopes)
        try:
            yield lock
        finally:
            self.release(lock)


def department_of(address: str) -> str | None:
    """``kind:target/DEPT/...`` -> DEPT (None when the address has no department part)."""
    path = address.partition("/")[2]
    return path.partition("/")[0] or None


# The columns every store selects to read resources, in this order (records_of decodes them).
RESOURCE_COLUMNS = "address, kind, target, cloud_id, status, stack, approval, properties, refs"


def records_of(rows: list) -> dict[str, StateRecord]:
    """Rows of RESOURCE_COLUMNS as records by address: one json.loads for all properties and
    one for all refs (per-row calls dominated reading 185,000 rows)."""
    props = json.loads("[" + ",".join(r[7] for r in rows) + "]")
    refs = json.loads("[" + ",".join(r[8] for r in rows) + "]")
    return {r[0]: StateRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], p, f)
            for r, p, f in zip(rows, props, refs)}


def record_json(r: StateRecord) -> str:
    return json.dumps(r.__dict__, sort_keys=True, ensure_ascii=False)


def records_from_history(rows: list[tuple[int, str, str | None]]) -> dict[str, StateRecord]:
    """The records the last version of each address (rows in serial order) describes."""
    last: dict[str, str | None] = {}
    for _serial, address, doc in sorted(rows, key=lambda r: r[0]):
        last[address] = doc
    return {a: StateRecord(**json.loads(doc)) for a, doc in last.items() if doc is not None}


# Rows as both backends store them (same columns, same order).
def audit_entry_of(row) -> AuditEntry:
    """seq, ts, actor, action, target, approval, detail (JSON), prev_hash, hash."""
    return AuditEntry(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]), row[7],
                      row[8])


def event_of(row) -> dict[str, Any]:
    """id, subject, kind, on_date, detail (JSON), recorded_at."""
    return {"id": row[0], "subject": row[1], "kind": row[2], "on": row[3],
            "detail": json.loads(row[4]), "recorded_at": row[5]}


def events_of(rows: list) -> list[dict[str, Any]]:
    """``event_of`` of every row, their details decoded in one json.loads (a year of a
    province's events is tens of thousands of rows; a call per row dominated reading them)."""
    try:
        details = json.loads("[" + ",".join(r[4] for r in rows) + "]")
    except (TypeError, ValueError):
        return [event_of(r) for r in rows]     # not all JSON text: each row says which
    if len(details) != len(rows):
        return [event_of(r) for r in rows]
    return [{"id": r[0], "subject": r[1], "kind": r[2], "on": r[3], "detail": d,
             "recorded_at": r[5]} for r, d in zip(rows, details)]


T = TypeVar("T")


def scoped_operation(operation: str, scopes: list[str] | None) -> str:
    """The operation as the lock's holder record names it: ``apply [stacks: A, B]``."""
    return operation if scopes is None else f"{operation} [stacks: {', '.join(scopes)}]"


def scope_key(scopes: Iterable[str] | None) -> list[str] | None:
    """Sorted, deduplicated scopes (every process takes them in the same order: no deadlock)."""
    if scopes is None:
        return None
    out = sorted(set(scopes))
    if not out:
        raise ValueError("a scoped lock needs at least one scope")
    return out


def wait_for_lock(try_once: Callable[[], T | None], timeout: float,
                  holder: Callable[[], LockInfo | None], what: str = "the workspace state") -> T:
    """Poll ``try_once`` every 100 ms until it returns a handle; after ``timeout`` seconds fail
    naming the holder (or "another process" when none is recorded)."""
    deadline = time.monotonic() + timeout
    while True:
        got = try_once()
        if got is not None:
            return got
        if time.monotonic() >= deadline:
            who = holder()
            raise LockError(f"{what} is locked: "
                            f"{who.describe() if who else 'another process'}",
                            fix=f"wait for it to finish, or retry with a longer --lock-timeout "
                                f"(waited {timeout:g}s)")
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


def still_held(info: LockInfo) -> LockError:
    """force_unlock refused: the holder is alive and its lock frees itself when it ends."""
    return LockError(f"{info.describe()} is still alive; the lock frees itself when that process "
                     f"ends", fix=f"stop process {info.pid} first")
