"""OpenStack driver (openstacksdk): Keystone domains/projects, Neutron, Nova, Cinder, quotas.

Isolation: one Keystone domain per department, one project per system and zone; each project
has its own network, subnet and router. A zone's external network is offered to a project only
through a targeted ``access_as_external`` RBAC policy (the operator removes Neutron's wildcard).

Ownership: every object carries this workspace's tags. Where the service has string tags
(Neutron, Keystone projects), tags are ``key=value`` strings with '/' written as '|' (Keystone
forbids '/' in tags); Nova servers carry only the owner tag (Nova tags are at most 60
characters) and the rest as metadata; Cinder volumes carry them as metadata; Keystone domains
have no tags, so their description ends with ``[govcloud:<workspace id>]``.

Refresh is batched: one list per resource type (filtered by the owner tag where the API can),
plus three quota reads per project, never one GET per object. ``api_calls`` counts them.
"""
from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path
from typing import Any, Iterator

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Census, Conflict, CreateFailed, Driver, DriverError,
                          IsolationProbes, MediaAccess, PowerControl, RbacEvidence,
                          NotFound, NotOwned, Observed, QuotaExceeded, Request, TransientError)

QUOTA_MAP = {  # govcloud field -> (service, OpenStack key)
    "cores": ("compute", "cores"), "ram_mb": ("compute", "ram"),
    "instances": ("compute", "instances"), "volumes": ("volume", "volumes"),
    "gigabytes": ("volume", "gigabytes"), "snapshots": ("volume", "snapshots"),
    "floating_ips": ("network", "floating_ips"), "networks": ("network", "networks"),
    "subnets": ("network", "subnets"), "routers": ("network", "routers"),
    "ports": ("network", "ports"), "security_groups": ("network", "security_groups"),
    "security_group_rules": ("network", "security_group_rules"),
}
DOMAIN_MARK = re.compile(r"\s*\[govcloud:(ws-[0-9a-f]{12})\]$")


def enc(key: str, value: str) -> str:
    return f"{key}={value.replace('/', '|')}"


def dec(tags: list[str]) -> dict[str, str]:
    out = {}
    for t in tags or []:
        if t.startswith("govcloud.") and "=" in t:
            k, v = t.split("=", 1)
            out[k] = v.replace("|", "/")
    return out


