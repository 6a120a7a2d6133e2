"""The embedded cloud's read of some departments only (drivers.base.DepartmentReads): a plan of
a few departments reads their objects, not all 185,000 of a province."""
from __future__ import annotations

import json
from typing import Iterable

from drivers.base import ADDRESS_TAG, DepartmentReads, Observed

# An address is kind:target/DEPT[/...]: its department is what follows the first "/", up to
# the next one. Compared as text (no LIKE: "_" in a code would be a wildcard).
_IN_DEPARTMENTS = (
    "EXISTS (SELECT 1 FROM json_each(?) d WHERE substr(address, instr(address, '/') + 1) = d.value"
    " OR substr(address, instr(address, '/') + 1, length(d.value) + 1) = d.value || '/')")


class LocalDepartmentReads(DepartmentReads):
    def observe_departments(self, departments: Iterable[str]) -> list[Observed]:
        depts = sorted(set(departments))
        self._call()
        if not depts:
            return []
        rows = self._db().execute(
            f"SELECT {self._COLS} FROM objects WHERE owner=? AND instr(address, '/') > 0 AND "
            f"{_IN_DEPARTMENTS}", (self.owner, json.dumps(depts, ensure_ascii=False))).fetchall()
        props, refs, tags = (json.loads("[" + ",".join(r[i] for r in rows) + "]")
                             for i in (4, 5, 6))
        return [Observed(address=t.get(ADDRESS_TAG, ""), kind=r[1], cloud_id=r[0], properties=p,
                         refs=f, tags=t, status=r[7])
                for r, p, f, t in zip(rows, props, refs, tags)]
