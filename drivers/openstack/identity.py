"""Keystone and the quota sets: domains (one per department, marked in their description since
they have no tags: ``[govcloud:<workspace>]``, or a released one's note), projects (one per system and zone; the service identity gets the admin role
there and the department's operator user the member role, with an application credential written
once to the workspace) and each project's quota across Nova, Cinder and Neutron.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import threading
from pathlib import Path
from types import SimpleNamespace

from drivers.base import (ADDRESS_TAG, OWNER_TAG, Address, Conflict, DriverError, NotFound,
                          Observed, TransientError)
from drivers.openstack import repair
from drivers.openstack.connection import retry, user_connection
from drivers.openstack.kind import Kind, dec, id_parts, read_retrying, string_tags

QUOTA_MAP = {  # govcloud field -> (service, OpenStack key)
    "cores": ("compute", "cores"), "ram_mb": ("compute", "ram"),
    "instances": ("compute", "instances"), "volumes": ("volume", "volumes"),
    "gigabytes": ("volume", "gigabytes"), "snapshots": ("volume", "snapshots"),
    "floating_ips": ("network", "floating_ips"), "networks": ("network", "networks"),
    "subnets": ("network", "subnets"), "routers": ("network", "routers"),
    "ports": ("network", "ports"), "security_groups": ("network", "security_groups"),
    "security_group_rules": ("network", "security_group_rules"),
}
# The fields plan --refresh=auto may take from the state (Nova's and Cinder's: no list API).
TRUSTABLE = frozenset(f for f, (svc, _) in QUOTA_MAP.items() if svc in ("compute", "volume"))
DOMAIN_MARK = re.compile(r"\s*\[govcloud:(ws-[0-9a-f]{12})\]$")
# A released domain's note (``state rm``): "[govcloud.released-from=ws-… govcloud.released-on=…]"
NOTE_MARK = re.compile(r"\s*\[govcloud\.[^\[\]]*\]$")


def owned_projects(d) -> list:
    with d._api():
        return list(d.conn.identity.projects(tags=d.owner_tag))


def _bare(description: str | None) -> str:
    """A domain's description without govcloud's mark or note."""
    return NOTE_MARK.sub("", DOMAIN_MARK.sub("", description or ""))


def _quota_value(obj, key: str):
    value = getattr(obj, key, None)
    if isinstance(value, dict):  # network quotas with details
        value = value.get("limit")
    return -1 if value is None else value


class Domain(Kind):
    kind = "domain"

    def shape(self, d) -> Observed:
        """Owned by the workspace its mark names (none: nobody's, whatever the caller is)."""
        m = DOMAIN_MARK.search(d.description or "")
        address = f"domain:{self.d.target}/{d.name}" if m else ""
        return Observed(address, "domain", d.id, {"name": d.name, "description": _bare(d.description)},
                        {}, {OWNER_TAG: m.group(1), ADDRESS_TAG: address} if m else {})

    def observe(self, listing):
        out = []
        with self.api():
            for d in self.conn.identity.domains():
                m = DOMAIN_MARK.search(d.description or "")
                if m and m.group(1) == self.d.owner:
                    out.append(self.shape(d))
        return out

    def live(self, cloud_id):
        return self.shape(self.conn.identity.get_domain(cloud_id))

    def _description(self, req) -> str:
        return f"{req.properties['description']} [govcloud:{self.d.owner}]"

    def create(self, req):
        with self.api():
            d = self.conn.identity.create_domain(name=req.name, description=self._description(req))
        return self.shape(d)

    def update(self, cur, req, fields):
        if "role_assignments" in fields:
            repair.role_assignments(self.d, "domain", cur.cloud_id)
        with self.api():
            d = self.conn.identity.update_domain(cur.cloud_id, description=self._description(req))
        return self.shape(d)

    def retag(self, cloud_id, tags, name=None):
        """Its address is its name; its owner the mark; a release leaves the note instead."""
        with self.api():
            d = self.conn.identity.get_domain(cloud_id)
        owner = tags.get(OWNER_TAG)
        note = " ".join(f"{k}={v}" for k, v in sorted(tags.items()))
        mark = f" [govcloud:{owner}]" if owner else (f" [{note}]" if note else "")
        attrs = {"description": _bare(d.description) + mark}
        if name is not None and name != d.name:
            attrs["name"] = name
        with self.api():
            return self.shape(self.conn.identity.update_domain(cloud_id, **attrs))

    def delete(self, cur):
        with self.api():
            self.conn.identity.update_domain(cur.cloud_id, is_enabled=False)
        with self.api():
            self.conn.identity.delete_domain(cur.cloud_id)


class Project(Kind):
    """A project, plus the admin role for the service identity and a department user with the
    member role and an application credential."""
    kind = "project"

    def __init__(self, drv):
        super().__init__(drv)
        # Both zone projects of a system share the department user: one password at a time.
        self._user_locks: dict[str, threading.Lock] = {}
        self._user_locks_guard = threading.Lock()

    def shape(self, p) -> Observed:
        return self.tagged(p, {"name": p.name, "description": p.description or ""},
                           {"domain": p.domain_id})

    def observe(self, listing):
        return [self.shape(p) for p in listing(owned_projects)]

    def live(self, cloud_id):
        return self.shape(self.conn.identity.get_project(cloud_id))

    def create(self, req):
        with self.api():
            p = self.conn.identity.create_project(name=req.name, domain_id=req.refs["domain"],
                                                  description=req.properties["description"],
                                                  tags=self.tags(req))
        self.grant(p)
        # Neutron makes a project's default security group (4 rules) lazily, on the first
        # network, port or group create -- or list -- for it. Two creates in parallel (the
        # network and the group, right after the quota is set to the approval) both made it,
        # and the second's reservation went past the security_group_rules quota ("Quota
        # exceeded for resources: ['security_group_rule']" on a *network* create, in 1 of a
        # few applies under load). Listing the project's groups once here makes it now, alone,
        # before the quota is lowered.
        with self.api():
            list(self.conn.network.security_groups(project_id=p.id))
        return self.shape(p)

    def update(self, cur, req, fields):
        if "role_assignments" in fields:    # isolation drift (orchestrator/core/drift.py)
            repair.role_assignments(self.d, "project", cur.cloud_id)
        if "default_group" in fields:
            repair.default_group(self.d, cur.cloud_id)
        if "rbac_policies" in fields:
            repair.rbac_policies(self.d, cur.cloud_id)
        with self.api():
            p = self.conn.identity.update_project(cur.cloud_id,
                                                  description=req.properties["description"])
        return self.shape(p)

    def retag(self, cloud_id, tags, name=None):
        """Keystone project tags (its quota carries them too: quota.retag)."""
        with self.api():
            p = self.conn.identity.get_project(cloud_id)
        attrs = {"tags": string_tags(p.tags, tags)}
        if name is not None and name != p.name:
            attrs["name"] = name
        with self.api():
            moved = self.shape(self.conn.identity.update_project(cloud_id, **attrs))
        if "name" in attrs:   # the department's credential file is named after the project
            creds = self.d.workspace_root / ".govcloud" / "credentials"
            old, new = (creds / f"{p.domain_id}__{n}.json" for n in (p.name, name))
            if old.exists() and not new.exists():
                doc = json.loads(old.read_text())
                old.rename(new)
                new.write_text(json.dumps({**doc, "project_name": name}, indent=1))
        return moved

    def delete(self, cur):
        c = self.conn
        # Images the project owns (uploaded from its volumes) go with it, or Glance keeps them
        # under an owner that no longer exists; their data was wiped with the project's media
        # when a sanitizer ran before this delete.
        for img in self.d._project_images(cur.cloud_id):
            with self.api():
                if img.is_protected:  # the project is going: its images cannot stay protected
                    c.image.update_image(img, is_protected=False)
                c.image.delete_image(img, ignore_missing=True)
        with self.api():
            for rbac in c.network.rbac_policies(target_project_id=cur.cloud_id):
                c.network.delete_rbac_policy(rbac)
        # Neutron's "default" group outlives a deleted Keystone project (and the census counts it)
        with self.api():
            for g in c.network.security_groups(project_id=cur.cloud_id):
                c.network.delete_security_group(g, ignore_missing=True)
        with self.api():
            c.identity.delete_project(cur.cloud_id)
        self.d._scoped.pop(cur.cloud_id, None)

    def grant(self, p) -> None:
        """Idempotent: the admin role for govcloud, the member role for the department user."""
        c = self.conn
        with self.api():
            admin = c.identity.find_role("admin")
            member = c.identity.find_role("member")
            me = c.identity.get_user(c.current_user_id)
            c.identity.assign_project_role_to_user(p, me, admin)
        dept_user = f"{p.name.rsplit('-', 1)[0]}-ops"
        with self.api():
            user = c.identity.find_user(dept_user, domain_id=p.domain_id)
        if user is None:
            try:
                with self.api():
                    user = c.identity.create_user(
                        name=dept_user, domain_id=p.domain_id,
                        description=f"govcloud department operator [{self.d.owner}]")
            except Conflict:  # the system's other zone made it at the same moment
                with self.api():
                    user = c.identity.find_user(dept_user, domain_id=p.domain_id,
                                                ignore_missing=False)
        with self.api():
            c.identity.assign_project_role_to_user(p, user, member)
        self._app_credential(p, user, member)

    def _app_credential(self, p, user, member) -> None:
        """One application credential per project for the department, written once to
        .govcloud/credentials/<domain>__<project>.json (0600): never to state, plans or logs."""
        path = self.d.workspace_root / ".govcloud" / "credentials" / f"{p.domain_id}__{p.name}.json"
        if path.exists():
            return
        with self._user_locks_guard:
            lock = self._user_locks.setdefault(user.id, threading.Lock())
        with lock:
            self._issue_app_credential(p, user, member, path)

    def _issue_app_credential(self, p, user, member, path: Path) -> None:
        password = secrets.token_urlsafe(24)
        with self.api():  # a fresh password, known only for the next call
            self.conn.identity.update_user(user, password=password)

        def login():
            with self.api():
                as_user = user_connection(self.conn, user.name, password, p.domain_id, p.id)
                as_user.authorize()
            return as_user
        # Keystone revokes the user's tokens on a password change with one-second precision: a
        # token issued in that same second is refused (HTTP 401). Authenticate a moment later.
        as_user = retry(login, attempts=5, delay=1.1)
        with self.api():
            name = f"govcloud-{p.name}"
            for old in as_user.identity.application_credentials(user=as_user.current_user_id):
                if old.name == name:  # its secret is lost with the file: issue a new one
                    as_user.identity.delete_application_credential(as_user.current_user_id, old)
            cred = as_user.identity.create_application_credential(
                as_user.current_user_id, name=name, roles=[{"id": member.id}],
                description=f"department access to {p.name} [{self.d.owner}]")
            as_user.close()
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"auth_type": "v3applicationcredential",
                       "auth": {"auth_url": self.conn.config.auth["auth_url"],
                                "application_credential_id": cred.id,
                                "application_credential_secret": cred.secret},
                       "project_id": p.id, "project_name": p.name,
                       "region_name": self.conn.config.region_name}, f, indent=1)


