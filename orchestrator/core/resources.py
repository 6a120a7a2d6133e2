"""Resource kinds as class data: which fields update in place, which force a replacement.

Every ref (a pointer to another object by address) forces a replacement when its target is
replaced, because the cloud id it resolves to changes.
"""
from __future__ import annotations

from dataclasses import dataclass

QUOTA_FIELDS = (
    "cores", "ram_mb", "instances", "volumes", "gigabytes", "snapshots", "floating_ips",
    "networks", "subnets", "routers", "ports", "security_groups", "security_group_rules",
)


@dataclass(frozen=True)
class Kind:
    name: str
    updatable: frozenset[str]
    replace: frozenset[str]
    refs: tuple[str, ...]
    # Fields whose decrease is not an in-place update (a volume cannot shrink).
    grow_only: frozenset[str] = frozenset()
    # Does it hold tenant data that a later issue must wipe before delete?
    holds_data: bool = False
    # Does the cloud keep copies of tenant data under it that govcloud does not list as objects
    # (a project's images uploaded from its volumes)? The driver's media access finds them.
    owns_copies: bool = False

    @property
    def fields(self) -> frozenset[str]:
        return self.updatable | self.replace

    @property
    def wiped_before_delete(self) -> bool:
        return self.holds_data or self.owns_copies


def _k(name, updatable=(), replace=(), refs=(), grow_only=(), holds_data=False,
       owns_copies=False) -> Kind:
    return Kind(name, frozenset(updatable), frozenset(replace), tuple(refs), frozenset(grow_only),
                holds_data, owns_copies)


KINDS: dict[str, Kind] = {k.name: k for k in [
    _k("domain", updatable=("description",), replace=("name",)),
    _k("project", updatable=("description",), replace=("name", "cidr"), refs=("domain",),
       owns_copies=True),
    _k("quota", updatable=QUOTA_FIELDS, refs=("project",)),
    _k("network", updatable=("name",), replace=(), refs=("project",)),
    _k("subnet", updatable=("name",), replace=("cidr", "gateway_ip"), refs=("network",)),
    _k("router", updatable=("name",), replace=("external_network",), refs=("project", "subnet")),
    _k("security_group", updatable=("rules", "description"), replace=("name",), refs=("project",)),
    _k("server", updatable=("flavor", "vcpus", "ram_gb"),
       replace=("name", "image", "system_disk_gb", "system_disk_type"),
       refs=("project", "network", "security_group"), holds_data=True),
    _k("volume", updatable=("size_gb",), replace=("name", "volume_type"), refs=("project",),
       grow_only=("size_gb",), holds_data=True),
    _k("volume_attachment", replace=("device_index",), refs=("server", "volume")),
    _k("floating_ip", updatable=("bandwidth_mbps",), replace=("external_network",), refs=("project",)),
]}

# Creation order when nothing else decides (also the display order).
KIND_ORDER = {name: i for i, name in enumerate(KINDS)}


def rule_key(rule: dict) -> tuple:
    """The canonical order of security-group rules (compile, planner and drivers agree on it)."""
    return (rule.get("protocol") or "", rule.get("port_min") or 0, rule.get("port_max") or 0,
            rule.get("remote_ip_prefix") or "")
