"""Group commit on a real SQLite state store: one transaction per record when steps finish one at
a time, shared transactions when they finish together, and all-or-nothing when one fails."""
from __future__ import annotations

import threading
import time

import pytest

from orchestrator.errors import StateError
from orchestrator.group_commit import GroupCommit
from orchestrator.models.state import StateRecord
from orchestrator.state.sqlite import SQLiteStateStore


def rec(i: int) -> StateRecord:
    return StateRecord(f"network:local/d/s/net-{i}", "network", "local", f"id-{i}", "ok", "d/s",
                       None, {"name": f"net-{i}"}, {})


@pytest.fixture
def store(tmp_path):
    s = SQLiteStateStore(tmp_path / "state.db")
    yield s
    s.close()


def test_one_at_a_time_is_one_transaction_per_record(store):
    g = GroupCommit(store)
    for i in range(5):
        g.commit(lambda i=i: (store.put(rec(i)), store.append_audit("t", "create", f"a{i}", None, {})))
    assert g.transactions == 5
    assert len(store.read().records) == 5
    assert [e.action for e in store.audit_entries()] == ["create"] * 5


def _together(g: GroupCommit, writes) -> list[BaseException | None]:
    """The first write holds its transaction open until every other one has queued."""
    queued = threading.Event()
    out: list[BaseException | None] = [None] * len(writes)

    def first():
        assert queued.wait(10)
        writes[0]()

    def worker(k, fn):
        try:
            g.commit(fn)
        except BaseException as exc:   # noqa: BLE001
            out[k] = exc
    threads = [threading.Thread(target=worker, args=(0, first))]
    threads[0].start()
    while not g._writing:
        time.sleep(0.001)
    threads += [threading.Thread(target=worker, args=(k, fn)) for k, fn in enumerate(writes) if k]
    for t in threads[1:]:
        t.start()
    while len(g._queue) < len(writes) - 1:
        time.sleep(0.001)
    queued.set()
    for t in threads:
        t.join(10)
    return out


def test_records_finishing_together_share_a_transaction(store):
    g = GroupCommit(store)
    errors = _together(g, [lambda i=i: store.put(rec(i)) for i in range(8)])
    assert errors == [None] * 8
    assert g.transactions == 2                 # the first alone, the seven queued behind it
    assert len(store.read().records) == 8


def test_a_failed_write_fails_its_whole_transaction_and_nothing_of_it_is_kept(store):
    g = GroupCommit(store)
    g.commit(lambda: store.put(rec(100)))

    def bad():
        store.put(rec(5))
        raise ValueError("disk said no")
    writes = [lambda: store.put(rec(0))] + [lambda i=i: store.put(rec(i)) for i in range(1, 5)] + \
        [bad] + [lambda i=i: store.put(rec(i)) for i in range(6, 8)]
    errors = _together(g, writes)
    assert errors[0] is None                           # its own transaction, committed
    assert isinstance(errors[5], ValueError)           # the culprit gets its own error
    assert all(isinstance(e, StateError) and "not kept" in str(e)
               for k, e in enumerate(errors) if k not in (0, 5))
    kept = set(store.read().records)
    assert kept == {rec(100).address, rec(0).address}  # nothing of the failed transaction
    g.commit(lambda: store.put(rec(9)))                # and the next one works again
    assert rec(9).address in store.read().records
