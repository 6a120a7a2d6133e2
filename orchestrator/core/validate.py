"""Semantic checks of approvals against the catalog, the policy profile and each other. Pure.

Schema checks happen when files are parsed (orchestrator.inputs); these are the rules that need
more than one document: catalog references, profile rules, contradictions between approvals.
"""
from __future__ import annotations

import difflib
import functools
import ipaddress
from dataclasses import dataclass
from typing import Collection, Mapping

from ..errors import InputError, Issue
from ..models.approval import Approval, Server, data_disk_owner
from ..models.catalog import Catalog
from ..models.config import WorkspaceConfig
from ..models.profile import Profile
from .materials import check_materials


def _suggest(value: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(value, choices, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _ref(catalog: Catalog, code: str, kind: str, what: str) -> str | None:
    item = catalog.by_code().get(code)
    if item is None:
        return f"{code!r} is not in the service catalog{_suggest(code, catalog.codes_of(kind))}"
    if item.provisions.kind != kind:
        return (f"{code!r} is a {item.category} item, not a {what}"
                f"{_suggest(code, catalog.codes_of(kind))}")
    return None


@dataclass(frozen=True)
class Offer:
    """What one cloud target offers, as its options declare it (None: only the cloud knows, and
    answers when the object is made)."""
    images: frozenset[str] | None = None
    external_networks: frozenset[str] | None = None


def _listed(names: frozenset[str], limit: int = 8) -> str:
    shown = sorted(names)
    more = f", ... {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more if shown else "none"


def _offer_issues(zone: str, req, config: WorkspaceConfig, offer: Offer) -> list[Issue]:
    """The zone's external network and the servers' images against what the target offers."""
    zc = config.zones[zone]
    issues = []
    ext = offer.external_networks
    if ext is not None and zc.external_network not in ext:
        issues.append(Issue(f"zones.{zone}",
            f"the {zone} zone's external network {zc.external_network!r} (govcloud.toml "
            f"zones.{zone}.external_network) is not one target {zc.target!r} has "
            f"(its external_networks: {_listed(ext)})"))
    if offer.images is not None:
        for i, s in enumerate(req.servers):
            if s.image not in offer.images:
                issues.append(Issue(f"zones.{zone}.servers[{i}].image",
                    f"{s.image!r} is not an image target {zc.target!r} offers"
                    f"{_suggest(s.image, sorted(offer.images))} (its images: "
                    f"{_listed(offer.images)})"))
    return issues


def check_approval(approval: Approval, catalog: Catalog, profile: Profile,
                   config: WorkspaceConfig, offers: Mapping[str, Offer] | None = None) -> list[Issue]:
    """``offers``: target -> what it offers (orchestrator/target_options.py); unchecked without."""
    issues: list[Issue] = []
    rules = profile.rules
    law = f"{profile.name_zh}"
    lvl = rules.max_dengbao_level
    level = approval.system.dengbao_level
    if level > lvl.value:
        issues.append(Issue("system.dengbao_level",
            f"等保 level {approval.system.dengbao_level} exceeds the maximum level {lvl.value} this "
            f"platform accepts ({law} {lvl.article}){' [profile setting]' if lvl.setting else ''}; "
            f"等保{approval.system.dengbao_level}级系统不得上云", rule="max_dengbao_level"))
    cl = rules.classified_allowed
    if approval.system.classified and not cl.value:
        issues.append(Issue("system.classified",
            f"classified (涉密) systems are not accepted ({law} {cl.article})"
            f"{' [profile setting]' if cl.setting else ''}; 涉密信息系统不得部署在政务云",
            rule="classified_allowed"))
    issues.extend(check_materials(profile, approval))
    for zone, req in approval.zones.items():
        zc = config.zones.get(zone)
        if zc is None:
            issues.append(Issue(f"zones.{zone}", f"zone {zone!r} is not configured in govcloud.toml"))
            continue
        if offers and zc.target in offers:
            issues.extend(_offer_issues(zone, req, config, offers[zc.target]))
        for i, s in enumerate(req.servers):
            base = f"zones.{zone}.servers[{i}]"
            if (msg := _ref(catalog, s.flavor, "flavor", "server flavor")):
                issues.append(Issue(f"{base}.flavor", msg))
            disks = [("system_disk", s.system_disk)] + [
                (f"data_disks[{k}]", d) for k, d in enumerate(s.data_disks)]
            for where, d in disks:
                issues.extend(_disk(catalog, f"{base}.{where}", d.type, d.gb))
        for i, v in enumerate(req.volumes):
            issues.extend(_disk(catalog, f"zones.{zone}.volumes[{i}]", v.type, v.gb))
        if req.public_ips and catalog.zone_item("public_ip", zone) is None:
            issues.append(Issue(f"zones.{zone}.public_ips",
                                f"the service catalog has no public IP item for the {zone} zone"))
        if req.bandwidth_mbps and catalog.zone_item("bandwidth", zone) is None:
            issues.append(Issue(f"zones.{zone}.bandwidth_mbps",
                                f"the service catalog has no bandwidth item for the {zone} zone"))
        for i, rule in enumerate(req.inbound):
            issues.extend(_inbound(config, zone, f"zones.{zone}.inbound[{i}].source", rule.source))
    for i, svc in enumerate(approval.services):
        if (msg := _ref(catalog, svc.item, "service", "billed service")):
            issues.append(Issue(f"services[{i}].item", msg))
            continue
        prov = catalog.by_code()[svc.item].provisions
        # (a level the profile refuses is reported above; no second error about its package)
        if prov.dengbao_level is not None and prov.dengbao_level != level and level <= lvl.value:
            fit = [it.code for it in catalog.items if it.provisions.kind == "service"
                   and it.provisions.service == prov.service and it.provisions.dengbao_level == level]
            hint = f" (did you mean {fit[0]!r}?)" if fit else ""
            issues.append(Issue(f"services[{i}].item",
                f"{svc.item!r} is the 等保 level {prov.dengbao_level} package, but system "
                f"{approval.system.code} is 等保 level {level}{hint}"))
    return issues


def _disk(catalog: Catalog, path: str, code: str, gb: int) -> list[Issue]:
    if (msg := _ref(catalog, code, "volume", "block storage type")):
        return [Issue(f"{path}.type", msg)]
    item = catalog.by_code()[code]
    if gb > item.provisions.max_gb:
        return [Issue(f"{path}.gb", f"{gb} GB exceeds the {item.provisions.max_gb} GB maximum of {code}")]
    return []


# The same few pools and sources, parsed for every rule of every approval (~1 s per 10,000
# approvals); ip_network objects are immutable.
_network = functools.lru_cache(maxsize=8192)(ipaddress.ip_network)


def _inbound(config: WorkspaceConfig, zone: str, path: str, source: str) -> list[Issue]:
    if source.startswith("zone:"):
        other = source[5:]
        if other != zone:
            return [Issue(path, f"a rule in the {zone} zone may not admit traffic from the {other} "
                                f"zone: the zones are isolated (互联网区与电子政务外网区之间安全隔离)")]
        return []
    net = _network(source)
    own_pool = _network(config.zones[zone].tenant_pool)
    if net.version == own_pool.version and net.prefixlen > 0 and net.overlaps(own_pool):
        return [Issue(path, f"{source} overlaps the {zone} zone's tenant pool {own_pool}: it would "
                            f"admit other departments' networks (不同使用单位之间安全隔离)")]
    for other, zc in config.zones.items():
        if other == zone:
            continue
        for label, cidr in (("tenant pool", zc.tenant_pool), ("address range", zc.source_cidr)):
            other_net = _network(cidr)
            if other_net.prefixlen == 0:  # "anywhere" (the internet) is not a zone's own range
                continue
            if net.version == other_net.version and net.prefixlen > 0 and net.overlaps(other_net):
                return [Issue(path, f"{source} overlaps the {other} zone's {label} {cidr}: "
                                    f"a rule may not open a path between zones")]
    return []


def check_all(approvals: dict[str, Approval], catalog: Catalog, profile: Profile,
              config: WorkspaceConfig, offers: Mapping[str, Offer] | None = None,
              known_passed: Collection[str] = ()) -> list[InputError]:
    """``approvals`` maps display file name -> approval. Returns one InputError per bad file.
    ``known_passed``: files whose approval is known to pass check_approval with these same
    catalog, profile, config and offers (usecases/approval_checks.py); the checks between
    approvals see every file."""
    errors: dict[str, list[Issue]] = {
        f: [] if f in known_passed else check_approval(a, catalog, profile, config, offers)
        for f, a in approvals.items()}
    numbers: dict[str, str] = {}
    stacks: dict[str, tuple[str, Approval]] = {}
    dept_names: dict[str, tuple[str, str]] = {}
    names: dict[tuple[str, str, str], str] = {}
    servers: dict[tuple[str, str], list[tuple[str, Server]]] = {}
    for f, a in sorted(approvals.items()):
        for zone, req in a.zones.items():
            servers.setdefault((a.stack, zone), []).extend((f, s) for s in req.servers)
    for f, a in sorted(approvals.items()):
        if a.approval_no in numbers:
            errors[f].append(Issue("approval_no", f"{a.approval_no!r} is also the number of "
                                                  f"{numbers[a.approval_no]}"))
        numbers.setdefault(a.approval_no, f)
        d = dept_names.setdefault(a.department.code, (f, a.department.name))
        if d[1] != a.department.name:
            errors[f].append(Issue("department.name", f"{a.department.name!r} contradicts "
                                   f"{d[1]!r} for department {a.department.code} in {d[0]}"))
        first = stacks.setdefault(a.stack, (f, a))
        if first[1].system != a.system:
            diff = "; ".join(f"{k}: {getattr(a.system, k)!r} here, {getattr(first[1].system, k)!r} there"
                             for k in type(a.system).model_fields
                             if getattr(a.system, k) != getattr(first[1].system, k))
            errors[f].append(Issue("system", f"system {a.stack} is described differently in "
                                             f"{first[0]} ({diff}); one system, one description"))
        for zone, req in a.zones.items():
            for kind, items in (("server", req.servers), ("volume", req.volumes)):
                for i, obj in enumerate(items):
                    key = (a.stack, zone, obj.name)
                    if key in names and names[key] != f:
                        errors[f].append(Issue(f"zones.{zone}.{kind}s[{i}].name",
                            f"{obj.name!r} is already requested for {a.stack} in {names[key]}"))
                    names.setdefault(key, f)
            for i, v in enumerate(req.volumes):  # within one file the approval model checks it
                for g, s in servers.get((a.stack, zone), []):
                    if g != f and (disk := data_disk_owner(v.name, [s])):
                        errors[f].append(Issue(f"zones.{zone}.volumes[{i}].name",
                            f"{v.name!r} is already used for {a.stack} by {disk} in {g}"))
                        break
    return [InputError(f, issues) for f, issues in sorted(errors.items()) if issues]
