"""Neutron: networks, subnets, routers, security groups and floating IPs, and the operator's
provider networks (the zones' external networks). A project reaches its zone's external network
only through a targeted ``access_as_external`` RBAC grant, made here before a router gateway or a
floating IP needs it. Neutron objects carry govcloud's tags as ``key=value`` strings.
"""
from __future__ import annotations

import contextlib
import threading
from typing import Any, ClassVar

from drivers.base import (ADDRESS_TAG, Conflict, DriverError, NotFound, Observed, QuotaExceeded,
                          WaitTimeout, wait_for)
from drivers.openstack import repair
from drivers.openstack.kind import Kind, dec, enc, string_tags

BANDWIDTH_TAG = "govcloud.bandwidth_mbps"


# Whole-cloud lists, fetched once per observation (kind.Listing) and shared by the handlers (which
# keep the owned ones) and the survey (survey.py, which needs everyone's): one call each.
def all_ports(d) -> list:
    with d._api():
        return list(d.conn.network.ports())


def all_routers(d) -> list:
    with d._api():
        return list(d.conn.network.routers())


def all_security_groups(d) -> list:
    with d._api():
        return list(d.conn.network.security_groups())


_EXT_LOCK = threading.RLock()


def all_ips(d) -> list:
    with d._api():
        return list(d.conn.network.ips())


class ExternalNetworks:
    """The driver's view of the provider networks, and the RBAC grants that open them."""

    conn: Any
    _ext: dict[str, str] | None

    def _ext_nets(self) -> dict[str, str]:
        """name -> id of the operator's provider networks (the zones' external networks).

        Not filtered on router:external: Neutron reports that flag only while a wildcard
        access_as_external policy exists, and the operator removed it (targeted RBAC instead).
        """
        with _EXT_LOCK:          # kinds observed in threads: listed once all the same
            if self._ext is None:
                with self._api():
                    self._ext = {n.name: n.id for n in self.conn.network.networks()
                                 if n.provider_network_type in ("flat", "vlan")
                                 and not any(t.startswith("govcloud.") for t in n.tags or [])}
        return self._ext

    def _ext_names(self) -> dict[str, str]:
        """id -> name of the provider networks."""
        return {v: k for k, v in self._ext_nets().items()}

    def _ext_id(self, name: str) -> str:
        try:
            return self._ext_nets()[name]
        except KeyError:
            raise NotFound(f"external network {name!r} not found "
                           f"(this cloud has: {', '.join(sorted(self._ext_nets())) or 'none'})")

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


class NeutronKind(Kind):
    """A Neutron resource with string tags: listed by the owner tag, renamed in place and
    deleted by id through the proxy's ``<verb>_<resource>`` methods (``get_network``...)."""

    resource: ClassVar[str]        # the proxy's name for it: "network", "ip"
    plural: ClassVar[str]          # its list method: "networks", "ips"
    named: ClassVar[bool] = True   # a floating IP has no name

    def _proxy(self, verb: str):
        return getattr(self.conn.network, f"{verb}_{self.resource}")

    def shape(self, obj) -> Observed:
        raise NotImplementedError

    everyone: Any = None           # a whole-cloud list function above, where one is shared

    def _owned(self, listing=None) -> list:
        if self.everyone is not None and listing is not None:
            return [x for x in listing(self.everyone) if self.d.owner_tag in (x.tags or [])]
        with self.api():
            return list(getattr(self.conn.network, self.plural)(tags=self.d.owner_tag))

    def observe(self, listing):
        return [self.shape(x) for x in self._owned(listing)]

    def live(self, cloud_id):
        return self.shape(self._proxy("get")(cloud_id))

    def _create(self, tags: list[str], **attrs):
        """Create and tag (Neutron takes tags only after the create); inside the caller's _api.
        An object of this name in this project (and network) that carries no govcloud tag at
        all is what an earlier attempt made when its answer or its tag call was lost: tagged
        and taken, not made a second time (an untagged twin no listing of ours would see)."""
        obj = self._untagged_twin(attrs) or self._proxy("create")(**attrs)
        self.conn.network.set_tags(obj, tags)
        return obj

    def _untagged_twin(self, attrs: dict):
        if not self.named or not attrs.get("name") or not attrs.get("project_id"):
            return None
        query = {k: attrs[k] for k in ("name", "project_id", "network_id") if k in attrs}
        return next((o for o in getattr(self.conn.network, self.plural)(**query)
                     if o.name == attrs["name"]
                     and not any(t.startswith("govcloud.") for t in o.tags or [])), None)

    def update(self, cur, req, fields):  # only the name changes in place
        with self.api():
            obj = self._proxy("update")(cur.cloud_id, name=req.properties["name"])
        return self.shape(obj)

    def delete(self, cur):
        with self.api():
            self._proxy("delete")(cur.cloud_id, ignore_missing=False)

    def retag(self, cloud_id, tags, name=None):
        with self.api():
            obj = self._proxy("get")(cloud_id)
            self.conn.network.set_tags(obj, string_tags(obj.tags, tags))
            if name is not None and self.named and name != obj.name:
                self._proxy("update")(cloud_id, name=name)
        with self.api():
            return self.live(cloud_id)


