"""The StateStore contract, run against every backend (SQLite and PostgreSQL).

Records with serial and lineage, the workspace lock (timeout naming the holder, kill -9 of the
holder frees it, force_unlock), the hash-chained audit log under concurrent appends from two
processes, tampering, lifecycle events, workflows and meta. PostgreSQL tests use one database
per test session (tests/pg_support.py) and a fresh workspace id per test, so they also show
several workspaces sharing one database.
"""
from __future__ import annotations

import datetime
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from orchestrator.core.audit import verify_chain
from orchestrator.errors import LockError, StateError
from orchestrator.models.state import StateRecord
from orchestrator.usecases.init import init_workspace
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.conftest import run_cli
from tests.pg_support import pg_execute, set_state_url

REPO = Path(__file__).resolve().parents[2]
BACKENDS = ["sqlite", "postgres"]


class Backend:
    """One workspace on one backend: opens stores on it and tampers with it like an attacker."""

    def __init__(self, kind: str, ws: Path, pg_url: str | None):
        self.kind, self.ws, self.pg_url = kind, ws, pg_url
        self.id = Workspace.at(ws).config.workspace.id
        self._opened = []

    def open(self):
        store = open_state(Workspace.at(self.ws))
        self._opened.append(store)
        return store

    def sql(self, sqlite_sql: str, pg_sql: str) -> None:
        if self.kind == "sqlite":
            db = sqlite3.connect(self.ws / ".govcloud" / "state.db")
            db.execute(sqlite_sql)
            db.commit()
            db.close()
        else:
            pg_execute(self.pg_url, pg_sql, (self.id,))

    def close_all(self):
        for s in self._opened:
            try:
                s.close()
            except Exception:
                pass


def make_workspace(path: Path, kind: str, request) -> Path:
    init_workspace(path, "bazhong", examples=False)
    pg = None
    if kind == "postgres":
        pg = request.getfixturevalue("pg_url")
        set_state_url(path, pg)
    return path


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    ws = make_workspace(tmp_path / "ws", request.param, request)
    b = Backend(request.param, ws, request.getfixturevalue("pg_url")
                if request.param == "postgres" else None)
    yield b
    b.close_all()


@pytest.fixture
def store(backend):
    return backend.open()


def rec(address: str, **props) -> StateRecord:
    return StateRecord(address, "server", "local", "id-" + address, "ok", "edu/portal", "BZ-1",
                       props or {"flavor": "ecs.s2m4", "名称": "门户"}, {"network": "network:x"})


def spawn(backend: Backend, body: str, *args: str) -> subprocess.Popen:
    """A separate python process with `store` open on the backend's workspace."""
    script = textwrap.dedent("""
        import sys, time
        from pathlib import Path
        from orchestrator.usecases.session import open_state
        from orchestrator.workspace import Workspace
        store = open_state(Workspace.at(Path(sys.argv[1])))
    """) + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", script, str(backend.ws), *args], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


# --- records, serial, lineage, meta ---------------------------------------------------

def test_put_read_remove_with_serial_and_lineage(backend, store):
    snap = store.read()
    assert snap.serial == 0 and snap.records == {} and re.fullmatch(r"[0-9a-f-]{36}", snap.lineage)
    assert store.put(rec("server:a")) == 1
    assert store.put(rec("server:b")) == 2
    assert store.put(rec("server:a", flavor="ecs.s2m8")) == 3     # replace, not duplicate
    snap = store.read()
    assert snap.serial == 3 and sorted(snap.records) == ["server:a", "server:b"]
    assert snap.records["server:a"].properties == {"flavor": "ecs.s2m8"}
    assert snap.records["server:b"] == rec("server:b")             # every field round-trips
    assert store.remove("server:a") == 4
    assert store.remove("server:nope") == 5                         # a remove always bumps
    again = backend.open().read()                                  # another connection, same data
    assert (again.lineage, again.serial, sorted(again.records)) == (snap.lineage, 5, ["server:b"])


def test_meta_plan_key_and_lineage_survive_reopening(backend, store):
    key, lineage = store.get_meta("plan_key"), store.get_meta("lineage")
    assert re.fullmatch(r"[0-9a-f]{64}", key)
    assert store.get_meta("serial") == "0" and store.get_meta("nope") is None
    store.close()
    other = backend.open()
    assert (other.get_meta("plan_key"), other.get_meta("lineage")) == (key, lineage)


# --- locking --------------------------------------------------------------------------

