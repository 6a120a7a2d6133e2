"""The storage kinds on EC2: volume (an EBS volume in the target's availability zone) and
volume_attachment (an attachment of one; EC2 attachments carry no tags, so its address and its
own stack/approval tags live on the volume). ``StorageKinds`` is a mixin of LibcloudDriver with
each kind's observation, create, update and delete, plus the EBS type mapping the server's root
disk uses too; ``HANDLERS`` names them for the driver's dispatch table.
"""
from __future__ import annotations

import re

from drivers.base import (ADDRESS_TAG, APPROVAL_TAG, DEPARTMENT_TAG, OWNER_TAG, STACK_TAG, ZONE_TAG,
                          Conflict, NotFound, Observed, Request, Unsupported, assert_owned,
                          wait_for)

from . import quirks
from .common import (ATT_PREFIX, ATT_TAGS, ATTACHMENT_TAG, REF_TAG, ROOT_OF_TAG, VOLUME_TYPE_TAG,
                     VOLUMES, VPCS, Handler, Listing, Ref, observed, same_project)
from .ec2xml import items, tags as tags_of, tagspec, text

DEFAULT_VOLUME_TYPES = {"standard": "standard", "ssd": "gp3", "high-io": "io2"}
IOPS_TYPES = {"io1": 3000, "io2": 3000}      # EBS types that need an Iops value


def device_name(index: int) -> str:
    return f"/dev/sd{chr(ord('f') + index - 1)}"


def device_index(device: str | None) -> int | None:
    if not device:
        return None
    m = re.search(r"(?:sd|xvd)([f-p])$", device)
    return ord(m.group(1)) - ord("f") + 1 if m else None