class Network(NeutronKind):
    kind, resource, plural = "network", "network", "networks"

    def shape(self, n) -> Observed:
        return self.tagged(n, {"name": n.name}, {"project": n.project_id})

    def create(self, req):
        with self.api():
            n = self._create(self.tags(req), name=req.properties["name"],
                             project_id=req.refs["project"])
            n = self.conn.network.get_network(n.id)
        return self.shape(n)

    def update(self, cur, req, fields):
        if "foreign_ports" in fields:   # isolation drift (orchestrator/core/drift.py)
            repair.foreign_ports(self.d, cur.cloud_id)
        if "rbac_policies" in fields:
            repair.rbac_policies(self.d, cur.cloud_id)
        return super().update(cur, req, fields)


class Subnet(NeutronKind):
    kind, resource, plural = "subnet", "subnet", "subnets"

    def shape(self, s) -> Observed:
        return self.tagged(s, {"name": s.name, "cidr": s.cidr, "gateway_ip": s.gateway_ip},
                           {"network": s.network_id})

    def create(self, req):
        with self.api():
            net = self.conn.network.get_network(req.refs["network"])
            s = self._create(self.tags(req), network_id=net.id, project_id=net.project_id,
                             name=req.properties["name"], cidr=req.properties["cidr"],
                             gateway_ip=req.properties["gateway_ip"], ip_version=4)
            s = self.conn.network.get_subnet(s.id)
        return self.shape(s)

    def delete(self, cur):
        # Nova releases a deleted server's port a moment after the server is gone, and Neutron
        # refuses the subnet until then ("One or more ports have an IP allocation").
        def ports():
            with self.api():
                return [p for p in self.conn.network.ports(fixed_ips=f"subnet_id={cur.cloud_id}")
                        if (p.device_owner or "").startswith(("compute:", "network:router_interface"))
                        or not p.device_owner]
        # Past the wait the delete is tried anyway: Neutron's refusal says what still holds it.
        with contextlib.suppress(WaitTimeout):
            wait_for(ports, lambda left: not left, f"the ports of subnet {cur.cloud_id} to go",
                     timeout=min(self.d.timeout, 120), interval=2)
        with self.api():
            self.conn.network.delete_subnet(cur.cloud_id, ignore_missing=False)


