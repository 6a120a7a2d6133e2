"""The whole cloud around the managed projects, not only what govcloud tagged (verify-isolation's
evidence and the plan's isolation drift).

Listed as the cloud admin, once per observation, whoever owns the objects: every port on a
managed network; every router with an interface or its gateway on one; the security groups those
ports use and every managed project's Neutron ``default`` group, with their ingress rules; every
RBAC policy naming a managed network or project; every Keystone role assignment on a managed
project or domain; every floating IP associated with a managed port. ``looked`` counts what was
listed, so that "0 found" is told apart from "not looked".

A port on a managed network is *explained* when it is the DHCP port, an interface of the
network's own project's managed router, or a port of a managed server of that project; any other
port is foreign (another project's router interface, a hand-made port). A role assignment is
allowed for the department's own users (the project's or domain's own domain), govcloud's service
user, and the operators named in the target's ``operators`` option (``name`` or
``name@domain``; ``group:name`` for a group).

The observations of managed objects carry what the planner compares (orchestrator/core/drift.py):
``router.properties["interfaces"]`` (every interface's subnet), ``network.properties
["foreign_ports"]``, ``server.properties["security_groups"]``, ``project`` / ``domain``
``properties["role_assignments"]`` (the ones not allowed), ``network`` / ``project``
``properties["rbac_policies"]`` (the RBAC policies naming it that govcloud did not make) and
``project.properties["default_group"]`` (its ingress rules and the ports using it).
"""
from __future__ import annotations

from typing import Any

from drivers.base import CloudSurvey, Observed
from drivers.openstack.kind import Listing, read_retrying
from drivers.openstack.network import all_ips, all_ports, all_routers, all_security_groups


def all_rbac_policies(d) -> list:
    with d._api():
        return list(d.conn.network.rbac_policies())


def all_role_assignments(d) -> list:
    with d._api():
        return list(d.conn.identity.role_assignments(include_names=True))


# what every survey lists, whatever it finds: read beside the kinds' lists (driver.observe)
SURVEY_LISTS = (all_ports, all_routers, all_security_groups, all_ips, all_rbac_policies)


def _rule(r) -> dict:
    get = r.get if isinstance(r, dict) else (lambda k: getattr(r, k, None))
    return {"protocol": get("protocol"), "port_min": get("port_range_min"),
            "port_max": get("port_range_max"), "remote_ip_prefix": get("remote_ip_prefix"),
            "remote_group": get("remote_group_id"), "ethertype": get("ethertype")}


def rule_text(r: dict) -> str:   # the same wording as orchestrator/isolation_cloud.py
    ports = "" if r.get("port_min") is None else (
        f" {r['port_min']}" if r["port_min"] == r.get("port_max") else f" {r['port_min']}-{r['port_max']}")
    src = r.get("remote_ip_prefix") or (f"group {r['remote_group'][:8]}" if r.get("remote_group") else "any")
    return f"{r.get('protocol') or 'any'}{ports} from {src} ({r.get('ethertype') or 'IPv4'})"


