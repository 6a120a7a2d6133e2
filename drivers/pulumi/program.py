"""Compiled stack specs as pulumi-openstack resources: the optional Pulumi engine's program.

``render(resources, owner=...)`` declares, for every spec resource of an OpenStack-layout target,
the same isolated layout govcloud's own engine builds (README "Pulumi as an alternate engine"):

==================  =======================================================================
spec kind           pulumi-openstack resources (logical name = the govcloud address)
==================  =======================================================================
domain              identity.Project (is_domain)
project             identity.Project in the domain; identity.RoleAssignment (the deploying
                    identity gets ``admin`` in it); a ``pulumi:providers:openstack`` provider
                    scoped to the project (``tenant_id``) that creates everything inside it
quota               compute.QuotaSetV2 + blockstorage.QuoteSetV3 + networking.QuotaV2
network             networking.Network
subnet              networking.Subnet
router              networking.RbacPolicyV2 (``access_as_external`` on the zone's external
                    network, for this project only) + networking.Router (gateway to it) +
                    networking.RouterInterface (into the subnet)
security_group      networking.SecGroup + one networking.SecGroupRule per approved rule
server              compute.Instance booting from a volume (system disk) on the network
volume              blockstorage.Volume
volume_attachment   compute.VolumeAttach
floating_ip         networking.FloatingIp from the zone's external network pool
==================  =======================================================================

Ownership: Neutron and Keystone objects carry the govcloud tags as ``key=value`` strings (``/``
written as ``|``), servers and volumes as metadata, like drivers/openstack. Only specs whose target
uses ``layout = "openstack"`` are rendered; an EC2 (``vpc``) layout is refused with a message.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable

import pulumi
import pulumi_openstack as openstack

from drivers.base import OWNER_TAG, ownership_tags

# govcloud quota field -> (service, argument of that service's quota resource)
QUOTA_ARGS = {
    "cores": ("compute", "cores"), "ram_mb": ("compute", "ram"), "instances": ("compute", "instances"),
    "volumes": ("volume", "volumes"), "gigabytes": ("volume", "gigabytes"),
    "snapshots": ("volume", "snapshots"), "floating_ips": ("network", "floatingip"),
    "networks": ("network", "network"), "subnets": ("network", "subnet"),
    "routers": ("network", "router"), "ports": ("network", "port"),
    "security_groups": ("network", "security_group"),
    "security_group_rules": ("network", "security_group_rule"),
}


class UnsupportedSpec(ValueError):
    """A spec the Pulumi program cannot render (e.g. compiled for an EC2 target)."""


def enc(key: str, value: str) -> str:
    return f"{key}={value.replace('/', '|')}"


@dataclass
class Rendered:
    """What render() declared, by govcloud address (plus helper resources by their own name)."""

    resources: dict[str, pulumi.Resource] = field(default_factory=dict)
    providers: dict[str, pulumi.ProviderResource] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)   # address -> why (windows)


def _tags(r, owner: str) -> dict[str, str]:
    return ownership_tags(owner, r.address, r.stack, r.zone, r.approval)


def _quota_props(r, today: dt.date | None) -> dict[str, Any]:
    props = dict(r.properties)
    for w in getattr(r, "windows", None) or []:
        if today is None or w.start <= today < w.end:
            for k, n in w.add.items():
                props[k] = props.get(k, 0) + n
    return props


def render(resources: Iterable[Any], owner: str, today: dt.date | None = None,
           vpc_targets: Iterable[str] = ()) -> Rendered:
    """Declare pulumi-openstack resources for these ResourceSpecs (one workspace's specs).
    ``today``: resources outside their window are left out (None: render everything);
    ``vpc_targets``: targets laid out for EC2 (refused)."""
    from orchestrator.core.resources import KIND_ORDER
    specs = sorted({r.address: r for r in resources}.values(),
                   key=lambda r: (KIND_ORDER[r.kind], r.address))
    vpc = set(vpc_targets)
    bad = sorted({r.target for r in specs if r.target in vpc})
    if bad:
        raise UnsupportedSpec(f"target(s) {', '.join(bad)} use layout \"vpc\" (EC2-compatible): "
                              "the Pulumi program renders pulumi-openstack resources only")
    out = Rendered()
    res = out.resources
    ext_nets: dict[str, str] = {}

    def ext(name: str) -> str:
        if name not in ext_nets:
            ext_nets[name] = openstack.networking.get_network(name=name, external=True).id
        return ext_nets[name]

    admin = None
    me = None
    for r in specs:
        if today is not None and ((r.not_before and today < r.not_before) or
                                  (r.expires_on and today >= r.expires_on)):
            out.skipped[r.address] = "outside its window"
            continue
        p, a = r.properties, r.address
        tags = _tags(r, owner)
        neutron_tags = [enc(k, v) for k, v in sorted(tags.items())]
        # Everything inside a project is made through the provider scoped to that project.
        scoped = None if r.kind in ("domain", "project") else out.providers.get(_project_of(a))

        def opts(*deps, provider=scoped):
            return pulumi.ResourceOptions(provider=provider, depends_on=[d for d in deps if d])

        if r.kind == "domain":
            res[a] = openstack.identity.Project(a, name=p["name"], description=p.get("description"),
                                                is_domain=True, enabled=True,
                                                tags=[enc(OWNER_TAG, owner)])
        elif r.kind == "project":
            project = openstack.identity.Project(
                a, name=p["name"], description=p.get("description"), enabled=True,
                domain_id=res[r.refs["domain"]].id, tags=neutron_tags)
            res[a] = project
            if admin is None:
                admin = openstack.identity.get_role(name="admin")
                me = openstack.identity.get_auth_scope(name="current")
            grant = openstack.identity.RoleAssignment(
                f"{a}#admin", project_id=project.id, role_id=admin.id, user_id=me.user_id)
            res[f"{a}#admin"] = grant
            out.providers[a] = openstack.Provider(
                f"{a}#provider", tenant_id=project.id, opts=pulumi.ResourceOptions(depends_on=[grant]))
        elif r.kind == "quota":
            props = _quota_props(r, today)
            pid = res[r.refs["project"]].id
            by = {"compute": {}, "volume": {}, "network": {}}
            for k, v in props.items():
                if k in QUOTA_ARGS:
                    svc, arg = QUOTA_ARGS[k]
                    by[svc][arg] = v
            res[a] = openstack.compute.QuotaSetV2(f"{a}#compute", project_id=pid, **by["compute"])
            res[f"{a}#volume"] = openstack.blockstorage.QuoteSetV3(f"{a}#volume", project_id=pid,
                                                                  **by["volume"])
            res[f"{a}#network"] = openstack.networking.QuotaV2(f"{a}#network", project_id=pid,
                                                               **by["network"])
        elif r.kind == "network":
            res[a] = openstack.networking.Network(a, name=p["name"], tags=neutron_tags,
                                                  admin_state_up=True, opts=opts())
        elif r.kind == "subnet":
            res[a] = openstack.networking.Subnet(
                a, name=p["name"], network_id=res[r.refs["network"]].id, cidr=p["cidr"],
                gateway_ip=p.get("gateway_ip"), ip_version=4, enable_dhcp=True, tags=neutron_tags,
                opts=opts())
        elif r.kind == "router":
            ext_id = ext(p["external_network"])
            rbac = openstack.networking.RbacPolicyV2(
                f"{a}#rbac", action="access_as_external", object_type="network",
                object_id=ext_id, target_tenant=res[r.refs["project"]].id,
                opts=pulumi.ResourceOptions())
            res[f"{a}#rbac"] = rbac      # made by the deploying (admin) identity
            router = openstack.networking.Router(a, name=p["name"], external_network_id=ext_id,
                                                 admin_state_up=True, tags=neutron_tags,
                                                 opts=opts(rbac))
            res[a] = router
            res[f"{a}#interface"] = openstack.networking.RouterInterface(
                f"{a}#interface", router_id=router.id, subnet_id=res[r.refs["subnet"]].id,
                opts=opts())
        elif r.kind == "security_group":
            group = openstack.networking.SecGroup(a, name=p["name"], description=p.get("description"),
                                                  tags=neutron_tags, opts=opts())
            res[a] = group
            for i, rule in enumerate(p.get("rules", []), 1):
                res[f"{a}#rule-{i}"] = openstack.networking.SecGroupRule(
                    f"{a}#rule-{i}", security_group_id=group.id, direction=rule["direction"],
                    ethertype="IPv4", protocol=rule["protocol"],
                    port_range_min=rule.get("port_min"), port_range_max=rule.get("port_max"),
                    remote_ip_prefix=rule.get("remote_ip_prefix"), opts=opts())
        elif r.kind == "server":
            image = openstack.images.get_image(name=p["image"], most_recent=True)
            res[a] = openstack.compute.Instance(
                a, name=p["name"], flavor_name=p["flavor"],
                networks=[openstack.compute.InstanceNetworkArgs(uuid=res[r.refs["network"]].id)],
                security_groups=[res[r.refs["security_group"]].name],
                block_devices=[openstack.compute.InstanceBlockDeviceArgs(
                    uuid=image.id, source_type="image", destination_type="volume",
                    volume_size=p["system_disk_gb"], volume_type=p["system_disk_type"],
                    boot_index=0, delete_on_termination=True)],
                metadata={k: v for k, v in tags.items() if k != OWNER_TAG},
                tags=[enc(OWNER_TAG, owner)], opts=opts())
        elif r.kind == "volume":
            res[a] = openstack.blockstorage.Volume(a, name=p["name"], size=p["size_gb"],
                                                   volume_type=p["volume_type"], metadata=tags,
                                                   opts=opts())
        elif r.kind == "volume_attachment":
            res[a] = openstack.compute.VolumeAttach(
                a, instance_id=res[r.refs["server"]].id, volume_id=res[r.refs["volume"]].id,
                opts=opts())
        elif r.kind == "floating_ip":
            res[a] = openstack.networking.FloatingIp(
                a, pool=p["external_network"], description=f"bandwidth {p.get('bandwidth_mbps')} Mbps",
                tags=neutron_tags, opts=opts(res.get(f"{_router_of(a)}#rbac")))
        else:  # pragma: no cover - a new kind must be mapped here first
            raise UnsupportedSpec(f"{a}: kind {r.kind} has no pulumi-openstack mapping")
    for address, resource in res.items():
        if "#" not in address:
            pulumi.export(address, resource.id)
    return out


def _project_of(address: str) -> str:
    return f"project:{address.split(':', 1)[1].rsplit('/', 1)[0]}"


def _router_of(address: str) -> str:
    return f"router:{address.split(':', 1)[1].rsplit('/', 1)[0]}/router"


def load(workspace_dir: str = ".") -> tuple[list[Any], str, list[str]]:
    """A workspace's compiled resources, its workspace id and its vpc-layout targets."""
    from orchestrator.workspace import Workspace
    ws = Workspace.at(workspace_dir)
    vpc = [name for name, t in ws.config.targets.items() if getattr(t, "layout", "") == "vpc"]
    return [r for s in ws.load_specs() for r in s.resources], ws.config.workspace.id, vpc


def main() -> Rendered:
    """The Pulumi program's entry point (drivers/pulumi/__main__.py)."""
    cfg = pulumi.Config("govcloud")
    resources, owner, vpc = load(cfg.get("workspace") or ".")
    today = cfg.get("today")
    return render(resources, owner, dt.date.fromisoformat(today) if today else dt.date.today(),
                  vpc_targets=vpc)