class Router(NeutronKind):
    """A router: gateway to the zone's external network only, one interface on its project's
    subnet. ``_interfaces`` (a tag of the observation) lists every interface's subnet."""
    kind, resource, plural = "router", "router", "routers"
    everyone = staticmethod(all_routers)

    def shape(self, r, ext_by_id: dict, iface: dict) -> Observed:
        tags = dec(r.tags)
        gw = (r.external_gateway_info or {}).get("network_id")
        subnets = iface.get(r.id, [])
        return Observed(tags.get(ADDRESS_TAG, ""), "router", r.id,
                        {"name": r.name, "external_network": ext_by_id.get(gw, gw)},
                        {"project": r.project_id, **({"subnet": subnets[0]} if subnets else {})},
                        {**tags, "_interfaces": ",".join(sorted(subnets))})

    def observe(self, listing):
        ext_by_id = self.d._ext_names()
        routers = self._owned(listing)
        iface: dict[str, list] = {}
        for port in listing(all_ports):
            if (port.device_owner or "").startswith("network:router_interface"):
                for ip in port.fixed_ips or []:
                    iface.setdefault(port.device_id, []).append(ip["subnet_id"])
        return [self.shape(r, ext_by_id, iface) for r in routers]

    def live(self, cloud_id):
        return self.shape(self.conn.network.get_router(cloud_id), {}, {})

    def lookup(self, cloud_id):
        """With its gateway's zone name and its interfaces' subnets, as import compares them."""
        r = self.conn.network.get_router(cloud_id)
        ports = self.conn.network.ports(device_id=cloud_id, device_owner="network:router_interface")
        subnets = [ip["subnet_id"] for p in ports for ip in p.fixed_ips or []]
        return self.shape(r, self.d._ext_names(), {cloud_id: subnets})

    def create(self, req):
        ext = self.d._ext_id(req.properties["external_network"])
        project = req.refs["project"]
        with self.api():
            sub = self.conn.network.get_subnet(req.refs["subnet"])
        if sub.project_id != project:
            raise Conflict(f"subnet {sub.id} belongs to another project: a router may only "
                           "connect its own project's subnet")
        self.d._ensure_rbac(ext, project)
        with self.api():
            r = self._create(self.tags(req), name=req.properties["name"], project_id=project,
                             external_gateway_info={"network_id": ext})
        with self.api():
            self.conn.network.add_interface_to_router(r, subnet=sub.id)
        with self.api():
            r = self.conn.network.get_router(r.id)
        return self.shape(r, {ext: req.properties["external_network"]}, {r.id: [sub.id]})

    def update(self, cur, req, fields):
        if "interfaces" in fields:      # every interface but its own subnet's is removed
            repair.extra_interfaces(self.d, cur.cloud_id, req.refs["subnet"])
        with self.api():
            r = self.conn.network.update_router(cur.cloud_id, name=req.properties["name"])
        return self.shape(r, self.d._ext_names(), {})

    def delete(self, cur):
        c = self.conn
        with self.api():
            ports = list(c.network.ports(device_id=cur.cloud_id, device_owner="network:router_interface"))
        for port in ports:
            for ip in port.fixed_ips or []:
                with self.api():
                    c.network.remove_interface_from_router(cur.cloud_id, subnet=ip["subnet_id"])
        super().delete(cur)


def _rule_key(r: dict) -> tuple:
    return (r["protocol"], r["port_min"], r["port_max"], r["remote_ip_prefix"])


def _live_rule_key(r) -> tuple:
    return (r.protocol, r.port_range_min, r.port_range_max, r.remote_ip_prefix)


