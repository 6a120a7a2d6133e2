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
chosen by vCPUs and RAM), ``volume_types`` ({govcloud type: EBS type}), ``timeout`` (seconds of
one request), ``poll_seconds`` and ``wait_seconds`` (every wait's interval and bound; schema and
bounds in options.py) and the names of the environment variables holding the credentials: ``access_key_env`` (default
AWS_ACCESS_KEY_ID), ``secret_key_env`` (AWS_SECRET_ACCESS_KEY), ``session_token_env``
(AWS_SESSION_TOKEN). Credentials are read from the environment only: an option that looks like a
credential is refused, and no credential is ever put in an object, a message or a tag.
"""
from __future__ import annotations

from typing import Any

from drivers.base import (OWNER_TAG, Census, Driver, IsolationChecks, NotFound, Observed, PowerControl,
                          Request, Unsupported, assert_owned)
from orchestrator.models.address import kind_of

from . import compute, network, storage
from .census import Ec2Census
from .common import Handler, Listing
from .compute import ComputeKinds
from .connection import Connection
from .ec2xml import tags as tags_of
from .isolation import Ec2IsolationChecks
from .network import NetworkKinds
from .options import LibcloudOptions
from .storage import DEFAULT_VOLUME_TYPES, StorageKinds

# kind -> how it is kept, in the order observe() lists them (parents before their children).
_BY_MODULE = {**network.HANDLERS, **compute.HANDLERS, **storage.HANDLERS}
HANDLERS: dict[str, Handler] = {k: _BY_MODULE[k] for k in (
    "project", "network", "subnet", "router", "security_group", "server", "volume",
    "volume_attachment", "floating_ip")}
if HANDLERS.keys() != _BY_MODULE.keys():   # a kind added to a module but not ordered here
    raise ImportError(f"libcloud driver: kinds without a place in HANDLERS: "
                      f"{sorted(_BY_MODULE.keys() - HANDLERS.keys())}")
KINDS = frozenset(HANDLERS)


class LibcloudDriver(Connection, NetworkKinds, ComputeKinds, StorageKinds, Ec2IsolationChecks,
                     Ec2Census, Driver, PowerControl, IsolationChecks, Census):
    """The Driver contract on an EC2-compatible cloud: each call dispatched to its kind's
    handler (HANDLERS). Capabilities: PowerControl (``set_power``, compute.py),
    IsolationChecks (``isolation_checks``, isolation.py) and Census (``census``, census.py)."""

    name = "libcloud"
    kinds = KINDS
    options_model = LibcloudOptions

    def __init__(self, target, options, workspace_root, owner):
        super().__init__(target, options, workspace_root, owner)
        self._open(options)
        self.region = options.get("region", "us-east-1")
        self.zone = options.get("availability_zone", f"{self.region}a")
        self.external_networks = set(options.get("external_networks", ["internet", "extranet"]))
        self.images: dict[str, str] = dict(options.get("images", {}))
        self.instance_types: dict[str, str] = dict(options.get("instance_types", {}))
        self.volume_types = {**DEFAULT_VOLUME_TYPES, **options.get("volume_types", {})}
        self.poll = float(options.get("poll_seconds", 1.0))
        self.wait_timeout = float(options.get("wait_seconds", 300))   # the bound of every wait
        self._image_names: dict[str, str] = {}
        self._image_roots: dict[str, str] = {}
        self.ec2  # connect now: missing credentials or a bad option fail when the target opens

    # --- reading -------------------------------------------------------------------------------
    def observe(self) -> list[Observed]:
        return self._observe(None, set(KINDS))

    def find(self, address: str) -> Observed | None:
        kind = kind_of(address)
        if kind not in KINDS:
            return None
        found = sorted(self._observe(address, {kind}), key=lambda o: o.cloud_id)
        return found[0] if found else None

    def _observe(self, address: str | None, kinds: set[str]) -> list[Observed]:
        """One tag-filtered listing per object type, shared between kinds (``Listing``)."""
        seen = Listing(address, kinds)
        return [o for kind, handler in HANDLERS.items() if kind in kinds
                for o in handler.observe(self, seen)]

    # --- writes --------------------------------------------------------------------------------
    def create(self, req: Request) -> Observed:
        if req.kind not in KINDS:
            raise Unsupported(f"{req.kind}: EC2 has no such object (this driver declares "
                              f"{', '.join(sorted(KINDS))})")
        cloud_id = HANDLERS[req.kind].create(self, req)
        # Made as asked (each create call fails loudly otherwise, and a server that did not start
        # raises CreateFailed): no read-back, the next observe() reads what the cloud really has.
        return Observed(req.address, req.kind, cloud_id, dict(req.properties), dict(req.refs),
                        {**req.tags, OWNER_TAG: req.tags.get(OWNER_TAG, self.owner)})

    def _owned(self, current: Observed) -> tuple[Handler, Any]:
        """The handler of the object's kind and the object as the cloud has it now; NotOwned
        unless it carries this workspace's ownership tag."""
        handler = HANDLERS.get(current.kind)
        if handler is None:
            raise Unsupported(f"{current.kind}: EC2 has no such object")
        el = handler.get(self, current.cloud_id)
        assert_owned(tags_of(el), self.owner, f"{current.kind} {current.cloud_id}")
        return handler, el

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        handler, el = self._owned(current)
        p = req.properties
        new_tags = {"Name": p["name"]} if "name" in fields and handler.named else {}
        if handler.update is not None:
            new_tags.update(handler.update(self, current.cloud_id, el, p, fields))
        self._set_tags(current.cloud_id.partition("@")[0], new_tags)  # an attachment: its volume
        found = [o for o in self._observe(current.address or req.address, {current.kind})
                 if o.cloud_id == current.cloud_id]
        if not found:
            raise NotFound(f"{current.kind} {current.cloud_id} vanished during the update")
        return found[0]

    def delete(self, current: Observed) -> None:
        handler, el = self._owned(current)
        handler.delete(self, current.cloud_id, el)
