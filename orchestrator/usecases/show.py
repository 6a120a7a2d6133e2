"""`govcloud show PLANFILE`: what a saved plan will do, for review away from the terminal that
made it (Terraform's ``terraform show PLANFILE``). Needs no state: the plan file carries its
actions. When the workspace (``-C``) holds the state the plan was signed with, the digest is
checked too and the result says so; otherwise ``verified`` is null ("not checked"), never true.
Reading a plan changes nothing and takes no lock."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import planfile
from ..errors import GovcloudError
from ..models.plan import Plan
from ..workspace import CONFIG_NAME, Workspace
from .session import open_state

SHOW_FORMAT = "govcloud-show/1"


@dataclass
class ShowResult:
    file: str
    plan: Plan
    verified: bool | None          # None: no state of the plan's workspace here to check with
    note: str
    approvals: dict[str, dict[str, int]] = field(default_factory=dict)

    def to_dict(self, show_noop: bool = False) -> dict[str, Any]:
        p = self.plan
        return {"format": SHOW_FORMAT, "file": self.file, "workspace_id": p.workspace_id,
                "created_at": p.created_at, "state": {"lineage": p.lineage, "serial": p.serial},
                "inputs_digest": p.inputs_digest, "digest": p.digest, "verified": self.verified,
                "verification": self.note, "summary": p.summary, "orphaned": p.orphaned,
                "approvals": self.approvals, "review": p.review,
                "actions": [{"address": a.address, "kind": a.kind, "target": a.target,
                             "action": a.action.value, "cause": a.cause.value, "reason": a.reason,
                             "approval": a.approval, "changes": a.changes,
                             "cloud_id": (a.prior or {}).get("cloud_id")}
                            for a in p.actions if show_noop or a.action.value != "no-op"]}


def show(path: Path, directory: Path | None) -> ShowResult:
    plan, data = planfile.read(path)
    verified, note = None, "not checked: no workspace given (-C DIR) to check the digest with"
    if directory is not None and (directory / CONFIG_NAME).is_file():
        ws = Workspace.at(directory)
        if ws.config.workspace.id != plan.workspace_id:
            verified, note = False, (f"made for workspace {plan.workspace_id}, not for "
                                     f"{ws.config.workspace.id} here: apply would refuse it")
        else:
            if ws.config.state.url.startswith("sqlite") and not _sqlite_exists(ws):
                note = "not checked: this workspace has no state database yet"
            else:
                with open_state(ws) as store:
                    verified = planfile.verify(plan, data, store)
                    snap_serial = store.read().serial
                note = ("digest verified with this workspace's key" if verified else
                        "ALTERED: the digest does not match; apply would refuse it")
                if verified and snap_serial != plan.serial:
                    note += (f"; but stale: state serial is {snap_serial}, the plan was made at "
                             f"{plan.serial} (apply would refuse it: plan again)")
    elif directory is not None:
        raise GovcloudError(f"{directory} is not a govcloud workspace (no {CONFIG_NAME})",
                            fix="leave out -C to show the plan without checking its digest")
    per: dict[str, dict[str, int]] = {}
    for a in plan.actions:
        if a.action.value == "no-op":
            continue
        key = a.approval or "(none)"
        per.setdefault(key, {})
        per[key][a.action.value] = per[key].get(a.action.value, 0) + 1
    return ShowResult(str(path), plan, verified, note, dict(sorted(per.items())))


def _sqlite_exists(ws: Workspace) -> bool:
    """Opening a SQLite store creates it: check the file first, so show never writes."""
    from ..state import sqlite_path
    return sqlite_path(ws.config.state.url, ws.root).is_file()
