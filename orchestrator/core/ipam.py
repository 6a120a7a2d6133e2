"""Deterministic, stable subnet allocation. Pure.

Allocations are kept in stacks/ipam.yaml (reviewed in git with the specs): a system keeps its
CIDR for as long as it is approved, and a new system takes the lowest free block of its zone's
pool. Same inputs, same allocations; adding a system never moves another one.
"""
from __future__ import annotations

import ipaddress

from ..errors import GovcloudError, Issue


def carry_moves(previous: dict[str, dict[str, str]], approvals) -> dict[str, dict[str, str]]:
    """A renamed system (a ``moved: {from: DEPT/OLD, to: DEPT/NEW}`` record) keeps its blocks:
    the subnet moves with it instead of being replaced."""
    out = {z: dict(keys) for z, keys in previous.items()}
    for a in approvals:
        for m in getattr(a, "moved", ()):
            if ":" in m["from"]:
                continue
            for keys in out.values():
                if m["from"] in keys and m["to"] not in keys:
                    keys[m["to"]] = keys.pop(m["from"])
    return out


def allocate(previous: dict[str, dict[str, str]], needed: dict[str, list[str]],
             pools: dict[str, tuple[str, int]]) -> dict[str, dict[str, str]]:
    """``needed[zone]`` lists keys ("dept/system") that need a block; returns zone -> key -> CIDR."""
    result: dict[str, dict[str, str]] = {}
    for zone in sorted(needed):
        pool_cidr, prefix = pools[zone]
        pool = ipaddress.ip_network(pool_cidr)
        if prefix < pool.prefixlen:
            raise GovcloudError(f"zone {zone}: subnet prefix /{prefix} is larger than the pool {pool}")
        size = 1 << (pool.max_prefixlen - prefix)
        base = int(pool.network_address)
        capacity = 1 << (prefix - pool.prefixlen)
        keep: dict[str, str] = {}
        used: set[int] = set()
        prev = previous.get(zone, {})
        wanted = set(needed[zone])
        for key in sorted(prev):
            if key not in wanted:
                continue
            try:
                net = ipaddress.ip_network(prev[key])
            except ValueError:
                continue
            index, rem = divmod(int(net.network_address) - base, size)
            if net.prefixlen == prefix and rem == 0 and 0 <= index < capacity and index not in used:
                keep[key] = prev[key]
                used.add(index)
        cursor = 0
        for key in sorted(wanted - keep.keys()):
            while cursor in used:
                cursor += 1
            if cursor >= capacity:
                raise GovcloudError(
                    f"zone {zone}: tenant pool {pool} has no free /{prefix} left for {key}",
                    [Issue(f"zones.{zone}.tenant_pool", f"{capacity} blocks, all allocated")],
                    fix="widen the zone's tenant_pool or raise subnet_prefix in govcloud.toml")
            used.add(cursor)
            keep[key] = f"{ipaddress.ip_address(base + cursor * size)}/{prefix}"
        result[zone] = dict(sorted(keep.items()))
    return result
