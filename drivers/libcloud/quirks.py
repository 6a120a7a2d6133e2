"""Every fix govcloud needs for libcloud's EC2 driver and moto's EC2 API, in one place.

Measured against moto 5.2.5 with apache-libcloud 3.9.1 (see ``../shared/docs/libraries.md``).
Fixes 1-5 and 9 are small mixins on libcloud's driver, each named after what it fixes, with the error
text (or the silent wrong answer) it works around: ``FixedEC2NodeDriver`` carries all of them and
``driver_without(name)`` leaves one out. Fixes 6-8 are guards the driver calls where moto behaves
unlike EC2. ``tests/libcloud/test_libcloud_quirks.py`` shows each failure without its fix.

1. ``NamespaceFix`` - moto answers in the XML namespace ``http://ec2.amazonaws.com/doc/2016-11-15``
   (no trailing slash); libcloud's XPaths use ``.../2016-11-15/``. Without the fix every list is
   silently ``[]`` and creates crash with ``IndexError: list index out of range`` (e.g. in
   ``ex_create_network``). Error bodies carry the same namespace, which hides every API error:
   ``BaseHTTPError('')`` instead of ``InvalidVpcID.NotFound: VpcID vpc-x does not exist.``
2. ``TagIndexFix`` - libcloud numbers ``ResourceId.N`` / ``Tag.N.Key`` from 0; moto reads from 1
   and answers ``MissingParameter: The request must contain the parameter resourceIdSet``. This
   also breaks ``create_volume`` and named networks/subnets, which tag internally.
3. ``DetachVolumeFix`` - ``DetachVolume`` with only ``VolumeId`` makes moto fail with HTTP 500 (its
   log: ``TypeError: object of type 'NoneType' has no len()`` in moto/ec2/exceptions.py), which
   libcloud reports as ``MalformedResponseException ... 'Failed to parse XML'``. Send
   ``InstanceId`` too (real EC2 accepts both forms).
4. ``BooleanReplyFix`` - several calls (``DeleteVolume``, ``CreateTags``, ``DeleteTags``...) are
   answered by moto without ``<return>true</return>``; libcloud then returns ``False`` for a call
   that succeeded. A 2xx reply is success (errors raise before parsing); only an explicit
   ``<return>false</return>`` is a failure.
5. ``Utf8ReplyFix`` - moto answers ``Content-Type: text/xml`` with no charset; requests then
   decodes the body as ISO-8859-1 (HTTP's default for text/*), and every non-ASCII tag comes back
   as mojibake: ``市教育局`` is read as ``å¸\x82æ\x95\x99è\x82²å±\x80``, so a plan never settles
   (each run "updates" the description again). The XML declares UTF-8: decode it as UTF-8.

9. ``ServerErrorReplyFix`` - a 5xx (or 429) answer whose body is not EC2's XML (a load balancer's
   or proxy's ``503 Service Unavailable`` page, a gateway's plain-text 500) makes libcloud raise
   ``MalformedResponseError: Failed to parse XML`` without the status, which the driver can only
   report as a permanent error: a decommission stopped at the first such answer. Raise it as the
   HTTP error it is (``BaseHTTPError`` with its status), which ``translate`` retries.

moto's own behaviours that differ from EC2, worked around in the driver through the functions at
the end of this module (each workaround is also correct against real EC2):

6. ``check_attach`` - moto attaches a volume that is already attached (EC2 refuses:
   ``VolumeInUse: vol-x is already attached to an instance``): to another instance it silently
   moves it; to the same instance under a second device it records both, and
   ``TerminateInstances`` then fails with ``InvalidAttachment.NotFound: Volume vol-x can not be
   detached from i-y because it is not attached``. Look first.
7. ``drop_subnet_associations`` - moto deletes a subnet but keeps its route table association,
   so the route table (govcloud's network) can never be deleted: ``DependencyViolation: The
   routeTable 'rtb-x' has dependencies and cannot be deleted.`` Disassociate first.
8. ``refuse_busy_subnet`` - moto deletes a subnet that still has instances (EC2 answers
   ``DependencyViolation``), stranding them. Refuse with Conflict, as EC2 does.
"""
from __future__ import annotations

