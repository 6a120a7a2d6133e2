"""Workspaces with recorded lifecycle events, for the money tests (events under the shared
names of helper-shared-api: deployment-completed, configuration-completed, went-live,
exit-approved, reclaimed...; recorded straight into the state store)."""
from __future__ import annotations

from pathlib import Path

from orchestrator.usecases.session import open_state
from orchestrator.workspace import Workspace
from tests.policy.builders import approval, workspace

# 2 vCPU 4 GiB (160.00) + 40 GB SSD system disk (40 x 0.20 = 8.00): 168.00 a month.
SMALL = [{"name": "app", "flavor": "ecs.s2m4", "image": "kylin-v10-sp3",
          "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 1}]
MONTHLY = 168


def ws_with(tmp_path: Path, city: str, *approvals: dict, name: str = "ws") -> Path:
    return workspace(tmp_path, city, *approvals, name=name)


def small(no: str, **kw) -> dict:
    kw.setdefault("servers", SMALL)
    kw.setdefault("approved_on", "2026-05-20")
    return approval(no, **kw)


def record(ws: Path, subject: str, kind: str, on: str, **detail) -> None:
    store = open_state(Workspace.at(ws))
    try:
        store.record_event(subject, kind, on, detail)
    finally:
        store.close()


def _compile(ws: Path) -> None:
    from orchestrator.usecases.compile import compile_workspace
    import datetime as dt
    compile_workspace(Workspace.at(ws), dt.date(2026, 6, 1))
