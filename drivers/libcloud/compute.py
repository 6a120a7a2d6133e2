"""The compute kind on EC2: server (an instance in its subnet with its one security group; its
root EBS volume is the system disk, tagged ``govcloud.root-of``), with flavors mapped to instance
types and images to AMIs, resize (stop, change type, start) and power control (``set_power``, the
PowerControl capability). ``ComputeKinds`` is a mixin of LibcloudDriver; ``HANDLERS`` names the
server's observation, create, update and delete for the driver's dispatch table.
"""
from __future__ import annotations

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, CreateFailed, NotFound, Observed,
                          PowerControl, Request, TransientError, Unsupported, assert_owned, wait_for)

from .common import (ACTIVE_STATES, ATT_TAGS, FLAVOR_TAG, GROUPS, REF_TAG, ROOT_OF_TAG,
                     ROUTE_TABLES, VOLUME_TYPE_TAG, VOLUMES, Handler, Listing, Ref, observed, one,
                     same_project)
from .ec2xml import items, tags as tags_of, tagspec, text
from .storage import IOPS_TYPES

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

_STOPPED = ("stopped", "stopping")


class ComputeKinds(PowerControl):
    """Mixin of LibcloudDriver: servers (see the module docstring). Needs the driver's
    ``images``, ``instance_types``, ``wait_timeout``/``poll`` and the storage kinds' volume
    listing and EBS types (a server's root volume)."""

    def _instances(self, **flt):
        flt.setdefault("instance-state-name", list(ACTIVE_STATES))
        out = []
        for res in self.describe("DescribeInstances", "reservationSet/item", **self.owned(**flt)):
            out.extend(items(res, "instancesSet/item"))
        return out

    def _instance(self, iid: str):
        out = []
        for res in self.describe("DescribeInstances", "reservationSet/item", **{"InstanceId.1": iid}):
            out.extend(i for i in items(res, "instancesSet/item")
                       if text(i, "instanceState/name") != "terminated")
        return one(out, "server", iid)

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
        img = sorted(images, key=lambda i: text(i, "imageId"))[0]
        iid = text(img, "imageId")
        self._image_names[iid] = name
        return iid, text(img, "rootDeviceName", "/dev/sda1")

    def _learn_images(self, ids: set[str]) -> None:
        """Name the images of observed servers (looked up once, then cached)."""
        unknown = sorted(i for i in ids if i and i not in self._image_names)
        if not unknown:
            return
        params = {f"ImageId.{n}": i for n, i in enumerate(unknown, 1)}
        try:
            images = self.describe("DescribeImages", "imagesSet/item", **params)
        except NotFound:
            images = []
        for img in images:
            self._image_names[text(img, "imageId")] = text(img, "name", "")
            self._image_roots[text(img, "imageId")] = text(img, "rootDeviceName", "/dev/sda1")
        for i in unknown:  # deregistered images: name them by id
            self._image_names.setdefault(i, i)

    # --- server ------------------------------------------------------------------------------
    def _observe_servers(self, seen: Listing) -> list[Observed]:
        vols = self._seen_volumes(seen)        # read before the instances, as the roots of them
        insts = self._instances(**seen.by_addr)
        roots = {v_tags.get(ROOT_OF_TAG): v for v in vols
                 for v_tags in (tags_of(v),) if v_tags.get(ROOT_OF_TAG)}
        self._learn_images({text(i, "imageId") for i in insts})
        return [self._server_obs(i, roots) for i in insts]

    def _server_obs(self, i, roots) -> Observed:
        tags = tags_of(i)
        iid, itype = text(i, "instanceId"), text(i, "instanceType")
        flavor = tags.get(FLAVOR_TAG, "")
        rec_vcpus, rec_ram = int(tags.get("govcloud.vcpus", 0)), int(tags.get("govcloud.ram-gb", 0))
        # The shape is the instance type's; a type from the instance_types option that the table
        # does not know keeps the shape govcloud recorded.
        vcpus, ram = INSTANCE_TYPES.get(itype, (rec_vcpus, rec_ram))
        if flavor and self._instance_type(flavor, rec_vcpus, rec_ram, strict=False) != itype:
            flavor = f"ec2:{itype}"          # changed outside govcloud: the plan puts it back
        root = roots.get(tags.get(ADDRESS_TAG))
        sys_gb = int(text(root, "size")) if root is not None else None
        sys_type = self._govcloud_volume_type(root) if root is not None else None
        image_id = text(i, "imageId")
        props = {"name": tags.get("Name", ""), "flavor": flavor, "vcpus": vcpus, "ram_gb": ram,
                 "image": self._image_names.get(image_id, image_id),
                 "system_disk_gb": sys_gb, "system_disk_type": sys_type}
        groups = [text(g, "groupId") for g in items(i, "groupSet/item")]
        state = text(i, "instanceState/name")
        refs = {"project": text(i, "vpcId"), "network": tags.get(REF_TAG + "network", ""),
                "subnet": text(i, "subnetId"),
                "security_group": groups[0] if len(groups) == 1 else ",".join(groups)}
        status = {"stopped": "SHUTOFF", "stopping": "SHUTOFF", "pending": "BUILD"}.get(state, "ACTIVE")
        return observed("server", iid, tags, props, refs, status)

    def _create_server(self, req: Request) -> str:
        p = req.properties
        vpc = req.refs["project"]
        rt = ROUTE_TABLES.by_id(self, req.refs["network"])
        same_project(vpc, text(rt, "vpcId"), "network", req.refs["network"])
        group = GROUPS.by_id(self, req.refs["security_group"])
        same_project(vpc, text(group, "vpcId"), "security group", req.refs["security_group"])
        subnets = [text(a, "subnetId") for a in items(rt, "associationSet/item") if text(a, "subnetId")]
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
                  **tagspec("instance", tags, 1), **tagspec("volume", root_tags, 2)}
        if ebs in IOPS_TYPES:
            params["BlockDeviceMapping.1.Ebs.Iops"] = str(IOPS_TYPES[ebs])
        body = self.req("RunInstances", **params)
        iid = text(body, "instancesSet/item/instanceId")
        state = text(body, "instancesSet/item/instanceState/name")
        if state in ("terminated", "shutting-down"):
            raise CreateFailed(f"server {req.name} went to state {state}", iid)
        return iid

    def _update_server(self, iid: str, inst, p: dict, fields: set[str]) -> dict[str, str]:
        if not fields & {"flavor", "vcpus", "ram_gb"}:
            return {}
        self._resize(iid, inst, p)
        return {FLAVOR_TAG: p["flavor"], "govcloud.vcpus": str(p["vcpus"]),
                "govcloud.ram-gb": str(p["ram_gb"])}

    def _resize(self, iid: str, inst, p: dict) -> None:
        itype = self._instance_type(p["flavor"], p["vcpus"], p["ram_gb"])
        if itype == text(inst, "instanceType"):
            return
        was_running = text(inst, "instanceState/name") in ("running", "pending")
        node = Ref(iid)
        if was_running:
            self.call("StopInstances", self.ec2.stop_node, node)
            wait_for(lambda: text(self._instance(iid), "instanceState/name"),
                     lambda state: state == "stopped", f"server {iid} to stop",
                     self.wait_timeout, self.poll)
        self.req("ModifyInstanceAttribute", InstanceId=iid, **{"InstanceType.Value": itype})
        if was_running:
            self.call("StartInstances", self.ec2.start_node, node)

    def _delete_server(self, iid: str, el) -> None:
        # EC2 detaches data volumes when it terminates an instance (like Nova's delete); their
        # attachment tags go with them.
        data = [text(b, "ebs/volumeId") for b in items(el, "blockDeviceMapping/item")
                if text(b, "ebs/deleteOnTermination") != "true"]
        for vid in data:   # never detach (or untag) a volume of another workspace
            if tags_of(VOLUMES.by_id(self, vid)).get(OWNER_TAG) != self.owner:
                raise Conflict(f"instance {iid} has volume {vid} attached that this workspace "
                               "does not own: terminating it would detach it; its owner must "
                               "detach it first")
        self.call("TerminateInstances", self.ec2.destroy_node, Ref(iid))
        for vid in data:
            try:
                self._untag(vid, ATT_TAGS)
            except NotFound:
                pass

    # --- PowerControl ------------------------------------------------------------------------
    def set_power(self, current: Observed, state: str) -> None:
        """Stop ("SHUTOFF") or start ("ACTIVE") a server; idempotent."""
        el = self._instance(current.cloud_id)
        assert_owned(tags_of(el), self.owner, f"server {current.cloud_id}")
        now = text(el, "instanceState/name")
        if state == "SHUTOFF" and now not in _STOPPED:
            self.call("StopInstances", self.ec2.stop_node, Ref(current.cloud_id))
        elif state == "ACTIVE" and now in _STOPPED:
            self.call("StartInstances", self.ec2.start_node, Ref(current.cloud_id))


HANDLERS: dict[str, Handler] = {
    "server": Handler(ComputeKinds._observe_servers, ComputeKinds._instance,
                      ComputeKinds._create_server, ComputeKinds._delete_server,
                      ComputeKinds._update_server),
}
