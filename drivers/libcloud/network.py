"""The network kinds on EC2: project (a VPC), network (a route table), subnet, router (an internet
gateway and its default route), security_group (and its ingress rules) and floating_ip (an
elastic IP). ``NetworkKinds`` is a mixin of LibcloudDriver holding each kind's listing, lookup,
observation, create, update and delete together; ``HANDLERS`` names them for the driver's
dispatch table. Requests go through the driver's Connection methods.
"""
from __future__ import annotations

import ipaddress

from drivers.base import (ADDRESS_TAG, DEPARTMENT_TAG, Address, Conflict, DriverError, NotFound,
                          Observed, Request, Unsupported)

from . import quirks
from .common import (ADDRESSES, BANDWIDTH_TAG, DESCRIPTION_TAG, EXTERNAL_TAG, GATEWAYS, GROUPS,
                     REF_TAG, ROUTE_TABLES, SUBNETS, VPCS, Handler, Listing, Ref, ingress_rules,
                     observed, same_project)
from .ec2xml import items, tags as tags_of, tagspec, text


def first_host(cidr: str) -> str:
    return str(ipaddress.ip_network(cidr).network_address + 1)


def department_of(address: str) -> str:
    """The department an address names; "" for no address (an object govcloud did not tag)."""
    try:
        return Address.parse(address).department
    except ValueError:
        return ""


