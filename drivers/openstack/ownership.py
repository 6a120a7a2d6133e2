"""Changing who owns an object, on every kind, through each kind's one tag store (``Kind.retag``):
``govcloud import`` takes an object under management (the ``Importing`` capability: lookup by id
whoever made it, claim when no other workspace owns it), and moves and ``state rm`` rename it in
place or release it (``Retagging``: only this workspace's objects). Where each kind keeps its tags
is the kind's business (Neutron and Keystone string tags, Nova's owner tag plus metadata, Cinder
metadata, a domain's description mark; a quota's and an attachment's are their project's and
volume's)."""
from __future__ import annotations

from typing import Any, Mapping

from drivers.base import OWNER_TAG, NotFound, NotOwned, Observed, Request


def _store(drv: Any, obj: Observed, req: Request, name: str | None = None) -> Observed:
    """The request's ownership tags, and what the kind keeps of the request among them."""
    h = drv.handlers[obj.kind]
    return h.retag(obj.cloud_id, {**h.stored(req), **req.tags}, name)


class OpenStackImport:
    """Mixin of OpenStackDriver: ``lookup`` and ``claim`` (the Importing capability)."""

    handlers: dict
    owner: str

    def lookup(self, kind: str, cloud_id: str) -> Observed | None:
        h = self.handlers.get(kind)
        if h is None:
            return None
        try:
            with self._api():
                return h.lookup(cloud_id)
        except NotFound:
            return None

    def claim(self, obj: Observed, req: Request) -> Observed:
        now = self.lookup(obj.kind, obj.cloud_id)
        if now is None:
            raise NotFound(f"{obj.kind} {obj.cloud_id} not found")
        other = now.tags.get(OWNER_TAG)
        if other and other != self.owner:
            raise NotOwned(f"{obj.kind} {obj.cloud_id} belongs to workspace {other}")
        return _store(self, obj, req)


class OpenStackRetagging:
    """Mixin of OpenStackDriver: ``rename`` and ``release`` (the Retagging capability), on
    owned objects only (``_check_owned`` re-reads the object's tags first)."""

    def rename(self, obj: Observed, req: Request) -> Observed:
        self._check_owned(obj)
        return _store(self, obj, req, req.properties.get("name"))

    def release(self, obj: Observed, note: Mapping[str, str]) -> Observed:
        self._check_owned(obj)
        return self.handlers[obj.kind].retag(obj.cloud_id, dict(note))
