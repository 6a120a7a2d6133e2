"""What the libcloud driver's modules share: the tags govcloud adds on EC2 beyond drivers/base.py's,
the EC2 object types with their two reads (``VPCS.list_owned(drv)``, ``VPCS.by_id(drv, id)``), the
record of how one kind is kept (``Handler``, one per kind in the driver's dispatch table), one
observation's shared reads (``Listing``) and the readers more than one module needs (a security
group's ingress rules and their sort key, for the network kinds and the isolation checks). It
imports no module of the driver but ec2xml, so every one of them can import it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from drivers.base import ADDRESS_TAG, APPROVAL_TAG, STACK_TAG, Conflict, NotFound, Observed, Request

from .ec2xml import items, text

ROOT_OF_TAG = "govcloud.root-of"          # on a server's root volume: the server's address
ATTACHMENT_TAG = "govcloud.attachment"     # on a data volume: its attachment's address
REF_TAG = "govcloud.ref."                  # + field: a ref EC2 does not record itself
DESCRIPTION_TAG = "govcloud.description"
EXTERNAL_TAG = "govcloud.external-network"
BANDWIDTH_TAG = "govcloud.bandwidth-mbps"
FLAVOR_TAG = "govcloud.flavor"
VOLUME_TYPE_TAG = "govcloud.volume-type"
ATT_PREFIX = "govcloud.attachment:"       # + stack/approval tag: the attachment's own values
ATT_TAGS = [ATTACHMENT_TAG, ATT_PREFIX + STACK_TAG, ATT_PREFIX + APPROVAL_TAG]

# Instance states govcloud counts as a live server (terminated ones are gone).
ACTIVE_STATES = ("pending", "running", "stopping", "stopped")


@dataclass(frozen=True)
class Ec2Type:
    """An EC2 object type as its Describe call lists it, with the two reads every kind makes."""

    action: str      # DescribeVpcs
    path: str        # where its items are in the reply
    id_param: str    # the parameter naming one by id (VpcId.1)
    what: str        # its name in a NotFound message

    def list_owned(self, drv, **flt: str | list[str]) -> list:
        """Every object of this type carrying the workspace's owner tag (and matching ``flt``)."""
        return drv.describe(self.action, self.path, **drv.owned(**flt))

    def by_id(self, drv, cloud_id: str):
        """One object by id, whoever owns it; NotFound when there is none."""
        return one(drv.describe(self.action, self.path, **{f"{self.id_param}.1": cloud_id}),
                   self.what, cloud_id)


VPCS = Ec2Type("DescribeVpcs", "vpcSet/item", "VpcId", "project (VPC)")
ROUTE_TABLES = Ec2Type("DescribeRouteTables", "routeTableSet/item", "RouteTableId",
                       "network (route table)")
SUBNETS = Ec2Type("DescribeSubnets", "subnetSet/item", "SubnetId", "subnet")
GATEWAYS = Ec2Type("DescribeInternetGateways", "internetGatewaySet/item", "InternetGatewayId",
                   "router (internet gateway)")
GROUPS = Ec2Type("DescribeSecurityGroups", "securityGroupInfo/item", "GroupId", "security group")
ADDRESSES = Ec2Type("DescribeAddresses", "addressesSet/item", "AllocationId", "floating IP")
VOLUMES = Ec2Type("DescribeVolumes", "volumeSet/item", "VolumeId", "volume")


class Ref:
    """What libcloud's methods need of a resource: its id (and a volume's instance)."""

    def __init__(self, id: str, **extra):
        self.id = id
        self.extra = extra


@dataclass(frozen=True)
class Handler:
    """How one govcloud kind is kept on EC2. Each function is a method of a service mixin
    (network.py, compute.py, storage.py), called with the driver first."""

    observe: Callable[[Any, "Listing"], list[Observed]]   # this kind's objects in one observation
    get: Callable[[Any, str], Any]                        # its EC2 element, by cloud id
    create: Callable[[Any, Request], str]                 # makes it; returns the cloud id
    delete: Callable[[Any, str, Any], None]               # (cloud id, element)
    # (cloud id, element, properties, fields) -> tags to set: changes beyond the name, if any
    update: Callable[[Any, str, Any, dict, set[str]], dict[str, str]] | None = None
    named: bool = True        # the "name" property is the Name tag (a group's name is fixed)


class Listing:
    """One observation (all owned objects, or one address's kinds): reads several kinds share
    (route tables, volumes) are made once, through ``once``."""

    def __init__(self, address: str | None, kinds: set[str]):
        self.address, self.kinds = address, kinds
        self.by_addr = {f"tag:{ADDRESS_TAG}": address} if address else {}
        self._done: dict[str, Any] = {}

    def once(self, key: str, read: Callable[[], Any]) -> Any:
        if key not in self._done:
            self._done[key] = read()
        return self._done[key]

    def wants(self, tags: dict[str, str]) -> bool:
        """Whether an object with these tags belongs to this observation's address."""
        return not self.address or tags.get(ADDRESS_TAG) == self.address


def observed(kind: str, cloud_id: str, tags: dict[str, str], props: dict, refs: dict,
             status: str = "ACTIVE") -> Observed:
    """An EC2 object as govcloud sees it: its address is its address tag."""
    return Observed(tags.get(ADDRESS_TAG, ""), kind, cloud_id, props, refs, tags, status)


def one(found: list, what: str, cloud_id: str):
    """The single element a Describe by id returned; NotFound when there is none."""
    if not found:
        raise NotFound(f"{what} {cloud_id} not found")
    return found[0]


def same_project(project_vpc: str, other_vpc: str, what: str, oid: str) -> None:
    if other_vpc != project_vpc:
        raise Conflict(f"{what} {oid} belongs to another project (VPC {other_vpc}, not "
                       f"{project_vpc}): projects do not share networks, subnets, security "
                       f"groups or volumes")


def rule_key(r: dict) -> tuple:
    return (r["protocol"], r.get("port_min") or 0, r.get("port_max") or 0,
            r.get("remote_ip_prefix") or "", r.get("remote_group") or "")


def ingress_rules(group) -> list[dict[str, Any]]:
    """A security group's inbound rules (its DescribeSecurityGroups item) as govcloud's rule
    dicts, sorted by ``rule_key``."""
    rules = []
    for p in items(group, "ipPermissions/item"):
        proto = text(p, "ipProtocol")
        lo, hi = text(p, "fromPort"), text(p, "toPort")
        lo = None if lo in (None, "-1") else int(lo)
        hi = None if hi in (None, "-1") else int(hi)
        proto = "any" if proto == "-1" else proto
        for r in items(p, "ipRanges/item"):
            rules.append({"direction": "ingress", "protocol": proto, "port_min": lo,
                          "port_max": hi, "remote_ip_prefix": text(r, "cidrIp")})
        for r in items(p, "groups/item"):
            rules.append({"direction": "ingress", "protocol": proto, "port_min": lo,
                          "port_max": hi, "remote_group": text(r, "groupId")})
    return sorted(rules, key=rule_key)
