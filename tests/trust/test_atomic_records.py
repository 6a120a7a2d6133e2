"""A state change and its audit entry (and lifecycle events) are one record: kill -9 at
enumerated points between them, on SQLite and PostgreSQL, and the two always agree.

Kill points (orchestrator/faults.py, launched through tests/faulty_govcloud.py --crash-at):
``executor.state-written`` (the executor wrote a resource's state, its audit entry not yet) and
``decommission.workflow-written`` (a decommission step's workflow record and events written,
its audit entry not yet). After each kill: every state record is what the audit log's last
entry for its address says, every done decommission step has its audit entry and events; the
next run converges and `audit verify` / `certificate verify` pass.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.decommission import STEPS, workflow_name
from orchestrator.usecases.init import init_workspace
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.faulty_govcloud import run as gc
from tests.pg_support import pg_url, set_state_url  # noqa: F401 (fixture)

SYSTEM = "edu-portal"
EXECUTOR_ACTIONS = {"create", "adopt", "update", "create-failed", "delete", "replace-destroy"}


def disagreements(ws: Path) -> list[str]:
    """Where the state and the audit log disagree (empty when every record is whole)."""
    with open_state(Workspace.at(ws)) as store:
        records = store.read().records
        entries = store.audit_entries()
        workflow = store.get_workflow(workflow_name(f"edu/{SYSTEM}")) or {}
        events = {(e["subject"], e["kind"]) for e in store.events()}
    last: dict[str, tuple[str, str | None]] = {}
    for e in entries:
        if e.action in EXECUTOR_ACTIONS and "#" not in e.target:
            last[e.target] = (e.action, e.detail.get("cloud_id"))
    out = []
    for address, rec in records.items():
        action, cloud_id = last.get(address, (None, None))
        if action not in ("create", "adopt", "update", "create-failed") or cloud_id != rec.cloud_id:
            out.append(f"state {address} ({rec.cloud_id}) but audit says {action} {cloud_id}")
    for address, (action, _) in last.items():
        if action in ("delete", "replace-destroy") and address in records:
            out.append(f"audit deleted {address}, state still has it")
        if action in ("create", "adopt", "update") and address not in records:
            out.append(f"audit {action} {address}, state lacks it")
    audited = {e.action.removeprefix("decommission-") for e in entries
               if e.action.startswith("decommission-") and e.target == f"edu/{SYSTEM}"}
    for step in workflow.get("steps", {}):
        if step not in audited:
            out.append(f"decommission step {step} done without its audit entry")
    for step, kind in (("offline", "offline"), ("billing", "terminated")):
        if step in workflow.get("steps", {}):
            for no in workflow.get("approvals", []):
                if (no, kind) not in events:
                    out.append(f"step {step} done without the {kind} event of {no}")
    return out


def _workspace(tmp_path: Path, backend: str, request) -> Path:
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    if backend == "postgres":
        set_state_url(ws, request.getfixturevalue("pg_url"))
    assert gc(ws, "compile").returncode == 0
    return ws


@pytest.fixture(params=["sqlite", "postgres"])
def aws(request, tmp_path) -> Path:
    return _workspace(tmp_path, request.param, request)


# Every step on SQLite; on PostgreSQL the steps that record events and the certificate's.
DECOMMISSION_KILLS = [("sqlite", s) for s in STEPS] + \
    [("postgres", s) for s in ("offline", "certificate", "billing")]


@pytest.mark.parametrize("nth", [1, 9, 30])
def test_kill_between_state_write_and_audit_entry(aws, nth):
    r = gc(aws, "apply", "--auto-approve", "--parallelism", "1",
           faults=["--crash-at", f"executor.state-written:create@{nth}"])
    assert r.returncode == -9, r.stdout + r.stderr
    assert disagreements(aws) == []
    with open_state(Workspace.at(aws)) as store:
        assert len(store.read().records) == nth - 1, "the killed record must not be kept"
    r = gc(aws, "apply", "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "adopted" in r.stdout or "adopt" in r.stdout, "the killed create is adopted by its tags"
    assert disagreements(aws) == []
    assert gc(aws, "plan", "--detailed-exitcode").returncode == 0
    assert gc(aws, "audit", "verify").returncode == 0


@pytest.mark.slow
@pytest.mark.parametrize("backend,step", DECOMMISSION_KILLS)
def test_kill_between_decommission_record_and_audit_entry(tmp_path, request, backend, step):
    aws = _workspace(tmp_path, backend, request)
    assert gc(aws, "apply", "--auto-approve").returncode == 0
    assert gc(aws, "request-exit", "BZ-2026-0012").returncode == 0   # 亳州 第二十三条's first step
    r = gc(aws, "decommission", SYSTEM, "--auto-approve",
           faults=["--crash-at", f"decommission.workflow-written:{step}"])
    assert r.returncode == -9, r.stdout + r.stderr
    assert disagreements(aws) == []
    r = gc(aws, "decommission", SYSTEM, "--auto-approve")
    assert r.returncode == 0, r.stdout + r.stderr
    assert disagreements(aws) == []
    certs = sorted((aws / "certificates").glob("*.json"))
    assert len(certs) == 1
    assert gc(aws, "certificate", "verify", str(certs[0])).returncode == 0
    assert gc(aws, "audit", "verify").returncode == 0


def test_negative_control_the_checker_sees_a_state_write_without_its_entry(tmp_path):
    from orchestrator.models.state import StateRecord
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    with open_state(Workspace.at(ws)) as store:
        store.put(StateRecord("edu/x/server/a", "server", "local", "srv-1", "ok", "edu/x", None,
                              {}, {}))
    assert disagreements(ws) == ["state edu/x/server/a (srv-1) but audit says None None"]


def test_negative_control_a_failed_write_inside_atomic_keeps_nothing(tmp_path):
    from orchestrator.models.state import StateRecord
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    with open_state(Workspace.at(ws)) as store:
        with pytest.raises(RuntimeError):
            with store.atomic():
                store.put(StateRecord("edu/x/server/a", "server", "local", "srv-1", "ok",
                                      "edu/x", None, {}, {}))
                raise RuntimeError("killed here")
        assert store.read().records == {} and store.audit_entries() == []
