"""Isolation drift: changes made outside govcloud around its objects, as plan changes. Pure.

A driver that surveys the whole cloud (drivers/openstack/survey.py) gives the managed objects'
observations what it found around them; what a driver does not report is not compared (no drift
is invented for a cloud without the concept). Each change names what was done and the fix:

- router ``interfaces``: every interface is compared, not the first; an extra one is removed
  (an update: the router is not replaced)
- network ``foreign_ports``: ports of other projects or devices on the network are removed
- server ``security_groups``: groups attached to its ports outside the approval are detached
- project / domain ``role_assignments``: roles granted outside govcloud are removed
- network / project ``rbac_policies``: RBAC policies naming them that govcloud did not make
  (a network shared to another project, another network offered to the project) are deleted
- project ``default_group`` (found) against ``default_security_group`` (the spec's policy for Neutron's ``default`` group
  compile.DEFAULT_GROUP_POLICY: no server uses it, it admits only its own members)); rules
  added to it are deleted, ports detached
"""
from __future__ import annotations

from typing import Any

from ..models.cloud import Observed
from ..models.spec import ResourceSpec

Changes = dict[str, dict[str, Any]]


def interfaces(o: Observed, id_to_addr: dict[str, str]) -> list[str]:
    """Every interface of an observed router, as addresses where they are ours."""
    return [id_to_addr.get(s, s) for s in o.tags.get("_interfaces", "").split(",") if s]


def isolation_drift(d: ResourceSpec, o: Observed, id_to_addr: dict[str, str]) -> tuple[Changes, list[str]]:
    """(changes, reasons) for ``d`` observed as ``o``."""
    changes: Changes = {}
    why: list[str] = []
    props = o.properties
    if d.kind == "router" and "_interfaces" in o.tags:
        have, want = interfaces(o, id_to_addr), d.refs.get("subnet")
        extra = [s for s in have if s != want]
        if extra and want in have:
            changes["interfaces"] = {"old": have, "new": [want]}
            why.append(f"extra interface on {', '.join(extra)} (made outside govcloud): "
                       "remove the interface")
    elif d.kind == "network" and props.get("foreign_ports"):
        changes["foreign_ports"] = {"old": props["foreign_ports"], "new": []}
        why.append(f"{len(props['foreign_ports'])} port(s) on this network that are not govcloud's "
                   f"({'; '.join(props['foreign_ports'])}): remove the interface or delete the port")
    elif d.kind == "server" and props.get("security_groups") is not None:
        want = [d.refs["security_group"]] if d.refs.get("security_group") else []
        have = props["security_groups"]
        if sorted(have) != sorted(want):
            extra = [g for g in have if g not in want]
            changes["security_groups"] = {"old": have, "new": want}
            why.append(f"security group {', '.join(extra)} attached to its port outside the "
                       "approval: detach it" if extra else "its approved security group is not "
                       "attached: attach it")
    if d.kind in ("network", "project") and props.get("rbac_policies"):
        changes["rbac_policies"] = {"old": props["rbac_policies"], "new": []}
        why.append(f"RBAC policy {'; '.join(props['rbac_policies'])} made outside govcloud "
                   f"({'shares this network' if d.kind == 'network' else 'offers a network to this project'}): "
                   "delete the policy")
    if d.kind in ("project", "domain") and props.get("role_assignments"):
        changes["role_assignments"] = {"old": props["role_assignments"], "new": []}
        why.append(f"role assignment {'; '.join(props['role_assignments'])} made outside govcloud "
                   "(not the department's users, govcloud's or an operator's): remove it")
    policy = d.properties.get("default_security_group") if d.kind == "project" else None
    dsg = props.get("default_group") if policy else None     # what the survey found
    if isinstance(dsg, dict):
        opened = [r for r in dsg.get("ingress", []) if " from group " not in r]
        if opened or dsg.get("ports"):
            keep = [r for r in dsg.get("ingress", []) if r not in opened]
            changes["default_group"] = {"old": dsg, "new": {"ingress": keep, "ports": []}}
            why.append("the project's default security group "
                       + " and ".join(p for p in (
                           f"admits {'; '.join(opened)}: delete the rule" if opened else "",
                           f"is used by ports {', '.join(dsg['ports'])}: detach it"
                           if dsg.get("ports") else "") if p))
    return changes, why


def quota_outside(changes: Changes, recorded: dict[str, Any] | None) -> list[str]:
    """A quota limit changed by hand after govcloud set it to the approval: "cores raised
    outside the approval (approved 2, cloud 8)". Lowering it back may be refused while the
    excess is in use (the driver names the objects using it)."""
    out = []
    for f, ch in sorted(changes.items()):
        new, old = ch.get("new"), ch.get("old")
        if recorded is None or recorded.get(f) != new or not isinstance(old, int):
            continue
        verb = "raised" if old == -1 or (isinstance(new, int) and old > new) else "lowered"
        out.append(f"{f} {verb} outside the approval (approved {new}, cloud "
                   f"{'unlimited' if old == -1 else old})")
    return out