def test_lock_contention_times_out_naming_the_holder(backend, store):
    lock = store.acquire("apply", 1)
    assert store.current_lock() == lock and lock.pid == os.getpid() and "@" in lock.holder
    other = backend.open()
    assert other.current_lock() == lock
    t0 = time.monotonic()
    with pytest.raises(LockError) as err:
        other.acquire("plan", 0.5)
    assert 0.4 < time.monotonic() - t0 < 5
    assert str(err.value) == f"the workspace state is locked: {lock.describe()}"
    assert "--lock-timeout (waited 0.5s)" in err.value.fix
    store.release(lock)
    assert other.current_lock() is None
    with other.locked("plan", 1) as second:
        assert store.current_lock() == second and second.operation == "plan"
    assert store.current_lock() is None


def test_locked_releases_on_error(backend, store):
    with pytest.raises(RuntimeError):
        with store.locked("apply", 1):
            raise RuntimeError("boom")
    assert store.current_lock() is None
    backend.open().acquire("apply", 0.5)


def test_scoped_locks_of_different_stacks_run_together_never_beside_the_whole(backend, store):
    other, third = backend.open(), backend.open()
    a = store.acquire("apply", 1, ["local/edu"])
    b = other.acquire("apply", 1, ["local/hrss"])          # another department: at once
    assert "[stacks: local/edu]" in a.operation
    with pytest.raises(LockError) as err:                    # the same stack: waits, names a
        third.acquire("apply", 0.3, ["local/edu", "local/x"])
    assert str(err.value) == f"the state of local/edu, local/x is locked: {a.describe()}"
    with pytest.raises(LockError):                           # the whole workspace: waits
        third.acquire("state migrate", 0.3)
    store.release(a)
    with pytest.raises(LockError):
        third.acquire("init", 0.3)                           # b still holds its stack
    c = third.acquire("apply", 1, ["local/x", "local/edu"])  # a's stack is free again
    other.release(b)
    third.release(c)
    whole = store.acquire("state migrate", 1)
    with pytest.raises(LockError) as err:                    # scoped waits for the whole
        other.acquire("apply", 0.3, ["local/edu"])
    assert whole.describe() in str(err.value)
    store.release(whole)
    assert store.current_lock() is None


HOLD = """
lock = store.acquire(sys.argv[2], 10)
print(lock.id, flush=True)
time.sleep(300)
"""


def test_kill_9_of_the_holder_frees_the_lock(backend, store):
    proc = spawn(backend, HOLD, "apply")
    try:
        lock_id = proc.stdout.readline().strip()
        assert lock_id, proc.stderr.read()
        with pytest.raises(LockError) as err:
            store.acquire("apply", 0.3)
        assert f"lock {lock_id} held by" in str(err.value) and f"(pid {proc.pid})" in str(err.value)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    # The dead holder's row is still there (like SQLite's) but the lock itself is free.
    assert store.current_lock().id == lock_id
    t0 = time.monotonic()
    lock = store.acquire("apply", 10)
    assert time.monotonic() - t0 < 5
    assert store.current_lock() == lock and lock.id != lock_id and lock.pid == os.getpid()
    store.release(lock)


def test_force_unlock(backend, store):
    with pytest.raises(LockError, match="the state is not locked"):
        store.force_unlock("abc")
    lock = store.acquire("apply", 1)
    other = backend.open()
    with pytest.raises(LockError, match=f"the current one is {lock.id}"):
        other.force_unlock("abc")
    with pytest.raises(LockError) as err:        # the holder is alive: refused
        other.force_unlock(lock.id)
    assert "is still alive" in str(err.value) and f"stop process {os.getpid()}" in err.value.fix
    assert other.current_lock() == lock
    store.release(lock)

    proc = spawn(backend, HOLD, "decommission")
    lock_id = proc.stdout.readline().strip()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    info = other.force_unlock(lock_id)           # the holder is gone: its record is removed
    assert info.id == lock_id and info.pid == proc.pid and info.operation == "decommission"
    assert store.current_lock() is None
    r = run_cli("state", "list", "-C", backend.ws, "--output", "json")
    assert r.exit_code == 0 and r.json()["lock"] is None


# --- audit ----------------------------------------------------------------------------

WRITER = """
from orchestrator.models.state import StateRecord
name, n, barrier = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
(barrier / name).touch()
deadline = time.monotonic() + 60
while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:   # start together
    time.sleep(0.001)
for i in range(n):
    store.put(StateRecord(f"server:{name}-{i}", "server", "local", None, "ok", None, None,
                          {"i": i}, {}))
    store.append_audit(name + "@h", "create", f"server:{name}-{i}", None, {"i": i})
    time.sleep(0.002)   # let the other writer in: the two must interleave
print("done", flush=True)
"""