class Quota(Kind):
    """A project's quota: cloud id ``<project id>/quota``, the project's tags, three quota sets."""
    kind = "quota"

    def shape(self, p, net_quotas: dict | None = None, untagged: bool = False) -> Observed | None:
        """Reads the project's quota sets (Neutron's from ``net_quotas`` when listed already).
        None for a project without govcloud's address tag, unless ``untagged`` (import)."""
        tags = dec(p.tags)
        addr = tags.get(ADDRESS_TAG, "")
        if not addr and not untagged:
            return None
        known = getattr(self.d, "trusted", {}).get(f"{p.id}/quota") if addr else None
        try:
            if known is not None and TRUSTABLE <= known.properties.keys():
                # plan --refresh=auto: the plan does not change this quota, and a full check
                # was recent; Nova's and Cinder's sets come from the state (two GETs saved).
                # Neutron's still from its one listing of every project.
                sets = {svc: SimpleNamespace(**{key: known.properties[f]
                                                for f, (s_, key) in QUOTA_MAP.items() if s_ == svc})
                        for svc in ("compute", "volume")}
                self.d.count("trusted_last")
            else:
                def quota_sets():
                    with self.api():
                        return {"compute": self.conn.compute.get_quota_set(p.id),
                                "volume": self.conn.block_storage.get_quota_set(p.id)}
                sets = read_retrying(quota_sets)
                self.d.count()
            if net_quotas is not None and p.id in net_quotas:
                sets["network"] = net_quotas[p.id]
            else:
                def network_quota():
                    with self.api():
                        return self.conn.network.get_quota(p.id)
                sets["network"] = read_retrying(network_quota)
        except DriverError as exc:
            # e.g. a project in a disabled domain: services refuse to read its quota. The
            # project itself is still observed (and can be deleted); its quota is unknown.
            # A transient failure (a 503, a reset) is raised, to be retried: read as "no
            # quota" it made the quota's create return nothing (AttributeError in apply).
            if exc.transient:
                raise
            return None
        props = {f: int(_quota_value(sets[svc], key)) for f, (svc, key) in QUOTA_MAP.items()}
        qaddr = str(Address.parse(addr).with_kind("quota", "quota")) if addr else ""
        return Observed(qaddr, "quota", f"{p.id}/quota", props, {"project": p.id},
                        {**tags, ADDRESS_TAG: qaddr} if addr else tags)

    def observe(self, listing):
        projects = listing(owned_projects)
        net_quotas = None
        if projects:  # Neutron lists every project's quota in one call; Nova and Cinder cannot
            with self.api():
                net_quotas = {q.project_id: q for q in self.conn.network.quotas()}
        # two reads a project (Nova's and Cinder's sets, no API lists several): read_concurrency at once
        return [q for q in self.d.read_map(lambda p: self.shape(p, net_quotas), projects) if q is not None]

    def live(self, cloud_id):
        # a quota carries its project's tags
        return self.d.handlers["project"].live(id_parts(cloud_id)[0])

    def lookup(self, cloud_id):
        """``<project id>/quota`` (or the bare project id): the limits, whoever owns it."""
        parts = id_parts(cloud_id)
        if len(parts) > 2 or parts[1:] not in ([], ["quota"]):
            raise NotFound(f"{cloud_id!r} is no quota id (<project id>/quota)")
        q = self.shape(self.conn.identity.get_project(parts[0]), untagged=True)
        if q is None:
            raise NotFound(f"the quota of project {parts[0]} cannot be read")
        return q

    def retag(self, cloud_id, tags, name=None):
        """A quota has no tags of its own: it carries its project's. Taken under management or
        moved with its project; released only by releasing the project."""
        pid = id_parts(cloud_id)[0]
        with self.api():
            owner = self.d.handlers["project"].live(pid).tags.get(OWNER_TAG)
        if OWNER_TAG in tags and owner != tags[OWNER_TAG]:
            raise Conflict(f"the quota of project {pid} carries its project's tags: import the "
                           f"project first")
        if OWNER_TAG not in tags and owner:
            raise Conflict(f"the quota of project {pid} carries its project's tags and is released "
                           f"with it: `govcloud state rm` the project first, then its quota")
        with self.api():
            return self.lookup(cloud_id)

    def _set(self, project_id: str, props: dict[str, int]) -> None:
        per = {"compute": {}, "volume": {}, "network": {}}
        for f, (svc, key) in QUOTA_MAP.items():
            if f in props:
                per[svc][key] = props[f]
        if per["compute"]:
            with self.api():
                self.conn.compute.update_quota_set(project_id, **per["compute"])
        if per["volume"]:
            with self.api():
                self.conn.block_storage.update_quota_set(project_id, **per["volume"])
        if per["network"]:
            with self.api():
                self.conn.network.update_quota(project_id, **per["network"])

    def _reread(self, project_id: str) -> Observed:
        with self.api():
            p = self.conn.identity.get_project(project_id)
        q = self.shape(p)
        if q is None:   # the quota was set: a read that fails now is the cloud's, retry it
            raise TransientError(f"the quota of project {project_id} was set but cannot be "
                                 f"read back")
        return q

    def create(self, req):
        self._set(req.refs["project"], req.properties)
        return self._reread(req.refs["project"])

    def _usage(self, project_id: str) -> dict[str, int]:
        """What the project uses now, per govcloud quota field (three reads)."""
        with self.api():
            sets = {"compute": self.conn.compute.get_quota_set(project_id, usage=True).usage or {},
                    "volume": self.conn.block_storage.get_quota_set(project_id, usage=True).usage or {},
                    "network": self.conn.network.get_quota(project_id, details=True)}
        out = {}
        for f, (svc, key) in QUOTA_MAP.items():
            v = sets[svc].get(key) if svc != "network" else getattr(sets[svc], key, None)
            out[f] = int((v.get("used") if isinstance(v, dict) else v) or 0)
        return out

    def _users_of(self, project_id: str, field_name: str) -> list[str]:
        """The objects counted against a quota field, named ("(not govcloud's)" when untagged)."""
        c, svc = self.conn, QUOTA_MAP[field_name][0]
        with self.api():
            if svc == "compute":
                objs = [(s.name, self.d.owner_tag in (s.tags or []))
                        for s in c.compute.servers(all_projects=True, project_id=project_id)]
            elif svc == "volume":
                objs = [(f"{v.name or v.id}", (v.metadata or {}).get(OWNER_TAG) == self.d.owner)
                        for v in c.block_storage.volumes(all_projects=True, project_id=project_id)]
            else:
                lister = {"floating_ips": c.network.ips, "ports": c.network.ports,
                          "security_groups": c.network.security_groups,
                          "security_group_rules": c.network.security_group_rules,
                          "networks": c.network.networks, "subnets": c.network.subnets,
                          "routers": c.network.routers}[field_name]
                objs = [(getattr(o, "floating_ip_address", None) or o.name or o.id,
                         self.d.owner_tag in (getattr(o, "tags", None) or []))
                        for o in lister(project_id=project_id)]
        return [f"{name}{'' if ours else ' (not govcloud' + chr(39) + 's)'}" for name, ours in objs]

    def _check_lowering(self, project_id: str, props: dict[str, int]) -> None:
        """Refuse, before the cloud is asked to change, a limit below what the project uses:
        name the objects using the excess."""
        used = self._usage(project_id)
        over = {f: (v, used[f]) for f, v in props.items() if v >= 0 and used.get(f, 0) > v}
        if not over:
            return
        parts = [f"{f}: approved {v}, in use {u} by {', '.join(self._users_of(project_id, f)) or '?'}"
                 for f, (v, u) in sorted(over.items())]
        raise Conflict(f"the quota of project {project_id} cannot be lowered to the approval while "
                       f"the excess is in use ({'; '.join(parts)}); nothing was changed: remove the "
                       "objects not in the approval (or approve them), then apply again")

    def update(self, cur, req, fields):
        project_id = id_parts(cur.cloud_id)[0]
        lowered = {f: req.properties[f] for f in fields
                   if isinstance(cur.properties.get(f), int)
                   and (cur.properties[f] == -1 or req.properties[f] < cur.properties[f])}
        if lowered:
            self._check_lowering(project_id, lowered)
        try:
            self._set(project_id, {f: req.properties[f] for f in fields})
        except Conflict as exc:
            raise Conflict(f"quota below current usage: {exc}") from None
        return self._reread(project_id)

    def delete(self, cur):
        project_id = id_parts(cur.cloud_id)[0]
        for fn in (self.conn.compute.revert_quota_set, self.conn.block_storage.revert_quota_set,
                   self.conn.network.delete_quota):
            with self.api():
                fn(project_id)
