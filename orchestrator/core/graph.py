"""Dependency order of a plan's actions: which steps may run in parallel. Pure.

Each action becomes one or two steps: ``destroy`` (delete, and the first half of a replace) and
``apply`` (create, update, adopt, and the second half of a replace). Edges:
- apply(X) after apply(R) for every object R that X refers to;
- destroy(X) after destroy(Y) for every Y that refers to X (children go first);
- apply(X) of a replace after destroy(X);
- a project's quota is applied after the destroys in that project (freeing usage) and before
  every other apply in it (raising limits first).
"""
from __future__ import annotations

from dataclasses import dataclass

from ..models.address import Address
from ..models.plan import Action

Step = tuple[str, str]  # (address, "destroy" | "apply")


@dataclass(frozen=True)
class Graph:
    steps: list[Step]
    deps: dict[Step, set[Step]]

    def batches(self) -> list[list[Step]]:
        """Steps grouped into waves whose members can run at once (for display and tests)."""
        done: set[Step] = set()
        remaining = list(self.steps)
        waves = []
        while remaining:
            wave = [s for s in remaining if self.deps[s] <= done]
            if not wave:
                raise ValueError(f"dependency cycle among {remaining[:5]}")
            waves.append(wave)
            done.update(wave)
            remaining = [s for s in remaining if s not in done]
        return waves


def project_of(address: str) -> str | None:
    """``kind:target/dept/project[/name]`` -> ``project:target/dept/project``."""
    try:
        a = Address.parse(address)
    except ValueError:
        return None
    return f"project:{a.target}/{a.department}/{a.project}" if a.project else None


def build(actions: list[Action]) -> Graph:
    steps: list[Step] = []
    for a in actions:
        if a.action in ("delete", "replace"):
            steps.append((a.address, "destroy"))
        if a.action in ("create", "update", "adopt", "replace"):
            steps.append((a.address, "apply"))
    present = set(steps)
    deps: dict[Step, set[Step]] = {s: set() for s in steps}
    quota_of: dict[str, str] = {}
    for a in actions:
        if a.kind == "quota":
            quota_of[project_of(a.address)] = a.address
    for a in actions:
        apply_step, destroy_step = (a.address, "apply"), (a.address, "destroy")
        if apply_step in present:
            for ref in (a.desired.refs if a.desired else {}).values():
                if (ref, "apply") in present:
                    deps[apply_step].add((ref, "apply"))
            if destroy_step in present:
                deps[apply_step].add(destroy_step)
            quota = quota_of.get(project_of(a.address))
            if quota and a.kind not in ("quota", "project", "domain") and (quota, "apply") in present:
                deps[apply_step].add((quota, "apply"))
        if destroy_step in present:
            for ref in ((a.prior or {}).get("refs") or {}).values():
                if (ref, "destroy") in present:  # the thing I point at waits for me
                    deps[(ref, "destroy")].add(destroy_step)
            if a.kind not in ("quota", "project", "domain"):
                quota = quota_of.get(project_of(a.address))
                if quota and (quota, "apply") in present:
                    deps[(quota, "apply")].add(destroy_step)
    # Keep only edges between present steps (a ref to an unchanged object needs no wait).
    for s in deps:
        deps[s] &= present
    return Graph(steps, deps)