def test_two_processes_appending_at_once_keep_one_linear_chain(backend, store):
    n = 40
    barrier = backend.ws.parent / "barrier"
    barrier.mkdir()
    procs = [spawn(backend, WRITER, name, str(n), str(barrier)) for name in ("alice", "bob")]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    entries = store.audit_entries()
    assert [e.seq for e in entries] == list(range(1, 2 * n + 1))
    assert verify_chain(entries, store.audit_head()) is None
    assert store.audit_head() == (2 * n, entries[-1].hash)
    actors = [e.actor for e in entries]
    assert actors.count("alice@h") == n and actors.count("bob@h") == n
    assert len(set(actors[: n])) == 2, "the two writers did not overlap"
    snap = store.read()
    assert snap.serial == 2 * n and len(snap.records) == 2 * n
    r = run_cli("audit", "verify", "-C", backend.ws)
    assert r.exit_code == 0 and "intact" in r.output, r.output


def test_audit_tampering_is_detected(backend, store):
    assert store.audit_head() is None and store.audit_entries() == []
    for i in range(1, 6):
        e = store.append_audit("alice@h", "create", f"server:x/{i}", "BZ-1", {"i": i, "名": "值"})
        assert e.seq == i
    assert store.audit_entries()[2].detail == {"i": 3, "名": "值"}
    assert run_cli("audit", "verify", "-C", backend.ws).exit_code == 0
    backend.sql("UPDATE audit SET actor='mallory@x' WHERE seq=3",
                "UPDATE govcloud_audit SET actor='mallory@x' WHERE ws=%s AND seq=3")
    r = run_cli("audit", "verify", "-C", backend.ws)
    assert r.exit_code == 1 and "entry 3" in r.output
    backend.sql("UPDATE audit SET actor='alice@h' WHERE seq=3",
                "UPDATE govcloud_audit SET actor='alice@h' WHERE ws=%s AND seq=3")
    backend.sql("DELETE FROM audit WHERE seq=5",                  # cut off the tail
                "DELETE FROM govcloud_audit WHERE ws=%s AND seq=5")
    r = run_cli("audit", "verify", "-C", backend.ws, "--output", "json")
    assert r.exit_code == 1, r.output


# --- events, workflows ----------------------------------------------------------------

def test_events_and_workflows(backend, store):
    assert store.events() == [] and store.get_workflow("decommission:edu") is None
    assert store.record_event("BZ-1", "approved", "2026-01-05", {"by": "局"}) == 1
    assert store.record_event("BZ-2", "approved", "2026-01-06", {}) == 2
    assert store.record_event("BZ-1", "provisioned", "2026-01-09",
                              {"d": datetime.date(2026, 1, 9)}) == 3   # stored as text
    ev = store.events("BZ-1")
    assert [(e["id"], e["kind"], e["on"]) for e in ev] == [(1, "approved", "2026-01-05"),
                                                           (3, "provisioned", "2026-01-09")]
    assert ev[0]["detail"] == {"by": "局"} and ev[1]["detail"] == {"d": "2026-01-09"}
    assert ev[0]["recorded_at"].endswith("+00:00")
    assert [e["subject"] for e in store.events()] == ["BZ-1", "BZ-2", "BZ-1"]
    store.put_workflow("decommission:edu", {"step": 1, "done": ["a"]})
    store.put_workflow("decommission:edu", {"step": 2, "done": ["a", "b"]})
    assert backend.open().get_workflow("decommission:edu") == {"step": 2, "done": ["a", "b"]}


# --- PostgreSQL only ------------------------------------------------------------------

def test_workspaces_sharing_one_database_are_independent(tmp_path, request, pg_url):
    a = Backend("postgres", make_workspace(tmp_path / "a", "postgres", request), pg_url)
    b = Backend("postgres", make_workspace(tmp_path / "b", "postgres", request), pg_url)
    try:
        sa, sb = a.open(), b.open()
        assert sa.get_meta("lineage") != sb.get_meta("lineage")
        sa.put(rec("server:a"))
        sa.append_audit("alice@h", "create", "server:a", None, {})
        sa.record_event("BZ-1", "approved", "2026-01-05", {})
        lock = sa.acquire("apply", 1)
        lock_b = sb.acquire("apply", 0.5)            # another workspace's lock is not ours
        assert sb.read().records == {} and sb.read().serial == 0
        assert sb.audit_entries() == [] and sb.events() == []
        assert sb.current_lock() == lock_b and sa.current_lock() == lock
        assert sb.append_audit("bob@h", "create", "server:b", None, {}).seq == 1
        sa.release(lock)
        sb.release(lock_b)
    finally:
        a.close_all()
        b.close_all()


