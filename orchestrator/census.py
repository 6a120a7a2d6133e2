"""The census of a system after its reclaim (decommission's census step): every copy the clouds
still hold of it — objects carrying its tag, snapshots and images of its volumes and projects,
backing files on disk — and every state record of it. One implementation, used by the step and
by the tests that plant leftovers on each driver."""
from __future__ import annotations

from typing import Any, Iterable, Mapping

from drivers.base import STACK_TAG, Census, Driver

from .errors import GovcloudError, Issue
from .models.state import StateRecord


def census_ids(doc: Mapping[str, Any]) -> list[str]:
    """The cloud ids a decommission workflow document knows its system by: its media, the
    objects the cloud gives no media access to (EC2 volumes and servers), the ids the driver
    named at the plan step (a server's root volume) and its projects (what the cloud keeps
    under them: images). In first-seen order, each once."""
    objects = doc.get("objects", [])
    ids = [m["id"] for m in doc.get("media", [])]
    ids += [u["id"] for u in doc.get("media_unreachable", [])]
    ids += [i for o in objects for i in o.get("census_ids", [])]
    ids += [o["cloud_id"] for o in objects if o["kind"] == "project" and o.get("cloud_id")]
    return list(dict.fromkeys(ids))


def leftovers(drivers: Mapping[str, Driver], stack: str, ids: list[str],
              records: Iterable[StateRecord]) -> list[str]:
    """One line per leftover: ``target: kind cloud-id address`` and ``state: address``. A driver
    without the Census capability is asked what it still owns with the stack's tag."""
    out = []
    for name, drv in drivers.items():
        found = drv.census(stack, ids) if isinstance(drv, Census) else \
            [o for o in drv.observe() if o.tags.get(STACK_TAG) == stack]
        out += [f"{name}: {o.kind} {o.cloud_id} {o.address}".rstrip() for o in found]
    out += [f"state: {r.address}" for r in records if r.stack == stack]
    return out


def require_empty(drivers: Mapping[str, Driver], stack: str, ids: list[str],
                  records: Iterable[StateRecord]) -> None:
    """Raise naming every leftover of ``stack``; return when nothing is left."""
    left = leftovers(drivers, stack, ids, records)
    if left:
        raise GovcloudError(f"census found {len(left)} objects of {stack} left",
                            [Issue("census", x) for x in left], changed_nothing=False,
                            fix="run the command again; if they stay, remove them by hand")
