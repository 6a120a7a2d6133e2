"""Group commit: the records of steps that finish together share one state transaction.

A worker whose step is done hands its record's writes to ``GroupCommit.commit`` and waits until
they are committed, as before; but while one transaction is being written, the records of the
workers that finish in the meantime queue up, and the next transaction takes them all (up to
``max_records``). So no step goes on (and no worker starts another cloud call) before its own
record is durable, a kill loses at most the records of the transaction being written (their
objects carry their tags and are adopted by the next run), and a failed write fails every
record of its transaction, each as a StateError: the executor stops there. With one worker
every transaction holds one record, exactly as a commit per step.
"""
from __future__ import annotations

import threading
from typing import Callable

from .errors import StateError
from .state.base import StateStore


class _Entry:
    __slots__ = ("write", "done", "error")

    def __init__(self, write: Callable[[], None]):
        self.write = write
        self.done = False
        self.error: BaseException | None = None


class GroupCommit:
    def __init__(self, store: StateStore, max_records: int = 200):
        self.store = store
        self.max_records = max(1, max_records)
        self._cond = threading.Condition()
        self._queue: list[_Entry] = []
        self._writing = False
        self.transactions = 0      # how many were written (what the tests and benchmarks read)

    def commit(self, write: Callable[[], None]) -> None:
        """Run ``write`` (one record's writes to ``store``) inside a transaction shared with the
        other records waiting; returns once that transaction is committed; raises what made it
        fail (the record whose write raised gets its own exception, the others a StateError)."""
        entry = _Entry(write)
        with self._cond:
            self._queue.append(entry)
            while not entry.done:
                if self._writing:        # another worker is writing: ours goes in the next one
                    self._cond.wait()
                    continue
                self._writing = True
                batch = self._queue[:self.max_records]
                del self._queue[:self.max_records]
                self._cond.release()
                try:
                    self._write(batch)
                finally:
                    self._cond.acquire()
                    self._writing = False
                    self._cond.notify_all()
        if entry.error is not None:
            raise entry.error

    def commit_many(self, writes: list[Callable[[], None]]) -> list[BaseException | None]:
        """Every one of ``writes`` (records of one caller's batch of steps) in shared
        transactions of up to ``max_records``, as if they had all queued together; returns each
        one's error (None: committed), as ``commit`` would have raised it."""
        entries = [_Entry(w) for w in writes]
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._writing = True
        try:
            for i in range(0, len(entries), self.max_records):
                self._write(entries[i:i + self.max_records])
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
        return [e.error for e in entries]

    def _write(self, batch: list[_Entry]) -> None:
        culprit: _Entry | None = None
        try:
            with self.store.atomic(), self.store.batched():   # one statement per table
                for e in batch:
                    culprit = e
                    e.write()
                culprit = None
            self.transactions += 1
        except BaseException as exc:   # nothing of this transaction was kept
            for e in batch:
                e.error = exc if e is culprit or isinstance(exc, StateError) else StateError(
                    f"not kept: the transaction it shared failed ({type(exc).__name__}: {exc})")
        finally:
            for e in batch:
                e.done = True
