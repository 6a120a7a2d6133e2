"""verify-isolation's whole-cloud checks: what surrounds the managed projects, whoever owns it.

They judge a driver's survey (the CloudSurvey capability: drivers/openstack/survey.py, made as
the cloud admin over every project; drivers/local/survey.py over the embedded cloud's every
object). Each check ends with a row saying what it looked at (counts), so that "0 found" is never
confused with "not looked"; a driver without a survey gets one N/A row per check, and a check
whose concept the cloud lacks (the survey's ``not_modeled``) one N/A row saying why (never a PASS).

- foreign-routers        no router but the network's own project's managed one has an interface
                         or its gateway on a managed network (an untagged router joining two
                         zones' subnets is the worst case, and says so)
- network-ports          every port on a managed network is explained: DHCP, the own router's
                         interface, a port of one of the project's managed servers
- port-security-groups   every managed server's ports use exactly its approved group
- default-security-group each managed project's Neutron ``default`` group: no port uses it and it
                         admits nothing from an address range (only its own members, as Neutron
                         makes it)
- rbac-policies          no RBAC policy names a managed network, and none but the zone's
                         external-network grant names a managed project
- role-assignments       on managed projects and domains only the department's own users,
                         govcloud's service user and the configured operators hold roles
- floating-ips           a floating IP on a managed port is govcloud's, in the port's project
"""
from __future__ import annotations

from typing import Any

CHECKS = ("foreign-routers", "network-ports", "port-security-groups", "default-security-group",
          "rbac-policies", "role-assignments", "floating-ips")


def rule_text(r: dict) -> str:
    """One ingress rule as people read it: "tcp 22 from 0.0.0.0/0 (IPv4)"."""
    ports = "" if r.get("port_min") is None else (
        f" {r['port_min']}" if r["port_min"] == r.get("port_max") else f" {r['port_min']}-{r['port_max']}")
    src = r.get("remote_ip_prefix") or (f"group {r['remote_group'][:8]}" if r.get("remote_group") else "any")
    return f"{r.get('protocol') or 'any'}{ports} from {src} ({r.get('ethertype') or 'IPv4'})"


def _rules(rules: list[dict]) -> str:
    return "; ".join(rule_text(r) for r in rules) or "none"


def not_looked(target: str, why: str) -> list[tuple[str, str, str, str]]:
    return [(c, target, "N/A", f"not looked: {why}") for c in CHECKS]


