"""The Census capability on EC2: every copy the account still holds of a system after its
decommission, tagged or not.

Tagged (this workspace's owner tag and the stack's tag): VPCs, route tables, subnets, internet
gateways, security groups, instances, volumes, snapshots, AMIs, elastic IPs. Untagged, by what
they point at (``ids``: the system's VPCs, instances, volumes and the servers' root volumes that
the plan step read through ``census_ids``): objects in its VPCs, instances and volumes by id,
volumes attached to its instances, elastic IPs on its instances, snapshots of its volumes (EC2
gives a snapshot no tag of its volume's), and AMIs registered from those snapshots. Terminated
instances are gone (EC2 lists them for a while). The owner tag scopes the tagged search because
an account is shared by workspaces and a stack's name is unique only within one.
"""
from __future__ import annotations

from drivers.base import ADDRESS_TAG, OWNER_TAG, STACK_TAG, Census, NotFound, Observed

from .common import ACTIVE_STATES, GATEWAYS, GROUPS, REF_TAG, ROUTE_TABLES, SUBNETS, VOLUMES, VPCS
from .ec2xml import items, tags as tags_of, text

CHUNK = 200   # EC2 accepts at most 200 values per filter

# kind, EC2 type, id element, the filter naming the VPC it is in
_IN_VPC = (("project", VPCS, "vpcId", "vpc-id"), ("network", ROUTE_TABLES, "routeTableId", "vpc-id"),
           ("subnet", SUBNETS, "subnetId", "vpc-id"),
           ("router", GATEWAYS, "internetGatewayId", "attachment.vpc-id"),
           ("security_group", GROUPS, "groupId", "vpc-id"))


class Ec2Census(Census):
    """Mixin of LibcloudDriver (needs its Connection: ``describe``, ``filters``, ``owned``, and
    the compute kinds' ``_instance``)."""

    def census_ids(self, obj: Observed) -> list[str]:
        """A server's EBS volumes (its root volume above all: deleted with the instance, its
        snapshots still name it)."""
        if obj.kind != "server":
            return []
        try:
            inst = self._instance(obj.cloud_id)
        except NotFound:
            return []
        return [v for b in items(inst, "blockDeviceMapping/item")
                if (v := text(b, "ebs/volumeId")) and v != obj.cloud_id]

    def _matching(self, action: str, path: str, name: str, values: list[str], **more) -> list:
        """Describe with filter ``name`` in ``values`` (in chunks EC2 accepts)."""
        out = []
        for i in range(0, len(values), CHUNK):
            out += self.describe(action, path, **self.filters({name: values[i:i + CHUNK], **more}))
        return out

    def census(self, stack: str, ids: list[str]) -> list[Observed]:
        wanted = sorted(set(ids))
        tagged = self.owned(**{f"tag:{STACK_TAG}": stack})
        found: dict[str, Observed] = {}

        def keep(kind: str, el, id_path: str, **props) -> None:
            cid = text(el, id_path)
            if cid and cid not in found:
                t = tags_of(el)
                found[cid] = Observed(t.get(ADDRESS_TAG, ""), kind, cid, props, {}, t)

        for kind, typ, id_path, in_vpc in _IN_VPC:
            els = self.describe(typ.action, typ.path, **tagged)
            els += self._matching(typ.action, typ.path, in_vpc, wanted) if wanted else []
            for el in els:
                keep(kind, el, id_path)
        live = {"instance-state-name": list(ACTIVE_STATES)}
        reservations = self.describe("DescribeInstances", "reservationSet/item",
                                     **self.owned(**{f"tag:{STACK_TAG}": stack, **live}))
        for by in ("instance-id", "vpc-id"):
            reservations += self._matching("DescribeInstances", "reservationSet/item", by,
                                           wanted, **live) if wanted else []
        for res in reservations:
            for inst in items(res, "instancesSet/item"):
                keep("server", inst, "instanceId")
        vols = self.describe(VOLUMES.action, VOLUMES.path, **tagged)
        for by in ("volume-id", "attachment.instance-id", f"tag:{REF_TAG}project"):
            vols += self._matching(VOLUMES.action, VOLUMES.path, by, wanted) if wanted else []
        for v in vols:
            keep("volume", v, "volumeId")
        # snapshots of its volumes (those still there, those gone: their ids are in ``ids``)
        of = sorted(set(wanted) | {c for c, o in found.items() if o.kind == "volume"})
        snaps = self.describe("DescribeSnapshots", "snapshotSet/item", **tagged)
        snaps += self._matching("DescribeSnapshots", "snapshotSet/item", "volume-id", of) if of else []
        for s in snaps:
            keep("snapshot", s, "snapshotId", volume=text(s, "volumeId"))
        snap_ids = {c for c, o in found.items() if o.kind == "snapshot"}
        for img in self.describe("DescribeImages", "imagesSet/item", **{"Owner.1": "self"}):
            t = tags_of(img)
            from_snaps = {text(b, "ebs/snapshotId") for b in items(img, "blockDeviceMapping/item")}
            if (t.get(STACK_TAG) == stack and t.get(OWNER_TAG) == self.owner) or \
                    text(img, "imageId") in wanted or from_snaps & snap_ids:
                keep("image", img, "imageId", name=text(img, "name", ""))
        addrs = self.describe("DescribeAddresses", "addressesSet/item", **tagged)
        for by in ("instance-id", f"tag:{REF_TAG}project"):
            addrs += self._matching("DescribeAddresses", "addressesSet/item", by,
                                    wanted) if wanted else []
        for a in addrs:
            keep("floating_ip", a, "allocationId", ip=text(a, "publicIp"))
        return list(found.values())