import re
from typing import Any

from libcloud.common.exceptions import BaseHTTPError
from libcloud.compute.drivers.ec2 import NAMESPACE, EC2Connection, EC2NodeDriver, EC2Response

from drivers.base import Conflict

from .ec2xml import items, text

# moto's namespace: libcloud's without the trailing slash.
_BARE_NAMESPACE = NAMESPACE.rstrip("/")
_XMLNS = re.compile(r'xmlns="' + re.escape(_BARE_NAMESPACE) + r'/?"')


class _NamespaceReply:
    """Quirk 1, in the response: success bodies get libcloud's namespace, errors none (as AWS)."""

    def parse_body(self):
        if self.body and _BARE_NAMESPACE in self.body[:500]:
            self.body = _XMLNS.sub(f'xmlns="{NAMESPACE}"', self.body, count=1)
        return super().parse_body()

    def parse_error(self):
        # AWS error replies have no namespace and libcloud looks for a bare "Errors/Error".
        if self.body:
            self.body = _XMLNS.sub("", self.body, count=1)
        return super().parse_error()


class _Utf8Reply:
    """Quirk 5, in the response: a text/xml body without a charset is UTF-8, not ISO-8859-1."""

    def _as_utf8(self) -> None:
        if self.body and "charset" not in self.headers.get("content-type", "").lower():
            try:
                self.body = self.body.encode("latin-1").decode("utf-8")
            except UnicodeError:  # really was Latin-1 (or already decoded): leave it
                pass

    def parse_body(self):
        self._as_utf8()
        return super().parse_body()

    def parse_error(self):
        self._as_utf8()
        return super().parse_error()


class _ServerErrorReply:
    """Quirk 9, in the response: a non-XML 5xx/429 body is an HTTP error with its status."""

    def parse_error(self):
        status = int(getattr(self, "status", 0) or 0)
        body = (self.body or "").lstrip()
        if (status >= 500 or status == 429) and not body.startswith("<"):
            first = body.splitlines()[0][:120] if body else ""
            raise BaseHTTPError(status, f"HTTP {status}: {first or 'no body'}")
        return super().parse_error()


class ServerErrorReplyFix:
    """Quirk 9 (see module docstring). Works through the response class (see ``compose``)."""

    reply_fix = _ServerErrorReply


class NamespaceFix:
    """Quirk 1 (see module docstring). Works through the response class (see ``compose``)."""

    reply_fix = _NamespaceReply


class Utf8ReplyFix:
    """Quirk 5 (see module docstring). Works through the response class (see ``compose``)."""

    reply_fix = _Utf8Reply


class TagIndexFix:
    """Quirk 2: number ResourceId.N and Tag.N.* from 1, as the EC2 API defines them."""

    def _tag_call(self, action: str, resource, tags: dict, with_values: bool) -> bool:
        if not tags:
            return True
        params = {"Action": action, "ResourceId.1": resource.id}
        for i, key in enumerate(tags, 1):
            params[f"Tag.{i}.Key"] = key
            if with_values and tags[key] is not None:
                params[f"Tag.{i}.Value"] = tags[key]
        res = self.connection.request(self.path, params=params).object
        return self._get_boolean(res)

    def ex_create_tags(self, resource, tags):
        return self._tag_call("CreateTags", resource, tags, True)

    def ex_delete_tags(self, resource, tags):
        return self._tag_call("DeleteTags", resource, tags, True)