def cloud_checks(target: str, observed: list, s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """Rows (check, subject, status, detail) from survey ``s`` of ``target``."""
    absent = s.get("not_modeled") or {}
    return [r for r in _judged(target, observed, s) if r[0] not in absent] + \
        [(c, target, "N/A", f"not looked: {why}") for c, why in absent.items()]


def _judged(target: str, observed: list, s: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    by_id = {o.cloud_id: o for o in observed}
    zone_of = {o.address: o.tags.get("govcloud.zone") for o in observed if o.kind == "network"}
    sub_addr = {o.cloud_id: o.address for o in observed if o.kind == "subnet"}
    looked = s["looked"]
    rows: list[tuple[str, str, str, str]] = []
    fails = lambda check: any(r[0] == check and r[2] == "FAIL" for r in rows)  # noqa: E731

    # foreign-routers
    for r in s["routers"]:
        own_project = {by_id[n].refs.get("project") for n in by_id
                       if by_id[n].kind == "network" and by_id[n].address in {x for x, _ in r["interfaces"]}}
        if r["address"] and not r["gateway_on_managed"] and own_project <= {r["project"]}:
            continue          # govcloud's own router on its own project's network
        who = r["address"] or f"router {r['name'] or r['id']} ({r['id']}, project {r['project']}, not govcloud's)"
        nets = sorted({n for n, _ in r["interfaces"]})
        zones = sorted({zone_of.get(n) or "?" for n in nets})
        detail = (f"interfaces on {', '.join(sub_addr.get(sb, sb) for _, sb in sorted(r['interfaces']))}"
                  if r["interfaces"] else "")
        if r["gateway_on_managed"]:
            detail += f"{'; ' if detail else ''}gateway on {r['gateway_on_managed']}"
        if len(zones) > 1:
            detail += f"; a direct path between the zones {' and '.join(zones)}"
        rows.append(("foreign-routers", who, "FAIL", detail + "; fix: remove the interface "
                     f"(openstack router remove subnet {r['id']} SUBNET)"))
    if not fails("foreign-routers"):
        rows.append(("foreign-routers", target, "PASS",
                     f"looked at {looked['routers']} routers in every project: none but govcloud's "
                     f"own touches the {looked['managed_networks']} managed networks"))
    # network-ports
    by_net: dict[str, list[dict]] = {}
    for p in s["ports"]:
        by_net.setdefault(p["network"], []).append(p)
    for net in sorted(o.address for o in observed if o.kind == "network"):
        ports = by_net.get(net, [])
        foreign = [p for p in ports if p["role"] == "foreign"]
        if foreign:
            rows.append(("network-ports", net, "FAIL", "; ".join(
                f"port {p['id']} of project {p['project']} ({p['device_owner'] or 'no device'}"
                f"{' ' + p['device_id'] if p['device_id'] else ''}) is not govcloud's" for p in foreign)
                + "; fix: remove the interface or delete the port"))
        else:
            rows.append(("network-ports", net, "PASS", f"{len(ports)} ports, all explained "
                         "(DHCP, its own router's interface, its servers)"))
    # port-security-groups
    sgs = s["security_groups"]
    n_server_ports = 0
    for p in s["ports"]:
        if not p["role"].startswith("port of "):
            continue
        n_server_ports += 1
        server = by_id.get(p["device_id"])
        want = server.refs.get("security_group") if server else None
        extra = [g for g in p["security_groups"] if g != want or not sgs.get(g, {}).get("address", True)]
        if extra or want not in p["security_groups"]:
            rows.append(("port-security-groups", f"{server.address} port {p['id']}", "FAIL", "; ".join(
                f"group {sgs.get(g, {}).get('address') or sgs.get(g, {}).get('name', '?')} ({g}) attached "
                f"outside the approval, admits: {_rules(sgs.get(g, {}).get('ingress', []))}"
                for g in extra) + ("" if want in p["security_groups"] else "; its approved group is missing")
                + "; fix: detach it (the server uses only its approved group)"))
    if not fails("port-security-groups"):
        rows.append(("port-security-groups", target, "PASS",
                     f"{n_server_ports} managed server ports use exactly their approved group"))
    # default-security-group
    for pid, gid in sorted(s["default_groups"].items()):
        g, proj = sgs[gid], by_id.get(pid)
        where = f"{proj.address if proj else pid} default group {gid}"
        opened = [r for r in g["ingress"] if r.get("remote_group") != gid]   # else: its own members
        bad = []
        if opened:
            bad.append(f"admits {_rules(opened)}")
        if g["ports"]:
            bad.append(f"used by ports {', '.join(g['ports'])}")
        rows.append(("default-security-group", where, "FAIL" if bad else "PASS",
                     "; ".join(bad) + "; fix: delete those rules, detach it" if bad
                     else f"unused; ingress only from its own members ({len(g['ingress'])} rules)"))
    missing = looked["managed_projects"] - len(s["default_groups"])
    if not fails("default-security-group"):
        rows.append(("default-security-group", target, "PASS",
                     f"looked at {looked['security_groups']} groups: {len(s['default_groups'])} "
                     f"managed projects have a default group" + (f", {missing} none yet" if missing else "")))
    # rbac-policies
    for x in (x for x in s["rbac"] if x["foreign"]):   # the survey's rule (one place)
        if x["on_managed_network"]:
            rows.append(("rbac-policies", x["on_managed_network"], "FAIL",
                         f"{x['action']} to {x['target']} (policy {x['id']}); fix: delete the policy"))
        else:
            rows.append(("rbac-policies", x["to_managed_project"], "FAIL",
                         f"{x['action']} on {x['object_type']} {x['object_id']} (policy {x['id']}); "
                         "fix: delete the policy"))
    if not fails("rbac-policies"):
        rows.append(("rbac-policies", target, "PASS",
                     f"looked at {looked['rbac_policies']} policies: {len(s['rbac'])} name managed "
                     "networks or projects, each a zone's external-network grant"))
    # role-assignments
    scopes: dict[str, list[dict]] = {}
    for r in s["role_assignments"]:
        scopes.setdefault(r["where"], []).append(r)
    for where in sorted(scopes):
        bad = [r for r in scopes[where] if not r["allowed"]]
        rows.append(("role-assignments", where, "FAIL" if bad else "PASS",
                     "; ".join(f"{r['role']} for {r['who']} (not the department's, govcloud's or an "
                               "operator's)" for r in bad) + "; fix: remove the role assignment"
                     if bad else f"{len(scopes[where])} assignments, all allowed"))
    if not fails("role-assignments"):
        rows.append(("role-assignments", target, "PASS", f"looked at {looked['role_assignments']} assignments: "
                     f"{len(s['role_assignments'])} on {looked['managed_projects']} managed projects "
                     f"and {looked['managed_domains']} domains"))
    # floating-ips
    net_project = {p["id"]: by_id[p["network_id"]].refs.get("project") for p in s["ports"]
                   if p["network_id"] in by_id}
    for f in s["floating_ips"]:
        if not f["tagged"] or f["project"] != net_project.get(f["port"]):
            rows.append(("floating-ips", f["address"], "FAIL",
                         f"floating IP {f['id']} (project {f['project']}"
                         f"{', not govcloud' + chr(39) + 's' if not f['tagged'] else ''}) on managed port "
                         f"{f['port']}; fix: disassociate it"))
    if not fails("floating-ips"):
        rows.append(("floating-ips", target, "PASS",
                     f"looked at {looked['floating_ips']} floating IPs: {len(s['floating_ips'])} on "
                     f"managed ports, all govcloud's in the port's project"))
    return rows
