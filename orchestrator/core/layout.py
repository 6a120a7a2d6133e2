"""How a stack spec is laid out on a target: the kinds its cloud really has. Pure.

compile.py writes the OpenStack layout (domain, project, quota, network...). A target whose
``layout`` is ``"vpc"`` (an EC2-compatible cloud through the libcloud driver) gets instead:

- no ``domain``: EC2 has no identity domains. The department is the ``govcloud.department`` tag on
  every object, and the account (credentials) is the tenant boundary above it.
- no ``quota``: EC2 limits are per account and region, not per VPC. The approved totals still
  bound the spec (validate + compile) but the cloud does not enforce them per system; the
  README says so.
- the ``project`` is the system's VPC in that zone: it loses its ``domain`` ref and carries the
  zone's address block (``cidr``, the same block as its subnet), which a VPC needs at creation.
- a ``server`` also refers to its ``subnet``: an EC2 instance is launched into a subnet (not a
  network), and a subnet cannot be deleted while instances are in it. The ref orders both ways in
  the graph: the server after its subnet, the subnet's delete after the server's.

Everything else (network, subnet, router, security group, servers, volumes, attachments, floating
IPs) is unchanged, so the planner, the graph and the executor treat both layouts alike. A spec
compiled for the OpenStack layout and pointed at an EC2 target is refused by the planner (the
driver does not declare ``domain`` or ``quota``) before anything is touched.
"""
from __future__ import annotations

from ..models.config import WorkspaceConfig
from ..models.spec import StackSpec

DROPPED_IN_VPC = ("domain", "quota")


def for_targets(spec: StackSpec, config: WorkspaceConfig) -> StackSpec:
    """``spec`` with each resource laid out for its target's ``layout``."""
    vpc = {name for name, t in config.targets.items() if t.layout == "vpc"}
    if not vpc or not any(r.target in vpc for r in spec.resources):
        return spec
    out = []
    for r in spec.resources:
        if r.target not in vpc:
            out.append(r)
        elif r.kind in DROPPED_IN_VPC:
            continue
        elif r.kind == "project":
            cidr = spec.zones[r.zone].cidr
            out.append(r.model_copy(update={
                "properties": {**{k: v for k, v in r.properties.items()
                                  if k != "default_security_group"}, "cidr": cidr},
                "refs": {k: v for k, v in r.refs.items() if k != "domain"}}))
        elif r.kind == "server":
            subnet = f"subnet:{r.address.split(':', 1)[1].rsplit('/', 1)[0]}/subnet"
            out.append(r.model_copy(update={"refs": {**r.refs, "subnet": subnet}}))
        else:
            out.append(r)
    return spec.model_copy(update={"resources": out})