class OpenStackDriver(Driver, MediaAccess, Census, PowerControl, RbacEvidence, IsolationProbes):
    name = "openstack"
    kinds = frozenset({"domain", "project", "quota", "network", "subnet", "router",
                       "security_group", "server", "volume", "volume_attachment", "floating_ip"})

    def __init__(self, target, options, workspace_root: Path, owner):
        super().__init__(target, options, workspace_root, owner)
        import openstack
        self.cloud = options.get("cloud", "govcloud-admin")
        self.timeout = float(options.get("wait_timeout", 300))
        try:
            self.conn = openstack.connect(cloud=self.cloud)
            self.conn.authorize()
        except Exception as exc:  # keystoneauth / config errors: say which cloud, never secrets
            raise DriverError(f"cannot connect to OpenStack cloud {self.cloud!r} "
                              f"({type(exc).__name__}); check clouds.yaml / OS_CLIENT_CONFIG_FILE "
                              "and that the cloud is up (scripts/openstack/up.sh)") from None
        self.owner_tag = enc(OWNER_TAG, owner)
        # Where the Cinder file backend (NFS share) is visible to govcloud: volumes and their
        # snapshot overlays are files there, which decommissioning wipes and verifies.
        vf = options.get("volume_files")
        self.volume_files = Path(vf) if vf else None
        # Where Glance's file store keeps image data (filesystem_store_datadir): images the
        # department uploaded from its volumes are copies of its data and are wiped the same way.
        imf = options.get("image_files")
        self.image_files = Path(imf) if imf else None
        self._scoped: dict[str, Any] = {}
        self._user_locks: dict[str, threading.Lock] = {}
        self._user_locks_guard = threading.Lock()
        self._ext: dict[str, str] | None = None
        self._admin_role = None

    # --- plumbing ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def _api(self) -> Iterator[None]:
        from openstack import exceptions as ox
        self.api_calls += 1
        try:
            yield
        except ox.NotFoundException as exc:
            raise NotFound(_msg(exc)) from None
        except ox.ConflictException as exc:
            raise Conflict(_msg(exc)) from None
        except ox.ForbiddenException as exc:
            if "quota" in str(exc).lower():
                raise QuotaExceeded(_msg(exc)) from None
            raise DriverError(_msg(exc)) from None
        except ox.HttpException as exc:
            code = getattr(exc, "status_code", None) or 0
            text = _msg(exc)
            if code == 400 and ("must be greater than or equal to" in text
                                or "status must be" in text or "in-use" in text):
                raise Conflict(text) from None
            if code == 413 or "quota" in text.lower() or "exceed" in text.lower():
                raise QuotaExceeded(text) from None
            if code >= 500:
                raise TransientError(text) from None
            raise DriverError(text) from None
        except ox.ResourceTimeout as exc:
            raise DriverError(f"timed out after {self.timeout:g}s: {_msg(exc)}") from None
        except (ConnectionError, TimeoutError) as exc:
            raise TransientError(f"{type(exc).__name__}: {exc}") from None
        except ox.SDKException as exc:
            raise DriverError(_msg(exc)) from None
        except Exception as exc:
            from keystoneauth1 import exceptions as ka
            if isinstance(exc, ka.connection.ConnectFailure):
                raise TransientError(f"cannot reach the cloud: {type(exc).__name__}") from None
            if isinstance(exc, ka.ClientException):
                raise DriverError(f"{type(exc).__name__}: {_msg(exc)}") from None
            raise

    def _ext_nets(self) -> dict[str, str]:
        """name -> id of the operator's provider networks (the zones' external networks).

        Not filtered on router:external: Neutron reports that flag only while a wildcard
        access_as_external policy exists, and the operator removed it (targeted RBAC instead).
        """
        if self._ext is None:
            with self._api():
                self._ext = {n.name: n.id for n in self.conn.network.networks()
                             if n.provider_network_type in ("flat", "vlan")
                             and not any(t.startswith("govcloud.") for t in n.tags or [])}
        return self._ext

    def _ext_id(self, name: str) -> str:
        try:
            return self._ext_nets()[name]
        except KeyError:
            raise NotFound(f"external network {name!r} not found "
                           f"(this cloud has: {', '.join(sorted(self._ext_nets())) or 'none'})")

    def _project_conn(self, project_id: str):
        """A connection scoped to a tenant project (admin holds the admin role there)."""
        conn = self._scoped.get(project_id)
        if conn is None:
            with self._api():
                project = self.conn.identity.get_project(project_id)
            self._grant(project)  # idempotent: also repairs a project adopted after a crash
            with self._api():
                conn = self.conn.connect_as(project_id=project_id,
                                            project_domain_id=project.domain_id)
            self._scoped[project_id] = conn
        return conn

    def _wait(self, get, done, what: str, interval: float = 1.0):
        """Poll until ``done(get())``; bounded by wait_timeout with a message saying what for."""
        deadline = time.monotonic() + self.timeout
        while True:
            with self._api():
                obj = get()
            if done(obj):
                return obj
            if getattr(obj, "status", "") in ("error", "ERROR"):
                raise DriverError(f"{what}: went to status {obj.status}")
            if time.monotonic() >= deadline:
                raise DriverError(f"timed out after {self.timeout:g}s waiting for {what}")
            time.sleep(interval)

    def _tags(self, req: Request) -> list[str]:
        return sorted(enc(k, v) for k, v in req.tags.items())

    def close(self) -> None:
        for c in [self.conn, *self._scoped.values()]:
            with contextlib.suppress(Exception):
                c.close()

    # --- observe ----------------------------------------------------------------------------
    def observe(self) -> list[Observed]:
        out: list[Observed] = []
        c = self.conn
        ext_by_id = {v: k for k, v in self._ext_nets().items()}
        with self._api():
            for d in c.identity.domains():
                m = DOMAIN_MARK.search(d.description or "")
                if m and m.group(1) == self.owner:
                    out.append(self._domain(d))
        with self._api():
            projects = list(c.identity.projects(tags=self.owner_tag))
        net_quotas = None
        if projects:  # Neutron lists every project's quota in one call; Nova and Cinder cannot
            with self._api():
                net_quotas = {q.project_id: q for q in c.network.quotas()}
        for p in projects:
            out.append(self._project(p))
            q = self._quota(p, net_quotas)
            if q is not None:
                out.append(q)
        with self._api():
            out += [self._network(n) for n in c.network.networks(tags=self.owner_tag)]
        with self._api():
            out += [self._subnet(s) for s in c.network.subnets(tags=self.owner_tag)]
        with self._api():
            routers = list(c.network.routers(tags=self.owner_tag))
        with self._api():
            iface = {}
            for port in c.network.ports(device_owner="network:router_interface"):
                for ip in port.fixed_ips or []:
                    iface.setdefault(port.device_id, []).append(ip["subnet_id"])
        out += [self._router(r, ext_by_id, iface) for r in routers]
        with self._api():
            out += [self._secgroup(g) for g in c.network.security_groups(tags=self.owner_tag)]
        with self._api():
            out += [self._fip(f, ext_by_id) for f in c.network.ips(tags=self.owner_tag)]
        with self._api():
            servers = list(c.compute.servers(details=True, all_projects=True, tags=self.owner_tag))
        out += [self._server(s) for s in servers]
        with self._api():
            volumes = [v for v in c.block_storage.volumes(details=True, all_projects=True)
                       if (v.metadata or {}).get(OWNER_TAG) == self.owner]
        for v in volumes:
            out.append(self._volume(v))
            att = self._attachment(v)
            if att is not None:
                out.append(att)
        return [o for o in out if o.address]

    def find(self, address: str) -> Observed | None:
        for o in self.observe_kind(address.split(":", 1)[0]):
            if o.address == address:
                return o
        return None

    def observe_kind(self, kind: str) -> list[Observed]:
        # find() is called before every create: keep it to the one list it needs.
        return [o for o in self.observe() if o.kind == kind] if kind in ("quota", "volume_attachment",
                                                                          "domain", "router") \
            else self._observe_one(kind)

    def _observe_one(self, kind: str) -> list[Observed]:
        c = self.conn
        with self._api():
            if kind == "project":
                return [self._project(p) for p in c.identity.projects(tags=self.owner_tag)]
            if kind == "network":
                return [self._network(n) for n in c.network.networks(tags=self.owner_tag)]
            if kind == "subnet":
                return [self._subnet(s) for s in c.network.subnets(tags=self.owner_tag)]
            if kind == "security_group":
                return [self._secgroup(g) for g in c.network.security_groups(tags=self.owner_tag)]
            if kind == "floating_ip":
                ext = {v: k for k, v in self._ext_nets().items()}
                return [self._fip(f, ext) for f in c.network.ips(tags=self.owner_tag)]
            if kind == "server":
                return [self._server(s) for s in c.compute.servers(details=True, all_projects=True,
                                                                   tags=self.owner_tag)]
            if kind == "volume":
                return [self._volume(v) for v in c.block_storage.volumes(details=True, all_projects=True)
                        if (v.metadata or {}).get(OWNER_TAG) == self.owner]
        return []

    # --- canonical shapes ---------------------------------------------------------------------
    def _domain(self, d) -> Observed:
        desc = DOMAIN_MARK.sub("", d.description or "")
        return Observed(f"domain:{self.target}/{d.name}", "domain", d.id,
                        {"name": d.name, "description": desc}, {},
                        {OWNER_TAG: self.owner, ADDRESS_TAG: f"domain:{self.target}/{d.name}"})

    def _project(self, p) -> Observed:
        tags = dec(p.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), "project", p.id,
                        {"name": p.name, "description": p.description or ""},
                        {"domain": p.domain_id}, tags)

    def _quota(self, p, net_quotas: dict | None = None) -> Observed | None:
        tags = dec(p.tags)
        addr = tags.get(ADDRESS_TAG, "")
        if not addr:
            return None
        try:
            with self._api():
                sets = {"compute": self.conn.compute.get_quota_set(p.id),
                        "volume": self.conn.block_storage.get_quota_set(p.id)}
            self.api_calls += 1
            if net_quotas is not None and p.id in net_quotas:
                sets["network"] = net_quotas[p.id]
            else:
                with self._api():
                    sets["network"] = self.conn.network.get_quota(p.id)
        except DriverError:
            # e.g. a project in a disabled domain: services refuse to read its quota. The
            # project itself is still observed (and can be deleted); its quota is unknown.
            return None
        props = {f: int(_get(sets[svc], key)) for f, (svc, key) in QUOTA_MAP.items()}
        qaddr = "quota:" + addr.split(":", 1)[1] + "/quota"
        return Observed(qaddr, "quota", f"{p.id}/quota", props, {"project": p.id},
                        {**tags, ADDRESS_TAG: qaddr})

    def _network(self, n) -> Observed:
        tags = dec(n.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), "network", n.id, {"name": n.name},
                        {"project": n.project_id}, tags)

    def _subnet(self, s) -> Observed:
        tags = dec(s.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), "subnet", s.id,
                        {"name": s.name, "cidr": s.cidr, "gateway_ip": s.gateway_ip},
                        {"network": s.network_id}, tags)

    def _router(self, r, ext_by_id, iface) -> Observed:
        tags = dec(r.tags)
        gw = (r.external_gateway_info or {}).get("network_id")
        subnets = iface.get(r.id, [])
        return Observed(tags.get(ADDRESS_TAG, ""), "router", r.id,
                        {"name": r.name, "external_network": ext_by_id.get(gw, gw)},
                        {"project": r.project_id, **({"subnet": subnets[0]} if subnets else {})},
                        {**tags, "_interfaces": ",".join(sorted(subnets))})

    def _secgroup(self, g) -> Observed:
        tags = dec(g.tags)
        rules = sorted(
            ({"direction": "ingress", "protocol": r["protocol"],
              "port_min": r.get("port_range_min"), "port_max": r.get("port_range_max"),
              "remote_ip_prefix": r.get("remote_ip_prefix")}
             for r in g.security_group_rules or [] if r["direction"] == "ingress"),
            key=lambda r: (r["protocol"] or "", r["port_min"] or 0, r["port_max"] or 0,
                           r["remote_ip_prefix"] or ""))
        return Observed(tags.get(ADDRESS_TAG, ""), "security_group", g.id,
                        {"name": g.name, "description": g.description or "", "rules": rules},
                        {"project": g.project_id}, tags)

    def _fip(self, f, ext_by_id) -> Observed:
        tags = dec(f.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), "floating_ip", f.id,
                        {"external_network": ext_by_id.get(f.floating_network_id, f.floating_network_id),
                         "bandwidth_mbps": int(tags.get("govcloud.bandwidth_mbps", 0))},
                        {"project": f.project_id}, tags)

    def _server(self, s) -> Observed:
        md = dict(s.metadata or {})
        tags = {k: v for k, v in md.items() if k.startswith("govcloud.")}
        flavor = s.flavor or {}
        status = {"ACTIVE": "ACTIVE", "SHUTOFF": "SHUTOFF", "ERROR": "ERROR"}.get(s.status, s.status)
        return Observed(md.get(ADDRESS_TAG, ""), "server", s.id, {
            "name": s.name, "flavor": flavor.get("original_name") or flavor.get("name"),
            "vcpus": flavor.get("vcpus"), "ram_gb": (flavor.get("ram") or 0) // 1024,
            "image": md.get("govcloud.image"), "system_disk_gb": int(md.get("govcloud.system_disk_gb", 0)),
            "system_disk_type": md.get("govcloud.system_disk_type")},
            {"project": s.project_id, "network": md.get("govcloud.network_id"),
             "security_group": md.get("govcloud.security_group_id")}, tags, status)

    def _volume(self, v) -> Observed:
        md = dict(v.metadata or {})
        tags = {k: val for k, val in md.items() if k.startswith("govcloud.") and
                not k.startswith("govcloud.attachment")}
        status = "ERROR" if v.status == "error" else "ACTIVE"
        return Observed(md.get(ADDRESS_TAG, ""), "volume", v.id,
                        {"name": v.name, "size_gb": v.size, "volume_type": v.volume_type},
                        {"project": v.project_id}, tags, status)

    def _attachment(self, v) -> Observed | None:
        md = dict(v.metadata or {})
        addr = md.get("govcloud.attachment.address")
        server = next((a.get("server_id") for a in v.attachments or []), None)
        if not addr or not server:
            return None
        return Observed(addr, "volume_attachment", f"{server}/{v.id}",
                        {"device_index": int(md.get("govcloud.attachment.device_index", 0))},
                        {"server": server, "volume": v.id},
                        {OWNER_TAG: self.owner, ADDRESS_TAG: addr})

    # --- media and census (decommissioning) -------------------------------------------------
    def media(self, current: Observed) -> list | None:
        """The files that hold an object's data: a volume's backing file (and its snapshot
        overlays), a server's boot volume, and for a project the Glance images it owns (uploaded
        from its volumes). None when the data exists but govcloud has no access to the backend
        that holds it (options volume_files / image_files)."""
        if current.kind == "project":
            return self._image_media(current)
        if current.kind not in ("volume", "server"):
            return []
        if self.volume_files is None:
            return None
        if current.kind == "volume":
            ids = [(current.cloud_id, "volume")]
        else:
            with self._api():
                server = self.conn.compute.get_server(current.cloud_id)
            ours = {o.cloud_id for o in self._observe_one("volume")}
            ids = [(_field(v, "id"), "root-disk") for v in server.attached_volumes or []
                   if _field(v, "id") not in ours]
        from drivers.media import Medium
        media = []
        for vid, kind in ids:
            for path in sorted(self.volume_files.glob(f"volume-{vid}*")):
                if path.suffix == ".info":  # the NFS driver's snapshot bookkeeping, no data
                    continue
                media.append(Medium(vid if path.name == f"volume-{vid}" else path.name.split(".", 1)[1],
                                    kind if path.name == f"volume-{vid}" else "snapshot",
                                    path, current.address, path.stat().st_size))
        return media

    def _project_images(self, project_id: str) -> list:
        with self._api():
            return [i for i in self.conn.image.images(owner=project_id) if i.owner == project_id]

    def _image_media(self, project: Observed) -> list | None:
        from drivers.media import Medium
        images = self._project_images(project.cloud_id)
        if not images:
            return []
        if self.image_files is None:
            return None
        media = []
        for img in sorted(images, key=lambda i: i.id):
            path = self.image_files / img.id
            if path.exists():  # an image still queued/uploading has no data in the store yet
                media.append(Medium(img.id, "image", path, project.address, path.stat().st_size))
        return media

    def reclaim_media(self, paths: list[str]) -> list[str]:
        """Backing files Cinder left behind after deleting their volume (a snapshot overlay that
        was wiped can no longer be merged, so the base file stays). Only files of volumes that
        Cinder no longer knows are removed; the caller passes media already wiped and verified."""
        removed = []
        for raw in paths:
            path = Path(raw)
            if self.volume_files is None or path.parent != self.volume_files or not path.exists():
                continue
            vid = path.name[len("volume-"):].split(".", 1)[0]
            with self._api():
                alive = self.conn.block_storage.find_volume(vid, all_projects=True)
            if alive is None:
                path.unlink()
                removed.append(path.name)
        return removed

    def census(self, stack: str, ids: list[str]) -> list[Observed]:
        """Everything in Keystone, Nova, Cinder, Glance and Neutron that carries the stack's tag,
        refers to its volumes or belongs to its projects (``ids``: the cloud ids of its objects
        and media), plus backing files still on the Cinder share or in the Glance store."""
        c, wanted, out = self.conn, set(ids), []
        tag = enc("govcloud.stack", stack)
        with self._api():
            out += [self._project(p) for p in c.identity.projects(tags=tag)]
        for lister in (c.network.networks, c.network.subnets, c.network.routers,
                       c.network.security_groups, c.network.ips, c.network.ports):
            with self._api():
                out += [Observed(dec(x.tags).get(ADDRESS_TAG, ""), type(x).__name__.lower(), x.id,
                                 {}, {}, dec(x.tags)) for x in lister(tags=tag)]
        with self._api():
            out += [self._server(x) for x in c.compute.servers(details=True, all_projects=True)
                    if (x.metadata or {}).get("govcloud.stack") == stack]
        with self._api():
            out += [self._volume(v) for v in c.block_storage.volumes(details=True, all_projects=True)
                    if v.id in wanted or (v.metadata or {}).get("govcloud.stack") == stack]
        with self._api():
            out += [Observed("", "snapshot", x.id, {"volume": x.volume_id}, {}, {})
                    for x in c.block_storage.snapshots(details=True, all_projects=True)
                    if x.volume_id in wanted]
        with self._api():
            out += [Observed("", "image", i.id, {"owner": i.owner, "name": i.name}, {}, {})
                    for i in c.image.images() if i.id in wanted or i.owner in wanted]
        if self.volume_files is not None:
            out += [Observed("", "volume-file", p.name, {"path": str(p)}, {}, {})
                    for v in wanted for p in self.volume_files.glob(f"volume-{v}*")
                    if p.suffix != ".info" or p.exists()]
        if self.image_files is not None:
            out += [Observed("", "image-file", v, {"path": str(self.image_files / v)}, {}, {})
                    for v in wanted if (self.image_files / v).is_file()]
        return out

    # --- isolation evidence (verify-isolation) ----------------------------------------------
    def isolation_facts(self) -> dict[str, Any]:
        """RBAC grants of the external networks and every share of a network."""
        ext_by_id = {v: k for k, v in self._ext_nets().items()}
        grants, shared = [], []
        with self._api():
            policies = list(self.conn.network.rbac_policies(object_type="network"))
        for pol in policies:
            if pol.action == "access_as_external" and pol.object_id in ext_by_id:
                grants.append({"network": ext_by_id[pol.object_id],
                               "target_project": pol.target_project_id})
            elif pol.action == "access_as_shared":
                shared.append((pol.object_id, pol.target_project_id))
        with self._api():
            for n in self.conn.network.networks(tags=self.owner_tag):
                if n.is_shared:
                    shared.append((n.id, "* (shared flag)"))
        return {"external_grants": grants, "shared": shared}

    def probes(self, project_ids: list[str]) -> "_Probes":
        return _Probes(self, project_ids)

    def ports_of(self, project_id: str) -> list[Observed]:
        with self._api():
            ports = list(self.conn.network.ports(project_id=project_id))
        return [Observed(f"port:{p.id}", "port", p.id, {}, {}, {}) for p in ports]

    def probe_visibility(self, conn, objects: list[Observed]) -> list[tuple[Observed, bool]]:
        from openstack import exceptions as ox
        getters = {"server": conn.compute.get_server, "volume": conn.block_storage.get_volume,
                   "network": conn.network.get_network,
                   "security_group": conn.network.get_security_group, "port": conn.network.get_port}
        out = []
        for o in objects:
            self.api_calls += 1
            try:
                getters[o.kind](o.cloud_id)
                out.append((o, True))
            except (ox.NotFoundException, ox.ForbiddenException):
                out.append((o, False))
        return out

    # --- writes -------------------------------------------------------------------------------
    def create(self, req: Request) -> Observed:
        return getattr(self, f"_create_{req.kind}")(req)

    def update(self, current: Observed, req: Request, fields: set[str]) -> Observed:
        self._check_owned(current)
        return getattr(self, f"_update_{current.kind}")(current, req, fields)

    def delete(self, current: Observed) -> None:
        self._check_owned(current)
        getattr(self, f"_delete_{current.kind}")(current)

    def _check_owned(self, current: Observed) -> None:
        live = self._live(current)
        if live is None:
            raise NotFound(f"{current.kind} {current.cloud_id} not found")
        if live.tags.get(OWNER_TAG) != self.owner:
            raise NotOwned(f"{current.kind} {current.cloud_id} does not carry this workspace's "
                           f"ownership tag ({OWNER_TAG}={self.owner}); govcloud leaves it alone")

    def _live(self, current: Observed) -> Observed | None:
        """Re-read one object to check its tags before changing it."""
        c, k, i = self.conn, current.kind, current.cloud_id
        try:
            with self._api():
                if k == "domain":
                    return self._domain(c.identity.get_domain(i))
                if k == "project":
                    return self._project(c.identity.get_project(i))
                if k == "quota":
                    return self._project(c.identity.get_project(i.split("/")[0]))
                if k == "network":
                    return self._network(c.network.get_network(i))
                if k == "subnet":
                    return self._subnet(c.network.get_subnet(i))
                if k == "router":
                    return self._router(c.network.get_router(i), {}, {})
                if k == "security_group":
                    return self._secgroup(c.network.get_security_group(i))
                if k == "floating_ip":
                    return self._fip(c.network.get_ip(i), {})
                if k == "server":
                    return self._server(c.compute.get_server(i))
                if k == "volume":
                    return self._volume(c.block_storage.get_volume(i))
                if k == "volume_attachment":
                    v = c.block_storage.get_volume(i.split("/")[1])
                    return Observed("", k, i, {}, {}, {OWNER_TAG: (v.metadata or {}).get(OWNER_TAG, "")})
        except NotFound:
            return None
        return None

    # domain
    def _create_domain(self, req):
        with self._api():
            d = self.conn.identity.create_domain(
                name=req.name, description=f"{req.properties['description']} [govcloud:{self.owner}]")
        return self._domain(d)

    def _update_domain(self, cur, req, fields):
        with self._api():
            d = self.conn.identity.update_domain(
                cur.cloud_id, description=f"{req.properties['description']} [govcloud:{self.owner}]")
        return self._domain(d)

    def _delete_domain(self, cur):
        with self._api():
            self.conn.identity.update_domain(cur.cloud_id, is_enabled=False)
        with self._api():
            self.conn.identity.delete_domain(cur.cloud_id)

    # project (+ admin role for the service identity, + a department user with member role)
    def _create_project(self, req):
        c = self.conn
        with self._api():
            p = c.identity.create_project(name=req.name, domain_id=req.refs["domain"],
                                          description=req.properties["description"],
                                          tags=self._tags(req))
        self._grant(p)
        return self._project(p)

    def _grant(self, p) -> None:
        c = self.conn
        with self._api():
            admin = c.identity.find_role("admin")
            member = c.identity.find_role("member")
            me = c.identity.get_user(c.current_user_id)
            c.identity.assign_project_role_to_user(p, me, admin)
        dept_user = f"{p.name.rsplit('-', 1)[0]}-ops"
        with self._api():
            user = c.identity.find_user(dept_user, domain_id=p.domain_id)
        if user is None:
            try:
                with self._api():
                    user = c.identity.create_user(
                        name=dept_user, domain_id=p.domain_id,
                        description=f"govcloud department operator [{self.owner}]")
            except Conflict:  # the system's other zone made it at the same moment
                with self._api():
                    user = c.identity.find_user(dept_user, domain_id=p.domain_id,
                                                ignore_missing=False)
        with self._api():
            c.identity.assign_project_role_to_user(p, user, member)
        self._app_credential(p, user, member)

    def _app_credential(self, p, user, member) -> None:
        """One application credential per project for the department, written once to
        .govcloud/credentials/<domain>__<project>.json (0600): never to state, plans or logs."""
        import json
        import os
        import secrets

        import openstack
        path = self.workspace_root / ".govcloud" / "credentials" / f"{p.domain_id}__{p.name}.json"
        if path.exists():
            return
        # Both zone projects of a system share the department user: one password at a time.
        with self._user_locks_guard:
            lock = self._user_locks.setdefault(user.id, threading.Lock())
        with lock:
            self._issue_app_credential(p, user, member, path)

    def _issue_app_credential(self, p, user, member, path: Path) -> None:
        import json
        import os
        import secrets

        import openstack
        password = secrets.token_urlsafe(24)
        with self._api():  # a fresh password, known only for the next call
            self.conn.identity.update_user(user, password=password)
        # Keystone revokes the user's tokens on a password change with one-second precision: a
        # token issued in that same second is refused (HTTP 401). Authenticate a moment later.
        for attempt in range(5):
            time.sleep(1.1)
            try:
                with self._api():
                    as_user = openstack.connect(auth_url=self.conn.config.auth["auth_url"],
                                                username=user.name, password=password,
                                                user_domain_id=p.domain_id, project_id=p.id,
                                                region_name=self.conn.config.region_name)
                    as_user.authorize()
                break
            except DriverError:
                if attempt == 4:
                    raise
        with self._api():
            name = f"govcloud-{p.name}"
            for old in as_user.identity.application_credentials(user=as_user.current_user_id):
                if old.name == name:  # its secret is lost with the file: issue a new one
                    as_user.identity.delete_application_credential(as_user.current_user_id, old)
            cred = as_user.identity.create_application_credential(
                as_user.current_user_id, name=name, roles=[{"id": member.id}],
                description=f"department access to {p.name} [{self.owner}]")
            as_user.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"auth_type": "v3applicationcredential",
                       "auth": {"auth_url": self.conn.config.auth["auth_url"],
                                "application_credential_id": cred.id,
                                "application_credential_secret": cred.secret},
                       "project_id": p.id, "project_name": p.name,
                       "region_name": self.conn.config.region_name}, f, indent=1)

    def _update_project(self, cur, req, fields):
        with self._api():
            p = self.conn.identity.update_project(cur.cloud_id, description=req.properties["description"])
        return self._project(p)

    def _delete_project(self, cur):
        c = self.conn
        # Images the project owns (uploaded from its volumes) go with it, or Glance keeps them
        # under an owner that no longer exists; their data was wiped with the project's media
        # when a sanitizer ran before this delete.
        for img in self._project_images(cur.cloud_id):
            with self._api():
                if img.is_protected:  # the project is going: its images cannot stay protected
                    c.image.update_image(img, is_protected=False)
                c.image.delete_image(img, ignore_missing=True)
        with self._api():
            for rbac in c.network.rbac_policies(target_project_id=cur.cloud_id):
                c.network.delete_rbac_policy(rbac)
        with self._api():
            c.identity.delete_project(cur.cloud_id)
        self._scoped.pop(cur.cloud_id, None)

    # quota
    def _set_quota(self, project_id: str, props: dict[str, int]) -> None:
        per = {"compute": {}, "volume": {}, "network": {}}
        for f, (svc, key) in QUOTA_MAP.items():
            if f in props:
                per[svc][key] = props[f]
        if per["compute"]:
            with self._api():
                self.conn.compute.update_quota_set(project_id, **per["compute"])
        if per["volume"]:
            with self._api():
                self.conn.block_storage.update_quota_set(project_id, **per["volume"])
        if per["network"]:
            with self._api():
                self.conn.network.update_quota(project_id, **per["network"])

    def _create_quota(self, req):
        self._set_quota(req.refs["project"], req.properties)
        with self._api():
            p = self.conn.identity.get_project(req.refs["project"])
        return self._quota(p)

    def _update_quota(self, cur, req, fields):
        project_id = cur.cloud_id.split("/")[0]
        try:
            self._set_quota(project_id, {f: req.properties[f] for f in fields})
        except Conflict as exc:
            raise Conflict(f"quota below current usage: {exc}") from None
        with self._api():
            p = self.conn.identity.get_project(project_id)
        return self._quota(p)

    def _delete_quota(self, cur):
        project_id = cur.cloud_id.split("/")[0]
        for fn in (self.conn.compute.revert_quota_set, self.conn.block_storage.revert_quota_set,
                   self.conn.network.delete_quota):
            with self._api():
                fn(project_id)

    # network, subnet
    def _create_network(self, req):
        with self._api():
            n = self.conn.network.create_network(name=req.properties["name"],
                                                 project_id=req.refs["project"])
            self.conn.network.set_tags(n, self._tags(req))
            n = self.conn.network.get_network(n.id)
        return self._network(n)

    def _update_network(self, cur, req, fields):
        with self._api():
            n = self.conn.network.update_network(cur.cloud_id, name=req.properties["name"])
        return self._network(n)

    def _delete_network(self, cur):
        with self._api():
            self.conn.network.delete_network(cur.cloud_id, ignore_missing=False)

    def _create_subnet(self, req):
        with self._api():
            net = self.conn.network.get_network(req.refs["network"])
            s = self.conn.network.create_subnet(
                network_id=net.id, project_id=net.project_id, name=req.properties["name"],
                cidr=req.properties["cidr"], gateway_ip=req.properties["gateway_ip"], ip_version=4)
            self.conn.network.set_tags(s, self._tags(req))
            s = self.conn.network.get_subnet(s.id)
        return self._subnet(s)

    def _update_subnet(self, cur, req, fields):
        with self._api():
            s = self.conn.network.update_subnet(cur.cloud_id, name=req.properties["name"])
        return self._subnet(s)

    def _delete_subnet(self, cur):
        # Nova releases a deleted server's port a moment after the server is gone, and Neutron
        # refuses the subnet until then ("One or more ports have an IP allocation").
        def ports():
            return [p for p in self.conn.network.ports(fixed_ips=f"subnet_id={cur.cloud_id}")
                    if (p.device_owner or "").startswith(("compute:", "network:router_interface"))
                    or not p.device_owner]
        deadline = time.monotonic() + min(self.timeout, 120)
        while True:
            with self._api():
                left = ports()
            if not left or time.monotonic() >= deadline:
                break
            time.sleep(2)
        with self._api():
            self.conn.network.delete_subnet(cur.cloud_id, ignore_missing=False)

    # router: gateway to the zone's external network only, through a targeted RBAC policy
    def _ensure_rbac(self, ext_id: str, project_id: str) -> None:
        with self._api():
            have = list(self.conn.network.rbac_policies(object_id=ext_id, action="access_as_external",
                                                        target_project_id=project_id))
        if not have:
            try:
                with self._api():
                    self.conn.network.create_rbac_policy(object_type="network", object_id=ext_id,
                                                         action="access_as_external",
                                                         target_project_id=project_id)
            except (Conflict, QuotaExceeded) as exc:
                if "rbac_policy" not in str(exc):
                    raise
                # The grants are owned by govcloud's own project, whose Neutron quota allows 10
                # RBAC policies by default: one per tenant project is needed.
                raise DriverError(
                    f"{exc} — the access_as_external grants count against govcloud's own project "
                    f"({self.conn.current_project_id}); raise its limit once: `openstack quota set "
                    f"--rbac-policies -1 {self.conn.current_project_id}` "
                    f"(scripts/openstack/bootstrap.py does this on the test cloud)") from None

    def _create_router(self, req):
        ext = self._ext_id(req.properties["external_network"])
        project = req.refs["project"]
        with self._api():
            sub = self.conn.network.get_subnet(req.refs["subnet"])
        if sub.project_id != project:
            raise Conflict(f"subnet {sub.id} belongs to another project: a router may only "
                           "connect its own project's subnet")
        self._ensure_rbac(ext, project)
        with self._api():
            r = self.conn.network.create_router(name=req.properties["name"], project_id=project,
                                                external_gateway_info={"network_id": ext})
            self.conn.network.set_tags(r, self._tags(req))
        with self._api():
            self.conn.network.add_interface_to_router(r, subnet=sub.id)
        with self._api():
            r = self.conn.network.get_router(r.id)
        return self._router(r, {ext: req.properties["external_network"]}, {r.id: [sub.id]})

    def _update_router(self, cur, req, fields):
        with self._api():
            r = self.conn.network.update_router(cur.cloud_id, name=req.properties["name"])
        return self._router(r, {v: k for k, v in self._ext_nets().items()}, {})

    def _delete_router(self, cur):
        c = self.conn
        with self._api():
            ports = list(c.network.ports(device_id=cur.cloud_id, device_owner="network:router_interface"))
        for port in ports:
            for ip in port.fixed_ips or []:
                with self._api():
                    c.network.remove_interface_from_router(cur.cloud_id, subnet=ip["subnet_id"])
        with self._api():
            c.network.delete_router(cur.cloud_id, ignore_missing=False)

    # security group: inbound denied except the approved rules
    def _create_security_group(self, req):
        with self._api():
            g = self.conn.network.create_security_group(
                name=req.properties["name"], description=req.properties.get("description", ""),
                project_id=req.refs["project"])
            self.conn.network.set_tags(g, self._tags(req))
        self._sync_rules(g.id, req.refs["project"], [], req.properties["rules"])
        with self._api():
            g = self.conn.network.get_security_group(g.id)
        return self._secgroup(g)

    def _sync_rules(self, group_id: str, project_id: str, have: list[dict], want: list[dict]) -> None:
        key = lambda r: (r["protocol"], r["port_min"], r["port_max"], r["remote_ip_prefix"])  # noqa
        want_keys = {key(r) for r in want}
        with self._api():
            live = [r for r in self.conn.network.security_group_rules(security_group_id=group_id)
                    if r.direction == "ingress"]
        for r in live:
            if (r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix) not in want_keys:
                with self._api():
                    self.conn.network.delete_security_group_rule(r)
        live_keys = {(r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix) for r in live}
        for r in want:
            if key(r) in live_keys:
                continue
            with self._api():
                self.conn.network.create_security_group_rule(
                    security_group_id=group_id, project_id=project_id, direction="ingress",
                    ethertype="IPv4", protocol=r["protocol"], port_range_min=r["port_min"],
                    port_range_max=r["port_max"], remote_ip_prefix=r["remote_ip_prefix"])

    def _update_security_group(self, cur, req, fields):
        if "rules" in fields:
            self._sync_rules(cur.cloud_id, cur.refs.get("project", ""), cur.properties.get("rules", []),
                             req.properties["rules"])
        if "description" in fields:
            with self._api():
                self.conn.network.update_security_group(cur.cloud_id,
                                                        description=req.properties["description"])
        with self._api():
            return self._secgroup(self.conn.network.get_security_group(cur.cloud_id))

    def _delete_security_group(self, cur):
        with self._api():
            self.conn.network.delete_security_group(cur.cloud_id, ignore_missing=False)

    # floating IP
    def _create_floating_ip(self, req):
        ext = self._ext_id(req.properties["external_network"])
        self._ensure_rbac(ext, req.refs["project"])
        tags = self._tags(req) + [enc("govcloud.bandwidth_mbps", str(req.properties["bandwidth_mbps"]))]
        with self._api():
            f = self.conn.network.create_ip(floating_network_id=ext, project_id=req.refs["project"])
            self.conn.network.set_tags(f, sorted(tags))
            f = self.conn.network.get_ip(f.id)
        return self._fip(f, {ext: req.properties["external_network"]})

    def _update_floating_ip(self, cur, req, fields):
        with self._api():
            f = self.conn.network.get_ip(cur.cloud_id)
            tags = [t for t in f.tags if not t.startswith("govcloud.bandwidth_mbps=")]
            self.conn.network.set_tags(f, sorted(tags + [enc("govcloud.bandwidth_mbps",
                                                             str(req.properties["bandwidth_mbps"]))]))
            f = self.conn.network.get_ip(cur.cloud_id)
        return self._fip(f, {v: k for k, v in self._ext_nets().items()})

    def _delete_floating_ip(self, cur):
        with self._api():
            self.conn.network.delete_ip(cur.cloud_id, ignore_missing=False)

    # server: boots from a volume of the approved system-disk size
    def _create_server(self, req):
        p = req.properties
        pc = self._project_conn(req.refs["project"])
        with self._api():
            flavor = self.conn.compute.find_flavor(p["flavor"], ignore_missing=False)
            image = self.conn.image.find_image(p["image"], ignore_missing=False)
            group = self.conn.network.get_security_group(req.refs["security_group"])
        md = {**{k: v for k, v in req.tags.items()}, "govcloud.image": p["image"],
              "govcloud.system_disk_gb": str(p["system_disk_gb"]),
              "govcloud.system_disk_type": p["system_disk_type"],
              "govcloud.network_id": req.refs["network"],
              "govcloud.security_group_id": req.refs["security_group"]}
        with self._api():
            s = pc.compute.create_server(
                name=req.name, flavor_id=flavor.id, networks=[{"uuid": req.refs["network"]}],
                security_groups=[{"name": group.name}], metadata=md, tags=[self.owner_tag],
                block_device_mapping=[{"boot_index": 0, "uuid": image.id, "source_type": "image",
                                       "destination_type": "volume", "volume_size": p["system_disk_gb"],
                                       "volume_type": p["system_disk_type"],
                                       "delete_on_termination": True}])
        try:
            with self._api():
                s = self.conn.compute.wait_for_server(s, status="ACTIVE", failures=["ERROR"],
                                                      wait=self.timeout)
        except DriverError as exc:
            raise CreateFailed(f"server {req.name} did not become ACTIVE: {exc}", s.id) from None
        return self._server(s)

    def _update_server(self, cur, req, fields):
        if fields & {"flavor", "vcpus", "ram_gb"}:
            with self._api():
                flavor = self.conn.compute.find_flavor(req.properties["flavor"], ignore_missing=False)
                self.conn.compute.resize_server(cur.cloud_id, flavor.id)
                s = self.conn.compute.wait_for_server(self.conn.compute.get_server(cur.cloud_id),
                                                      status="VERIFY_RESIZE", failures=["ERROR"],
                                                      wait=self.timeout)
                self.conn.compute.confirm_server_resize(s)
                s = self.conn.compute.wait_for_server(s, status="ACTIVE", failures=["ERROR"],
                                                      wait=self.timeout)
        with self._api():
            return self._server(self.conn.compute.get_server(cur.cloud_id))

    def _delete_server(self, cur):
        with self._api():
            s = self.conn.compute.get_server(cur.cloud_id)
        boot = [_field(v, "id") for v in s.attached_volumes or [] if _field(v, "delete_on_termination")]
        with self._api():
            self.conn.compute.delete_server(cur.cloud_id, ignore_missing=False)
        with self._api():
            self.conn.compute.wait_for_delete(s, wait=self.timeout)
        for vid in boot:  # Cinder deletes the boot volume after the server: wait for it too
            with self._api():
                v = self.conn.block_storage.find_volume(vid, all_projects=True)
            if v is not None:
                with self._api():
                    self.conn.block_storage.wait_for_delete(v, wait=self.timeout)

    def set_power(self, current: Observed, state: str) -> None:
        with self._api():
            if state == "SHUTOFF":
                self.conn.compute.stop_server(current.cloud_id)
            else:
                self.conn.compute.start_server(current.cloud_id)
            s = self.conn.compute.get_server(current.cloud_id)
            self.conn.compute.wait_for_server(s, status=state, failures=["ERROR"], wait=self.timeout)

    # volume and attachment
    def _create_volume(self, req):
        pc = self._project_conn(req.refs["project"])
        with self._api():
            v = pc.block_storage.create_volume(size=req.properties["size_gb"], name=req.name,
                                               volume_type=req.properties["volume_type"],
                                               metadata=dict(req.tags))
        try:
            with self._api():
                v = pc.block_storage.wait_for_status(v, "available", failures=["error"],
                                                     wait=self.timeout)
        except DriverError as exc:
            raise CreateFailed(f"volume {req.name} did not become available: {exc}", v.id) from None
        return self._volume(v)

    def _update_volume(self, cur, req, fields):
        if "size_gb" in fields and req.properties["size_gb"] < cur.properties.get("size_gb", 0):
            raise Conflict(f"volume {cur.cloud_id}: cannot shrink from {cur.properties['size_gb']} "
                           f"GB to {req.properties['size_gb']} GB")
        if "size_gb" in fields:
            with self._api():
                v = self.conn.block_storage.get_volume(cur.cloud_id)
                self.conn.block_storage.extend_volume(v, req.properties["size_gb"])
            self._wait(lambda: self.conn.block_storage.get_volume(cur.cloud_id),
                       lambda v: v.size == req.properties["size_gb"] and v.status in ("available", "in-use"),
                       f"volume {cur.cloud_id} to reach {req.properties['size_gb']} GB")
        with self._api():
            return self._volume(self.conn.block_storage.get_volume(cur.cloud_id))

    def _delete_volume(self, cur):
        # Its snapshots go first (Cinder refuses otherwise); their data was wiped with the
        # volume's media when a sanitizer ran before this delete.
        with self._api():
            snaps = list(self.conn.block_storage.snapshots(volume_id=cur.cloud_id, all_projects=True))
        for snap in snaps:
            with self._api():
                self.conn.block_storage.delete_snapshot(snap)
                self.conn.block_storage.wait_for_delete(snap, wait=self.timeout)
        with self._api():
            v = self.conn.block_storage.get_volume(cur.cloud_id)
        if v.status == "detaching" or (v.status == "in-use" and not v.attachments):
            with self._api():  # a server's deletion is still detaching it
                self.conn.block_storage.wait_for_status(v, "available", failures=["error"],
                                                        wait=self.timeout)
        with self._api():
            self.conn.block_storage.delete_volume(cur.cloud_id, ignore_missing=False)
        with self._api():
            v = self.conn.block_storage.get_volume(cur.cloud_id)
            self.conn.block_storage.wait_for_delete(v, wait=self.timeout)

    def _create_volume_attachment(self, req):
        server, volume = req.refs["server"], req.refs["volume"]
        with self._api():
            v = self.conn.block_storage.get_volume(volume)
        if v.attachments:
            raise Conflict(f"volume {volume} is in-use (already attached)")
        with self._api():
            self.conn.block_storage.set_volume_metadata(v, **{
                "govcloud.attachment.address": req.address,
                "govcloud.attachment.device_index": str(req.properties["device_index"])})
            self.conn.compute.create_volume_attachment(server, volume=volume)
            v = self.conn.block_storage.wait_for_status(v, "in-use", failures=["error"],
                                                        wait=self.timeout)
        return self._attachment(v)

    def _update_volume_attachment(self, cur, req, fields):
        raise Conflict("an attachment cannot change in place")

    def _delete_volume_attachment(self, cur):
        server, volume = cur.cloud_id.split("/")
        with self._api():
            self.conn.compute.delete_volume_attachment(server, volume)
            v = self.conn.block_storage.get_volume(volume)
            self.conn.block_storage.wait_for_status(v, "available", failures=["error"],
                                                    wait=self.timeout)
            self.conn.block_storage.delete_volume_metadata(
                v, keys=["govcloud.attachment.address", "govcloud.attachment.device_index"])


