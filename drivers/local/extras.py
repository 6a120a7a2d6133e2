"""The embedded cloud's addresses (a server's fixed IP, a floating IP's address) and its
renaming and releasing of objects (the ``Retagging`` capability), mixed into LocalDriver."""
from __future__ import annotations

import ipaddress
import json

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, Importing, Inventory, NotFound,
                          NotOwned, Observed, Request, Retagging)


class AddressesAndRetagging(Retagging, Inventory, Importing):
    # Addresses the cloud assigns (not in any spec: the planner compares only spec fields).
    # Each pool's documentation /24 first, then a /16 of the shared address space (RFC 6598),
    # so that a province's thousands of public IPs fit.
    FLOATING_POOLS = {"internet": ("198.51.100.0/24", "100.64.0.0/16"),
                      "extranet": ("203.0.113.0/24", "100.65.0.0/16")}

    def _backfill_fixed_ips(self, db, network_id: str, cidr: str) -> None:
        """Servers created on a network before its subnet (the dependency graph does not order
        them) get their fixed IP when the subnet appears, as a port would on DHCP."""
        rows = db.execute("SELECT id, props FROM objects WHERE kind='server' AND "
                          "json_extract(refs,'$.network')=? AND json_extract(props,'$.fixed_ip') "
                          "IS NULL ORDER BY created_at", (network_id,)).fetchall()
        used = {r[0] for r in db.execute(
            "SELECT json_extract(props,'$.fixed_ip') FROM objects WHERE kind='server' AND "
            "json_extract(refs,'$.network')=?", (network_id,))}
        hosts = ipaddress.ip_network(cidr).hosts()
        next(hosts, None)
        free = (str(ip) for ip in hosts if str(ip) not in used)
        for oid, raw in rows:
            props = {**json.loads(raw), "fixed_ip": next(free)}
            db.execute("UPDATE objects SET props=? WHERE id=?",
                       (json.dumps(props, sort_keys=True), oid))

    def _addresses(self, db, req: Request) -> dict[str, str]:
        """A server's fixed IP (the next free host of its network's subnet, after the gateway);
        a floating IP's address (the next free one of its external network's pool)."""
        if req.kind == "server":
            row = db.execute("SELECT props FROM objects WHERE kind='subnet' AND "
                             "json_extract(refs,'$.network')=?", (req.refs["network"],)).fetchone()
            if row is None:
                return {}
            net = ipaddress.ip_network(json.loads(row[0])["cidr"])
            used = {r[0] for r in db.execute(
                "SELECT json_extract(props,'$.fixed_ip') FROM objects WHERE kind='server' AND "
                "json_extract(refs,'$.network')=?", (req.refs["network"],))}
            hosts = net.hosts()
            next(hosts, None)   # the gateway
        elif req.kind == "floating_ip":
            return {"address": self._floating_address(db, req)}
        elif req.kind == "subnet":
            self._backfill_fixed_ips(db, req.refs["network"], req.properties["cidr"])
            return {}
        else:
            return {}
        key = "fixed_ip" if req.kind == "server" else "address"
        for ip in hosts:
            if str(ip) not in used:
                return {key: str(ip)}
        raise Conflict(f"no free address left for {req.kind} {req.name}")

    def _floating_address(self, db, req: Request) -> str:
        """The first free address of the external network's pool, found by probing the address
        index from where this process last allocated (a full scan only when 64 probes miss:
        another workspace on a shared cloud, or deletes)."""
        ext = req.properties["external_network"]
        pool = self.options.get("floating_pools", {}).get(ext) or \
            self.FLOATING_POOLS.get(ext, ("192.0.2.0/24",))
        nets = [ipaddress.ip_network(c) for c in ([pool] if isinstance(pool, str) else pool)]
        hints = self.__dict__.setdefault("_fip_hint", {})
        taken = "SELECT 1 FROM objects WHERE json_extract(props,'$.address')=? AND kind='floating_ip'"
        start = hints.get(ext, 0)
        for i, ip in enumerate(_hosts_from(nets, start)):
            if i >= 64:
                break
            if not db.execute(taken, (str(ip),)).fetchone():
                hints[ext] = start + i + 1
                return str(ip)
        used = {r[0] for r in db.execute(
            "SELECT json_extract(props,'$.address') FROM objects WHERE kind='floating_ip'")}
        for i, ip in enumerate(_hosts_from(nets, 0)):
            if str(ip) not in used:
                hints[ext] = i + 1
                return str(ip)
        raise Conflict(f"no free address left for {req.kind} {req.name}")

    def rename(self, current: Observed, req: Request) -> Observed:
        """New name and govcloud tags (a move), in place: same id, same bytes."""
        self._call()
        with self._tx() as db:
            now = self._get(db, current.cloud_id, current.kind)
            self._owned(now)
            props = dict(now.properties)
            if "name" in props and "name" in req.properties:
                props["name"] = req.properties["name"]
            tags = {**{k: v for k, v in now.tags.items() if not k.startswith("govcloud.")},
                    **req.tags}
            db.execute("UPDATE objects SET name=?, props=?, tags=?, owner=?, address=? WHERE id=?",
                       (req.name, json.dumps(props, sort_keys=True), json.dumps(tags, sort_keys=True),
                        tags.get(OWNER_TAG), tags.get(ADDRESS_TAG), now.cloud_id))
        return self._get(self._db(), current.cloud_id)

    def release(self, current: Observed, note) -> Observed:
        """govcloud's tags removed (the object is no longer listed as ours), ``note`` added."""
        self._call()
        with self._tx() as db:
            now = self._get(db, current.cloud_id, current.kind)
            self._owned(now)
            tags = {**{k: v for k, v in now.tags.items() if not k.startswith("govcloud.")},
                    **note}
            db.execute("UPDATE objects SET tags=?, owner=NULL, address=NULL WHERE id=?",
                       (json.dumps(tags, sort_keys=True), now.cloud_id))
        return self._get(self._db(), current.cloud_id)


    def inventory(self, project_ids: list[str]) -> list[Observed]:
        """Every object in these projects (any owner, or none), the projects themselves not."""
        self._call()
        if not project_ids:
            return []
        q = ",".join("?" * len(project_ids))
        rows = self._db().execute(f"SELECT {self._COLS} FROM objects WHERE project_id IN ({q}) "
                                  f"AND kind NOT IN ('project', 'quota')", project_ids).fetchall()
        return [self._row(r) for r in rows]

    def lookup(self, kind: str, cloud_id: str) -> Observed | None:
        self._call()
        try:
            return self._get(self._db(), cloud_id, kind)
        except NotFound:
            return None

    def claim(self, obj: Observed, req: Request) -> Observed:
        """This workspace's tags on an object nobody owns (name and properties unchanged)."""
        self._call()
        with self._tx() as db:
            now = self._get(db, obj.cloud_id, obj.kind)
            other = now.tags.get(OWNER_TAG)
            if other and other != self.owner:
                raise NotOwned(f"{now.kind} {now.cloud_id} belongs to workspace {other}")
            tags = {**{k: v for k, v in now.tags.items() if not k.startswith("govcloud.")},
                    **req.tags}
            db.execute("UPDATE objects SET tags=?, owner=?, address=? WHERE id=?",
                       (json.dumps(tags, sort_keys=True), tags.get(OWNER_TAG),
                        tags.get(ADDRESS_TAG), now.cloud_id))
        return self._get(self._db(), obj.cloud_id)


def _hosts_from(nets: list, start: int):
    """The usable hosts of ``nets`` in order, from the ``start``-th on (without walking the
    ones before it)."""
    for net in nets:
        first = 1 if net.num_addresses > 2 else 0      # hosts(): no network/broadcast address
        count = net.num_addresses - 2 * first
        if start >= count:
            start -= count
            continue
        for k in range(start, count):
            yield net[first + k]
        start = 0
