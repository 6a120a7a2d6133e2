"""Which stack locks a run takes: a department in a zone (``TARGET/DEPT``, the prefix of every
address of that department's objects in that zone's cloud target, its domain included).

A plan cut to stacks or addresses with ``-target`` locks only their scopes, so pipelines for
different departments apply at the same time; any other run locks the whole workspace. A
department's systems share its domain in each zone, so a system's scopes are its department's
in every zone: two systems of one department never create that domain twice."""
from __future__ import annotations

from ..errors import LockError, Issue
from ..models.address import Address
from ..models.plan import Plan
from ..workspace import Workspace


def of_targets(ws: Workspace, targets: tuple[str, ...]) -> list[str] | None:
    """The scopes of ``-target`` values (None: the whole workspace)."""
    if not targets:
        return None
    zone_targets = sorted({z.target for z in ws.config.zones.values()})
    out: set[str] = set()
    for t in targets:
        if ":" in t:
            try:
                a = Address.parse(t)
            except ValueError:
                return None          # targeting reports it; lock everything meanwhile
            out.add(f"{a.target}/{a.department}")
        else:
            dept = t.split("/", 1)[0]
            out.update(f"{zt}/{dept}" for zt in zone_targets)
    return sorted(out)


def of_address(address: str) -> str | None:
    try:
        a = Address.parse(address)
    except ValueError:
        return None
    return f"{a.target}/{a.department}"


def check_within(plan: Plan, scopes: list[str] | None) -> None:
    """Refuse, before anything is touched, a plan that would change objects outside the scopes
    its run locked (another runner may be changing them)."""
    if scopes is None:
        return
    outside = [a for a in plan.actions if a.action != "no-op" and of_address(a.address) not in scopes]
    if outside:
        raise LockError(f"the plan changes {len(outside)} objects outside the locked stacks "
                        f"({', '.join(scopes)})",
                        [Issue(a.address, f"{a.action}: in {of_address(a.address)}")
                         for a in outside[:20]],
                        fix="target their stacks too, or run without -target (locks the "
                            "whole workspace)")