class OpenStackSurvey(CloudSurvey):
    """``survey(observed)``: the evidence above, kept on the driver as ``last_survey``."""

    conn: Any
    options: dict
    last_survey: dict | None = None

    def cloud_survey(self) -> dict[str, Any]:
        if self.last_survey is None:
            self.observe()                   # observe() surveys the cloud around its objects
        return self.last_survey

    def _operators(self) -> set[str]:
        return {str(o) for o in self.options.get("operators", [])}

    def survey(self, observed: list[Observed], listing: Listing | None = None) -> dict[str, Any]:
        listing = listing or Listing(self)
        c = self.conn
        by_kind: dict[str, dict[str, Observed]] = {}
        for o in observed:
            by_kind.setdefault(o.kind, {})[o.cloud_id] = o
        nets, projects = by_kind.get("network", {}), by_kind.get("project", {})
        domains, servers = by_kind.get("domain", {}), by_kind.get("server", {})
        routers_owned = by_kind.get("router", {})
        ports = [p for p in listing(all_ports) if p.network_id in nets]
        routers = listing(all_routers)
        groups = {g.id: g for g in listing(all_security_groups)}
        ips = listing(all_ips)
        rbac = listing(all_rbac_policies)       # each list retried alone (Listing)
        assignments: list = listing(all_role_assignments) if projects or domains else []
        service_user = c.current_user_id
        operators = self._operators()

        out_ports = []
        for p in ports:
            net = nets[p.network_id]
            owner, dev = p.device_owner or "", p.device_id or ""
            role = "foreign"
            if owner == "network:dhcp":
                role = "dhcp"
            elif owner.startswith("network:router_interface") and dev in routers_owned \
                    and routers_owned[dev].refs.get("project") == net.refs.get("project"):
                role = f"interface of {routers_owned[dev].address}"
            elif owner.startswith("compute:") and dev in servers \
                    and servers[dev].refs.get("project") == net.refs.get("project"):
                role = f"port of {servers[dev].address}"
            out_ports.append({"id": p.id, "network": net.address, "network_id": p.network_id,
                              "project": p.project_id, "device_owner": owner, "device_id": dev,
                              "subnets": [ip["subnet_id"] for ip in p.fixed_ips or []],
                              "security_groups": sorted(p.security_group_ids or []), "role": role})
        port_ids = {p["id"] for p in out_ports}
        touching = []
        for r in routers:
            gw = (r.external_gateway_info or {}).get("network_id")
            ifaces = [p for p in out_ports if p["device_id"] == r.id
                      and p["device_owner"].startswith("network:router_interface")]
            if ifaces or gw in nets:
                touching.append({"id": r.id, "name": r.name, "project": r.project_id,
                                 "address": routers_owned[r.id].address if r.id in routers_owned else "",
                                 "gateway_on_managed": nets[gw].address if gw in nets else "",
                                 "interfaces": [(p["network"], s) for p in ifaces for s in p["subnets"]]})
        used = {g for p in out_ports for g in p["security_groups"]}
        defaults = {g.project_id: g.id for g in groups.values()
                    if g.name == "default" and g.project_id in projects}
        sgs = {}
        for gid in sorted(used | set(defaults.values())):
            g = groups.get(gid)
            if g is None:
                continue
            tagged = by_kind.get("security_group", {}).get(gid)
            sgs[gid] = {"name": g.name, "project": g.project_id,
                        "address": tagged.address if tagged else "",
                        "ingress": [_rule(r) for r in g.security_group_rules or []
                                    if (r.get("direction") if isinstance(r, dict) else r.direction) == "ingress"],
                        "ports": sorted(p["id"] for p in out_ports if gid in p["security_groups"])}
        ext_names = read_retrying(self._ext_names)   # id -> name
        ext_ids = set(ext_names)
        # the external networks a project's zone uses: its managed routers' gateways
        zone_ext: dict[str, set[str]] = {}
        for r in routers_owned.values():
            zone_ext.setdefault(r.refs.get("project", ""), set()).add(r.properties.get("external_network"))

        def own_grant(x) -> bool:
            """The grant govcloud makes: its zone's external network to a managed project."""
            if x.action != "access_as_external" or x.object_id not in ext_ids:
                return False
            want = zone_ext.get(x.target_project_id)
            return want is None or ext_names[x.object_id] in want
        # foreign: any policy on a managed network; on a managed project, any but the grant of
        # its zone's external network
        policies = [{"id": x.id, "action": x.action, "object_type": x.object_type,
                     "object_id": x.object_id, "target": x.target_project_id,
                     "on_managed_network": nets[x.object_id].address if x.object_id in nets else "",
                     "to_managed_project": projects[x.target_project_id].address
                     if x.target_project_id in projects else "",
                     "foreign": x.object_id in nets or not own_grant(x)}
                    for x in rbac if x.object_id in nets or x.target_project_id in projects]
        floating = [{"id": f.id, "address": f.floating_ip_address, "port": f.port_id,
                     "project": f.project_id, "tagged": self.owner_tag in (f.tags or [])}
                    for f in ips if f.port_id in port_ids]
        roles = []
        for a in assignments:
            scope = a.scope or {}
            if "project" in scope and scope["project"]["id"] in projects:
                kind, sid = "project", scope["project"]["id"]
                home = projects[sid].refs.get("domain")
                where = projects[sid].address
            elif "domain" in scope and scope["domain"]["id"] in domains:
                kind, sid, home, where = "domain", scope["domain"]["id"], scope["domain"]["id"], \
                    domains[scope["domain"]["id"]].address
            else:
                continue
            user, group = a.user or {}, a.group or {}
            who_dom = (user or group).get("domain") or {}
            if user:
                who = f"user {user.get('name')}@{who_dom.get('name')}"
                allowed = ("service" if user.get("id") == service_user else
                           "department" if who_dom.get("id") == home else
                           "operator" if {user.get("name"), f"{user.get('name')}@{who_dom.get('name')}"} & operators
                           else "")
            else:
                who = f"group {group.get('name')}@{who_dom.get('name')}"
                allowed = "operator" if f"group:{group.get('name')}" in operators else ""
            roles.append({"scope": kind, "scope_id": sid, "where": where, "who": who,
                          "role": (a.role or {}).get("name"), "allowed": allowed,
                          "user_id": user.get("id"), "group_id": group.get("id"),
                          "role_id": (a.role or {}).get("id")})
        looked = {"managed_networks": len(nets), "ports": len(out_ports),
                  "routers": len(routers), "security_groups": len(groups),
                  "rbac_policies": len(rbac), "role_assignments": len(assignments),
                  "floating_ips": len(ips), "managed_projects": len(projects),
                  "managed_domains": len(domains)}
        s = {"looked": looked, "ports": out_ports, "routers": touching, "security_groups": sgs,
             "default_groups": defaults, "rbac": policies, "floating_ips": floating,
             "role_assignments": roles, "external_networks": sorted(ext_ids)}
        self.last_survey = s
        return s

    def annotate(self, observed: list[Observed], s: dict[str, Any]) -> None:
        """Give the managed objects' observations the evidence the planner compares."""
        sgs = s["security_groups"]
        sg_name = {gid: g["address"] or f"{g['name']} ({gid}, not govcloud's)" for gid, g in sgs.items()}
        for o in observed:
            if o.kind in ("network", "project"):
                o.properties["rbac_policies"] = sorted(
                    f"{x['action']} of {x['object_type']} {x['object_id']} to {x['target']} "
                    f"(policy {x['id']})" for x in s["rbac"] if x["foreign"]
                    and o.cloud_id in (x["object_id"], x["target"]))
            if o.kind == "network":
                o.properties["foreign_ports"] = sorted(
                    f"{p['id']} ({p['device_owner'] or 'no device'} {p['device_id']}, project "
                    f"{p['project']})" for p in s["ports"]
                    if p["network_id"] == o.cloud_id and p["role"] == "foreign")
            elif o.kind == "server":
                mine = [p for p in s["ports"] if p["device_id"] == o.cloud_id]
                o.properties["security_groups"] = sorted(
                    {sg_name.get(g, g) for p in mine for g in p["security_groups"]})
            elif o.kind in ("project", "domain"):
                o.properties["role_assignments"] = sorted(
                    f"{r['role']} for {r['who']}" for r in s["role_assignments"]
                    if r["scope_id"] == o.cloud_id and not r["allowed"])
                if o.kind == "project" and o.cloud_id in s["default_groups"]:
                    g = sgs[s["default_groups"][o.cloud_id]]
                    o.properties["default_group"] = {
                        "ingress": sorted(rule_text(r) for r in g["ingress"]), "ports": g["ports"]}