class _Probes:
    """Temporary member users, one per project, for Tempest-style primary/alternate probes."""

    def __init__(self, drv: "OpenStackDriver", project_ids: list[str]):
        self.drv, self.project_ids = drv, project_ids
        self.users: list[Any] = []

    def __enter__(self) -> dict[str, Any]:
        import secrets

        import openstack
        c = self.drv.conn
        auth_url = c.config.auth["auth_url"]
        with self.drv._api():
            member = c.identity.find_role("member")
        conns = {}
        for pid in self.project_ids:
            with self.drv._api():
                project = c.identity.get_project(pid)
                password = secrets.token_urlsafe(24)   # never logged, deleted with the user
                user = c.identity.create_user(name=f"govcloud-probe-{secrets.token_hex(4)}",
                                              domain_id=project.domain_id, password=password,
                                              description="govcloud verify-isolation probe")
                self.users.append(user)
                c.identity.assign_project_role_to_user(project, user, member)
                conns[pid] = openstack.connect(auth_url=auth_url, username=user.name,
                                               password=password, user_domain_id=project.domain_id,
                                               project_id=pid, region_name=c.config.region_name)
        return conns

    def __exit__(self, *exc):
        for user in self.users:
            with contextlib.suppress(Exception):
                self.drv.conn.identity.delete_user(user)
        return False


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)


def _get(obj: Any, key: str) -> Any:
    value = getattr(obj, key, None)
    if isinstance(value, dict):  # network quotas with details
        value = value.get("limit")
    return -1 if value is None else value


def _msg(exc: Exception) -> str:
    text = str(getattr(exc, "details", None) or exc)
    # never echo a request body or auth data back to the user
    return re.sub(r"(password|secret|token)[^,;]*", r"\1=***", text, flags=re.I)[:500]