class NetworkKinds:
    """Mixin of LibcloudDriver: the network kinds (see the module docstring)."""

    def _external(self, name: str) -> None:
        if name not in self.external_networks:
            raise NotFound(f"external network {name!r} not found (this target has: "
                           f"{', '.join(sorted(self.external_networks))})")

    # --- project: a VPC ----------------------------------------------------------------------
    def _observe_projects(self, seen: Listing) -> list[Observed]:
        out = []
        for v in VPCS.list_owned(self, **seen.by_addr):
            tags = tags_of(v)
            props = {"name": tags.get("Name", ""), "description": tags.get(DESCRIPTION_TAG, ""),
                     "cidr": text(v, "cidrBlock")}
            out.append(observed("project", text(v, "vpcId"), tags, props, {}))
        return out

    def _create_project(self, req: Request) -> str:
        dept = req.tags.get(DEPARTMENT_TAG) or department_of(req.address)
        name = req.properties.get("name", req.name)
        for v in VPCS.list_owned(self, **{"tag:Name": name}):
            vtags = tags_of(v)
            if (vtags.get(DEPARTMENT_TAG) or department_of(vtags.get(ADDRESS_TAG, ""))) == dept:
                raise Conflict(f"project {name!r} already exists in department {dept} "
                               f"(VPC {text(v, 'vpcId')})")
        cidr = req.properties.get("cidr")
        if not cidr:
            raise DriverError(f"project {name}: on an EC2-compatible target a project is a VPC and "
                              "needs its address block (property cidr): set layout = \"vpc\" on "
                              "the target and run `govcloud compile`")
        tags = self._tags_for(req, **{DESCRIPTION_TAG: req.properties.get("description", "")})
        body = self.req("CreateVpc", CidrBlock=cidr, **tagspec("vpc", tags))
        return text(body, "vpc/vpcId")

    def _update_project(self, vpc: str, el, p: dict, fields: set[str]) -> dict[str, str]:
        return {DESCRIPTION_TAG: p.get("description", "")} if "description" in fields else {}

    def _delete_project(self, vpc: str, el) -> None:
        self.call("DeleteVpc", self.ec2.ex_delete_network, Ref(vpc))

    # --- network: the VPC's own route table; shared by the subnet and router observations ----
    def _seen_route_tables(self, seen: Listing) -> list:
        # Filtered by address only when networks alone are asked for: a subnet's or a router's
        # route table is its network's, under another address.
        return seen.once("route_tables", lambda: ROUTE_TABLES.list_owned(
            self, **(seen.by_addr if seen.kinds == {"network"} else {})))

    def _seen_associations(self, seen: Listing) -> dict[str, str]:
        """subnet id -> the id of the route table it is associated with."""
        return seen.once("associations", lambda: {
            text(a, "subnetId"): text(rt, "routeTableId") for rt in self._seen_route_tables(seen)
            for a in items(rt, "associationSet/item") if text(a, "subnetId")})

    def _observe_networks(self, seen: Listing) -> list[Observed]:
        return [observed("network", text(rt, "routeTableId"), tags_of(rt),
                         {"name": tags_of(rt).get("Name", "")}, {"project": text(rt, "vpcId")})
                for rt in self._seen_route_tables(seen) if seen.wants(tags_of(rt))]

    def _create_network(self, req: Request) -> str:
        body = self.req("CreateRouteTable", VpcId=req.refs["project"],
                        **tagspec("route-table", self._tags_for(req)))
        return text(body, "routeTable/routeTableId")

    def _delete_network(self, rt_id: str, el) -> None:
        subnets = [text(a, "subnetId") for a in items(el, "associationSet/item") if text(a, "subnetId")]
        if subnets:
            raise Conflict(f"network (route table) {rt_id} is in use by subnet {subnets[0]}")
        self.call("DeleteRouteTable", self.ec2.ex_delete_route_table, Ref(rt_id))

    # --- subnet ------------------------------------------------------------------------------
    def _observe_subnets(self, seen: Listing) -> list[Observed]:
        assoc, out = self._seen_associations(seen), []
        for s in SUBNETS.list_owned(self, **seen.by_addr):
            tags = tags_of(s)
            sid, cidr = text(s, "subnetId"), text(s, "cidrBlock")
            rt = assoc.get(sid)
            props = {"name": tags.get("Name", ""), "cidr": cidr, "gateway_ip": first_host(cidr)}
            # Not associated with its network's route table: half made (an interrupted create).
            out.append(observed("subnet", sid, tags, props,
                                {"network": rt or tags.get(REF_TAG + "network", "")},
                                "ACTIVE" if rt else "ERROR"))
        return out

    def _create_subnet(self, req: Request) -> str:
        rt = ROUTE_TABLES.by_id(self, req.refs["network"])
        vpc = text(rt, "vpcId")
        cidr = req.properties["cidr"]
        gw = req.properties.get("gateway_ip")
        if gw and gw != first_host(cidr):
            raise Unsupported(f"subnet {req.name}: EC2's gateway is always the first host "
                              f"({first_host(cidr)}), not {gw}")
        tags = self._tags_for(req, **{REF_TAG + "network": req.refs["network"]})
        body = self.req("CreateSubnet", VpcId=vpc, CidrBlock=cidr, AvailabilityZone=self.zone,
                        **tagspec("subnet", tags))
        sid = text(body, "subnet/subnetId")
        self.call("AssociateRouteTable", self.ec2.ex_associate_route_table,
                  Ref(req.refs["network"]), Ref(sid))
        return sid

    def _delete_subnet(self, sid: str, el) -> None:
        quirks.refuse_busy_subnet(self, sid)
        routers = GATEWAYS.list_owned(self, **{f"tag:{REF_TAG}subnet": sid})
        if routers:
            raise Conflict(f"subnet {sid} is in use by router {text(routers[0], 'internetGatewayId')}")
        quirks.drop_subnet_associations(self, sid)
        self.call("DeleteSubnet", self.ec2.ex_delete_subnet, Ref(sid))

    # --- router: an internet gateway and the subnet's default route to it --------------------
    def _observe_routers(self, seen: Listing) -> list[Observed]:
        rts, assoc = self._seen_route_tables(seen), self._seen_associations(seen)
        out = []
        for g in GATEWAYS.list_owned(self, **seen.by_addr):
            tags = tags_of(g)
            gid = text(g, "internetGatewayId")
            vpcs = [text(a, "vpcId") for a in items(g, "attachmentSet/item")
                    if text(a, "state") in ("available", "attached", "attaching")]
            subnet = tags.get(REF_TAG + "subnet", "")
            rt_id = assoc.get(subnet)
            routed = any(text(r, "gatewayId") == gid and text(r, "destinationCidrBlock") == "0.0.0.0/0"
                         for rt in rts if text(rt, "routeTableId") == rt_id
                         for r in items(rt, "routeSet/item"))
            props = {"name": tags.get("Name", ""), "external_network": tags.get(EXTERNAL_TAG, "")}
            out.append(observed("router", gid, tags, props,
                                {"project": vpcs[0] if vpcs else "", "subnet": subnet},
                                "ACTIVE" if vpcs and routed else "ERROR"))
        return out

    def _create_router(self, req: Request) -> str:
        self._external(req.properties["external_network"])
        vpc = req.refs["project"]
        subnet = SUBNETS.by_id(self, req.refs["subnet"])
        same_project(vpc, text(subnet, "vpcId"), "subnet", req.refs["subnet"])
        rts = self.describe("DescribeRouteTables", "routeTableSet/item",
                            **self.filters({"association.subnet-id": req.refs["subnet"]}))
        if not rts:
            raise Conflict(f"subnet {req.refs['subnet']} has no route table (its network)")
        tags = self._tags_for(req, **{EXTERNAL_TAG: req.properties["external_network"],
                                      REF_TAG + "subnet": req.refs["subnet"]})
        body = self.req("CreateInternetGateway", **tagspec("internet-gateway", tags))
        gid = text(body, "internetGateway/internetGatewayId")
        self.call("AttachInternetGateway", self.ec2.ex_attach_internet_gateway, Ref(gid), Ref(vpc))
        self.call("CreateRoute", self.ec2.ex_create_route, Ref(text(rts[0], "routeTableId")),
                  "0.0.0.0/0", internet_gateway=Ref(gid))
        return gid

    def _delete_router(self, gid: str, el) -> None:
        for vpc in [text(a, "vpcId") for a in items(el, "attachmentSet/item")]:
            for rt in self.describe("DescribeRouteTables", "routeTableSet/item",
                                    **self.filters({"vpc-id": vpc})):
                for r in items(rt, "routeSet/item"):
                    if text(r, "gatewayId") == gid:
                        self.call("DeleteRoute", self.ec2.ex_delete_route,
                                  Ref(text(rt, "routeTableId")), text(r, "destinationCidrBlock"))
            self.call("DetachInternetGateway", self.ec2.ex_detach_internet_gateway, Ref(gid),
                      Ref(vpc))
        self.call("DeleteInternetGateway", self.ec2.ex_delete_internet_gateway, Ref(gid))

    # --- security_group: inbound denied except the approved rules ----------------------------
    def _observe_security_groups(self, seen: Listing) -> list[Observed]:
        return [observed("security_group", text(g, "groupId"), tags_of(g),
                         {"name": text(g, "groupName"), "description": text(g, "groupDescription", ""),
                          "rules": ingress_rules(g)}, {"project": text(g, "vpcId")})
                for g in GROUPS.list_owned(self, **seen.by_addr)]

    def _create_security_group(self, req: Request) -> str:
        desc = req.properties.get("description") or "govcloud"
        body = self.req("CreateSecurityGroup", GroupName=req.properties.get("name", req.name),
                        GroupDescription=desc, VpcId=req.refs["project"],
                        **tagspec("security-group", self._tags_for(req)))
        gid = text(body, "groupId")
        self._apply_rules(gid, [], req.properties.get("rules", []))
        return gid

    def _update_security_group(self, gid: str, el, p: dict, fields: set[str]) -> dict[str, str]:
        if "description" in fields and p.get("description") != text(el, "groupDescription"):
            raise Conflict(f"security group {gid}: EC2 cannot change a group's description in "
                           "place")
        if "rules" in fields:
            self._apply_rules(gid, ingress_rules(el), p.get("rules", []))
        return {}

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

    def _delete_security_group(self, gid: str, el) -> None:
        self.call("DeleteSecurityGroup", self.ec2.ex_delete_security_group_by_id, gid)

    # --- floating_ip: an elastic IP (bandwidth recorded for billing, not enforced) -----------
    def _observe_floating_ips(self, seen: Listing) -> list[Observed]:
        out = []
        for a in ADDRESSES.list_owned(self, **seen.by_addr):
            tags = tags_of(a)
            bw = tags.get(BANDWIDTH_TAG)
            props = {"external_network": tags.get(EXTERNAL_TAG, ""),
                     "bandwidth_mbps": int(bw) if bw and bw.isdigit() else None}
            out.append(observed("floating_ip", text(a, "allocationId"), tags, props,
                                {"project": tags.get(REF_TAG + "project", "")}))
        return out

    def _create_floating_ip(self, req: Request) -> str:
        self._external(req.properties["external_network"])
        VPCS.by_id(self, req.refs["project"])
        tags = self._tags_for(req, **{EXTERNAL_TAG: req.properties["external_network"],
                                      BANDWIDTH_TAG: str(req.properties.get("bandwidth_mbps") or ""),
                                      REF_TAG + "project": req.refs["project"]})
        body = self.req("AllocateAddress", Domain="vpc", **tagspec("elastic-ip", tags))
        return text(body, "allocationId")

    def _update_floating_ip(self, alloc: str, el, p: dict, fields: set[str]) -> dict[str, str]:
        if "bandwidth_mbps" in fields:
            return {BANDWIDTH_TAG: str(p.get("bandwidth_mbps") or "")}
        return {}

    def _delete_floating_ip(self, alloc: str, el) -> None:
        self.req("ReleaseAddress", AllocationId=alloc)


N = NetworkKinds
HANDLERS: dict[str, Handler] = {
    "project": Handler(N._observe_projects, VPCS.by_id, N._create_project, N._delete_project,
                       N._update_project),
    "network": Handler(N._observe_networks, ROUTE_TABLES.by_id, N._create_network, N._delete_network),
    "subnet": Handler(N._observe_subnets, SUBNETS.by_id, N._create_subnet, N._delete_subnet),
    "router": Handler(N._observe_routers, GATEWAYS.by_id, N._create_router, N._delete_router),
    "security_group": Handler(N._observe_security_groups, GROUPS.by_id, N._create_security_group,
                              N._delete_security_group, N._update_security_group, named=False),
    "floating_ip": Handler(N._observe_floating_ips, ADDRESSES.by_id, N._create_floating_ip,
                           N._delete_floating_ip, N._update_floating_ip),
}
del N