class DetachVolumeFix:
    """Quirk 3: DetachVolume names the instance too (moto answers HTTP 500 without it)."""

    def detach_volume(self, volume, ex_force=False):
        params = {"Action": "DetachVolume", "VolumeId": volume.id}
        instance = (volume.extra or {}).get("instance_id")
        if instance:
            params["InstanceId"] = instance
        if ex_force:
            params["Force"] = 1
        self.connection.request(self.path, params=params)
        return True


class BooleanReplyFix:
    """Quirk 4: a 2xx reply without <return> is success; only <return>false</return> fails."""

    def _get_boolean(self, element):
        value = element.findtext(f"{{{NAMESPACE}}}return") if element is not None else None
        return value != "false"


QUIRKS = {"namespace": NamespaceFix, "tag_index": TagIndexFix, "detach_volume": DetachVolumeFix,
          "boolean_reply": BooleanReplyFix, "utf8_reply": Utf8ReplyFix,
          "server_error_reply": ServerErrorReplyFix}


def compose(name: str, fixes: tuple[type, ...]) -> type:
    """libcloud's EC2 driver with these fixes: driver mixins first, the reply fixes folded into
    the connection's response class."""
    replies = tuple(f.reply_fix for f in (ServerErrorReplyFix, Utf8ReplyFix, NamespaceFix)
                    if f in fixes)
    response = type(f"{name}Response", replies + (EC2Response,), {})
    connection = type(f"{name}Connection", (EC2Connection,), {"responseCls": response})
    return type(name, fixes + (EC2NodeDriver,), {"connectionCls": connection})


def driver_without(*names: str) -> type:
    """The EC2 driver with every fix except ``names`` (for the tests that prove each fix)."""
    unknown = set(names) - set(QUIRKS)
    if unknown:
        raise KeyError(f"unknown quirk(s) {sorted(unknown)}; known: {sorted(QUIRKS)}")
    return compose("EC2Without_" + "_".join(names),
                   tuple(cls for n, cls in QUIRKS.items() if n not in names))


FixedEC2NodeDriver = compose("FixedEC2NodeDriver", tuple(QUIRKS.values()))
FixedEC2NodeDriver.__doc__ = "libcloud's EC2 driver with every fix above."


# --- moto behaviours (6-8), worked around by the driver ------------------------------------
def check_attach(volume, instance_id: str, device: str) -> bool:
    """Quirk 6. ``volume``: its DescribeVolumes item. Conflict if it is attached elsewhere; True
    if already attached exactly as asked (an interrupted create: nothing to do); False if free."""
    live = [a for a in items(volume, "attachmentSet/item")
            if text(a, "status") in ("attaching", "attached")]
    if not live:
        return False
    a = live[0]
    if text(a, "instanceId") != instance_id or text(a, "device") != device:
        raise Conflict(f"volume {text(volume, 'volumeId')} is in-use (already attached to "
                       f"{text(a, 'instanceId')} as {text(a, 'device')})")
    return True


def drop_subnet_associations(drv: Any, subnet_id: str) -> None:
    """Quirk 7. Remove the subnet's route table associations before it is deleted."""
    for rt in drv.describe("DescribeRouteTables", "routeTableSet/item",
                           **drv.filters({"association.subnet-id": subnet_id})):
        for a in items(rt, "associationSet/item"):
            if text(a, "subnetId") == subnet_id and text(a, "main") != "true":
                drv.req("DisassociateRouteTable", AssociationId=text(a, "routeTableAssociationId"))


def refuse_busy_subnet(drv: Any, subnet_id: str) -> None:
    """Quirk 8. Conflict while instances (not terminated) are in the subnet."""
    busy = drv.describe("DescribeInstances", "reservationSet/item", **drv.filters(
        {"subnet-id": subnet_id, "instance-state-name": ["pending", "running", "stopping", "stopped"]}))
    if busy:
        iid = text(items(busy[0], "instancesSet/item")[0], "instanceId")
        raise Conflict(f"subnet {subnet_id} is in use by server {iid}")
