"""Batched writes of a group commit: the SQLite state store's ``batched`` (records held back and
written with one statement per table, each with its own serial and chained audit entry),
``GroupCommit.commit_many`` (the inline executor's batches) and the embedded cloud's ``batch``
(its calls in one transaction, each undone on its own when it fails)."""
from __future__ import annotations

import sqlite3

import pytest

from drivers.base import ADDRESS_TAG, OWNER_TAG, Conflict, Request, driver_class
from orchestrator.core.audit import verify_chain
from orchestrator.errors import StateError
from orchestrator.group_commit import GroupCommit
from orchestrator.models.state import StateRecord
from orchestrator.state.sqlite import SQLiteStateStore


def rec(i: int, cloud_id: str | None = None) -> StateRecord:
    return StateRecord(f"network:local/d/s/net-{i}", "network", "local", cloud_id or f"id-{i}",
                       "ok", "d/s", None, {"name": f"net-{i}"}, {})


@pytest.fixture
def store(tmp_path):
    s = SQLiteStateStore(tmp_path / "state.db")
    yield s
    s.close()


def test_batched_writes_keep_their_own_serials_history_and_audit_chain(store):
    store.put(rec(0))
    store.append_audit("t", "create", rec(0).address, None, {})
    with store.atomic(), store.batched():
        serials = [store.put(rec(1)), store.put(rec(2)), store.remove(rec(0).address),
                   store.put(rec(2, "id-2b"))]
        entries = [store.append_audit("t", "create", f"a{i}", None, {"i": i}) for i in range(3)]
    assert serials == [2, 3, 4, 5]
    snap = store.read()
    assert snap.serial == 5
    assert {a: r.cloud_id for a, r in snap.records.items()} == {rec(1).address: "id-1",
                                                                rec(2).address: "id-2b"}
    assert store.read_at(3).records[rec(2).address].cloud_id == "id-2"   # each kept its version
    assert rec(0).address in store.read_at(3).records
    assert rec(0).address not in store.read_at(4).records
    all_entries = store.audit_entries()
    assert [e.seq for e in all_entries] == [1, 2, 3, 4]
    assert [e.hash for e in all_entries[1:]] == [e.hash for e in entries]
    assert entries[0].prev_hash == all_entries[0].hash
    assert store.audit_head() == (4, entries[-1].hash)
    assert verify_chain(all_entries, store.audit_head()) is None


def test_reads_inside_a_batch_see_its_held_back_writes(store):
    with store.atomic(), store.batched():
        store.put(rec(1))
        store.append_audit("t", "create", "a", None, {})
        assert rec(1).address in store.read().records
        assert [e.target for e in store.audit_entries()] == ["a"]
        store.put(rec(2))     # and writes after a read are still kept
    assert set(store.read().records) == {rec(1).address, rec(2).address}


def test_a_failed_batch_keeps_nothing_and_the_next_one_chains_on_what_was_kept(store):
    store.append_audit("t", "create", "kept", None, {})
    with pytest.raises(ValueError):
        with store.atomic(), store.batched():
            store.put(rec(1))
            store.append_audit("t", "create", "lost", None, {})
            raise ValueError("disk said no")
    assert store.read().records == {} and store.read().serial == 0
    with store.atomic(), store.batched():
        store.put(rec(2))
        store.append_audit("t", "create", "next", None, {})
    entries = store.audit_entries()
    assert [e.target for e in entries] == ["kept", "next"]
    assert verify_chain(entries, store.audit_head()) is None
    assert store.read().serial == 1


def test_commit_many_shares_transactions_and_reports_each_error(store):
    g = GroupCommit(store, max_records=3)

    def bad():
        store.put(rec(9))
        raise ValueError("culprit")
    errors = g.commit_many([lambda i=i: store.put(rec(i)) for i in range(3)] +
                           [lambda: store.put(rec(3)), bad, lambda: store.put(rec(5))])
    assert g.transactions == 1                       # the first three; the second chunk failed
    assert errors[:3] == [None] * 3
    assert isinstance(errors[4], ValueError)
    assert isinstance(errors[3], StateError) and isinstance(errors[5], StateError)
    assert set(store.read().records) == {rec(i).address for i in range(3)}


# --- the embedded cloud's batch -------------------------------------------------------------

def _driver(tmp_path):
    return driver_class("local")("local", {"data_dir": str(tmp_path / "cloud")}, tmp_path, "ws-1")


def _req(d, kind, name, props, refs=None):
    address = f"{kind}:x/d/{name}"
    return Request(address, kind, name, props, refs or {}, {OWNER_TAG: d.owner, ADDRESS_TAG: address})


def _volume(d):
    """A volume in a project of a domain, made outside any batch."""
    dom = d.create(_req(d, "domain", "dept", {"name": "dept", "description": ""}))
    prj = d.create(_req(d, "project", "p", {"name": "p", "description": ""},
                        {"domain": dom.cloud_id}))
    return d.create(_req(d, "volume", "v", {"name": "v", "size_gb": 1, "volume_type": "ssd"},
                         {"project": prj.cloud_id}))


def _ids_seen_by_another_connection(tmp_path) -> set[str]:
    db = sqlite3.connect(tmp_path / "cloud" / "cloud.db")
    try:
        return {r[0] for r in db.execute("SELECT id FROM objects")}
    finally:
        db.close()


