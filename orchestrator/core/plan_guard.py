"""Defence in depth for `apply`: a plan may only do what the current stack specs allow.

A signed plan proves who made it, not that it is right: whoever holds the plan key (or edits
the executor's input some other way) could sign a plan that opens SSH to 0.0.0.0/0. Before
anything touches the cloud, every action that writes a desired value is checked against the
specs as they are now:

- its address is in a spec, with the same kind, target, name and refs;
- each property equals the spec's, or lies within what the spec's temporary windows allow at
  most (a list such as a security group's ``rules``: every element permanent or in a window;
  an integer such as a quota limit: no more than the permanent value plus every window);
- a delete is never of an address a spec still wants (a replace recreates what it deletes).

Pure: the caller passes the specs' resources.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from ..models.plan import Action
from ..models.spec import ResourceSpec
from .planner import effective_properties

WRITES = ("create", "update", "replace", "adopt")
# Fields only an isolation-drift repair writes (core/drift.py): removals, never in a spec.
REPAIR_FIELDS = frozenset({"foreign_ports", "role_assignments", "interfaces", "security_groups",
                           "default_group", "rbac_policies"})


def _canon(v: Any) -> str:
    return json.dumps(v, sort_keys=True, default=str)


_SCALARS = (str, int, bool, type(None))   # == agrees with the canonical JSON for these


def _same(a: Any, b: Any) -> bool:
    # Most properties are scalars of one type: compared directly (the canonical JSON of both
    # sides, for every property of every action, was most of apply's check on a big plan).
    if type(a) is type(b) and type(a) in _SCALARS:
        return a == b
    return _canon(a) == _canon(b)


def _within(field: str, value: Any, base: dict[str, Any], widest: dict[str, Any]) -> bool:
    if field in base and _same(value, base[field]):
        return True
    if field in widest and _same(value, widest[field]):
        return True
    top = widest.get(field, base.get(field))
    if isinstance(value, list) and isinstance(top, list):
        allowed = {_canon(x) for x in top}
        return all(_canon(x) in allowed for x in value)
    if type(value) is int and type(top) is int:
        return value <= top
    return False


def _repair_allowed(field: str, value: Any, spec: ResourceSpec) -> bool:
    """Isolation-drift repairs (core/drift.py) only take away what govcloud did not make: each
    may only be the value the spec itself implies."""
    if field in ("foreign_ports", "role_assignments", "rbac_policies"):
        return value == []
    if field == "interfaces":
        return value == [spec.refs.get("subnet")]
    if field == "security_groups":
        return value == ([spec.refs["security_group"]] if spec.refs.get("security_group") else [])
    if field == "default_group":
        return (isinstance(value, dict) and value.get("ports") == []
                and all(" from group " in r for r in value.get("ingress", [])))
    return False


def violations(actions: Iterable[Action], resources: Iterable[ResourceSpec]) -> list[tuple[str, str]]:
    """(address, why) for every action that does more than the specs allow."""
    want = {r.address: r for r in resources}
    out: list[tuple[str, str]] = []
    for a in actions:
        if a.action in ("delete",):
            if a.address in want:
                out.append((a.address, "deletes an object a stack spec still wants"))
            continue
        if a.action not in WRITES or a.desired is None:
            continue
        spec = want.get(a.address)
        d = a.desired
        if spec is None:
            out.append((a.address, f"{a.action} of an address no stack spec has"))
            continue
        for f in ("kind", "target", "name"):
            if getattr(d, f) != getattr(spec, f):
                out.append((a.address, f"{f} {getattr(d, f)!r}, the spec says {getattr(spec, f)!r}"))
        if dict(d.refs) != dict(spec.refs):
            out.append((a.address, "refs differ from the spec"))
        base = dict(spec.properties)
        widest = effective_properties(spec, None)[0] if spec.windows else base
        for f, v in d.properties.items():
            if f not in base and f in REPAIR_FIELDS and _repair_allowed(f, v, spec):
                continue
            if not _within(f, v, base, widest):
                shown = _canon(v)
                out.append((a.address, f"{f} = {shown[:200]}{'…' if len(shown) > 200 else ''} "
                                       f"is not what the spec allows"))
    return out
