"""Decommissioning support (MediaAccess, Census): the files that hold a system's data, where
govcloud can reach the backends (option ``volume_files``: the Cinder file/NFS share, where a
volume is ``volume-<id>`` and its snapshot overlays ``volume-<id>.<snapshot id>``; option
``image_files``: Glance's filesystem store, where an image is a file named by its id), the
removal of backing files Cinder leaves behind, and the census of everything left of a stack.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from drivers.base import ADDRESS_TAG, Observed
from drivers.openstack.kind import Listing, dec, enc, field


class MediaFiles:
    """``media``, ``reclaim_media``, ``census`` and ``census_ids`` of the driver."""

    conn: Any
    volume_files: Path | None
    image_files: Path | None
    handlers: dict[str, Any]

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
            # the server's own volumes are media of their own; the rest is its boot volume
            ours = {o.cloud_id for o in self.handlers["volume"].observe(Listing(self))}
            ids = [(field(v, "id"), "root-disk") for v in server.attached_volumes or []
                   if field(v, "id") not in ours]
        from drivers.media import Medium
        media = []
        for vid, kind in ids:
            for path in sorted(self.volume_files.glob(f"volume-{vid}*")):
                if path.suffix == ".info":  # the NFS driver's snapshot bookkeeping, no data
                    continue
                whole = path.name == f"volume-{vid}"   # else a snapshot overlay
                media.append(Medium(vid if whole else path.name.split(".", 1)[1],
                                    kind if whole else "snapshot",
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

    def census_ids(self, current: Observed) -> list[str]:
        """A server's volumes: its boot volume goes with it, but a snapshot of it (which keeps
        it) names it, and without ``volume_files`` no medium records its id."""
        if current.kind != "server":
            return []
        with self._api():
            server = self.conn.compute.get_server(current.cloud_id)
        return sorted(field(v, "id") for v in server.attached_volumes or [])

    def census(self, stack: str, ids: list[str]) -> list[Observed]:
        """Everything in Keystone, Nova, Cinder, Glance and Neutron that carries the stack's tag,
        refers to its volumes or belongs to its projects (``ids``: the cloud ids of its objects
        and media), plus backing files still on the Cinder share or in the Glance store."""
        c, wanted, out = self.conn, set(ids), []
        shape = {k: self.handlers[k].shape for k in ("project", "server", "volume")}
        tag = enc("govcloud.stack", stack)
        with self._api():
            out += [shape["project"](p) for p in c.identity.projects(tags=tag)]
        for lister in (c.network.networks, c.network.subnets, c.network.routers,
                       c.network.security_groups, c.network.ips, c.network.ports):
            with self._api():
                out += [Observed(dec(x.tags).get(ADDRESS_TAG, ""), type(x).__name__.lower(), x.id,
                                 {}, {}, dec(x.tags)) for x in lister(tags=tag)]
        seen = {o.cloud_id for o in out}
        for lister in (c.network.security_groups, c.network.ports):   # untagged, in its projects:
            with self._api():                                         # Neutron's "default" group
                out += [Observed("", type(x).__name__.lower(), x.id, {"name": x.name,
                                 "project": x.project_id}, {}, {})
                        for x in lister() if x.project_id in wanted and x.id not in seen]
        with self._api():
            out += [shape["server"](x) for x in c.compute.servers(details=True, all_projects=True)
                    if (x.metadata or {}).get("govcloud.stack") == stack]
        with self._api():
            out += [shape["volume"](v) for v in c.block_storage.volumes(details=True, all_projects=True)
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
                    if p.suffix != ".info"]  # .info: bookkeeping, no data
        if self.image_files is not None:
            out += [Observed("", "image-file", v, {"path": str(self.image_files / v)}, {}, {})
                    for v in wanted if (self.image_files / v).is_file()]
        return out
