"""The embedded cloud's addresses (a server's fixed IP, a floating IP's address) and its
renaming and releasing of objects (the ``Retagging`` capability), mixed into LocalDriver."""
from __future__ import annotations

import ipaddress
import json

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Conflict, Importing, Inventory, NotFound,
                          NotOwned, Observed, Request, Retagging)


class AddressesAndRetagging(Retagging, Inventory, Importing):
    # Addresses the cloud assigns (not in any spec: the planner compares only spec fields).
    FLOATING_POOLS = {"internet": "198.51.100.0/24", "extranet": "203.0.113.0/24"}

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
            pool = self.options.get("floating_pools", {}).get(
                req.properties["external_network"],
                self.FLOATING_POOLS.get(req.properties["external_network"], "192.0.2.0/24"))
            used = {r[0] for r in db.execute(
                "SELECT json_extract(props,'$.address') FROM objects WHERE kind='floating_ip'")}
            hosts = ipaddress.ip_network(pool).hosts()
        else:
            return {}
        key = "fixed_ip" if req.kind == "server" else "address"
        for ip in hosts:
            if str(ip) not in used:
                return {key: str(ip)}
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
