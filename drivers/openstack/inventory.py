"""Everything in the projects govcloud manages, whoever made it (the ``Inventory`` capability):
one filtered list per kind and project, tags decoded where there are any (Neutron and Cinder
string tags / metadata, Nova metadata). Ports and each project's ``default`` security group
are the cloud's own and left out."""
from __future__ import annotations

from typing import Any

from drivers.base import ADDRESS_TAG, Observed
from drivers.openstack.kind import dec


def _tags(obj: Any) -> dict[str, str]:
    tags = dec(getattr(obj, "tags", None) or [])
    md = getattr(obj, "metadata", None) or {}
    tags.update({k: v for k, v in md.items() if str(k).startswith("govcloud.")})
    return tags


class ProjectInventory:
    """Mixin of OpenStackDriver (needs ``conn`` and ``_api``)."""

    conn: Any

    def inventory(self, project_ids: list[str]) -> list[Observed]:
        out: list[Observed] = []
        net = self.conn.network
        for pid in project_ids:
            with self._api():
                listed = [
                    ("server", self.conn.compute.servers(details=True, all_projects=True,
                                                         project_id=pid)),
                    ("volume", self.conn.block_storage.volumes(details=True, all_projects=True,
                                                               project_id=pid)),
                    ("network", net.networks(project_id=pid)),
                    ("subnet", net.subnets(project_id=pid)),
                    ("router", net.routers(project_id=pid)),
                    ("security_group", (g for g in net.security_groups(project_id=pid)
                                        if g.name != "default")),
                    ("floating_ip", net.ips(project_id=pid)),
                ]
                for kind, objs in listed:
                    for o in objs:
                        tags = _tags(o)
                        out.append(Observed(tags.get(ADDRESS_TAG, ""), kind, o.id,
                                            {"name": getattr(o, "name", None) or
                                             getattr(o, "floating_ip_address", None)},
                                            {"project": pid}, tags,
                                            str(getattr(o, "status", "") or "ACTIVE")))
        return out