def test_a_cloud_batch_commits_its_calls_together_and_undoes_a_failed_one_alone(tmp_path):
    d = _driver(tmp_path)
    assert d.in_process
    with d.batch():
        dom = d.create(_req(d, "domain", "dept", {"name": "dept", "description": ""}))
        with pytest.raises(Conflict):   # the same domain name again: refused, undone alone
            d.create(_req(d, "domain", "dept", {"name": "dept", "description": ""}))
        prj = d.create(_req(d, "project", "p", {"name": "p", "description": ""},
                            {"domain": dom.cloud_id}))
        assert d.find(prj.address).cloud_id == prj.cloud_id    # this thread sees its writes
        assert _ids_seen_by_another_connection(tmp_path) == set()   # not committed yet
    assert _ids_seen_by_another_connection(tmp_path) == {dom.cloud_id, prj.cloud_id}
    d.close()


def test_a_deleted_volumes_file_goes_only_once_the_batch_is_committed(tmp_path):
    d = _driver(tmp_path)
    vol = _volume(d)
    path = d.volume_path(vol.cloud_id)
    with pytest.raises(RuntimeError):
        with d.batch():
            d.delete(vol)
            assert path.exists()          # its delete is not committed yet
            raise RuntimeError("killed")  # the batch is undone: the volume and its file stay
    assert path.exists() and vol.cloud_id in _ids_seen_by_another_connection(tmp_path)
    with d.batch():
        d.delete(vol)
    assert not path.exists() and vol.cloud_id not in _ids_seen_by_another_connection(tmp_path)
    d.close()


def test_simulated_latency_makes_the_cloud_run_on_worker_threads(tmp_path):
    d = driver_class("local")("local", {"data_dir": str(tmp_path / "c"), "latency_ms": 5},
                              tmp_path, "ws-1")
    assert not d.in_process
    d.close()


# --- the executor's inline batches ------------------------------------------------------------

def _plan(n_networks: int):
    from orchestrator.models.plan import Action, Plan
    dom, prj = "domain:local/d", "project:local/d/p"

    def create(address, kind, name, props, refs):
        return Action(address, kind, "local", "create", "new", desired={
            "address": address, "kind": kind, "name": name, "target": "local",
            "properties": props, "refs": refs, "stack": "d/p", "zone": None, "approval": None})
    actions = [create(dom, "domain", "d", {"name": "d", "description": ""}, {}),
               create(prj, "project", "p", {"name": "p", "description": ""}, {"domain": dom})]
    actions += [create(f"network:local/d/p/n{i}", "network", f"n{i}", {"name": f"n{i}"},
                       {"project": prj}) for i in range(n_networks)]
    return Plan("ws-1", "lineage", 0, "inputs", actions)


def _executor(plan, driver, store, parallelism=8):
    from orchestrator.executor import Executor
    return Executor(plan, {"local": driver}, store, "tester", "ws-1", parallelism)


def test_inline_steps_share_one_cloud_and_one_state_transaction_per_batch(tmp_path, store):
    d = _driver(tmp_path)
    ex = _executor(_plan(6), d, store)
    assert ex.inline
    results = ex.run()
    assert [r.outcome for r in results] == ["ok"] * 8
    assert ex.group.transactions == 3            # domain, project, the six networks together
    assert len(store.read().records) == 8 == len(_ids_seen_by_another_connection(tmp_path))
    assert [e.action for e in store.audit_entries()] == ["create"] * 8
    d.close()


def test_a_batch_the_cloud_could_not_commit_fails_its_steps_and_records_none(tmp_path, store):
    from drivers.local.driver import LocalDriver

    class FullDisk(LocalDriver):
        def batch(self):
            inner = super().batch()

            class _Fails:
                def __enter__(self):
                    return inner.__enter__()

                def __exit__(self, *exc):
                    inner.__exit__(RuntimeError, RuntimeError("database or disk is full"), None)
                    raise RuntimeError("database or disk is full")
            return _Fails()
    d = FullDisk("local", {"data_dir": str(tmp_path / "cloud")}, tmp_path, "ws-1")
    results = _executor(_plan(2), d, store).run()
    assert results[0].outcome == "failed" and "could not commit" in results[0].detail
    assert all(r.outcome in ("failed", "skipped") for r in results)
    assert store.read().records == {} and _ids_seen_by_another_connection(tmp_path) == set()
    d.close()


def test_a_cloud_with_latency_runs_on_worker_threads_and_records_every_step(tmp_path, store):
    d = driver_class("local")("local", {"data_dir": str(tmp_path / "cloud"), "latency_ms": 1},
                              tmp_path, "ws-1")
    ex = _executor(_plan(6), d, store)
    assert not ex.inline
    assert [r.outcome for r in ex.run()] == ["ok"] * 8
    assert len(store.read().records) == 8 == len(_ids_seen_by_another_connection(tmp_path))
    assert 3 <= ex.group.transactions <= 8
    d.close()


def test_a_volume_is_wiped_outside_any_cloud_transaction(tmp_path, store):
    """A wipe takes seconds to minutes: no open cloud transaction may hold the write lock
    against other runners meanwhile (such a batch runs its calls one transaction each)."""
    from orchestrator.executor import Executor
    from orchestrator.models.plan import Action, Plan
    d = _driver(tmp_path)
    vol = _volume(d)
    others_could_write = []

    def sanitize(driver, current):
        other = sqlite3.connect(tmp_path / "cloud" / "cloud.db", timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            others_could_write.append(True)
        except sqlite3.OperationalError:
            others_could_write.append(False)
        finally:
            other.close()
        return {"method": "test"}
    plan = Plan("ws-1", "lineage", 0, "inputs", [
        Action(vol.address, "volume", "local", "delete", "gone",
               prior={"cloud_id": vol.cloud_id, "properties": {"size_gb": 1}})])
    ex = Executor(plan, {"local": d}, store, "tester", "ws-1", 8, sanitize=sanitize)
    assert ex.inline
    assert [r.outcome for r in ex.run()] == ["ok"]
    assert others_could_write == [True]
    assert vol.cloud_id not in _ids_seen_by_another_connection(tmp_path)
    d.close()