class SecurityGroup(NeutronKind):
    """A security group: inbound denied except the approved rules (ingress rules are synced)."""
    kind, resource, plural = "security_group", "security_group", "security_groups"
    everyone = staticmethod(all_security_groups)

    def shape(self, g) -> Observed:
        rules = sorted(
            ({"direction": "ingress", "protocol": r["protocol"],
              "port_min": r.get("port_range_min"), "port_max": r.get("port_range_max"),
              "remote_ip_prefix": r.get("remote_ip_prefix")}
             for r in g.security_group_rules or [] if r["direction"] == "ingress"),
            key=lambda r: (r["protocol"] or "", r["port_min"] or 0, r["port_max"] or 0,
                           r["remote_ip_prefix"] or ""))
        return self.tagged(g, {"name": g.name, "description": g.description or "", "rules": rules},
                           {"project": g.project_id})

    def _reread(self, group_id: str) -> Observed:
        with self.api():
            return self.shape(self.conn.network.get_security_group(group_id))

    def create(self, req):
        with self.api():
            g = self._create(self.tags(req), name=req.properties["name"],
                             description=req.properties.get("description", ""),
                             project_id=req.refs["project"])
        self._sync_rules(g.id, req.refs["project"], req.properties["rules"])
        return self._reread(g.id)

    def _sync_rules(self, group_id: str, project_id: str, want: list[dict]) -> None:
        """Make the group's ingress rules exactly ``want`` (as read live, not from state)."""
        want_keys = {_rule_key(r) for r in want}
        with self.api():
            live = [r for r in self.conn.network.security_group_rules(security_group_id=group_id)
                    if r.direction == "ingress"]
        for r in live:
            if _live_rule_key(r) not in want_keys:
                with self.api():
                    self.conn.network.delete_security_group_rule(r)
        live_keys = {_live_rule_key(r) for r in live}
        for r in want:
            if _rule_key(r) in live_keys:
                continue
            with self.api():
                self.conn.network.create_security_group_rule(
                    security_group_id=group_id, project_id=project_id, direction="ingress",
                    ethertype="IPv4", protocol=r["protocol"], port_range_min=r["port_min"],
                    port_range_max=r["port_max"], remote_ip_prefix=r["remote_ip_prefix"])

    def update(self, cur, req, fields):
        if "rules" in fields:
            self._sync_rules(cur.cloud_id, cur.refs.get("project", ""), req.properties["rules"])
        if "description" in fields:
            with self.api():
                self.conn.network.update_security_group(cur.cloud_id,
                                                        description=req.properties["description"])
        return self._reread(cur.cloud_id)


class FloatingIp(NeutronKind):
    """A floating IP on the zone's external network; its bandwidth is a tag (no QoS here)."""
    kind, resource, plural = "floating_ip", "ip", "ips"
    everyone = staticmethod(all_ips)
    named = False

    def shape(self, f, ext_by_id: dict) -> Observed:
        tags = dec(f.tags)
        return Observed(tags.get(ADDRESS_TAG, ""), "floating_ip", f.id,
                        {"external_network": ext_by_id.get(f.floating_network_id, f.floating_network_id),
                         "bandwidth_mbps": int(tags.get(BANDWIDTH_TAG, 0)),
                         "address": f.floating_ip_address},
                        {"project": f.project_id}, tags)

    def observe(self, listing):
        ext_by_id = self.d._ext_names()
        return [self.shape(f, ext_by_id) for f in self._owned(listing)]

    def live(self, cloud_id):
        return self.shape(self.conn.network.get_ip(cloud_id), {})

    def lookup(self, cloud_id):
        return self.shape(self.conn.network.get_ip(cloud_id), self.d._ext_names())

    def stored(self, req):
        return {BANDWIDTH_TAG: str(req.properties["bandwidth_mbps"])}

    @staticmethod
    def _bandwidth(req) -> str:
        return enc(BANDWIDTH_TAG, str(req.properties["bandwidth_mbps"]))

    def create(self, req):
        ext = self.d._ext_id(req.properties["external_network"])
        self.d._ensure_rbac(ext, req.refs["project"])
        with self.api():
            f = self._create(sorted(self.tags(req) + [self._bandwidth(req)]),
                             floating_network_id=ext, project_id=req.refs["project"])
            f = self.conn.network.get_ip(f.id)
        return self.shape(f, {ext: req.properties["external_network"]})

    def update(self, cur, req, fields):
        with self.api():
            f = self.conn.network.get_ip(cur.cloud_id)
            tags = [t for t in f.tags if not t.startswith(BANDWIDTH_TAG + "=")]
            self.conn.network.set_tags(f, sorted(tags + [self._bandwidth(req)]))
            f = self.conn.network.get_ip(cur.cloud_id)
        return self.shape(f, self.d._ext_names())