def test_tables_are_created_once_with_a_schema_version(tmp_path, request, pg_url):
    backend = Backend("postgres", make_workspace(tmp_path / "ws", "postgres", request), pg_url)
    request.addfinalizer(backend.close_all)
    backend.open()
    from orchestrator.state.postgres import SCHEMA_VERSION
    assert pg_execute(backend.pg_url, "SELECT version FROM govcloud_schema") == [(SCHEMA_VERSION,)]
    backend.open().close()                       # idempotent
    assert pg_execute(backend.pg_url, "SELECT count(*) FROM govcloud_workspaces WHERE ws=%s",
                      (backend.id,)) == [(1,)]
    pg_execute(backend.pg_url, "UPDATE govcloud_schema SET version = 99")
    try:
        with pytest.raises(StateError, match="schema version 99"):
            backend.open()
    finally:
        pg_execute(backend.pg_url, "UPDATE govcloud_schema SET version = %s", (SCHEMA_VERSION,))


def test_password_never_shown_in_errors(tmp_path, pg_url):
    from orchestrator.state import open_store
    with pytest.raises(StateError) as err:
        open_store("postgresql://postgres:s3cr%21t@127.0.0.1:1/nodb", tmp_path, "ws-0123456789ab")
    text = str(err.value) + (err.value.fix or "")
    assert "s3cr" not in text and "postgres:***@127.0.0.1:1/nodb" in text
    ws = tmp_path / "ws"
    init_workspace(ws, "bazhong", examples=False)
    set_state_url(ws, "postgresql://postgres:hunter2@127.0.0.1:1/nodb")
    r = run_cli("state", "list", "-C", ws)
    assert r.exit_code == 1 and "hunter2" not in r.output and "Traceback" not in r.output
    assert "cannot open the state database" in r.output
    set_state_url_raw(ws, "postgresql://postgres:hunter2@127.0.0.1:notaport/nodb")
    r = run_cli("validate", "-C", ws)
    assert r.exit_code == 1 and "hunter2" not in r.output and "bad PostgreSQL state URL" in r.output


def set_state_url_raw(ws: Path, url: str) -> None:
    cfg = ws / "govcloud.toml"
    cfg.write_text(re.sub(r'(?m)^url = ".*"$', f'url = "{url}"', cfg.read_text(encoding="utf-8"),
                          count=1), encoding="utf-8")


def test_applied_approval_digests_persist_per_number(backend):
    """record_approval_digest / approval_digests (issue 14's replay check): per number, the
    last recorded (sha256, file), kept across connections, separate per workspace."""
    s = backend.open()
    assert s.approval_digests() == {}
    s.record_approval_digest("BZ-2026-0012", "a" * 64, "approvals/BZ-2026-0012.yaml")
    s.record_approval_digest("BZ-2026-0031", "b" * 64, "approvals/BZ-2026-0031.yaml")
    s.record_approval_digest("BZ-2026-0012", "c" * 64, "approvals/BZ-2026-0012.yaml")
    again = backend.open()
    assert again.approval_digests() == {
        "BZ-2026-0012": ("c" * 64, "approvals/BZ-2026-0012.yaml"),
        "BZ-2026-0031": ("b" * 64, "approvals/BZ-2026-0031.yaml")}


# --- what a plan of some departments reads (usecases/plan_scope.py) -------------------

def test_read_departments_and_what_changed_since_a_serial(backend, store):
    edu = StateRecord("server:local/edu/portal-internet/web-1", "server", "local", "i1", "ok",
                      "edu/portal", "BZ-1", {"a": 1}, {})
    dom = StateRecord("domain:local/edu", "domain", "local", "d1", "ok")
    hr = StateRecord("server:local/hrss/si-internet/app-1", "server", "local", "i2", "ok",
                     "hrss/si", "BZ-2")
    for r in (edu, dom, hr):
        store.put(r)
    at = store.read().serial
    part = store.read_departments({"edu"})
    assert set(part.records) == {edu.address, dom.address} and part.records[edu.address] == edu
    assert part.serial == at and part.lineage == store.read().lineage
    assert store.read_departments(set()).records == {}
    assert store.changed_since(at) == set()
    store.put(StateRecord(**{**hr.__dict__, "status": "tainted"}))
    store.remove(dom.address)
    assert store.changed_since(at) == {hr.address, dom.address}
    assert store.changed_since(at + 5) is None        # a serial the state never reached here
