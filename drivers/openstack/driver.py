"""OpenStack driver (openstacksdk): Keystone domains/projects, Neutron, Nova, Cinder, quotas.

Isolation: one Keystone domain per department, one project per system and zone; each project
has its own network, subnet and router. A zone's external network is offered to a project only
through a targeted ``access_as_external`` RBAC policy (the operator removes Neutron's wildcard).

Ownership: every object carries this workspace's tags. Where the service has string tags
(Neutron, Keystone projects), tags are ``key=value`` strings with '/' written as '|' (Keystone
forbids '/' in tags); Nova servers carry only the owner tag (Nova tags are at most 60
characters) and the rest as metadata; Cinder volumes carry them as metadata; Keystone domains
have no tags, so their description ends with ``[govcloud:<workspace id>]`` (a released one's
with its note, ``[govcloud.released-from=… govcloud.released-on=…]``).

Refresh is batched: one list per resource type (filtered by the owner tag where the API can),
plus two quota reads per project (Nova, Cinder: no API lists them for all projects; Neutron's
are one list), never one GET per object. ``api_calls`` counts them. ``plan --refresh=auto`` takes
the quotas it will not change from the state (``observe_trusting``) between full checks.

Options (``[targets.NAME]`` in govcloud.toml, schema in options.py): ``cloud``, the clouds.yaml
entry (default ``govcloud-admin``); ``wait_timeout``, seconds for every wait (default 300, at most
3600); ``volume_files``, where the Cinder file/NFS share is visible to govcloud, and
``image_files``, Glance's file store (filesystem_store_datadir): without them decommissioning
cannot reach those media; ``operators``; ``images`` / ``external_networks``, what the cloud
offers, checked by validate when declared.

Layout: this class composes the pieces and dispatches the contract's calls by kind through
``HANDLERS``; each kind's shape, listing and writes live together in its service module
(identity, network, compute, storage); connection.py talks to the cloud and translates its
errors; media.py and isolation.py hold the decommissioning and verify-isolation capabilities;
ownership.py takes objects under management (import), renames them in place (moves) and
releases them (``state rm``), through each kind's tag store (``Kind.retag``).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Mapping

from drivers.base import (OWNER_TAG, Census, ConsoleAccess, Driver, Importing, Inventory,
                          IsolationProbes, MediaAccess, NotFound, Observed, PowerControl,
                          RbacEvidence, Request, Retagging, TrustedReads, assert_owned)
from drivers.openstack.compute import Server, ServerConsole, ServerPower, VolumeAttachment
from drivers.openstack.connection import Connection, connect
from drivers.openstack.identity import DOMAIN_MARK, Domain, Project, Quota  # noqa: F401  (tests)
from drivers.openstack.isolation import IsolationEvidence
from drivers.openstack.inventory import ProjectInventory
from drivers.openstack.kind import Kind, Listing, enc, read_retrying
from drivers.openstack.media import MediaFiles
from drivers.openstack.network import (ExternalNetworks, FloatingIp, Network, Router,
                                       SecurityGroup, Subnet)
from drivers.openstack.options import OpenStackOptions
from drivers.openstack.ownership import OpenStackImport, OpenStackRetagging
from drivers.openstack.storage import Volume
from drivers.openstack.survey import SURVEY_LISTS, OpenStackSurvey
from orchestrator.models.address import kind_of

# In the order observe() lists them (projects before their quotas, volumes before attachments).
HANDLERS: tuple[type[Kind], ...] = (Domain, Project, Quota, Network, Subnet, Router, SecurityGroup,
                                    FloatingIp, Server, Volume, VolumeAttachment)


class OpenStackDriver(Connection, ExternalNetworks, ServerPower, MediaFiles, IsolationEvidence,
                      ProjectInventory, OpenStackImport, OpenStackRetagging, ServerConsole,
                      OpenStackSurvey, Driver, MediaAccess, Census, PowerControl, RbacEvidence,
                      IsolationProbes, Inventory, Importing, Retagging, ConsoleAccess,
                      TrustedReads):
    name = "openstack"
    kinds = frozenset(h.kind for h in HANDLERS)
    options_model = OpenStackOptions

    def __init__(self, target, options, workspace_root: Path, owner):
        super().__init__(target, options, workspace_root, owner)
        # The target's clouds.yaml entry; when it names none, OS_CLOUD (or `govcloud --os-cloud`),
        # as the openstack CLI does; then the test cloud's admin entry.
        self.cloud = options.get("cloud") or os.environ.get("OS_CLOUD") or "govcloud-admin"
        self.timeout = float(options.get("wait_timeout", 300))
        self.conn = connect(self.cloud, float(options.get("api_timeout", 60)))
        self.read_concurrency = int(options.get("read_concurrency", 4))
        self.owner_tag = enc(OWNER_TAG, owner)
        # Where the Cinder file backend (NFS share) is visible to govcloud: volumes and their
        # snapshot overlays are files there, which decommissioning wipes and verifies.
        vf = options.get("volume_files")
        self.volume_files = Path(vf) if vf else None
        # Where Glance's file store keeps image data (filesystem_store_datadir): images the
        # department uploaded from its volumes are copies of its data and are wiped the same way.
        imf = options.get("image_files")
        self.image_files = Path(imf) if imf else None
        self._scoped: dict = {}                # project id -> connection scoped to it
        self._ext: dict[str, str] | None = None  # provider networks, listed once
        self.trusted: Mapping[str, Observed] = {}  # observe_trusting's: cloud id -> from state
        self.trusted_last = 0                      # how many the last observe took from there
        self.handlers: dict[str, Kind] = {h.kind: h(self) for h in HANDLERS}

    # --- the contract -------------------------------------------------------------------------
    def observe(self) -> list[Observed]:
        listing = Listing(self)
        handlers = list(self.handlers.values())
        if self.read_concurrency > 1:
            # every kind's list and the survey's whole-cloud lists at once (read_concurrency);
            # a list two kinds need is fetched once (Listing), the results kept in kind order
            with ThreadPoolExecutor(self.read_concurrency, thread_name_prefix="govcloud-read") as pool:
                lists = [pool.submit(listing, f) for f in SURVEY_LISTS]
                parts = list(pool.map(lambda h: self._observe_kind(h, listing), handlers))
                for f in lists:
                    f.result()
        else:
            parts = [self._observe_kind(h, listing) for h in handlers]
        out = [o for part in parts for o in part]
        out = [o for o in out if o.address]
        # the whole cloud around them (survey.py): the plan's isolation drift, verify-isolation
        self.annotate(out, self.survey(out, listing))
        return out

    def _observe_kind(self, handler: Kind, listing: Listing) -> list[Observed]:
        """One kind's observation retried alone (its lists are cached in ``listing``): the
        whole-observe retry of drivers/base.py has one deadline for all ~15 reads, which a slow,
        loaded cloud used up while a quarter of the calls failed (CI: 3 plans in 5 exit 1)."""
        start = self.trusted_last

        def once() -> list[Observed]:
            self.trusted_last = start      # a retried attempt counts its trusted quotas again
            return handler.observe(listing)
        return read_retrying(once)

    def observe_trusting(self, known: Mapping[str, Observed]) -> list[Observed]:
        self.trusted, self.trusted_last = known, 0
        try:
            return self.observe()
        finally:
            self.trusted = {}

    def find(self, address: str) -> Observed | None:
        # called before every create: only the lists this kind needs
        handler = self.handlers.get(kind_of(address))
        if handler is None:
            return None
        return next((o for o in handler.observe(Listing(self)) if o.address == address), None)

    def create(self, req: Request) -> Observed:
        return self.handlers[req.kind].create(req)

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        self._check_owned(current)
        return self.handlers[current.kind].update(current, req, fields)

    def delete(self, current: Observed) -> None:
        self._check_owned(current)
        self.handlers[current.kind].delete(current)

    def _check_owned(self, current: Observed) -> None:
        live = self._live(current)
        if live is None:
            raise NotFound(f"{current.kind} {current.cloud_id} not found")
        assert_owned(live.tags, self.owner, f"{current.kind} {current.cloud_id}")

    def _live(self, current: Observed) -> Observed | None:
        """Re-read one object to check its tags before changing it (one counted API call)."""
        handler = self.handlers.get(current.kind)
        if handler is None:
            return None
        try:
            with self._api():
                return handler.live(current.cloud_id)
        except NotFound:
            return None
