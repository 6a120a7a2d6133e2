"""Isolation checks for an EC2-compatible target: the logic behind ``govcloud verify-isolation``.

``verify_isolation(driver, desired, alternate=...)`` reads the cloud (batched, tag-filtered
Describe calls; it changes nothing) and reports every breach it finds:

- ``routes``: every route of every route table in a govcloud VPC goes to ``local`` or to the
  internet gateway govcloud attached to that same VPC. A route through a peering connection, a
  transit gateway, a NAT gateway or an instance, or into another govcloud VPC's address block, is
  a path between zones or systems.
- ``peerings``: no VPC peering connection (active, pending or provisioning) touches a govcloud VPC.
- ``placement``: every subnet, instance and security group in a govcloud VPC carries this
  workspace's tags and the same zone and department as the VPC (no foreign or shared object in
  it); every instance uses exactly the security group its spec names.
- ``security_groups``: each group's inbound rules are exactly the approved ones (the compiled
  spec's ``rules``), with no rule naming another security group.
- ``alternate_credentials`` (when alternate credentials are given): another principal (e.g. another
  account's auditor role) sees none of the primary's VPCs, instances or volumes, by id or by tag.

Each check says what it looked at, so an empty findings list means "checked, clean", not
"nothing was checked". ``Ec2IsolationChecks`` is the mixin through which LibcloudDriver declares
the IsolationChecks capability: ``ex_verify_isolation`` returns the report, ``isolation_checks``
the rows of ``govcloud verify-isolation``. It reads through the driver's Connection
(``describe``, ``filters``) and common.py's EC2 types, and imports nothing from driver.py.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable

from drivers.base import (ADDRESS_TAG, DEPARTMENT_TAG, OWNER_TAG, ZONE_TAG, DriverError,
                          IsolationChecks, NotFound)

from .common import ACTIVE_STATES, GATEWAYS, VPCS, ingress_rules, rule_key
from .connection import Credentials, connect, translate
from .ec2xml import items, tags as tags_of, text

_LIVE_PEERING = ("active", "pending-acceptance", "provisioning", "initiating-request")


@dataclass(frozen=True)
class Finding:
    check: str
    object: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.object}: {self.message}"


@dataclass
class IsolationReport:
    target: str
    checked: dict[str, int] = field(default_factory=dict)   # check -> objects looked at
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def add(self, check: str, obj: str, message: str) -> None:
        self.findings.append(Finding(check, obj, message))

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "ok": self.ok, "checked": dict(self.checked),
                "findings": [f.__dict__ for f in self.findings]}


def verify_isolation(driver: Ec2IsolationChecks, desired: Iterable[Any] = (),
                     alternate: dict[str, str] | None = None) -> IsolationReport:
    """Check the objects ``driver`` owns. ``desired``: the compiled ResourceSpecs for this target
    (their security groups' approved rules and servers' groups); ``alternate``: target options
    naming the environment variables of a second principal's credentials
    (``access_key_env``, ``secret_key_env``, ``session_token_env``)."""
    rep = IsolationReport(driver.target)
    want = {r.address: r for r in desired if getattr(r, "target", driver.target) == driver.target}
    vpcs = {text(v, "vpcId"): v for v in VPCS.list_owned(driver)}
    vpc_ids = sorted(vpcs)
    vpc_tags = {vid: tags_of(v) for vid, v in vpcs.items()}
    cidrs = {vid: ipaddress.ip_network(text(v, "cidrBlock")) for vid, v in vpcs.items()}
    if not vpc_ids:
        rep.checked.update(routes=0, peerings=0, placement=0, security_groups=0)
        if alternate:
            rep.checked["alternate_credentials"] = 0
        return rep
    in_vpcs = {"vpc-id": vpc_ids}

    # routes: all route tables of our VPCs, ours or not (the main table too).
    tables = driver.describe("DescribeRouteTables", "routeTableSet/item",
                             **driver.filters(in_vpcs))
    own_gateways = {text(g, "internetGatewayId"):
                    [text(a, "vpcId") for a in items(g, "attachmentSet/item")]
                    for g in GATEWAYS.list_owned(driver)}
    routes = 0
    for rt in tables:
        vpc, rtid = text(rt, "vpcId"), text(rt, "routeTableId")
        for r in items(rt, "routeSet/item"):
            routes += 1
            dest = text(r, "destinationCidrBlock") or text(r, "destinationPrefixListId") or "?"
            gw = text(r, "gatewayId")
            via = [f"{k} {text(r, k)}" for k in ("vpcPeeringConnectionId", "transitGatewayId",
                                                "natGatewayId", "instanceId", "networkInterfaceId",
                                                "egressOnlyInternetGatewayId", "localGatewayId",
                                                "carrierGatewayId") if text(r, k)]
            if via:
                rep.add("routes", f"{rtid} ({vpc})", f"route to {dest} via {via[0]}: "
                        "only the VPC itself and its own internet gateway may be routed to")
            elif gw and gw != "local" and vpc not in own_gateways.get(gw, []):
                rep.add("routes", f"{rtid} ({vpc})", f"route to {dest} via gateway {gw}, which is "
                        "not the internet gateway govcloud attached to this VPC")
            if dest not in ("?", "0.0.0.0/0") and gw != "local":
                try:
                    net = ipaddress.ip_network(dest)
                except ValueError:
                    continue
                for other, block in cidrs.items():
                    if other != vpc and net.overlaps(block):
                        rep.add("routes", f"{rtid} ({vpc})", f"route to {dest} reaches VPC {other} "
                                f"({vpc_tags[other].get(ZONE_TAG, '?')} zone): no path between "
                                "zones or systems")
    rep.checked["routes"] = routes

    # peerings touching any of our VPCs, from either side.
    peerings = []
    for side in ("requester-vpc-info.vpc-id", "accepter-vpc-info.vpc-id"):
        peerings += driver.describe("DescribeVpcPeeringConnections",
                                    "vpcPeeringConnectionSet/item",
                                    **driver.filters({side: vpc_ids}))
    seen = set()
    for p in peerings:
        pid = text(p, "vpcPeeringConnectionId")
        if pid in seen:
            continue
        seen.add(pid)
        state = text(p, "status/code")
        if state in _LIVE_PEERING:
            rep.add("peerings", pid, f"peering {text(p, 'requesterVpcInfo/vpcId')} <-> "
                    f"{text(p, 'accepterVpcInfo/vpcId')} is {state}: govcloud VPCs are never peered")
    rep.checked["peerings"] = len(seen)

    # placement: what lives in our VPCs carries our tags and the VPC's zone and department.
    subnets = driver.describe("DescribeSubnets", "subnetSet/item", **driver.filters(in_vpcs))
    groups = driver.describe("DescribeSecurityGroups", "securityGroupInfo/item",
                             **driver.filters(in_vpcs))
    instances = []
    for res in driver.describe("DescribeInstances", "reservationSet/item",
                               **driver.filters({**in_vpcs, "instance-state-name":
                                                 list(ACTIVE_STATES)})):
        instances += items(res, "instancesSet/item")
    placed = 0
    for kind, objects, id_path in (("subnet", subnets, "subnetId"),
                                   ("server", instances, "instanceId"),
                                   ("security group", [g for g in groups
                                                       if text(g, "groupName") != "default"],
                                    "groupId")):
        for el in objects:
            placed += 1
            tags, vpc, oid = tags_of(el), text(el, "vpcId"), text(el, id_path)
            home = vpc_tags.get(vpc, {})
            if tags.get(OWNER_TAG) != driver.owner:
                rep.add("placement", oid, f"{kind} in govcloud VPC {vpc} without this workspace's "
                        "ownership tag: nothing else may share a system's VPC")
                continue
            for tag, what in ((ZONE_TAG, "zone"), (DEPARTMENT_TAG, "department")):
                if tags.get(tag) and home.get(tag) and tags[tag] != home[tag]:
                    rep.add("placement", oid, f"{kind} of {what} {tags[tag]} in the VPC of "
                            f"{what} {home[tag]} ({vpc})")
    by_sg_address = {tags_of(g).get(ADDRESS_TAG): text(g, "groupId") for g in groups}
    for inst in instances:
        spec = want.get(tags_of(inst).get(ADDRESS_TAG, ""))
        have = sorted(text(g, "groupId") for g in items(inst, "groupSet/item"))
        if spec is not None and spec.refs.get("security_group"):
            expected = by_sg_address.get(spec.refs["security_group"])
            if have != [expected]:
                rep.add("placement", text(inst, "instanceId"), f"uses security groups {have}, not "
                        f"only its approved group {expected or spec.refs['security_group']}")
    rep.checked["placement"] = placed

    # security groups: inbound rules exactly as approved.
    approved = {a: r.properties.get("rules", []) for a, r in want.items()
                if r.kind == "security_group"}
    sg_checked = 0
    for g in groups:
        tags, gid = tags_of(g), text(g, "groupId")
        rules = ingress_rules(g)
        for r in rules:
            if r.get("remote_group") and not (text(g, "groupName") == "default"
                                              and r["remote_group"] == gid):
                rep.add("security_groups", gid, f"inbound rule admits security group "
                        f"{r['remote_group']}: approvals name address ranges only")
        if tags.get(OWNER_TAG) != driver.owner:
            continue
        sg_checked += 1
        address = tags.get(ADDRESS_TAG, "")
        if address not in approved:
            if want:
                rep.add("security_groups", gid, f"{address or 'untracked group'} is in no "
                        "compiled stack spec")
            continue
        expected = sorted(approved[address], key=rule_key)
        extra = [r for r in rules if r not in expected and not r.get("remote_group")]
        missing = [r for r in expected if r not in rules]
        for r in extra:
            rep.add("security_groups", gid, f"unapproved inbound rule {_fmt(r)}")
        for r in missing:
            rep.add("security_groups", gid, f"approved inbound rule {_fmt(r)} is missing")
    rep.checked["security_groups"] = sg_checked

    if alternate:
        _check_alternate(driver, alternate, vpc_ids, rep)
    return rep


def _fmt(rule: dict) -> str:
    ports = "" if rule.get("port_min") is None else \
        f" {rule['port_min']}" + ("" if rule.get("port_max") in (None, rule["port_min"])
                                  else f"-{rule['port_max']}")
    return f"{rule['protocol']}{ports} from {rule.get('remote_ip_prefix') or rule.get('remote_group')}"


def _check_alternate(driver: Ec2IsolationChecks, alternate: dict[str, str], vpc_ids: list[str],
                     rep: IsolationReport) -> None:
    options = {**driver.options, **alternate}
    try:
        other = connect(options, Credentials(options))
    except DriverError as exc:
        rep.add("alternate_credentials", "-", f"cannot connect with the alternate credentials: {exc}")
        return

    def ask(action: str, path: str, **params) -> list:
        try:
            body = other.connection.request(other.path, params={"Action": action, **params}).object
        except Exception as exc:  # NotFound for ids it may not see is the good answer
            err = translate(exc, action)
            if isinstance(err, NotFound):
                return []
            raise err from None
        return items(body, path)

    owner_filter = driver.filters({f"tag:{OWNER_TAG}": driver.owner})
    looked = 0
    seen = []
    for vid in vpc_ids:
        looked += 1
        seen += [("VPC", text(v, "vpcId"))
                 for v in ask("DescribeVpcs", "vpcSet/item", **{"VpcId.1": vid})]
    seen += [("VPC", text(v, "vpcId")) for v in ask("DescribeVpcs", "vpcSet/item", **owner_filter)]
    for res in ask("DescribeInstances", "reservationSet/item", **owner_filter):
        seen += [("server", text(i, "instanceId")) for i in items(res, "instancesSet/item")]
    seen += [("volume", text(v, "volumeId")) for v in ask("DescribeVolumes", "volumeSet/item",
                                                        **owner_filter)]
    looked += 3
    for what, oid in sorted(set(seen)):
        rep.add("alternate_credentials", oid, f"the alternate credentials can see this {what}: "
                "another principal must not see a system's objects")
    rep.checked["alternate_credentials"] = looked


class Ec2IsolationChecks(IsolationChecks):
    """Mixin of LibcloudDriver: the IsolationChecks capability (see the module docstring)."""

    def ex_verify_isolation(self, desired: Iterable[Any] = (),
                            alternate: dict[str, str] | None = None) -> IsolationReport:
        return verify_isolation(self, desired, alternate)

    def isolation_checks(self, desired: Iterable[Any] = (),
                         probe: bool = True) -> list[tuple[str, str, str, str]]:
        """verify_isolation as rows for `govcloud verify-isolation` (check, subject, status,
        detail). Security groups are left to the command's own check; alternate credentials
        are probed when the target names them (``alternate_access_key_env`` /
        ``alternate_secret_key_env`` / ``alternate_session_token_env``)."""
        names = {k[len("alternate_"):]: v for k, v in self.options.items()
                 if k in ("alternate_access_key_env", "alternate_secret_key_env",
                          "alternate_session_token_env")}
        rep = self.ex_verify_isolation(desired, names if probe and names else None)
        rows = []
        for check, label in (("routes", "vpc-routes"), ("peerings", "vpc-peerings"),
                             ("placement", "vpc-placement"),
                             ("alternate_credentials", "alternate-credentials")):
            if check not in rep.checked:
                if check == "alternate_credentials" and probe:
                    rows.append((label, self.target, "N/A", "set alternate_access_key_env and "
                                 "alternate_secret_key_env on the target to probe with another "
                                 "principal's credentials"))
                continue
            found = [f for f in rep.findings if f.check == check]
            rows += [(label, f.object, "FAIL", f.message) for f in found]
            if not found:
                rows.append((label, self.target, "PASS", f"{rep.checked[check]} checked"))
        return rows
