"""The SQLite state store's transactions: the one context manager every write enters, and the
writes a group commit holds back (``BatchedWrites.batched``) to write them with one statement
per table. Mixed into SQLiteStateStore (sqlite.py), whose mutex, connection and nesting depth
they use."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator

from ..errors import StateError


class Transaction:
    """``SQLiteStateStore._tx``'s context manager (a class made once: one per call cost ~15 us
    of every state write)."""
    __slots__ = ("store",)

    def __init__(self, store: Any):   # a SQLiteStateStore
        self.store = store

    def __enter__(self):
        store = self.store
        store._mutex.acquire()
        if store._depth == 0:
            try:
                store._db.execute("BEGIN IMMEDIATE")
            except BaseException:
                store._mutex.release()
                raise
            store._inner_failed = False
        store._depth += 1
        return store._db

    def __exit__(self, et, ev, tb):
        store = self.store
        try:
            store._depth -= 1
            if store._depth > 0:
                store._inner_failed = store._inner_failed or et is not None
            elif et is not None or store._inner_failed:
                store._batch = None
                store._db.execute("ROLLBACK")
                if et is None:
                    raise StateError("a write inside an atomic record failed; "
                                     "nothing of it was kept")
            else:
                store._db.execute("COMMIT")
        finally:
            store._mutex.release()
        return False


class HeldBack:
    """The writes ``SQLiteStateStore.batched`` holds back until its end: each still gets its
    own serial and its own audit entry chained on the previous one, as written one by one."""
    __slots__ = ("serial", "head", "resources", "history", "audit")

    def __init__(self, serial: int, head: tuple[int, str] | None):
        self.serial = serial
        self.head = head                         # (seq, hash) of the last entry, or None
        self.resources: dict[str, tuple | None] = {}   # address -> its row, None: removed
        self.history: list[tuple] = []
        self.audit: list[tuple] = []


class BatchedWrites:
    @contextmanager
    def batched(self) -> Iterator[None]:
        """Inside ``atomic``: the puts, removes and audit entries made in it by this thread are
        written at its end with one statement per table (``executemany``), one serial bump and
        one audit head, in the same transaction (a group commit's records: ~10 statements a
        record before). Reads in it by the same thread see them first (``_settle``)."""
        with self.atomic(), self._tx() as db:
            if self._batch is not None:     # nested: the outer one writes
                yield
                return
            self._history_base(db)
            row = db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            self._batch = HeldBack(int(db.execute("SELECT value FROM meta WHERE key='serial'")
                                     .fetchone()[0]), tuple(row) if row else None)
            try:
                yield
                self._settle()
            finally:
                self._batch = None

    def _settle(self) -> None:
        """Write what ``batched`` holds back (called by its holder thread only: others wait on
        the mutex until the batch is written)."""
        b = self._batch
        if b is None or not (b.history or b.audit):
            return
        with self._tx() as db:
            if b.history:
                gone = [(a,) for a, row in b.resources.items() if row is None]
                if gone:
                    db.executemany("DELETE FROM resources WHERE address=?", gone)
                db.executemany("INSERT OR REPLACE INTO resources VALUES (?,?,?,?,?,?,?,?,?,?)",
                               [row for row in b.resources.values() if row is not None])
                db.executemany("INSERT OR REPLACE INTO history VALUES (?,?,?,?)", b.history)
                db.execute("UPDATE meta SET value=? WHERE key='serial'", (str(b.serial),))
            if b.audit:
                db.executemany("INSERT INTO audit VALUES (?,?,?,?,?,?,?,?,?)", b.audit)
                db.execute("INSERT OR REPLACE INTO meta VALUES ('audit_head', ?)",
                           (f"{b.head[0]}:{b.head[1]}",))
        b.resources.clear()
        b.history.clear()
        b.audit.clear()

    def _mine(self) -> bool:
        """This thread holds the transaction of a ``batched`` block with writes held back."""
        return self._batch is not None and self._mutex._is_owned()
