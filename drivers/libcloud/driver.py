"""govcloud on an EC2-compatible cloud, through apache-libcloud's EC2 driver.

The mapping (README "EC2-compatible clouds through libcloud" says why):

====================  ===========================================================================
govcloud kind         EC2 objects (all tagged with the ownership tags of drivers/base.py + Name)
====================  ===========================================================================
domain                none: EC2 has no identity domains. Not in ``kinds``; a zone on this driver
                      uses ``layout = "vpc"``, where compile leaves domains out and the department
                      is the ``govcloud.department`` tag on every object.
project               one VPC per system per zone, its CIDR the system's block (``cidr``, set by
                      compile under ``layout = "vpc"``). The VPC is the isolation boundary.
quota                 none: EC2 limits are per account and region, not per VPC. Not in ``kinds``.
network               the VPC's own route table: the subnet's routing domain, holding only the
                      VPC-local route until a router adds the default route.
subnet                a subnet of the project's VPC in the target's availability zone, associated
                      with the network's route table. EC2's gateway is always the first host.
router                an internet gateway attached to the VPC and the 0.0.0.0/0 route to it in the
                      subnet's route table. ``external_network`` must be one of the target's
                      ``external_networks``.
security_group        a security group in the VPC: inbound denied except the approved rules
                      (EC2's default allow-all egress is kept, like OpenStack's egress rules).
server                an instance in the subnet with the group; its root EBS volume (size and type
                      of the system disk) carries the owner tag and ``govcloud.root-of``.
volume                an EBS volume in the availability zone (``govcloud.ref.project`` = VPC id).
volume_attachment     an attachment of the volume (EC2 attachments cannot carry tags: the
                      attachment's address is the volume's ``govcloud.attachment`` tag).
floating_ip           an elastic IP (VPC domain). EC2 has no per-address bandwidth cap:
                      ``bandwidth_mbps`` is recorded in a tag for billing and not enforced.
====================  ===========================================================================

Options (``[targets.NAME]`` in govcloud.toml): ``provider`` ("ec2"), ``endpoint`` (URL; default:
the region's AWS endpoint), ``region``, ``availability_zone``, ``external_networks``, ``images``
({image name: AMI id}; otherwise looked up by name), ``instance_types`` ({flavor: type}; otherwise
chosen by vCPUs and RAM), ``volume_types`` ({govcloud type: EBS type}), ``timeout`` (seconds) and
the names of the environment variables holding the credentials: ``access_key_env`` (default
AWS_ACCESS_KEY_ID), ``secret_key_env`` (AWS_SECRET_ACCESS_KEY), ``session_token_env``
(AWS_SESSION_TOKEN). Credentials are read from the environment only: an option that looks like a
credential is refused, and no credential is ever put in an object, a message or a tag.
"""
from __future__ import annotations

import ipaddress
import re
import threading
import time
from typing import Any, Callable, Iterable
from xml.etree import ElementTree as ET

from drivers.base import (ADDRESS_TAG, APPROVAL_TAG, DEPARTMENT_TAG, OWNER_TAG, STACK_TAG,
                          ZONE_TAG, Conflict, CreateFailed, Driver, IsolationChecks, PowerControl,
                          DriverError, NotFound, NotOwned, Observed, Request, TransientError,
                          Unsupported)

from . import quirks
from .connection import Credentials, check_options, connect, translate
from .ec2xml import items as _all, tags as _tags, tagspec as _tagspec, text as _t

ROOT_OF_TAG = "govcloud.root-of"          # on a server's root volume: the server's address
ATTACHMENT_TAG = "govcloud.attachment"     # on a data volume: its attachment's address
REF_TAG = "govcloud.ref."                  # + field: a ref EC2 does not record itself
DESCRIPTION_TAG = "govcloud.description"
EXTERNAL_TAG = "govcloud.external-network"
BANDWIDTH_TAG = "govcloud.bandwidth-mbps"
FLAVOR_TAG = "govcloud.flavor"
VOLUME_TYPE_TAG = "govcloud.volume-type"
_ATT_PREFIX = "govcloud.attachment:"      # + stack/approval tag: the attachment's own values
_ATT_TAGS = [ATTACHMENT_TAG, _ATT_PREFIX + STACK_TAG, _ATT_PREFIX + APPROVAL_TAG]

KINDS = frozenset({"project", "network", "subnet", "router", "security_group", "server", "volume",
                   "volume_attachment", "floating_ip"})
# Instance types by (vCPUs, RAM GiB): families with 2, 4 and 8 GiB per vCPU, and small t2 sizes.
INSTANCE_TYPES: dict[str, tuple[int, int]] = {
    "t2.micro": (1, 1), "t2.small": (1, 2), "t2.medium": (2, 4),
    **{f"c5.{s}": (v, 2 * v) for s, v in (("large", 2), ("xlarge", 4), ("2xlarge", 8),
                                          ("4xlarge", 16), ("9xlarge", 36))},
    **{f"m5.{s}": (v, 4 * v) for s, v in (("large", 2), ("xlarge", 4), ("2xlarge", 8),
                                          ("4xlarge", 16), ("8xlarge", 32))},
    **{f"r5.{s}": (v, 8 * v) for s, v in (("large", 2), ("xlarge", 4), ("2xlarge", 8),
                                          ("4xlarge", 16), ("8xlarge", 32))},
}
_BY_SHAPE: dict[tuple[int, int], str] = {}
for _type, _shape in INSTANCE_TYPES.items():
    _BY_SHAPE.setdefault(_shape, _type)
_BY_SHAPE[(2, 4)] = "c5.large"

DEFAULT_VOLUME_TYPES = {"standard": "standard", "ssd": "gp3", "high-io": "io2"}
_IOPS_TYPES = {"io1": 3000, "io2": 3000}

_ACTIVE_STATES = ("pending", "running", "stopping", "stopped")


