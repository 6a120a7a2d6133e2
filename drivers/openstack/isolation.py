"""Evidence for verify-isolation (RbacEvidence, IsolationProbes): the RBAC grants of the zones'
external networks and every share of a network, the ports Nova and Neutron make in a project
(they carry no govcloud tag), and Tempest-style probes: a temporary member user per project whose
connection must see its own project's objects and none of another's.
"""
from __future__ import annotations

import contextlib
import secrets
from typing import Any

from drivers.base import Observed
from drivers.openstack.connection import user_connection


class Probes:
    """Temporary member users, one per project, for Tempest-style primary/alternate probes."""

    def __init__(self, drv, project_ids: list[str]):
        self.drv, self.project_ids = drv, project_ids
        self.users: list[Any] = []

    def __enter__(self) -> dict[str, Any]:
        c = self.drv.conn
        with self.drv._api():
            member = c.identity.find_role("member")
        conns = {}
        for pid in self.project_ids:
            with self.drv._api():
                project = c.identity.get_project(pid)
                password = secrets.token_urlsafe(24)   # never logged, deleted with the user
                user = c.identity.create_user(name=f"govcloud-probe-{secrets.token_hex(4)}",
                                              domain_id=project.domain_id, password=password,
                                              description="govcloud verify-isolation probe")
                self.users.append(user)
                c.identity.assign_project_role_to_user(project, user, member)
                conns[pid] = user_connection(c, user.name, password, project.domain_id, pid)
        return conns

    def __exit__(self, *exc):
        for user in self.users:
            with contextlib.suppress(Exception):
                self.drv.conn.identity.delete_user(user)
        return False


class IsolationEvidence:
    """``isolation_facts``, ``probes``, ``ports_of`` and ``probe_visibility`` of the driver."""

    conn: Any
    owner_tag: str
    last_survey: dict | None

    def isolation_facts(self) -> dict[str, Any]:
        """RBAC grants of the external networks and every share of a network."""
        ext_by_id = self._ext_names()
        grants, shared = [], []
        with self._api():
            policies = list(self.conn.network.rbac_policies(object_type="network"))
        for pol in policies:
            if pol.action == "access_as_external" and pol.object_id in ext_by_id:
                grants.append({"network": ext_by_id[pol.object_id],
                               "target_project": pol.target_project_id})
            elif pol.action == "access_as_shared":
                shared.append((pol.object_id, pol.target_project_id))
        with self._api():
            for n in self.conn.network.networks(tags=self.owner_tag):
                if n.is_shared:
                    shared.append((n.id, "* (shared flag)"))
        return {"external_grants": grants, "shared": shared}

    def probes(self, project_ids: list[str]) -> Probes:
        return Probes(self, project_ids)

    def ports_of(self, project_id: str) -> list[Observed]:
        with self._api():
            ports = list(self.conn.network.ports(project_id=project_id))
        return [Observed(f"port:{p.id}", "port", p.id, {}, {}, {}) for p in ports]

    def probe_visibility(self, conn, objects: list[Observed]) -> list[tuple[Observed, bool]]:
        from openstack import exceptions as ox
        getters = {"server": conn.compute.get_server, "volume": conn.block_storage.get_volume,
                   "network": conn.network.get_network,
                   "security_group": conn.network.get_security_group, "port": conn.network.get_port}
        out = []
        for o in objects:
            self.count()
            try:
                getters[o.kind](o.cloud_id)
                out.append((o, True))
            except (ox.NotFoundException, ox.ForbiddenException):
                out.append((o, False))
        return out
