"""Approvals and workspaces for the policy and lifecycle tests (numbers from the regulations)."""
from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from orchestrator.calendar_files import default_calendar_dir, load_calendar
from orchestrator.models.approval import Approval
from orchestrator.usecases.init import init_workspace
from orchestrator.workspace import load_profile

D = date
CAL = load_calendar([default_calendar_dir()])

# Every material any profile asks for (required_materials), so that approvals built here are
# complete unless a test removes some (materials=...).
MATERIALS = {k: f"{k} 文件 2026-001" for k in (
    "request_report", "request_form", "demand_assessment", "basis", "project_approval",
    "construction_plan", "deployment_mode", "migration_plan", "dengbao_filing", "dengbao_report",
    "filing_no", "cloud_plan", "security_assessment", "performance_test")}

SERVER = {"name": "app", "flavor": "ecs.s4m8", "image": "kylin-v10-sp3",
          "system_disk": {"type": "blk.ssd", "gb": 40}, "count": 2}


def approval(no: str, *, approved_on: str = "2026-03-02", term: dict | None = None,
             servers: list[dict] | None = None, system: str = "edu-portal",
             dept: tuple[str, str] = ("edu", "市教育局"), org: str = "市数据资源管理局",
             zone: str = "internet", volumes: list[dict] | None = None,
             services: list[dict] | None = None, **extra: Any) -> dict:
    zone_req: dict[str, Any] = {"servers": copy.deepcopy(servers if servers is not None else [SERVER])}
    if volumes:
        zone_req["volumes"] = volumes
    data = {"approval_no": no, "department": {"code": dept[0], "name": dept[1]},
            "system": {"code": system, "name": f"系统 {system}", "dengbao_level": 2},
            "approvers": [{"name": "王敏", "org": org, "role": "资源审核"}],
            "approved_on": approved_on, "term": term or {"kind": "permanent"},
            "zones": {zone: zone_req}, "materials": dict(MATERIALS)}
    if services:
        data["services"] = services
    data.update(extra)
    return data


def model(data: dict) -> Approval:
    return Approval.model_validate(data)


def profile(name: str):
    return load_profile(name)


def write(ws: Path, data: dict) -> Path:
    path = ws / "approvals" / f"{data['approval_no']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def workspace(tmp_path: Path, profile_name: str, *approvals: dict, name: str = "ws") -> Path:
    ws = tmp_path / name
    init_workspace(ws, profile_name, examples=False)
    for a in approvals:
        write(ws, a)
    return ws


def events(ws: Path, subject: str | None = None) -> list[dict]:
    from orchestrator.usecases.session import open_state
    from orchestrator.workspace import Workspace
    store = open_state(Workspace.at(ws))
    try:
        return store.events(subject)
    finally:
        store.close()


def kinds(ws: Path, subject: str) -> list[str]:
    return [e["kind"] for e in events(ws, subject)]


def write_change(ws: Path, change_no: str, of_file: str, edit, approved_on: str = "2026-04-20",
                 **extra: Any) -> Path:
    """changes/<change_no>.yaml amending the approval in approvals/<of_file>: its zones after
    ``edit(zones)`` (a change document states the system's request after the change)."""
    base = yaml.safe_load((ws / "approvals" / of_file).read_text(encoding="utf-8"))
    zones = copy.deepcopy(base["zones"])
    edit(zones)
    data = {"change_no": change_no, "changes": base["approval_no"], "approved_on": approved_on,
            "approvers": [{"name": "王敏", "org": "市数据资源管理局", "role": "变更审核"}],
            "zones": zones, **extra}
    path = ws / "changes" / f"{change_no}.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def write_as_change(ws: Path, data: dict) -> Path:
    """Write an applied approval's new content (``data``: the approval as it should now be) as
    the next change document changes/<NO>-CH<n>.yaml: zones, services, system and moved."""
    no = data["approval_no"]
    changes = ws / "changes"
    changes.mkdir(exist_ok=True)
    n = len(list(changes.glob(f"{no}-CH*.yaml"))) + 1
    doc = {"change_no": f"{no}-CH{n}", "changes": no, "approved_on": data["approved_on"],
           "approvers": data["approvers"], "zones": data["zones"],
           "services": data.get("services", []), "system": data["system"],
           "moved": data.get("moved", [])}
    path = changes / f"{no}-CH{n}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path