class _Ref:
    """What libcloud's methods need of a resource: its id (and a volume's instance)."""

    def __init__(self, id: str, **extra):
        self.id = id
        self.extra = extra


class LibcloudDriver(Driver, PowerControl, IsolationChecks):
    name = "libcloud"
    kinds = KINDS

    def ex_verify_isolation(self, desired=(), alternate: dict[str, str] | None = None):
        return _verify(self, desired, alternate)

    def isolation_checks(self, desired=(), probe: bool = True) -> list[tuple[str, str, str, str]]:
        return _isolation_rows(self, desired, probe)

    def __init__(self, target, options, workspace_root, owner):
        super().__init__(target, options, workspace_root, owner)
        check_options(options)
        self.credentials = Credentials(options)
        self.region = options.get("region", "us-east-1")
        self.zone = options.get("availability_zone", f"{self.region}a")
        self.external_networks = set(options.get("external_networks", ["internet", "extranet"]))
        self.images: dict[str, str] = dict(options.get("images", {}))
        self.instance_types: dict[str, str] = dict(options.get("instance_types", {}))
        self.volume_types = {**DEFAULT_VOLUME_TYPES, **options.get("volume_types", {})}
        self.poll = float(options.get("poll_seconds", 1.0))
        self.wait_timeout = float(options.get("wait_seconds", 300))
        self._tls = threading.local()
        self._lock = threading.Lock()
        self._image_names: dict[str, str] = {}
        self._image_roots: dict[str, str] = {}
        self.ec2  # connect now: missing credentials or a bad option fail when the target opens

    # --- plumbing -----------------------------------------------------------------------
    @property
    def ec2(self):
        """One libcloud driver per thread (the executor runs steps in parallel)."""
        drv = getattr(self._tls, "ec2", None)
        if drv is None:
            drv = connect(self.options, self.credentials)
            self._tls.ec2 = drv
        return drv

    def _count(self) -> None:
        with self._lock:
            self.api_calls += 1

    def call(self, what: str, fn: Callable[..., Any], *args, **kwargs):
        """A libcloud driver method, counted, its failures translated."""
        self._count()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            raise translate(exc, what) from None

    def req(self, action: str, **params) -> ET.Element:
        """One EC2 API request through libcloud's (fixed) connection."""
        return self.call(action, lambda: self.ec2.connection.request(
            self.ec2.path, params={"Action": action, **params}).object)

    def describe(self, action: str, item_path: str, **params) -> list:
        """A Describe* call, following nextToken pages."""
        items, token = [], None
        while True:
            extra = {"NextToken": token} if token else {}
            body = self.req(action, **params, **extra)
            items.extend(_all(body, item_path))
            token = _t(body, "nextToken")
            if not token:
                return items

    @staticmethod
    def filters(by: dict[str, str | list[str]]) -> dict[str, str]:
        """EC2 Filter.N.Name / Filter.N.Value.M parameters (names as EC2 spells them)."""
        out: dict[str, str] = {}
        for i, (name, values) in enumerate(by.items(), 1):
            out[f"Filter.{i}.Name"] = name
            for j, v in enumerate(values if isinstance(values, list) else [values], 1):
                out[f"Filter.{i}.Value.{j}"] = v
        return out

    def owned(self, **more: str | list[str]) -> dict[str, str]:
        """Filters: objects with this workspace's owner tag (plus ``more``)."""
        return self.filters({f"tag:{OWNER_TAG}": self.owner, **more})

    def close(self) -> None:
        self._tls = threading.local()

    def _check_owner(self, tags: dict[str, str], kind: str, cloud_id: str) -> None:
        if tags.get(OWNER_TAG) != self.owner:
            raise NotOwned(f"{kind} {cloud_id} does not carry this workspace's ownership tag "
                           f"({OWNER_TAG}={self.owner}); govcloud leaves it alone")

    def _tags_for(self, req: Request, **extra: str) -> dict[str, str]:
        tags = {**req.tags, "Name": req.properties.get("name", req.name), **extra}
        tags.setdefault(OWNER_TAG, self.owner)
        return tags

    def _set_tags(self, resource_id: str, tags: dict[str, str]) -> None:
        if tags:
            self.call("CreateTags", self.ec2.ex_create_tags, _Ref(resource_id), tags)

    def _wait(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.wait_timeout
        while not check():
            if time.monotonic() > deadline:
                raise TransientError(f"{what}: still not ready after {self.wait_timeout:.0f} s")
            time.sleep(self.poll)

    # --- reading ------------------------------------------------------------------------
    def _vpcs(self, **flt):
        return self.describe("DescribeVpcs", "vpcSet/item", **self.owned(**flt))

    def _route_tables(self, **flt):
        return self.describe("DescribeRouteTables", "routeTableSet/item", **self.owned(**flt))

    def _subnets(self, **flt):
        return self.describe("DescribeSubnets", "subnetSet/item", **self.owned(**flt))

    def _gateways(self, **flt):
        return self.describe("DescribeInternetGateways", "internetGatewaySet/item",
                             **self.owned(**flt))

    def _groups(self, **flt):
        return self.describe("DescribeSecurityGroups", "securityGroupInfo/item", **self.owned(**flt))

    def _instances(self, **flt):
        flt.setdefault("instance-state-name", list(_ACTIVE_STATES))
        out = []
        for res in self.describe("DescribeInstances", "reservationSet/item", **self.owned(**flt)):
            out.extend(_all(res, "instancesSet/item"))
        return out

    def _volumes(self, **flt):
        return self.describe("DescribeVolumes", "volumeSet/item", **self.owned(**flt))

    def _addresses(self, **flt):
        return self.describe("DescribeAddresses", "addressesSet/item", **self.owned(**flt))

    def observe(self) -> list[Observed]:
        return self._observe(None, set(KINDS))

    def find(self, address: str) -> Observed | None:
        kind = address.split(":", 1)[0]
        if kind not in KINDS:
            return None
        found = sorted(self._observe(address, {kind}), key=lambda o: o.cloud_id)
        return found[0] if found else None

    def _observe(self, address: str | None, kinds: set[str]) -> list[Observed]:
        by_addr = {f"tag:{ADDRESS_TAG}": address} if address else {}
        out: list[Observed] = []
        need_rt = kinds & {"network", "subnet", "router"}
        rts = self._route_tables(**(by_addr if kinds == {"network"} else {})) if need_rt else []
        assoc = {_t(a, "subnetId"): _t(rt, "routeTableId")
                 for rt in rts for a in _all(rt, "associationSet/item") if _t(a, "subnetId")}
        if "project" in kinds:
            out += [self._vpc_obs(v) for v in self._vpcs(**by_addr)]
        if "network" in kinds:
            out += [self._rt_obs(rt) for rt in rts
                    if not address or _tags(rt).get(ADDRESS_TAG) == address]
        if "subnet" in kinds:
            out += [self._subnet_obs(s, assoc) for s in self._subnets(**by_addr)]
        if "router" in kinds:
            out += [self._igw_obs(g, rts, assoc) for g in self._gateways(**by_addr)]
        if "security_group" in kinds:
            out += [self._sg_obs(g) for g in self._groups(**by_addr)]
        vols = []
        if kinds & {"server", "volume", "volume_attachment"}:
            if address and kinds == {"volume"}:
                vols = self._volumes(**by_addr)
            elif address and kinds == {"server"}:
                vols = self._volumes(**{f"tag:{ROOT_OF_TAG}": address})
            elif address and kinds == {"volume_attachment"}:
                vols = self._volumes(**{f"tag:{ATTACHMENT_TAG}": address})
            else:
                vols = self._volumes()
        if "server" in kinds:
            insts = self._instances(**by_addr)
            roots = {v_tags.get(ROOT_OF_TAG): v for v in vols
                     for v_tags in (_tags(v),) if v_tags.get(ROOT_OF_TAG)}
            self._learn_images({_t(i, "imageId") for i in insts})
            out += [self._server_obs(i, roots) for i in insts]
        if "volume" in kinds:
            out += [self._volume_obs(v) for v in vols if not _tags(v).get(ROOT_OF_TAG)
                    and (not address or _tags(v).get(ADDRESS_TAG) == address)]
        if "volume_attachment" in kinds:
            out += [o for v in vols for o in [self._attachment_obs(v)] if o is not None
                    and (not address or o.address == address)]
        if "floating_ip" in kinds:
            out += [self._eip_obs(a) for a in self._addresses(**by_addr)]
        return out

    def _obs(self, kind, cloud_id, tags, props, refs, status="ACTIVE") -> Observed:
        return Observed(tags.get(ADDRESS_TAG, ""), kind, cloud_id, props, refs, tags, status)

    def _vpc_obs(self, v) -> Observed:
        tags = _tags(v)
        props = {"name": tags.get("Name", ""), "description": tags.get(DESCRIPTION_TAG, ""),
                 "cidr": _t(v, "cidrBlock")}
        return self._obs("project", _t(v, "vpcId"), tags, props, {})

    def _rt_obs(self, rt) -> Observed:
        tags = _tags(rt)
        return self._obs("network", _t(rt, "routeTableId"), tags, {"name": tags.get("Name", "")},
                         {"project": _t(rt, "vpcId")})

    def _subnet_obs(self, s, assoc: dict[str, str]) -> Observed:
        tags = _tags(s)
        sid, cidr = _t(s, "subnetId"), _t(s, "cidrBlock")
        rt = assoc.get(sid)
        props = {"name": tags.get("Name", ""), "cidr": cidr, "gateway_ip": _first_host(cidr)}
        # Not associated with its network's route table: half made (an interrupted create).
        return self._obs("subnet", sid, tags, props,
                         {"network": rt or tags.get(REF_TAG + "network", "")},
                         "ACTIVE" if rt else "ERROR")

    def _igw_obs(self, g, rts, assoc) -> Observed:
        tags = _tags(g)
        gid = _t(g, "internetGatewayId")
        vpcs = [_t(a, "vpcId") for a in _all(g, "attachmentSet/item")
                if _t(a, "state") in ("available", "attached", "attaching")]
        subnet = tags.get(REF_TAG + "subnet", "")
        rt_id = assoc.get(subnet)
        routed = any(_t(r, "gatewayId") == gid and _t(r, "destinationCidrBlock") == "0.0.0.0/0"
                     for rt in rts if _t(rt, "routeTableId") == rt_id
                     for r in _all(rt, "routeSet/item"))
        props = {"name": tags.get("Name", ""), "external_network": tags.get(EXTERNAL_TAG, "")}
        return self._obs("router", gid, tags, props,
                         {"project": vpcs[0] if vpcs else "", "subnet": subnet},
                         "ACTIVE" if vpcs and routed else "ERROR")

    @staticmethod
    def _rules(g) -> list[dict[str, Any]]:
        rules = []
        for p in _all(g, "ipPermissions/item"):
            proto = _t(p, "ipProtocol")
            lo, hi = _t(p, "fromPort"), _t(p, "toPort")
            lo = None if lo in (None, "-1") else int(lo)
            hi = None if hi in (None, "-1") else int(hi)
            proto = "any" if proto == "-1" else proto
            for r in _all(p, "ipRanges/item"):
                rules.append({"direction": "ingress", "protocol": proto, "port_min": lo,
                              "port_max": hi, "remote_ip_prefix": _t(r, "cidrIp")})
            for r in _all(p, "groups/item"):
                rules.append({"direction": "ingress", "protocol": proto, "port_min": lo,
                              "port_max": hi, "remote_group": _t(r, "groupId")})
        return sorted(rules, key=_rule_key)

    def _sg_obs(self, g) -> Observed:
        tags = _tags(g)
        props = {"name": _t(g, "groupName"), "description": _t(g, "groupDescription", ""),
                 "rules": self._rules(g)}
        return self._obs("security_group", _t(g, "groupId"), tags, props,
                         {"project": _t(g, "vpcId")})

    def _learn_images(self, ids: set[str]) -> None:
        unknown = sorted(i for i in ids if i and i not in self._image_names)
        if not unknown:
            return
        params = {f"ImageId.{n}": i for n, i in enumerate(unknown, 1)}
        try:
            images = self.describe("DescribeImages", "imagesSet/item", **params)
        except NotFound:
            images = []
        for img in images:
            self._image_names[_t(img, "imageId")] = _t(img, "name", "")
            self._image_roots[_t(img, "imageId")] = _t(img, "rootDeviceName", "/dev/sda1")
        for i in unknown:  # deregistered images: name them by id
            self._image_names.setdefault(i, i)

    def _server_obs(self, i, roots) -> Observed:
        tags = _tags(i)
        iid, itype = _t(i, "instanceId"), _t(i, "instanceType")
        flavor = tags.get(FLAVOR_TAG, "")
        rec_vcpus, rec_ram = int(tags.get("govcloud.vcpus", 0)), int(tags.get("govcloud.ram-gb", 0))
        # The shape is the instance type's; a type from the instance_types option that the table
        # does not know keeps the shape govcloud recorded.
        vcpus, ram = INSTANCE_TYPES.get(itype, (rec_vcpus, rec_ram))
        if flavor and self._instance_type(flavor, rec_vcpus, rec_ram, strict=False) != itype:
            flavor = f"ec2:{itype}"          # changed outside govcloud: the plan puts it back
        root = roots.get(tags.get(ADDRESS_TAG))
        sys_gb = int(_t(root, "size")) if root is not None else None
        sys_type = self._govcloud_volume_type(root) if root is not None else None
        image_id = _t(i, "imageId")
        props = {"name": tags.get("Name", ""), "flavor": flavor, "vcpus": vcpus, "ram_gb": ram,
                 "image": self._image_names.get(image_id, image_id),
                 "system_disk_gb": sys_gb, "system_disk_type": sys_type}
        groups = [_t(g, "groupId") for g in _all(i, "groupSet/item")]
        state = _t(i, "instanceState/name")
        refs = {"project": _t(i, "vpcId"), "network": tags.get(REF_TAG + "network", ""),
                "subnet": _t(i, "subnetId"),
                "security_group": groups[0] if len(groups) == 1 else ",".join(groups)}
        status = {"stopped": "SHUTOFF", "stopping": "SHUTOFF", "pending": "BUILD"}.get(state, "ACTIVE")
        return self._obs("server", iid, tags, props, refs, status)

    def _govcloud_volume_type(self, v) -> str:
        tags = _tags(v)
        ebs = _t(v, "volumeType")
        recorded = tags.get(VOLUME_TYPE_TAG)
        if recorded and self.volume_types.get(recorded) == ebs:
            return recorded
        back = [k for k, t in self.volume_types.items() if t == ebs]
        return back[0] if len(back) == 1 and not recorded else f"ebs:{ebs}"

    def _volume_obs(self, v) -> Observed:
        tags = _tags(v)
        props = {"name": tags.get("Name", ""), "size_gb": int(_t(v, "size")),
                 "volume_type": self._govcloud_volume_type(v)}
        status = {"error": "ERROR", "creating": "BUILD"}.get(_t(v, "status"), "ACTIVE")
        return self._obs("volume", _t(v, "volumeId"), tags, props,
                         {"project": tags.get(REF_TAG + "project", "")}, status)

    def _attachment_obs(self, v) -> Observed | None:
        tags = _tags(v)
        address = tags.get(ATTACHMENT_TAG)
        atts = [a for a in _all(v, "attachmentSet/item")
                if _t(a, "status") in ("attaching", "attached")]
        if not address or not atts:
            return None
        a = atts[0]
        vid, iid = _t(v, "volumeId"), _t(a, "instanceId")
        att_tags = {k: tags[k] for k in (OWNER_TAG, DEPARTMENT_TAG, ZONE_TAG) if k in tags}
        att_tags[ADDRESS_TAG] = address
        for k in (STACK_TAG, APPROVAL_TAG):
            if _ATT_PREFIX + k in tags:
                att_tags[k] = tags[_ATT_PREFIX + k]
        return self._obs("volume_attachment", f"{vid}@{iid}", att_tags,
                         {"device_index": _device_index(_t(a, "device"))},
                         {"server": iid, "volume": vid})

    def _eip_obs(self, a) -> Observed:
        tags = _tags(a)
        bw = tags.get(BANDWIDTH_TAG)
        props = {"external_network": tags.get(EXTERNAL_TAG, ""),
                 "bandwidth_mbps": int(bw) if bw and bw.isdigit() else None}
        return self._obs("floating_ip", _t(a, "allocationId"), tags, props,
                         {"project": tags.get(REF_TAG + "project", "")})

    # --- helpers for writes -------------------------------------------------------------
    def _one(self, items: list, kind: str, cloud_id: str):
        if not items:
            raise NotFound(f"{kind} {cloud_id} not found")
        return items[0]

    def _vpc(self, vpc_id: str):
        return self._one(self.describe("DescribeVpcs", "vpcSet/item", **{"VpcId.1": vpc_id}),
                         "project (VPC)", vpc_id)

    def _route_table(self, rt_id: str):
        return self._one(self.describe("DescribeRouteTables", "routeTableSet/item",
                                       **{"RouteTableId.1": rt_id}), "network (route table)", rt_id)

    def _subnet(self, subnet_id: str):
        return self._one(self.describe("DescribeSubnets", "subnetSet/item",
                                       **{"SubnetId.1": subnet_id}), "subnet", subnet_id)

    def _group(self, group_id: str):
        return self._one(self.describe("DescribeSecurityGroups", "securityGroupInfo/item",
                                       **{"GroupId.1": group_id}), "security group", group_id)

    def _gateway(self, gid: str):
        return self._one(self.describe("DescribeInternetGateways", "internetGatewaySet/item",
                                       **{"InternetGatewayId.1": gid}), "router (internet gateway)",
                         gid)

    def _instance(self, iid: str):
        out = []
        for res in self.describe("DescribeInstances", "reservationSet/item", **{"InstanceId.1": iid}):
            out.extend(i for i in _all(res, "instancesSet/item")
                       if _t(i, "instanceState/name") != "terminated")
        return self._one(out, "server", iid)

    def _volume(self, vid: str):
        return self._one(self.describe("DescribeVolumes", "volumeSet/item", **{"VolumeId.1": vid}),
                         "volume", vid)

    def _address(self, alloc: str):
        return self._one(self.describe("DescribeAddresses", "addressesSet/item",
                                       **{"AllocationId.1": alloc}), "floating IP", alloc)

    def _same_project(self, project_vpc: str, other_vpc: str, what: str, oid: str) -> None:
        if other_vpc != project_vpc:
            raise Conflict(f"{what} {oid} belongs to another project (VPC {other_vpc}, not "
                           f"{project_vpc}): projects do not share networks, subnets, security "
                           f"groups or volumes")

    def _external(self, name: str) -> None:
        if name not in self.external_networks:
            raise NotFound(f"external network {name!r} not found (this target has: "
                           f"{', '.join(sorted(self.external_networks))})")

    def _instance_type(self, flavor: str, vcpus: int, ram_gb: int, strict: bool = True) -> str | None:
        if flavor in self.instance_types:
            return self.instance_types[flavor]
        found = _BY_SHAPE.get((vcpus, ram_gb))
        if found is None and strict:
            raise Unsupported(f"no EC2 instance type with {vcpus} vCPU / {ram_gb} GiB for flavor "
                              f"{flavor!r}: map it in [targets.{self.target}] instance_types")
        return found

    def _image(self, name: str) -> tuple[str, str]:
        """AMI id and root device name of an image, by the images option or by name."""
        if name in self.images:
            params = {"ImageId.1": self.images[name]}
        else:
            params = self.filters({"name": name})
        images = self.describe("DescribeImages", "imagesSet/item", **params)
        if not images:
            raise NotFound(f"image {name!r} not found (register it or map it in "
                           f"[targets.{self.target}] images)")
        img = sorted(images, key=lambda i: _t(i, "imageId"))[0]
        iid = _t(img, "imageId")
        self._image_names[iid] = name
        return iid, _t(img, "rootDeviceName", "/dev/sda1")

    def _ebs_type(self, vtype: str) -> str:
        try:
            return self.volume_types[vtype]
        except KeyError:
            raise Unsupported(f"volume type {vtype!r} has no EBS type: map it in "
                              f"[targets.{self.target}] volume_types") from None

    # --- writes -----------------------------------------------------------------------------
    def create(self, req: Request) -> Observed:
        if req.kind not in KINDS:
            raise Unsupported(f"{req.kind}: EC2 has no such object (this driver declares "
                              f"{', '.join(sorted(KINDS))})")
        cloud_id = getattr(self, f"_create_{req.kind}")(req)
        # Made as asked (each create call fails loudly otherwise, and a server that did not start
        # raises CreateFailed): no read-back, the next observe() reads what the cloud really has.
        return Observed(req.address, req.kind, cloud_id, dict(req.properties), dict(req.refs),
                        {**req.tags, OWNER_TAG: req.tags.get(OWNER_TAG, self.owner)})

    def _create_project(self, req: Request) -> str:
        dept = req.tags.get(DEPARTMENT_TAG) or _department(req.address)
        name = req.properties.get("name", req.name)
        for v in self._vpcs(**{"tag:Name": name}):
            if (_tags(v).get(DEPARTMENT_TAG) or _department(_tags(v).get(ADDRESS_TAG, ""))) == dept:
                raise Conflict(f"project {name!r} already exists in department {dept} "
                               f"(VPC {_t(v, 'vpcId')})")
        cidr = req.properties.get("cidr")
        if not cidr:
            raise DriverError(f"project {name}: on an EC2-compatible target a project is a VPC and "
                              "needs its address block (property cidr): set layout = \"vpc\" on "
                              "the target and run `govcloud compile`")
        tags = self._tags_for(req, **{DESCRIPTION_TAG: req.properties.get("description", "")})
        body = self.req("CreateVpc", CidrBlock=cidr, **_tagspec("vpc", tags))
        return _t(body, "vpc/vpcId")

    def _create_network(self, req: Request) -> str:
        vpc = req.refs["project"]
        body = self.req("CreateRouteTable", VpcId=vpc, **_tagspec("route-table", self._tags_for(req)))
        return _t(body, "routeTable/routeTableId")

    def _create_subnet(self, req: Request) -> str:
        rt = self._route_table(req.refs["network"])
        vpc = _t(rt, "vpcId")
        cidr = req.properties["cidr"]
        gw = req.properties.get("gateway_ip")
        if gw and gw != _first_host(cidr):
            raise Unsupported(f"subnet {req.name}: EC2's gateway is always the first host "
                              f"({_first_host(cidr)}), not {gw}")
        tags = self._tags_for(req, **{REF_TAG + "network": req.refs["network"]})
        body = self.req("CreateSubnet", VpcId=vpc, CidrBlock=cidr, AvailabilityZone=self.zone,
                        **_tagspec("subnet", tags))
        sid = _t(body, "subnet/subnetId")
        self.call("AssociateRouteTable", self.ec2.ex_associate_route_table,
                  _Ref(req.refs["network"]), _Ref(sid))
        return sid

    def _create_router(self, req: Request) -> str:
        self._external(req.properties["external_network"])
        vpc = req.refs["project"]
        subnet = self._subnet(req.refs["subnet"])
        self._same_project(vpc, _t(subnet, "vpcId"), "subnet", req.refs["subnet"])
        rts = self.describe("DescribeRouteTables", "routeTableSet/item",
                            **self.filters({"association.subnet-id": req.refs["subnet"]}))
        if not rts:
            raise Conflict(f"subnet {req.refs['subnet']} has no route table (its network)")
        tags = self._tags_for(req, **{EXTERNAL_TAG: req.properties["external_network"],
                                      REF_TAG + "subnet": req.refs["subnet"]})
        body = self.req("CreateInternetGateway", **_tagspec("internet-gateway", tags))
        gid = _t(body, "internetGateway/internetGatewayId")
        self.call("AttachInternetGateway", self.ec2.ex_attach_internet_gateway, _Ref(gid), _Ref(vpc))
        self.call("CreateRoute", self.ec2.ex_create_route, _Ref(_t(rts[0], "routeTableId")),
                  "0.0.0.0/0", internet_gateway=_Ref(gid))
        return gid

    def _create_security_group(self, req: Request) -> str:
        vpc = req.refs["project"]
        desc = req.properties.get("description") or "govcloud"
        body = self.req("CreateSecurityGroup", GroupName=req.properties.get("name", req.name),
                        GroupDescription=desc, VpcId=vpc,
                        **_tagspec("security-group", self._tags_for(req)))
        gid = _t(body, "groupId")
        self._apply_rules(gid, [], req.properties.get("rules", []))
        return gid

    def _apply_rules(self, gid: str, have: list[dict], want: list[dict]) -> None:
        key = lambda r: tuple(sorted((k, str(v)) for k, v in r.items()))  # noqa: E731
        have_k, want_k = {key(r): r for r in have}, {key(r): r for r in want}
        for k in sorted(set(want_k) - set(have_k)):
            self._rule_call("AuthorizeSecurityGroupIngress", gid, want_k[k])
        for k in sorted(set(have_k) - set(want_k)):
            self._rule_call("RevokeSecurityGroupIngress", gid, have_k[k])

    def _rule_call(self, action: str, gid: str, rule: dict) -> None:
        if rule.get("direction", "ingress") != "ingress":
            raise Unsupported(f"security group {gid}: only ingress rules are managed")
        proto = rule["protocol"]
        params = {"GroupId": gid, "IpPermissions.1.IpProtocol": "-1" if proto == "any" else proto,
                  "IpPermissions.1.FromPort": str(rule.get("port_min") or -1),
                  "IpPermissions.1.ToPort": str(rule.get("port_max") or rule.get("port_min") or -1)}
        if rule.get("remote_group"):
            params["IpPermissions.1.Groups.1.GroupId"] = rule["remote_group"]
        else:
            params["IpPermissions.1.IpRanges.1.CidrIp"] = rule["remote_ip_prefix"]
        self.req(action, **params)

    def _create_server(self, req: Request) -> str:
        p = req.properties
        vpc = req.refs["project"]
        rt = self._route_table(req.refs["network"])
        self._same_project(vpc, _t(rt, "vpcId"), "network", req.refs["network"])
        group = self._group(req.refs["security_group"])
        self._same_project(vpc, _t(group, "vpcId"), "security group", req.refs["security_group"])
        subnets = [_t(a, "subnetId") for a in _all(rt, "associationSet/item") if _t(a, "subnetId")]
        if req.refs.get("subnet"):   # the vpc layout names it (orchestrator/layout.py)
            if req.refs["subnet"] not in subnets:
                raise Conflict(f"subnet {req.refs['subnet']} is not on network {req.refs['network']}")
            subnets = [req.refs["subnet"]]
        if not subnets:
            raise TransientError(f"network {req.refs['network']} has no subnet yet")
        itype = self._instance_type(p["flavor"], p["vcpus"], p["ram_gb"])
        ami, root_dev = self._image(p["image"])
        ebs = self._ebs_type(p["system_disk_type"])
        tags = self._tags_for(req, **{FLAVOR_TAG: p["flavor"], "govcloud.vcpus": str(p["vcpus"]),
                                      "govcloud.ram-gb": str(p["ram_gb"]),
                                      REF_TAG + "network": req.refs["network"]})
        root_tags = {OWNER_TAG: tags[OWNER_TAG], ROOT_OF_TAG: req.address,
                     "Name": f"{p.get('name', req.name)}-root", VOLUME_TYPE_TAG: p["system_disk_type"]}
        params = {"ImageId": ami, "MinCount": "1", "MaxCount": "1", "InstanceType": itype,
                  "SubnetId": subnets[0], "SecurityGroupId.1": req.refs["security_group"],
                  "BlockDeviceMapping.1.DeviceName": root_dev,
                  "BlockDeviceMapping.1.Ebs.VolumeSize": str(p["system_disk_gb"]),
                  "BlockDeviceMapping.1.Ebs.VolumeType": ebs,
                  "BlockDeviceMapping.1.Ebs.DeleteOnTermination": "true",
                  **_tagspec("instance", tags, 1), **_tagspec("volume", root_tags, 2)}
        if ebs in _IOPS_TYPES:
            params["BlockDeviceMapping.1.Ebs.Iops"] = str(_IOPS_TYPES[ebs])
        body = self.req("RunInstances", **params)
        iid = _t(body, "instancesSet/item/instanceId")
        state = _t(body, "instancesSet/item/instanceState/name")
        if state in ("terminated", "shutting-down"):
            raise CreateFailed(f"server {req.name} went to state {state}", iid)
        return iid

    def _create_volume(self, req: Request) -> str:
        p = req.properties
        self._vpc(req.refs["project"])
        ebs = self._ebs_type(p["volume_type"])
        tags = self._tags_for(req, **{VOLUME_TYPE_TAG: p["volume_type"],
                                      REF_TAG + "project": req.refs["project"]})
        params = {"Size": str(p["size_gb"]), "AvailabilityZone": self.zone, "VolumeType": ebs,
                  **_tagspec("volume", tags)}
        if ebs in _IOPS_TYPES:
            params["Iops"] = str(_IOPS_TYPES[ebs])
        body = self.req("CreateVolume", **params)
        return _t(body, "volumeId")

    def _create_volume_attachment(self, req: Request) -> str:
        vid, iid = req.refs["volume"], req.refs["server"]
        vol, inst = self._volume(vid), self._instance(iid)
        vtags = _tags(vol)
        self._check_owner(vtags, "volume", vid)
        vpc = vtags.get(REF_TAG + "project")
        if vpc and vpc != _t(inst, "vpcId"):
            self._same_project(_t(inst, "vpcId"), vpc, "volume", vid)
        device = _device_name(req.properties["device_index"])
        if not quirks.check_attach(vol, iid, device):   # attached as asked: only the tag is missing
            self.call("AttachVolume", self.ec2.attach_volume, _Ref(iid), _Ref(vid), device)
        extra = {ATTACHMENT_TAG: req.address}
        extra.update({_ATT_PREFIX + k: req.tags[k] for k in (STACK_TAG, APPROVAL_TAG) if k in req.tags})
        self._set_tags(vid, extra)
        return f"{vid}@{iid}"

    def _create_floating_ip(self, req: Request) -> str:
        self._external(req.properties["external_network"])
        self._vpc(req.refs["project"])
        tags = self._tags_for(req, **{EXTERNAL_TAG: req.properties["external_network"],
                                      BANDWIDTH_TAG: str(req.properties.get("bandwidth_mbps") or ""),
                                      REF_TAG + "project": req.refs["project"]})
        body = self.req("AllocateAddress", Domain="vpc", **_tagspec("elastic-ip", tags))
        return _t(body, "allocationId")

    # --- update / delete -----------------------------------------------------------------------
    def _current(self, current: Observed):
        """The object as the cloud has it now, and its tags (for the ownership check)."""
        kind, cid = current.kind, current.cloud_id
        if kind == "volume_attachment":
            vid, _, iid = cid.partition("@")
            vol = self._volume(vid)
            return vol, _tags(vol)
        el = {"project": self._vpc, "network": self._route_table, "subnet": self._subnet,
              "router": self._gateway, "security_group": self._group, "server": self._instance,
              "volume": self._volume, "floating_ip": self._address}[kind](cid)
        return el, _tags(el)

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        if current.kind not in KINDS:
            raise Unsupported(f"{current.kind}: EC2 has no such object")
        el, tags = self._current(current)
        self._check_owner(tags, current.kind, current.cloud_id)
        p = req.properties
        new_tags: dict[str, str] = {}
        if "name" in fields and current.kind != "security_group":
            new_tags["Name"] = p["name"]
        if current.kind == "project" and "description" in fields:
            new_tags[DESCRIPTION_TAG] = p.get("description", "")
        if current.kind == "security_group":
            if "description" in fields and p.get("description") != _t(el, "groupDescription"):
                raise Conflict(f"security group {current.cloud_id}: EC2 cannot change a group's "
                               "description in place")
            if "rules" in fields:
                self._apply_rules(current.cloud_id, self._rules(el), p.get("rules", []))
        if current.kind == "volume" and "size_gb" in fields:
            have = int(_t(el, "size"))
            if p["size_gb"] < have:
                raise Conflict(f"volume {current.cloud_id}: cannot shrink from {have} GB to "
                               f"{p['size_gb']} GB")
            if p["size_gb"] > have:
                self.call("ModifyVolume", self.ec2.ex_modify_volume, _Ref(current.cloud_id),
                          {"Size": str(p["size_gb"])})
        if current.kind == "floating_ip" and "bandwidth_mbps" in fields:
            new_tags[BANDWIDTH_TAG] = str(p.get("bandwidth_mbps") or "")
        if current.kind == "server" and fields & {"flavor", "vcpus", "ram_gb"}:
            self._resize(current.cloud_id, el, p)
            new_tags.update({FLAVOR_TAG: p["flavor"], "govcloud.vcpus": str(p["vcpus"]),
                             "govcloud.ram-gb": str(p["ram_gb"])})
        self._set_tags(current.cloud_id.partition("@")[0], new_tags)
        found = [o for o in self._observe(current.address or req.address, {current.kind})
                 if o.cloud_id == current.cloud_id]
        if not found:
            raise NotFound(f"{current.kind} {current.cloud_id} vanished during the update")
        return found[0]

    def _resize(self, iid: str, inst, p: dict) -> None:
        itype = self._instance_type(p["flavor"], p["vcpus"], p["ram_gb"])
        if itype == _t(inst, "instanceType"):
            return
        was_running = _t(inst, "instanceState/name") in ("running", "pending")
        node = _Ref(iid)
        if was_running:
            self.call("StopInstances", self.ec2.stop_node, node)
            self._wait(f"server {iid} stopping", lambda: _t(self._instance(iid),
                                                           "instanceState/name") == "stopped")
        self.req("ModifyInstanceAttribute", InstanceId=iid, **{"InstanceType.Value": itype})
        if was_running:
            self.call("StartInstances", self.ec2.start_node, node)

    def delete(self, current: Observed) -> None:
        if current.kind not in KINDS:
            raise Unsupported(f"{current.kind}: EC2 has no such object")
        el, tags = self._current(current)
        self._check_owner(tags, current.kind, current.cloud_id)
        getattr(self, f"_delete_{current.kind}")(current.cloud_id, el)

    def _delete_project(self, vpc: str, el) -> None:
        self.call("DeleteVpc", self.ec2.ex_delete_network, _Ref(vpc))

    def _delete_network(self, rt_id: str, el) -> None:
        subnets = [_t(a, "subnetId") for a in _all(el, "associationSet/item") if _t(a, "subnetId")]
        if subnets:
            raise Conflict(f"network (route table) {rt_id} is in use by subnet {subnets[0]}")
        self.call("DeleteRouteTable", self.ec2.ex_delete_route_table, _Ref(rt_id))

    def _delete_subnet(self, sid: str, el) -> None:
        quirks.refuse_busy_subnet(self, sid)
        routers = self._gateways(**{f"tag:{REF_TAG}subnet": sid})
        if routers:
            raise Conflict(f"subnet {sid} is in use by router {_t(routers[0], 'internetGatewayId')}")
        quirks.drop_subnet_associations(self, sid)
        self.call("DeleteSubnet", self.ec2.ex_delete_subnet, _Ref(sid))

    def _delete_router(self, gid: str, el) -> None:
        vpcs = [_t(a, "vpcId") for a in _all(el, "attachmentSet/item")]
        for vpc in vpcs:
            for rt in self.describe("DescribeRouteTables", "routeTableSet/item",
                                    **self.filters({"vpc-id": vpc})):
                for r in _all(rt, "routeSet/item"):
                    if _t(r, "gatewayId") == gid:
                        self.call("DeleteRoute", self.ec2.ex_delete_route,
                                  _Ref(_t(rt, "routeTableId")), _t(r, "destinationCidrBlock"))
            self.call("DetachInternetGateway", self.ec2.ex_detach_internet_gateway, _Ref(gid),
                      _Ref(vpc))
        self.call("DeleteInternetGateway", self.ec2.ex_delete_internet_gateway, _Ref(gid))

    def _delete_security_group(self, gid: str, el) -> None:
        self.call("DeleteSecurityGroup", self.ec2.ex_delete_security_group_by_id, gid)

    def _delete_server(self, iid: str, el) -> None:
        # EC2 detaches data volumes when it terminates an instance (like Nova's delete); their
        # attachment tags go with them.
        data = [_t(b, "ebs/volumeId") for b in _all(el, "blockDeviceMapping/item")
                if _t(b, "ebs/deleteOnTermination") != "true"]
        self.call("TerminateInstances", self.ec2.destroy_node, _Ref(iid))
        for vid in data:
            try:
                self._untag(vid, _ATT_TAGS)
            except NotFound:
                pass

    def _untag(self, rid: str, keys: Iterable[str]) -> None:
        self.call("DeleteTags", self.ec2.ex_delete_tags, _Ref(rid), {k: None for k in keys})

    def _delete_volume(self, vid: str, el) -> None:
        self.call("DeleteVolume", self.ec2.destroy_volume, _Ref(vid))

    def _delete_volume_attachment(self, cid: str, vol) -> None:
        vid, _, iid = cid.partition("@")
        atts = [a for a in _all(vol, "attachmentSet/item") if _t(a, "instanceId") == iid]
        if not atts:
            raise NotFound(f"volume {vid} is not attached to {iid}")
        self.call("DetachVolume", self.ec2.detach_volume, _Ref(vid, instance_id=iid))
        self._wait(f"volume {vid} detaching", lambda: not [
            a for a in _all(self._volume(vid), "attachmentSet/item")
            if _t(a, "instanceId") == iid and _t(a, "status") != "detached"])
        self._untag(vid, _ATT_TAGS)

    def _delete_floating_ip(self, alloc: str, el) -> None:
        self.req("ReleaseAddress", AllocationId=alloc)

    # --- decommissioning support ------------------------------------------------------------
    def set_power(self, current: Observed, state: str) -> None:
        """Stop ("SHUTOFF") or start ("ACTIVE") a server; idempotent."""
        el, tags = self._current(current)
        self._check_owner(tags, "server", current.cloud_id)
        now = _t(el, "instanceState/name")
        if state == "SHUTOFF" and now not in ("stopped", "stopping"):
            self.call("StopInstances", self.ec2.stop_node, _Ref(current.cloud_id))
        elif state == "ACTIVE" and now in ("stopped", "stopping"):
            self.call("StartInstances", self.ec2.start_node, _Ref(current.cloud_id))


def _rule_key(r: dict) -> tuple:
    return (r["protocol"], r.get("port_min") or 0, r.get("port_max") or 0,
            r.get("remote_ip_prefix") or "", r.get("remote_group") or "")


def _first_host(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr).network_address + 1)


