"""Nova: servers (booted from a volume of the approved system-disk size, in their project through
a scoped connection), volume attachments (recorded in the volume's Cinder metadata, since Nova
keeps no tags on them) and power control. Nova tags are at most 60 characters: a server carries
only the owner tag as a tag and the rest of govcloud's tags as metadata, beside what govcloud
records there of the server's spec (image, system disk, network, security group). Importing a
server made outside govcloud reads those from the cloud instead (its boot volume and its port).
"""
from __future__ import annotations

from typing import Any

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, CreateFailed, DriverError, NotFound,
                          Observed)
from drivers.openstack import repair
from drivers.openstack.kind import Kind, enc, field, id_parts
from drivers.openstack.storage import owned_volumes

ATTACHMENT_KEYS = ("govcloud.attachment.address", "govcloud.attachment.device_index")


class ServerPower:
    """``set_power`` (PowerControl): stop or start a server and wait until it is there."""

    conn: Any
    timeout: float

    def set_power(self, current: Observed, state: str) -> None:
        self._check_owned(current)   # like update and delete: never another workspace's server
        with self._api():
            if state == "SHUTOFF":
                self.conn.compute.stop_server(current.cloud_id)
            else:
                self.conn.compute.start_server(current.cloud_id)
            s = self.conn.compute.get_server(current.cloud_id)
            self.conn.compute.wait_for_server(s, status=state, failures=["ERROR"], wait=self.timeout)


class ServerConsole:
    """Mixin of OpenStackDriver: Nova's remote console (noVNC, then SPICE, then serial)."""

    def console_url(self, current: Observed) -> str:
        from drivers.base import Unsupported
        self._check_owned(current)   # never another workspace's server
        reasons = []
        for protocol, kind in (("vnc", "novnc"), ("spice", "spice-html5"), ("serial", "serial")):
            try:
                with self._api():
                    c = self.conn.compute.create_server_remote_console(
                        current.cloud_id, protocol=protocol, type=kind)
                return c.url
            except DriverError as exc:
                reasons.append(f"{kind}: {exc}")
        raise Unsupported("this cloud offers no console for the server (" + "; ".join(reasons) + ")")


