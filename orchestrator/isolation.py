"""`govcloud verify-isolation`: prove tenant and zone isolation against the running cloud.

Checks (each a PASS/FAIL row; N/A where the cloud cannot be asked, never counted as a pass):
- router-gateway    every router's gateway is its own zone's external network
- router-interfaces every router interface is on a subnet of the router's own project
- external-access   every access_as_external grant targets a project of that network's zone,
                    and no external network is offered to everyone (wildcard)
- no-shared-network no network of ours is shared (access_as_shared RBAC or shared flag)
- security-groups   every security group holds exactly the approved inbound rules
- cross-project     Tempest's primary/alternate probe: a member of each project sees its own
                    objects (positive control), and gets NotFound/Forbidden for every server,
                    volume, network, port and security group of every other project
- reachability      dataplane probes (ReachabilityProbes) where a driver has them; N/A otherwise
- the whole-cloud checks (orchestrator/isolation_cloud.py): routers, ports, security groups,
                    RBAC policies, role assignments and floating IPs around the managed projects,
                    whoever owns them

A check that was not performed (``--no-probe``, a driver that cannot answer it) is an N/A row,
and the summary says "passed with N checks not performed": N/A is never a pass.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from drivers.base import CloudSurvey, Driver, IsolationChecks, IsolationProbes, RbacEvidence, ReachabilityProbes

from .core.planner import effective_properties
from .isolation_cloud import cloud_checks, not_looked
from .models.spec import StackSpec


@dataclass(frozen=True)
class Check:
    check: str
    subject: str
    status: str          # PASS | FAIL | N/A
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def verify(specs: list[StackSpec], drivers: dict[str, Driver], probe: bool = True,
           today: date | None = None, extension_ends: dict[str, date] | None = None) -> list[Check]:
    """``today``: the day whose open temporary windows count as approved (the same open-window
    set `plan` and `expire` use, orchestrator/core/windows.py); None: permanent rules only."""
    desired = {r.address: r for s in specs for r in s.resources}
    zone_ext = {(z, lay.target): lay.external_network for s in specs for z, lay in s.zones.items()}
    out: list[Check] = []
    for target, drv in sorted(drivers.items()):
        observed = drv.observe()
        by_id = {o.cloud_id: o for o in observed}
        projects = {o.cloud_id: o for o in observed if o.kind == "project"}

        def project_of(o) -> str | None:
            if o.kind == "project":
                return o.cloud_id
            if "project" in o.refs:
                return o.refs["project"]
            parent = by_id.get(o.refs.get("network", ""))
            return project_of(parent) if parent else None

        for r in (o for o in observed if o.kind == "router"):
            zone = r.tags.get("govcloud.zone")
            want = zone_ext.get((zone, target))
            ok = r.properties.get("external_network") == want
            out.append(Check("router-gateway", r.address, "PASS" if ok else "FAIL",
                             f"gateway {r.properties.get('external_network')}, zone {zone} needs {want}"))
            subnets = [s for s in r.tags.get("_interfaces", r.refs.get("subnet", "")).split(",") if s]
            foreign = [s for s in subnets if s in by_id and project_of(by_id[s]) != r.refs.get("project")]
            unknown = [s for s in subnets if s not in by_id]
            ok = not foreign and not unknown
            out.append(Check("router-interfaces", r.address, "PASS" if ok else "FAIL",
                             f"{len(subnets)} interface(s)" + (f"; other projects' subnets: "
                             f"{', '.join(by_id[s].address for s in foreign)}" if foreign else "")
                             + (f"; subnets not owned by this workspace: {', '.join(unknown)}"
                                if unknown else "")))
        for g in (o for o in observed if o.kind == "security_group"):
            want = desired.get(g.address)
            if want is None:
                out.append(Check("security-groups", g.address, "FAIL", "not in any stack spec"))
                continue
            approved = (effective_properties(want, today, extension_ends)[0] if today is not None
                        and want.windows else want.properties)
            have, need = g.properties.get("rules"), approved.get("rules")
            extra = [r for r in have if r not in need]
            missing = [r for r in need if r not in have]
            out.append(Check("security-groups", g.address, "PASS" if not extra and not missing else "FAIL",
                             f"{len(have)} inbound rule(s)" + (f"; not approved: {extra}" if extra else "")
                             + (f"; missing: {missing}" if missing else "")))
        # the whole cloud around the managed objects (isolation_cloud.py), where the driver looks
        if isinstance(drv, CloudSurvey):
            out += [Check(*row) for row in cloud_checks(target, observed, drv.cloud_survey())]
        else:
            out += [Check(*row) for row in not_looked(
                target, f"the {drv.name} driver gives no view of the cloud beyond its own objects")]
        if not isinstance(drv, RbacEvidence):
            out.append(Check("external-access", target, "N/A", f"{drv.name} has no RBAC to inspect"))
            out.append(Check("no-shared-network", target, "N/A", f"{drv.name} has no RBAC to inspect"))
        else:
            f = drv.isolation_facts()
            ext_zone = {ext: zone for (zone, t), ext in zone_ext.items() if t == target}
            for pol in f["external_grants"]:
                net, tgt = pol["network"], pol["target_project"]
                if tgt == "*":
                    out.append(Check("external-access", net, "FAIL", "offered to every project (wildcard)"))
                    continue
                proj = projects.get(tgt)
                if proj is None:
                    continue  # a project that is not ours
                zone = proj.tags.get("govcloud.zone")
                ok = ext_zone.get(net) == zone
                out.append(Check("external-access", f"{net} -> {proj.address}", "PASS" if ok else "FAIL",
                                 f"project zone {zone}, network serves {ext_zone.get(net)}"))
            ours = {o.cloud_id: o for o in observed if o.kind == "network"}
            for net_id, who in f["shared"]:
                if net_id in ours:
                    out.append(Check("no-shared-network", ours[net_id].address, "FAIL",
                                     f"shared with {who}"))
            if not any(c.check == "no-shared-network" and c.status == "FAIL" for c in out):
                out.append(Check("no-shared-network", target, "PASS",
                                 f"none of {len(ours)} networks is shared"))
        if isinstance(drv, IsolationChecks):   # a driver's own (EC2: routes, peerings)
            out += [Check(*row) for row in drv.isolation_checks(list(desired.values()), probe)]
        if probe:
            out += _probe(drv, observed, projects, project_of)
        else:
            out.append(Check("cross-project", target, "N/A",
                             "not performed: --no-probe (no member was asked what it can see)"))
        out += _reach(drv, projects) if probe else [Check(
            "reachability", target, "N/A", "not performed: --no-probe")]
    return out


def _reach(drv, projects) -> list[Check]:
    """Dataplane probes (ReachabilityProbes), where the driver has a dataplane to probe."""
    if not isinstance(drv, ReachabilityProbes):
        return [Check("reachability", drv.target, "N/A",
                      f"not performed: the {drv.name} driver has no dataplane probe (isolation is "
                      "proven through the control plane and API probes; see the README)")]
    out = []
    for pid, proj in sorted(projects.items(), key=lambda kv: kv[1].address):
        tried = drv.reach(pid, [p for p in projects if p != pid])
        answered = [what for _, what, ok in tried if ok]
        out.append(Check("reachability", proj.address, "FAIL" if answered else "PASS",
                         f"answered: {', '.join(answered)}" if answered
                         else f"no answer to {len(tried)} probes of other projects"))
    return out


def _probe(drv, observed, projects, project_of) -> list[Check]:
    if not isinstance(drv, IsolationProbes):
        return [Check("cross-project", drv.target, "N/A",
                      f"{drv.name} has no per-project credentials to probe with")]
    kinds = ("server", "volume", "network", "security_group", "port")
    objects: dict[str, list] = {pid: [] for pid in projects}
    for o in observed:
        if o.kind in kinds and project_of(o) in objects:
            objects[project_of(o)].append(o)
    out = []
    with drv.probes(list(projects)) as probes:
        for pid, proj in sorted(projects.items(), key=lambda kv: kv[1].address):
            mine = objects[pid] + [*drv.ports_of(pid)]
            seen = drv.probe_visibility(probes[pid], mine)
            blind = [o.address or o.cloud_id for o, visible in seen if not visible]
            out.append(Check("cross-project", f"{proj.address} (positive control)",
                             "PASS" if not blind else "FAIL",
                             f"member sees its own {len(seen)} objects" if not blind
                             else f"member cannot see its own: {blind}"))
            for alt_id, alt in sorted(projects.items(), key=lambda kv: kv[1].address):
                if alt_id == pid:
                    continue
                seen = drv.probe_visibility(probes[alt_id], mine)
                leaked = [o.address or o.cloud_id for o, visible in seen if visible]
                out.append(Check("cross-project", f"{alt.address} -> {proj.address}",
                                 "PASS" if not leaked else "FAIL",
                                 f"NotFound/Forbidden for all {len(seen)} objects" if not leaked
                                 else f"visible: {leaked}"))
    return out
