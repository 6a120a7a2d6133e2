"""Which system `decommission` works on: a compiled stack spec, or an orphaned system (its
approval removed or renamed) rebuilt from the state records it left, so that it too leaves
through the exit process without its approval being restored."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import GovcloudError, Issue
from .models.spec import StackSpec
from .state.base import StateStore
from .workspace import Workspace


@dataclass
class Subject:
    """What the workflow needs of a system: from its stack spec, or, for an orphaned system
    (its approval removed or renamed), from the state records it left."""
    stack: str
    department: dict[str, str]
    system: dict[str, Any]
    profile: str
    approval_nos: list[str]
    targets: set[str]
    orphaned: bool = False

    @classmethod
    def of(cls, spec: StackSpec) -> "Subject":
        return cls(spec.stack, spec.department, spec.system, spec.profile,
                   [a.approval_no for a in spec.approvals], {z.target for z in spec.zones.values()})


def find_subject(ws: Workspace, store: StateStore, system: str) -> Subject:
    """The compiled system ``system``, or else the orphaned one of that name in state."""
    try:
        return Subject.of(find_stack(ws, system))
    except GovcloudError:
        recs = [r for r in store.read().records.values() if r.stack and
                (r.stack == system or r.stack.split("/", 1)[-1] == system)]
        stacks = {r.stack for r in recs}
        if len(stacks) != 1:
            raise
        stack = stacks.pop()
        dept, code = stack.split("/", 1)
        return _orphan(ws, stack, dept, code, recs)


def _orphan(ws: Workspace, stack: str, dept: str, code: str, recs) -> Subject:
    nos = sorted({r.approval for r in recs if r.approval})
    return Subject(stack, {"code": dept, "name": dept}, {"code": code, "name": code,
                                                  "dengbao_level": "unknown (approval removed)"},
                   ws.profile.code, nos, {r.target for r in recs}, orphaned=True)


def find_stack(ws: Workspace, system: str) -> StackSpec:
    specs = ws.load_specs()
    matches = [s for s in specs if s.stack == system or s.system["code"] == system]
    if not matches:
        known = ", ".join(sorted(s.system["code"] for s in specs)) or "none"
        raise GovcloudError(f"no compiled system {system!r} under stacks/",
                            [Issue("SYSTEM", f"known systems: {known}")],
                            fix="use the system code of the approval (the spec's file name)")
    if len(matches) > 1:
        raise GovcloudError(f"system code {system!r} exists in several departments",
                            [Issue("SYSTEM", ", ".join(s.stack for s in matches))],
                            fix="pass DEPARTMENT/SYSTEM")
    return matches[0]