class Server(Kind):
    kind = "server"

    def shape(self, s) -> Observed:
        md = dict(s.metadata or {})
        tags = {k: v for k, v in md.items() if k.startswith("govcloud.")}
        flavor = s.flavor or {}
        status = {"ACTIVE": "ACTIVE", "SHUTOFF": "SHUTOFF", "ERROR": "ERROR"}.get(s.status, s.status)
        return Observed(md.get(ADDRESS_TAG, ""), "server", s.id, {
            "name": s.name, "flavor": flavor.get("original_name") or flavor.get("name"),
            "vcpus": flavor.get("vcpus"), "ram_gb": (flavor.get("ram") or 0) // 1024,
            "image": md.get("govcloud.image"), "system_disk_gb": int(md.get("govcloud.system_disk_gb", 0)),
            "system_disk_type": md.get("govcloud.system_disk_type"),
            "fixed_ip": next((field(a, "addr") for net in (s.addresses or {}).values() for a in net
                              if (field(a, "OS-EXT-IPS:type") or "fixed") == "fixed"), None)},
            {"project": s.project_id, "network": md.get("govcloud.network_id"),
             "security_group": md.get("govcloud.security_group_id")}, tags, status)

    def observe(self, listing):
        with self.api():
            servers = list(self.conn.compute.servers(details=True, all_projects=True,
                                                     tags=self.d.owner_tag))
        return [self.shape(s) for s in servers]

    def live(self, cloud_id):
        return self.shape(self.conn.compute.get_server(cloud_id))

    def _wait_active(self, s):
        return self.conn.compute.wait_for_server(s, status="ACTIVE", failures=["ERROR"],
                                                 wait=self.d.timeout)

    def create(self, req):
        p = req.properties
        pc = self.d._project_conn(req.refs["project"])
        with self.api():
            flavor = self.conn.compute.find_flavor(p["flavor"], ignore_missing=False)
            image = self.conn.image.find_image(p["image"], ignore_missing=False)
            group = self.conn.network.get_security_group(req.refs["security_group"])
        md = {**req.tags, **self.stored(req)}
        with self.api():
            s = pc.compute.create_server(
                name=req.name, flavor_id=flavor.id, networks=[{"uuid": req.refs["network"]}],
                security_groups=[{"name": group.name}], metadata=md, tags=[self.d.owner_tag],
                block_device_mapping=[{"boot_index": 0, "uuid": image.id, "source_type": "image",
                                       "destination_type": "volume", "volume_size": p["system_disk_gb"],
                                       "volume_type": p["system_disk_type"],
                                       "delete_on_termination": True}])
        try:
            with self.api():
                s = self._wait_active(s)
        except DriverError as exc:
            raise CreateFailed(f"server {req.name} did not become ACTIVE: {exc}", s.id) from None
        return self.shape(s)

    def stored(self, req):
        p = req.properties
        return {"govcloud.image": p["image"], "govcloud.system_disk_gb": str(p["system_disk_gb"]),
                "govcloud.system_disk_type": p["system_disk_type"],
                "govcloud.network_id": req.refs["network"],
                "govcloud.security_group_id": req.refs["security_group"]}

    def lookup(self, cloud_id):
        """The server as it is, whoever made it: image, system disk size and type from its boot
        volume, network and security groups from its ports (not from govcloud's metadata)."""
        c = self.conn
        s = c.compute.get_server(cloud_id)
        seen = self.shape(s)
        props, refs = dict(seen.properties), dict(seen.refs)
        boot = None
        for v in (c.block_storage.get_volume(field(a, "id")) for a in s.attached_volumes or []):
            devices = {a.get("device") for a in v.attachments or [] if a.get("server_id") == s.id}
            if s.root_device_name in devices or (boot is None and v.is_bootable):
                boot = v
        image = (boot.volume_image_metadata or {}).get("image_name") if boot else None
        props.update(image=image, system_disk_gb=boot.size if boot else 0,
                     system_disk_type=boot.volume_type if boot else None)
        ports = list(c.network.ports(device_id=s.id))
        nets = sorted({p.network_id for p in ports})
        groups = sorted({g for p in ports for g in p.security_group_ids or []})
        # one network and one group, or the ids of all (which match no spec: refused)
        refs.update(network=",".join(nets) or None, security_group=",".join(groups) or None)
        return Observed(seen.address, seen.kind, seen.cloud_id, props, refs, seen.tags, seen.status)

    def retag(self, cloud_id, tags, name=None):
        """govcloud's metadata exactly ``tags``; the Nova tag: the owner's, or none."""
        compute = self.conn.compute
        with self.api():
            s = compute.get_server(cloud_id)
            stale = [k for k in s.metadata or {} if k.startswith("govcloud.") and k not in tags]
            if stale:
                compute.delete_server_metadata(s, stale)
            if tags:
                compute.set_server_metadata(s, **tags)
            owner = [enc(OWNER_TAG, tags[OWNER_TAG])] if OWNER_TAG in tags else []
            for t in s.tags or []:
                if t.startswith("govcloud.") and t not in owner:
                    compute.remove_tag_from_server(s, t)
            for t in owner:
                if t not in (s.tags or []):
                    compute.add_tag_to_server(s, t)
            if name is not None and name != s.name:
                compute.update_server(s, name=name)
        with self.api():
            return self.live(cloud_id)

    def update(self, cur, req, fields):
        compute = self.conn.compute
        if "security_groups" in fields:   # isolation drift: only its approved group
            repair.server_groups(self.d, cur.cloud_id, req.refs["security_group"])
        if fields & {"flavor", "vcpus", "ram_gb"}:
            with self.api():
                flavor = compute.find_flavor(req.properties["flavor"], ignore_missing=False)
                compute.resize_server(cur.cloud_id, flavor.id)
                s = compute.wait_for_server(compute.get_server(cur.cloud_id), status="VERIFY_RESIZE",
                                            failures=["ERROR"], wait=self.d.timeout)
                compute.confirm_server_resize(s)
                s = self._wait_active(s)
        with self.api():
            return self.shape(compute.get_server(cur.cloud_id))

    def delete(self, cur):
        c = self.conn
        with self.api():
            s = c.compute.get_server(cur.cloud_id)
        boot = [field(v, "id") for v in s.attached_volumes or [] if field(v, "delete_on_termination")]
        # Nova detaches every attached volume with the server: never one govcloud does not own
        for vid in [field(v, "id") for v in s.attached_volumes or []
                    if not field(v, "delete_on_termination")]:
            with self.api():
                v = c.block_storage.get_volume(vid)
            if (v.metadata or {}).get(OWNER_TAG) != self.d.owner:
                raise Conflict(f"server {cur.cloud_id} has volume {vid} attached that this "
                               "workspace does not own: deleting the server would detach it; its "
                               "owner must detach it first")
        with self.api():
            c.compute.delete_server(cur.cloud_id, ignore_missing=False)
        with self.api():
            c.compute.wait_for_delete(s, wait=self.d.timeout)
        for vid in boot:  # Cinder deletes the boot volume after the server: wait for it too
            with self.api():
                v = c.block_storage.find_volume(vid, all_projects=True)
            if v is not None:
                with self.api():
                    c.block_storage.wait_for_delete(v, wait=self.d.timeout)