def _department(address: str) -> str:
    parts = address.split(":", 1)[-1].split("/")
    return parts[1] if len(parts) > 1 else ""


def _device_name(index: int) -> str:
    return f"/dev/sd{chr(ord('f') + index - 1)}"


def _device_index(device: str | None) -> int | None:
    if not device:
        return None
    m = re.search(r"(?:sd|xvd)([f-p])$", device)
    return ord(m.group(1)) - ord("f") + 1 if m else None


def _verify(self, desired=(), alternate: dict[str, str] | None = None):
    """See drivers/libcloud/isolation.py (the logic behind `govcloud verify-isolation`)."""
    from .isolation import verify_isolation
    return verify_isolation(self, desired, alternate)


def _isolation_rows(self, desired=(), probe: bool = True) -> list[tuple[str, str, str, str]]:
    """verify_isolation as rows for `govcloud verify-isolation` (check, subject, status, detail).
    Security groups are left to the command's own check; alternate credentials are probed when
    the target names them (``alternate_access_key_env`` / ``alternate_secret_key_env`` /
    ``alternate_session_token_env``)."""
    names = {k[len("alternate_"):]: v for k, v in self.options.items()
             if k in ("alternate_access_key_env", "alternate_secret_key_env",
                      "alternate_session_token_env")}
    rep = self.ex_verify_isolation(desired, names if probe and names else None)
    rows = []
    for check, label in (("routes", "vpc-routes"), ("peerings", "vpc-peerings"),
                         ("placement", "vpc-placement"), ("alternate_credentials",
                                                          "alternate-credentials")):
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