class StorageKinds:
    """Mixin of LibcloudDriver: the storage kinds (see the module docstring). Needs the driver's
    ``volume_types``, ``zone``, ``wait_timeout``/``poll`` and the compute kinds' ``_instance``
    (an attachment's server)."""

    def _ebs_type(self, vtype: str) -> str:
        try:
            return self.volume_types[vtype]
        except KeyError:
            raise Unsupported(f"volume type {vtype!r} has no EBS type: map it in "
                              f"[targets.{self.target}] volume_types") from None

    def _govcloud_volume_type(self, v) -> str:
        tags = tags_of(v)
        ebs = text(v, "volumeType")
        recorded = tags.get(VOLUME_TYPE_TAG)
        if recorded and self.volume_types.get(recorded) == ebs:
            return recorded
        back = [k for k, t in self.volume_types.items() if t == ebs]
        return back[0] if len(back) == 1 and not recorded else f"ebs:{ebs}"

    # --- volume ------------------------------------------------------------------------------
    def _seen_volumes(self, seen: Listing) -> list:
        """The volumes of one observation: data volumes, attachments and servers' root volumes
        (one listing for all three kinds; for one address, only the volumes tagged with it)."""
        def read():
            if seen.address and seen.kinds == {"volume"}:
                return VOLUMES.list_owned(self, **seen.by_addr)
            if seen.address and seen.kinds == {"server"}:
                return VOLUMES.list_owned(self, **{f"tag:{ROOT_OF_TAG}": seen.address})
            if seen.address and seen.kinds == {"volume_attachment"}:
                return VOLUMES.list_owned(self, **{f"tag:{ATTACHMENT_TAG}": seen.address})
            return VOLUMES.list_owned(self)
        return seen.once("volumes", read)

    def _observe_volumes(self, seen: Listing) -> list[Observed]:
        out = []
        for v in self._seen_volumes(seen):
            tags = tags_of(v)
            if tags.get(ROOT_OF_TAG) or not seen.wants(tags):   # a root volume is its server's
                continue
            props = {"name": tags.get("Name", ""), "size_gb": int(text(v, "size")),
                     "volume_type": self._govcloud_volume_type(v)}
            status = {"error": "ERROR", "creating": "BUILD"}.get(text(v, "status"), "ACTIVE")
            out.append(observed("volume", text(v, "volumeId"), tags, props,
                                {"project": tags.get(REF_TAG + "project", "")}, status))
        return out

    def _create_volume(self, req: Request) -> str:
        p = req.properties
        VPCS.by_id(self, req.refs["project"])
        ebs = self._ebs_type(p["volume_type"])
        tags = self._tags_for(req, **{VOLUME_TYPE_TAG: p["volume_type"],
                                      REF_TAG + "project": req.refs["project"]})
        params = {"Size": str(p["size_gb"]), "AvailabilityZone": self.zone, "VolumeType": ebs,
                  **tagspec("volume", tags)}
        if ebs in IOPS_TYPES:
            params["Iops"] = str(IOPS_TYPES[ebs])
        body = self.req("CreateVolume", **params)
        return text(body, "volumeId")

    def _update_volume(self, vid: str, el, p: dict, fields: set[str]) -> dict[str, str]:
        if "size_gb" in fields:
            have = int(text(el, "size"))
            if p["size_gb"] < have:
                raise Conflict(f"volume {vid}: cannot shrink from {have} GB to {p['size_gb']} GB")
            if p["size_gb"] > have:
                self.call("ModifyVolume", self.ec2.ex_modify_volume, Ref(vid),
                          {"Size": str(p["size_gb"])})
        return {}

    def _delete_volume(self, vid: str, el) -> None:
        self.call("DeleteVolume", self.ec2.destroy_volume, Ref(vid))

    # --- volume_attachment: cloud id "vol-x@i-y"; its element is the volume's ------------------
    def _attached_volume(self, cid: str):
        return VOLUMES.by_id(self, cid.partition("@")[0])

    def _observe_attachments(self, seen: Listing) -> list[Observed]:
        found = (self._attachment_obs(v) for v in self._seen_volumes(seen))
        return [o for o in found if o is not None and (not seen.address or o.address == seen.address)]

    def _attachment_obs(self, v) -> Observed | None:
        tags = tags_of(v)
        address = tags.get(ATTACHMENT_TAG)
        atts = [a for a in items(v, "attachmentSet/item")
                if text(a, "status") in ("attaching", "attached")]
        if not address or not atts:
            return None
        a = atts[0]
        vid, iid = text(v, "volumeId"), text(a, "instanceId")
        att_tags = {k: tags[k] for k in (OWNER_TAG, DEPARTMENT_TAG, ZONE_TAG) if k in tags}
        att_tags[ADDRESS_TAG] = address
        for k in (STACK_TAG, APPROVAL_TAG):
            if ATT_PREFIX + k in tags:
                att_tags[k] = tags[ATT_PREFIX + k]
        return observed("volume_attachment", f"{vid}@{iid}", att_tags,
                        {"device_index": device_index(text(a, "device"))},
                        {"server": iid, "volume": vid})

    def _create_volume_attachment(self, req: Request) -> str:
        vid, iid = req.refs["volume"], req.refs["server"]
        vol, inst = VOLUMES.by_id(self, vid), self._instance(iid)
        vtags = tags_of(vol)
        assert_owned(vtags, self.owner, f"volume {vid}")
        vpc = vtags.get(REF_TAG + "project")
        if vpc and vpc != text(inst, "vpcId"):
            same_project(text(inst, "vpcId"), vpc, "volume", vid)
        device = device_name(req.properties["device_index"])
        if not quirks.check_attach(vol, iid, device):   # attached as asked: only the tag is missing
            self.call("AttachVolume", self.ec2.attach_volume, Ref(iid), Ref(vid), device)
        extra = {ATTACHMENT_TAG: req.address}
        extra.update({ATT_PREFIX + k: req.tags[k] for k in (STACK_TAG, APPROVAL_TAG) if k in req.tags})
        self._set_tags(vid, extra)
        return f"{vid}@{iid}"

    def _delete_volume_attachment(self, cid: str, vol) -> None:
        vid, _, iid = cid.partition("@")

        def attached(v) -> list:
            return [a for a in items(v, "attachmentSet/item") if text(a, "instanceId") == iid
                    and text(a, "status") != "detached"]
        if not [a for a in items(vol, "attachmentSet/item") if text(a, "instanceId") == iid]:
            raise NotFound(f"volume {vid} is not attached to {iid}")
        self.call("DetachVolume", self.ec2.detach_volume, Ref(vid, instance_id=iid))
        wait_for(lambda: VOLUMES.by_id(self, vid), lambda v: not attached(v),
                 f"volume {vid} to detach from {iid}", self.wait_timeout, self.poll)
        self._untag(vid, ATT_TAGS)


S = StorageKinds
HANDLERS: dict[str, Handler] = {
    "volume": Handler(S._observe_volumes, VOLUMES.by_id, S._create_volume, S._delete_volume,
                      S._update_volume),
    "volume_attachment": Handler(S._observe_attachments, S._attached_volume,
                                 S._create_volume_attachment, S._delete_volume_attachment),
}
del S
