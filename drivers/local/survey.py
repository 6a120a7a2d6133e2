"""The embedded cloud's whole-cloud survey (the CloudSurvey capability): every object in its
database around this workspace's networks, whoever made it, judged by
orchestrator/isolation_cloud.py exactly as OpenStack's survey is.

The embedded cloud has no port objects: a server is attached to one network through its
``network`` reference, and a router to one subnet through ``subnet``; each such attachment is
reported as a port (``server:<id>`` / ``router:<id>``). It has no default security group, no RBAC,
no users or roles, and its floating IPs are not associated with servers: those checks are N/A
(``not_modeled``), never a PASS. Its API refuses cross-project references, so a break here is
what an administrator makes inside a department's project by hand: an untagged server on its
network, an untagged router on its subnet, a server switched to a group govcloud did not make.
"""
from __future__ import annotations

import json
from typing import Any

from drivers.base import ADDRESS_TAG, CloudSurvey

NOT_MODELED = {
    "default-security-group": "the embedded cloud has no default security group (a server "
                              "always names its own)",
    "rbac-policies": "the embedded cloud has no RBAC: its networks cannot be shared",
    "role-assignments": "the embedded cloud has no users or role assignments",
    "floating-ips": "the embedded cloud's floating IPs are not associated with servers or ports",
}


def _rule(r: dict) -> dict:
    return {"protocol": r.get("protocol"), "port_min": r.get("port_min"),
            "port_max": r.get("port_max"), "remote_ip_prefix": r.get("remote_ip_prefix"),
            "remote_group": None, "ethertype": "IPv4"}


class LocalSurvey(CloudSurvey):
    owner: str

    def cloud_survey(self) -> dict[str, Any]:
        self._call()
        rows = self._db().execute(
            "SELECT id, kind, project_id, name, props, refs, tags, owner FROM objects "
            "WHERE kind IN ('network', 'subnet', 'router', 'server', 'security_group', "
            "'project', 'floating_ip')").fetchall()
        objs = [{"id": r[0], "kind": r[1], "project": r[2], "name": r[3], "props": json.loads(r[4]),
                 "refs": json.loads(r[5]), "address": json.loads(r[6]).get(ADDRESS_TAG, "")
                 if r[7] == self.owner else "", "ours": r[7] == self.owner} for r in rows]
        mine = {o["id"]: o for o in objs if o["ours"]}
        nets = {i: o for i, o in mine.items() if o["kind"] == "network"}
        subnets = {i: o for i, o in mine.items() if o["kind"] == "subnet" and o["refs"].get("network") in nets}
        ports = []
        for o in objs:
            if o["kind"] == "server" and o["refs"].get("network") in nets:
                net = nets[o["refs"]["network"]]
                own = o["ours"] and o["project"] == net["project"]
                ports.append(self._port(o, net, "compute", [], [o["refs"].get("security_group")],
                                        f"port of {o['address']}" if own else "foreign"))
            elif o["kind"] == "router" and o["refs"].get("subnet") in subnets:
                net = nets[subnets[o["refs"]["subnet"]]["refs"]["network"]]
                own = o["ours"] and o["project"] == net["project"]
                ports.append(self._port(o, net, "network:router_interface", [o["refs"]["subnet"]], [],
                                        f"interface of {o['address']}" if own else "foreign"))
        routers = [{"id": o["id"], "name": o["name"], "project": o["project"], "address": o["address"],
                    "gateway_on_managed": "",
                    "interfaces": [(nets[subnets[o["refs"]["subnet"]]["refs"]["network"]]["address"],
                                    o["refs"]["subnet"])]}
                   for o in objs if o["kind"] == "router" and o["refs"].get("subnet") in subnets]
        groups = {o["id"]: o for o in objs if o["kind"] == "security_group"}
        used = sorted({g for p in ports for g in p["security_groups"] if g in groups})
        sgs = {g: {"name": groups[g]["name"], "project": groups[g]["project"],
                   "address": groups[g]["address"],
                   "ingress": [_rule(r) for r in groups[g]["props"].get("rules", [])],
                   "ports": sorted(p["id"] for p in ports if g in p["security_groups"])}
               for g in used}
        count = lambda kind: sum(1 for o in objs if o["kind"] == kind)  # noqa: E731
        looked = {"managed_networks": len(nets), "ports": len(ports), "routers": count("router"),
                  "security_groups": count("security_group"), "rbac_policies": 0,
                  "role_assignments": 0, "floating_ips": count("floating_ip"),
                  "managed_projects": sum(1 for o in mine.values() if o["kind"] == "project"),
                  "managed_domains": 0}
        return {"looked": looked, "ports": ports, "routers": routers, "security_groups": sgs,
                "default_groups": {}, "rbac": [], "floating_ips": [], "role_assignments": [],
                "external_networks": sorted(self.external_networks),
                "not_modeled": dict(NOT_MODELED)}

    @staticmethod
    def _port(o: dict, net: dict, device_owner: str, subnets: list[str], groups: list, role: str) -> dict:
        return {"id": f"{o['kind']}:{o['id']}", "network": net["address"], "network_id": net["id"],
                "project": o["project"], "device_owner": device_owner, "device_id": o["id"],
                "subnets": subnets, "security_groups": [g for g in groups if g], "role": role}
