"""An approval's lifecycle events are written with its last resource (issue 16, item 4): kill -9
right after the state write that completes an approval, and its ``approved``/``provisioned``
events are there (the apply's end, where they were recorded before, never ran); an approval
still missing a resource has none. And a workspace whose apply lost them (an earlier version
killed at the end) gets them back from the next apply, even a no-op one, marked reconciled."""
from __future__ import annotations

import json
from pathlib import Path

from orchestrator.usecases.init import init_workspace
from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.faulty_govcloud import run as gc


def _events(ws: Path) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    with open_state(Workspace.at(ws)) as store:
        for e in store.events():
            out.setdefault(e["subject"], []).append(e)
    return out


def _planned(tmp_path: Path) -> tuple[Path, int, dict[str, set[str]]]:
    """A compiled workspace, the number of creates its plan runs, and each approval's addresses
    (the executor's order is not assumed: only the count is used)."""
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    assert gc(ws, "compile").returncode == 0
    plan = json.loads(gc(ws, "plan", "--output", "json").stdout)
    creates = [a for a in plan["actions"] if a["action"] == "create"]
    planned: dict[str, set[str]] = {}
    for a in creates:
        no = (a.get("desired") or {}).get("approval")
        if no:
            planned.setdefault(no, set()).add(a["address"])
    return ws, len(creates), planned


def _complete(ws: Path, planned: dict[str, set[str]]) -> set[str]:
    """Approvals whose every planned resource is in the state."""
    with open_state(Workspace.at(ws)) as store:
        have = set(store.read().records)
    return {no for no, addrs in planned.items() if addrs <= have}


def test_a_kill_after_the_last_resource_keeps_the_approvals_events(tmp_path):
    ws, n, planned = _planned(tmp_path)
    assert len(planned) >= 2
    # killed right after the LAST create's transaction: every approval is complete
    r = gc(ws, "apply", "--auto-approve", "--parallelism", "1",
           faults=["--crash-at", f"executor.committed:create@{n}"])
    assert r.returncode == -9, r.stdout + r.stderr
    ev = _events(ws)
    assert _complete(ws, planned) == set(planned)
    for no in planned:
        kinds = [e["kind"] for e in ev.get(no, [])]
        assert "provisioned" in kinds and "approved" in kinds, (no, kinds)
        assert not any(e["detail"].get("reconciled") for e in ev[no])   # written with the resource
    # the next apply repeats nothing
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    again = _events(ws)
    for no in planned:
        assert [e["kind"] for e in again[no]].count("provisioned") == 1


def test_an_approval_missing_a_resource_has_no_provisioned_event(tmp_path):
    ws, n, planned = _planned(tmp_path)
    r = gc(ws, "apply", "--auto-approve", "--parallelism", "1",
           faults=["--crash-at", f"executor.committed:create@{n - 1}"])
    assert r.returncode == -9
    ev, complete = _events(ws), _complete(ws, planned)
    assert complete != set(planned)                    # negative control: one is not complete
    for no in planned:
        kinds = [e["kind"] for e in ev.get(no, [])]
        assert ("provisioned" in kinds) == (no in complete), (no, kinds, complete)


def test_a_no_op_apply_reconciles_a_lost_provisioned_event(tmp_path):
    ws = tmp_path / "ws"
    init_workspace(ws, "bozhou")
    assert gc(ws, "compile").returncode == 0
    assert gc(ws, "apply", "--auto-approve").returncode == 0
    ev = _events(ws)
    lost = sorted(no for no, evs in ev.items() if any(e["kind"] == "provisioned" for e in evs))[0]
    # what an apply killed before its end left, by an earlier version: no provisioned event
    import sqlite3
    db = sqlite3.connect(ws / ".govcloud" / "state.db")
    n = db.execute("DELETE FROM events WHERE subject=? AND kind='provisioned'", (lost,)).rowcount
    db.commit()
    db.close()
    assert n == 1
    r = gc(ws, "apply", "--auto-approve")
    assert r.returncode == 0 and "No changes" in r.stdout, r.stdout
    got = [e for e in _events(ws)[lost] if e["kind"] == "provisioned"]
    assert len(got) == 1 and got[0]["detail"]["reconciled"] is True
    assert gc(ws, "apply", "--auto-approve").returncode == 0      # once only
    assert len([e for e in _events(ws)[lost] if e["kind"] == "provisioned"]) == 1
