"""Cinder: volumes (made in their project through a scoped connection, govcloud's tags as
metadata since Cinder has no tags: ``retag`` rewrites them) and their snapshots, which go before
the volume does. Cinder cannot filter by metadata, so the owned volumes are one list of all
projects' volumes, filtered here.
"""
from __future__ import annotations

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, CreateFailed, DriverError, Observed,
                          wait_for)
from drivers.openstack.kind import Kind


def owned_volumes(d) -> list:
    with d._api():
        return [v for v in d.conn.block_storage.volumes(details=True, all_projects=True)
                if (v.metadata or {}).get(OWNER_TAG) == d.owner]


def _went_wrong(obj) -> str | None:
    status = getattr(obj, "status", "")
    return f"went to status {status}" if status in ("error", "ERROR") else None


class Volume(Kind):
    kind = "volume"

    def shape(self, v) -> Observed:
        md = dict(v.metadata or {})
        tags = {k: val for k, val in md.items() if k.startswith("govcloud.") and
                not k.startswith("govcloud.attachment")}
        status = "ERROR" if v.status == "error" else "ACTIVE"
        return Observed(md.get(ADDRESS_TAG, ""), "volume", v.id,
                        {"name": v.name, "size_gb": v.size, "volume_type": v.volume_type},
                        {"project": v.project_id}, tags, status)

    def observe(self, listing):
        return [self.shape(v) for v in listing(owned_volumes)]

    def live(self, cloud_id):
        return self.shape(self.conn.block_storage.get_volume(cloud_id))

    def retag(self, cloud_id, tags, name=None):
        """govcloud's metadata exactly ``tags``. The attachment keys belong to the volume's
        attachment (compute.VolumeAttachment) and stay, unless the volume is released."""
        bs = self.conn.block_storage
        released = OWNER_TAG not in tags
        with self.api():
            v = bs.get_volume(cloud_id)
            stale = [k for k in v.metadata or {} if k.startswith("govcloud.") and k not in tags
                     and (released or not k.startswith("govcloud.attachment."))]
            if stale:
                bs.delete_volume_metadata(v, keys=stale)
            if tags:
                bs.set_volume_metadata(v, **tags)
            if name is not None and name != v.name:
                bs.update_volume(v, name=name)
        with self.api():
            return self.live(cloud_id)

    def _get(self, cloud_id: str):
        with self.api():
            return self.conn.block_storage.get_volume(cloud_id)

    def create(self, req):
        pc = self.d._project_conn(req.refs["project"])
        with self.api():
            v = pc.block_storage.create_volume(size=req.properties["size_gb"], name=req.name,
                                               volume_type=req.properties["volume_type"],
                                               metadata=dict(req.tags))
        try:
            with self.api():
                v = pc.block_storage.wait_for_status(v, "available", failures=["error"],
                                                     wait=self.d.timeout)
        except DriverError as exc:
            raise CreateFailed(f"volume {req.name} did not become available: {exc}", v.id) from None
        return self.shape(v)

    def update(self, cur, req, fields):
        size = req.properties.get("size_gb")
        if "size_gb" in fields and size < cur.properties.get("size_gb", 0):
            raise Conflict(f"volume {cur.cloud_id}: cannot shrink from {cur.properties['size_gb']} "
                           f"GB to {size} GB")
        if "size_gb" in fields:
            with self.api():
                v = self.conn.block_storage.get_volume(cur.cloud_id)
                self.conn.block_storage.extend_volume(v, size)
            wait_for(lambda: self._get(cur.cloud_id),
                     lambda v: v.size == size and v.status in ("available", "in-use"),
                     f"volume {cur.cloud_id} to reach {size} GB", self.d.timeout,
                     failed=_went_wrong)
        return self.shape(self._get(cur.cloud_id))

    def delete(self, cur):
        bs = self.conn.block_storage
        # Its snapshots go first (Cinder refuses otherwise); their data was wiped with the
        # volume's media when a sanitizer ran before this delete.
        with self.api():
            snaps = list(bs.snapshots(volume_id=cur.cloud_id, all_projects=True))
        for snap in snaps:
            with self.api():
                bs.delete_snapshot(snap)
                bs.wait_for_delete(snap, wait=self.d.timeout)
        v = self._get(cur.cloud_id)
        if v.status == "detaching" or (v.status == "in-use" and not v.attachments):
            with self.api():  # a server's deletion is still detaching it
                bs.wait_for_status(v, "available", failures=["error"], wait=self.d.timeout)
        with self.api():
            bs.delete_volume(cur.cloud_id, ignore_missing=False)
        with self.api():
            v = bs.get_volume(cur.cloud_id)
            bs.wait_for_delete(v, wait=self.d.timeout)
