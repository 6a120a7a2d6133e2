"""The embedded cloud's read of some addresses only (drivers.base.AddressReads): a plan of a few
departments reads their objects through the (owner, address) index instead of every row."""
from __future__ import annotations

import json
from typing import Iterable

from drivers.base import ADDRESS_TAG, AddressReads, Observed


class LocalAddressReads(AddressReads):
    def observe_addresses(self, addresses: Iterable[str]) -> list[Observed]:
        self._call()
        rows = self._db().execute(
            f"SELECT {self._COLS} FROM objects WHERE owner=? AND address IN "
            "(SELECT value FROM json_each(?))",
            (self.owner, json.dumps(sorted(set(addresses)), ensure_ascii=False))).fetchall()
        props, refs, tags = (json.loads("[" + ",".join(r[i] for r in rows) + "]")
                             for i in (4, 5, 6))
        return [Observed(address=t.get(ADDRESS_TAG, ""), kind=r[1], cloud_id=r[0], properties=p,
                         refs=f, tags=t, status=r[7])
                for r, p, f, t in zip(rows, props, refs, tags)]
