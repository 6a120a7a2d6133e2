"""Undoing isolation drift (the plan's changes from orchestrator/core/drift.py) on OpenStack, as
the cloud admin, from the driver's latest survey (survey.py), each object re-read before it is
touched. Only what hangs on govcloud's own objects is undone: an interface or port in a managed
network, a group on a managed server's port, a role on a managed project or domain, a rule in a
managed project's ``default`` group, an RBAC policy naming a managed network or project. Another
project's router itself is never deleted.
"""
from __future__ import annotations

from typing import Any

from drivers.base import NotFound


def _survey(d) -> dict[str, Any]:
    if d.last_survey is None:
        d.observe()
    return d.last_survey


def extra_interfaces(d, router_id: str, own_subnet: str) -> None:
    """Remove every interface of a managed router but the one on its own subnet."""
    c = d.conn
    with d._api():
        ports = list(c.network.ports(device_id=router_id, device_owner="network:router_interface"))
    for port in ports:
        for ip in port.fixed_ips or []:
            if ip["subnet_id"] != own_subnet:
                with d._api():
                    c.network.remove_interface_from_router(router_id, subnet=ip["subnet_id"])


def foreign_ports(d, network_id: str) -> None:
    """Detach every port the survey found foreign on a managed network (an interface is removed
    from its router, any other port deleted)."""
    c = d.conn
    for p in [p for p in _survey(d)["ports"] if p["network_id"] == network_id and p["role"] == "foreign"]:
        try:
            with d._api():
                live = c.network.get_port(p["id"])
        except NotFound:
            continue
        with d._api():
            if (live.device_owner or "").startswith("network:router_interface"):
                c.network.remove_interface_from_router(live.device_id, port_id=live.id)
            else:
                c.network.delete_port(live.id)


def server_groups(d, server_id: str, group_id: str) -> None:
    """The server's ports use exactly its approved group."""
    c = d.conn
    with d._api():
        ports = list(c.network.ports(device_id=server_id))
    for port in ports:
        if sorted(port.security_group_ids or []) != [group_id]:
            with d._api():
                c.network.update_port(port, security_group_ids=[group_id])


def role_assignments(d, scope: str, scope_id: str) -> None:
    """Remove the role assignments the survey found not allowed on a managed project/domain."""
    ident = d.conn.identity
    for r in _survey(d)["role_assignments"]:
        if r["scope_id"] != scope_id or r["allowed"]:
            continue
        with d._api():
            if scope == "project" and r["user_id"]:
                ident.unassign_project_role_from_user(scope_id, r["user_id"], r["role_id"])
            elif scope == "project":
                ident.unassign_project_role_from_group(scope_id, r["group_id"], r["role_id"])
            elif r["user_id"]:
                ident.unassign_domain_role_from_user(scope_id, r["user_id"], r["role_id"])
            else:
                ident.unassign_domain_role_from_group(scope_id, r["group_id"], r["role_id"])


def default_group(d, project_id: str) -> None:
    """The project's ``default`` group admits only its own members and no port uses it."""
    c = d.conn
    gid = _survey(d)["default_groups"].get(project_id)
    if gid is None:
        return
    with d._api():
        rules = list(c.network.security_group_rules(security_group_id=gid, direction="ingress"))
    for r in rules:
        if r.remote_group_id != gid:
            with d._api():
                c.network.delete_security_group_rule(r)
    with d._api():
        ports = list(c.network.ports(security_group_ids=[gid]))
    for port in ports:
        with d._api():
            c.network.update_port(port, security_group_ids=[g for g in port.security_group_ids
                                                            if g != gid])


def rbac_policies(d, object_id: str) -> None:
    """Delete the RBAC policies the survey found foreign on a managed network or project
    (``object_id``: the network's or the project's id)."""
    c = d.conn
    for x in _survey(d)["rbac"]:
        if x["foreign"] and object_id in (x["object_id"], x["target"]):
            with d._api():
                c.network.delete_rbac_policy(x["id"], ignore_missing=True)