class VolumeAttachment(Kind):
    """A volume attached to a server: cloud id ``<server id>/<volume id>``."""
    kind = "volume_attachment"

    def shape(self, v) -> Observed | None:
        md = dict(v.metadata or {})
        addr = md.get("govcloud.attachment.address")
        server = next((a.get("server_id") for a in v.attachments or []), None)
        if not addr or not server:
            return None
        return Observed(addr, "volume_attachment", f"{server}/{v.id}",
                        {"device_index": int(md.get("govcloud.attachment.device_index", 0))},
                        {"server": server, "volume": v.id},
                        {OWNER_TAG: self.d.owner, ADDRESS_TAG: addr})

    def observe(self, listing):
        return [a for a in (self.shape(v) for v in listing(owned_volumes)) if a is not None]

    def live(self, cloud_id):
        v = self._volume(cloud_id)
        return Observed("", self.kind, cloud_id, {}, {},
                        {OWNER_TAG: (v.metadata or {}).get(OWNER_TAG, "")})

    def _volume(self, cloud_id: str):
        parts = id_parts(cloud_id)
        if len(parts) != 2:
            raise NotFound(f"{cloud_id!r} is no attachment id (<server id>/<volume id>)")
        return self.conn.block_storage.get_volume(parts[1])

    def lookup(self, cloud_id):
        """The attachment as it is: its device index from the device Nova gave it (vdb: 1)
        where govcloud recorded none; its owner is its volume's."""
        server = id_parts(cloud_id)[0]
        v = self._volume(cloud_id)
        att = next((a for a in v.attachments or [] if a.get("server_id") == server), None)
        if att is None:
            raise NotFound(f"volume {v.id} is not attached to server {server}")
        md = dict(v.metadata or {})
        device = att.get("device") or ""
        index = md.get(ATTACHMENT_KEYS[1]) or (ord(device[-1]) - ord("a") if device else -1)
        tags = {k: md[k] for k in (OWNER_TAG,) if k in md}
        if ATTACHMENT_KEYS[0] in md:
            tags[ADDRESS_TAG] = md[ATTACHMENT_KEYS[0]]
        return Observed(tags.get(ADDRESS_TAG, ""), self.kind, cloud_id, {"device_index": int(index)},
                        {"server": server, "volume": v.id}, tags)

    def stored(self, req):
        return {ATTACHMENT_KEYS[1]: str(req.properties["device_index"])}

    def retag(self, cloud_id, tags, name=None):
        """Its tags are its address and device index in its volume's metadata; its owner is the
        volume's (so the volume is imported first, and a release removes only its own keys)."""
        v = self._get_volume(cloud_id)
        owner = (v.metadata or {}).get(OWNER_TAG)
        with self.api():
            if OWNER_TAG not in tags:
                have = [k for k in ATTACHMENT_KEYS if k in (v.metadata or {})]
                if have:
                    self.conn.block_storage.delete_volume_metadata(v, keys=have)
            elif owner != tags[OWNER_TAG]:
                raise Conflict(f"volume {v.id} does not carry this workspace's tags: an "
                               f"attachment is owned through its volume (import the volume first)")
            else:
                self.conn.block_storage.set_volume_metadata(v, **{
                    ATTACHMENT_KEYS[0]: tags[ADDRESS_TAG], ATTACHMENT_KEYS[1]: tags[ATTACHMENT_KEYS[1]]})
        with self.api():
            return self.lookup(cloud_id)

    def _get_volume(self, cloud_id: str):
        with self.api():
            return self._volume(cloud_id)

    def _wait_status(self, v, status: str):
        return self.conn.block_storage.wait_for_status(v, status, failures=["error"],
                                                       wait=self.d.timeout)

    def create(self, req):
        server, volume = req.refs["server"], req.refs["volume"]
        with self.api():
            v = self.conn.block_storage.get_volume(volume)
        if v.attachments:
            raise Conflict(f"volume {volume} is in-use (already attached)")
        with self.api():
            self.conn.block_storage.set_volume_metadata(v, **dict(zip(ATTACHMENT_KEYS, (
                req.address, str(req.properties["device_index"])))))
            self.conn.compute.create_volume_attachment(server, volume=volume)
            v = self._wait_status(v, "in-use")
        return self.shape(v)

    def update(self, cur, req, fields):
        raise Conflict("an attachment cannot change in place")

    def delete(self, cur):
        server, volume = id_parts(cur.cloud_id)
        with self.api():
            self.conn.compute.delete_volume_attachment(server, volume)
            v = self.conn.block_storage.get_volume(volume)
            self._wait_status(v, "available")
            self.conn.block_storage.delete_volume_metadata(v, keys=list(ATTACHMENT_KEYS))
