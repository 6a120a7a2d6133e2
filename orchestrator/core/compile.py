"""Approvals x catalog x profile x config -> stack specs. Pure and deterministic.

One spec per system (department/system). Per zone the system uses: one project ``<system>-<zone>``
in the department's domain, its own network, subnet, router (gateway to that zone's external
network only), one security group that admits only the approved inbound rules, the servers and
volumes, and provider-side quotas equal to the approved totals. Nothing refers across zones.
"""
from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from ..errors import GovcloudError, Issue
from ..models.approval import Approval, PermanentTerm
from ..models.catalog import Catalog
from ..models.config import WorkspaceConfig
from ..models.profile import Profile
from ..models.spec import ApprovalRef, QuotaWindow, ResourceSpec, StackSpec, ZoneLayout
from . import yaml_emit
from .layout import for_targets
from .pricing import price_approval, total
from .resources import KIND_ORDER

# Objects the cloud itself makes in every project, allowed on top of the approved totals:
# the router interface and DHCP port, OpenStack's "default" security group and its 4 rules,
# and the 2 egress rules of our own group. Documented in the README ("Quotas").
QUOTA_ALLOWANCE = {"ports": 2, "security_groups": 1, "security_group_rules": 6}
# The cloud's own "default" group of every project (OpenStack makes one per project) is managed
# too: no server uses it (they use the system's own group) and it admits only its own members
# (the rules the cloud makes); rules added to it or ports attached to it are drift that apply
# removes (orchestrator/core/drift.py), decommission deletes it with the project.
DEFAULT_GROUP_POLICY = {"ingress": "own-members-only", "used_by_servers": False}


@dataclass(frozen=True)
class CompileResult:
    specs: dict[str, StackSpec]             # "dept/system" -> spec
    ipam: dict[str, dict[str, str]]         # zone -> "dept/system" -> CIDR


def needed_blocks(approvals: list[Approval]) -> dict[str, list[str]]:
    needed: dict[str, set[str]] = defaultdict(set)
    for a in approvals:
        for zone in a.zones:
            needed[zone].add(a.stack)
    return {z: sorted(keys) for z, keys in needed.items()}


def compile_all(approvals: list[Approval], catalog: Catalog, profile: Profile,
                config: WorkspaceConfig, ipam: dict[str, dict[str, str]],
                ends: dict[str, date] | None = None) -> CompileResult:
    """``ipam`` must already hold a block for every (zone, stack) in use (see ipam.allocate).
    ``ends`` maps an approval number to its effective end when recorded extensions moved it
    (files under ``extensions/``, see orchestrator.extensions)."""
    specs = {stack: compile_one(group, catalog, profile, config, ipam, ends)
             for stack, group in stack_groups(approvals).items()}
    return CompileResult(specs, ipam)


def stack_groups(approvals: list[Approval]) -> dict[str, list[Approval]]:
    """stack -> its approvals in compile order, stacks sorted: what one spec is made of."""
    by_stack: dict[str, list[Approval]] = defaultdict(list)
    for a in approvals:
        by_stack[a.stack].append(a)
    return {stack: sorted(by_stack[stack], key=lambda a: (a.approved_on, a.approval_no))
            for stack in sorted(by_stack)}


def compile_one(group: list[Approval], catalog: Catalog, profile: Profile,
                config: WorkspaceConfig, ipam: dict[str, dict[str, str]],
                ends: dict[str, date] | None = None) -> StackSpec:
    """One stack's spec from its group (see stack_groups); of ``ipam`` it reads only this
    stack's blocks (orchestrator/usecases/stack_index.py keys reuse on them)."""
    return for_targets(compile_stack(group, catalog, profile, config, ipam, ends), config)


def _rule_dicts(rules: list[tuple]) -> list[dict]:
    return [{"direction": "ingress", "protocol": p, "port_min": lo or None, "port_max": hi or None,
             "remote_ip_prefix": src} for p, lo, hi, src in rules]


def _window(a: Approval, ends: dict[str, date] | None = None) -> tuple[date | None, date | None]:
    if isinstance(a.term, PermanentTerm):
        return None, None
    return a.term.start, (ends or {}).get(a.approval_no, a.term.end)


def _expires_on(last_day: date | None) -> date | None:
    """The day `govcloud expire` removes a term's resources: the day after its last day of
    service (a term's ``end`` is included, as approval forms write periods)."""
    return None if last_day is None else last_day + timedelta(days=1)


# Quota fields that follow the resources of one approval (the rest are per project).
_WINDOWED_QUOTA = ("cores", "ram_mb", "instances", "volumes", "gigabytes", "floating_ips", "ports")


def compile_stack(group: list[Approval], catalog: Catalog, profile: Profile,
                  config: WorkspaceConfig, ipam: dict[str, dict[str, str]],
                  ends: dict[str, date] | None = None) -> StackSpec:
    first = group[0]
    dept, system = first.department, first.system
    stack = first.stack
    items = catalog.by_code()
    resources: list[ResourceSpec] = []
    billing = []
    refs_out = []
    # Infrastructure lives as long as the longest-lived approval of the system.
    windows = [_window(a, ends) for a in group]
    infra_from = None if any(w[0] is None for w in windows) else min(w[0] for w in windows)
    infra_until = None if any(w[1] is None for w in windows) else max(w[1] for w in windows)
    base_no = group[0].approval_no

    zones_used = sorted({z for a in group for z in a.zones})
    layouts: dict[str, ZoneLayout] = {}
    for zone in zones_used:
        zc = config.zones[zone]
        target = zc.target
        proj_name = f"{system.code}-{zone}"
        dom = f"domain:{target}/{dept.code}"
        proj = f"project:{target}/{dept.code}/{proj_name}"
        pre = f"{target}/{dept.code}/{proj_name}"
        cidr = ipam[zone][stack]
        layouts[zone] = ZoneLayout(project=proj_name, target=target,
                                   external_network=zc.external_network, cidr=cidr)

        def res(kind, name, props, refs, approval=base_no, window=(infra_from, infra_until),
                address=None):
            resources.append(ResourceSpec(
                address=address or f"{kind}:{pre}/{name}", kind=kind, name=name, target=target,
                zone=zone, stack=stack, approval=approval, properties=props, refs=refs,
                not_before=window[0], expires_on=_expires_on(window[1])))

        resources.append(ResourceSpec(address=dom, kind="domain", name=dept.code, target=target,
                                      properties={"name": dept.code, "description": dept.name}))
        res("project", proj_name, {"name": proj_name,
            "description": f"{dept.name} {system.name} ({zone})",
            "default_security_group": DEFAULT_GROUP_POLICY}, {"domain": dom}, address=proj)
        net, sub, sg = f"network:{pre}/net", f"subnet:{pre}/subnet", f"security_group:{pre}/sg"
        res("network", "net", {"name": f"{proj_name}-net"}, {"project": proj})
        gateway = _first_host(cidr)
        res("subnet", "subnet", {"name": f"{proj_name}-subnet", "cidr": cidr, "gateway_ip": gateway},
            {"network": net})
        res("router", "router", {"name": f"{proj_name}-router", "external_network": zc.external_network},
            {"project": proj, "subnet": sub})

        totals = defaultdict(int)
        rules: set[tuple] = set()                       # permanently approved inbound rules
        window_rules: dict[str, set[tuple]] = {}        # approval -> rules of its window only
        eip_no = 0
        pending_windows: list[tuple[str, date, date, dict[str, int]]] = []
        for a in group:
            req = a.zones.get(zone)
            if req is None:
                continue
            window = _window(a, ends)
            no = a.approval_no
            if window[0] is not None:   # a temporary term: its quota is raised for the window only
                permanent, totals = totals, defaultdict(int)
            for s in req.servers:
                flavor = items[s.flavor].provisions
                sys_type = items[s.system_disk.type].provisions.volume_type
                for i in range(1, s.count + 1):
                    sname = f"{s.name}-{i}"
                    srv = f"server:{pre}/{sname}"
                    res("server", sname, {
                        "name": sname, "flavor": s.flavor, "vcpus": flavor.vcpus,
                        "ram_gb": flavor.ram_gb, "image": s.image,
                        "system_disk_gb": s.system_disk.gb, "system_disk_type": sys_type,
                    }, {"project": proj, "network": net, "security_group": sg}, no, window)
                    totals["cores"] += flavor.vcpus
                    totals["ram_mb"] += flavor.ram_gb * 1024
                    totals["instances"] += 1
                    totals["volumes"] += 1
                    totals["gigabytes"] += s.system_disk.gb
                    for k, d in enumerate(s.data_disks, 1):
                        vname = f"{sname}-data{k}"
                        vol = f"volume:{pre}/{vname}"
                        res("volume", vname, {"name": vname, "size_gb": d.gb,
                            "volume_type": items[d.type].provisions.volume_type},
                            {"project": proj}, no, window)
                        res("volume_attachment", vname, {"device_index": k},
                            {"server": srv, "volume": vol}, no, window)
                        totals["volumes"] += 1
                        totals["gigabytes"] += d.gb
            for v in req.volumes:
                res("volume", v.name, {"name": v.name, "size_gb": v.gb,
                    "volume_type": items[v.type].provisions.volume_type}, {"project": proj}, no, window)
                totals["volumes"] += 1
                totals["gigabytes"] += v.gb
            for _ in range(req.public_ips):
                eip_no += 1
                res("floating_ip", f"eip-{eip_no}", {"external_network": zc.external_network,
                    "bandwidth_mbps": req.bandwidth_mbps}, {"project": proj}, no, window)
                totals["floating_ips"] += 1
            # A temporary term's inbound rules open only for its window (the expiry job closes
            # them again); a permanent term's rules stay.
            into = rules if window[0] is None else window_rules.setdefault(no, set())
            for r in req.inbound:
                source = zc.source_cidr if r.source.startswith("zone:") else r.source
                lo = r.port
                hi = r.port_max if r.port_max is not None else r.port
                into.add((r.protocol, lo or 0, hi or 0, source))
            if window[0] is not None:
                add = {k: totals[k] for k in _WINDOWED_QUOTA if k != "ports" and totals[k]}
                if totals["instances"]:
                    add["ports"] = totals["instances"]
                pending_windows.append((no, window[0], window[1], add))
                totals = permanent
        # Known only now: which of a window's rules no permanent approval grants anyway.
        extra_rules = {no: sorted(rs - rules) for no, rs in window_rules.items()}
        quota_windows: list[QuotaWindow] = []
        rule_windows: list[QuotaWindow] = []
        for no, start, end, add in pending_windows:
            if extra_rules.get(no):
                add = {**add, "security_group_rules": len(extra_rules[no])}
                rule_windows.append(QuotaWindow(approval=no, start=start, end=end,
                                                rules=_rule_dicts(extra_rules[no])))
            quota_windows.append(QuotaWindow(approval=no, start=start, end=end, add=add))
        sg_rules = _rule_dicts(sorted(rules))
        res("security_group", "sg", {"name": f"{proj_name}-sg", "rules": sg_rules,
            "description": "govcloud: inbound denied except approved rules"}, {"project": proj})
        if rule_windows:
            resources[-1] = resources[-1].model_copy(update={"windows": rule_windows})
        quota = {
            "cores": totals["cores"], "ram_mb": totals["ram_mb"], "instances": totals["instances"],
            "volumes": totals["volumes"], "gigabytes": totals["gigabytes"], "snapshots": 0,
            "floating_ips": totals["floating_ips"], "networks": 1, "subnets": 1, "routers": 1,
            "ports": totals["instances"] + QUOTA_ALLOWANCE["ports"],
            "security_groups": 1 + QUOTA_ALLOWANCE["security_groups"],
            "security_group_rules": len(sg_rules) + QUOTA_ALLOWANCE["security_group_rules"],
        }
        res("quota", "quota", quota, {"project": proj})
        if quota_windows:
            resources[-1] = resources[-1].model_copy(update={"windows": quota_windows})

    for a in group:
        lines = price_approval(a, catalog)
        billing.extend(lines)
        term = a.term.model_dump(mode="json", exclude_none=True)
        if not isinstance(a.term, PermanentTerm) and _window(a, ends)[1] != a.term.end:
            term["extended_until"] = _window(a, ends)[1].isoformat()
        refs_out.append(ApprovalRef(approval_no=a.approval_no, approved_on=a.approved_on,
                                    term=term, monthly_fee=total(lines)))
    resources.sort(key=lambda r: (KIND_ORDER[r.kind], r.address))
    return StackSpec(
        stack=stack, department={"code": dept.code, "name": dept.name},
        system={"code": system.code, "name": system.name, "dengbao_level": system.dengbao_level},
        profile=profile.code,
        labels={"govcloud.workspace": config.workspace.id, "govcloud.department": dept.code,
                "govcloud.stack": stack},
        approvals=refs_out, zones=layouts, monthly_fee=total(billing) if billing else Decimal("0.00"),
        billing=billing, resources=resources, moved=_moves(group, stack, resources))


def _moves(group: list[Approval], stack: str, resources: list) -> list[dict[str, str]]:
    """The group's ``moved:`` records; each ``to`` must be this system (or an object of it)."""
    have = {r.address for r in resources}
    out: list[dict[str, str]] = []
    for a in group:
        for i, m in enumerate(a.moved):
            if (":" in m["to"] and m["to"] not in have) or (":" not in m["to"] and m["to"] != stack):
                raise GovcloudError(
                    f"approval {a.approval_no}: moved[{i}].to {m['to']} is not "
                    f"{'an object of ' if ':' in m['to'] else ''}{stack}",
                    [Issue(f"moved[{i}].to", "a move must end at what this approval compiles to")],
                    fix="use an address from `govcloud plan` (or DEPT/SYSTEM of this system)")
            if m not in out:
                out.append(m)
    return out


def _first_host(cidr: str) -> str:
    net = ipaddress.ip_network(cidr)
    return str(net.network_address + 1)


# --- the text of a spec -----------------------------------------------------------------------
# PyYAML's representer (Python even with libyaml's emitter) was most of `govcloud compile`'s
# time at 10,000 approvals. This one builds the same node tree for the plain data of
# ``model_dump(mode="json")`` (dict, list, str, int, bool, None) with one type check per value and
# hands anything else to PyYAML's; the C emitter then writes exactly the same bytes. The emitter's
# calls back into the resolver are memoised per document.
_SafeDumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_STR, _INT, _BOOL, _NULL = ("tag:yaml.org,2002:" + t for t in ("str", "int", "bool", "null"))
_MAP, _SEQ = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"


class _SpecDumper(_SafeDumper):  # type: ignore[misc,valid-type]
    def represent_data(self, data):
        t = type(data)
        if t is str:
            return ScalarNode(_STR, data, style=self.default_style)
        if t is int:
            return ScalarNode(_INT, str(data), style=self.default_style)
        if t is bool:
            return ScalarNode(_BOOL, "true" if data else "false", style=self.default_style)
        if data is None:
            return ScalarNode(_NULL, "null", style=self.default_style)
        if t is not dict and t is not list:
            return super().represent_data(data)
        node = self.represented_objects.get(id(data))
        if node is not None:        # the same object twice: an alias, as PyYAML would
            return node
        self.object_keeper.append(data)
        best = True
        if t is dict:
            pairs: list = []
            node = MappingNode(_MAP, pairs)
            self.represented_objects[id(data)] = node
            items = list(data.items())
            if self.sort_keys:
                try:
                    items = sorted(items)
                except TypeError:
                    pass
            for k, v in items:
                kn, vn = self.represent_data(k), self.represent_data(v)
                if best and not (type(kn) is ScalarNode and not kn.style
                                 and type(vn) is ScalarNode and not vn.style):
                    best = False
                pairs.append((kn, vn))
        else:
            values: list = []
            node = SequenceNode(_SEQ, values)
            self.represented_objects[id(data)] = node
            for item in data:
                n = self.represent_data(item)
                if best and not (type(n) is ScalarNode and not n.style):
                    best = False
                values.append(n)
        node.flow_style = self.default_flow_style if self.default_flow_style is not None else best
        return node

    def resolve(self, kind, value, implicit):
        # libyaml's emitter asks twice per scalar whether its text would read back as another
        # type; with no path resolvers the answer depends on (value, implicit) only.
        if kind is not ScalarNode or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        cache = self.__dict__.setdefault("_resolved", {})
        key = (value, implicit)
        tag = cache.get(key)
        if tag is None:
            tag = cache[key] = super().resolve(kind, value, implicit)
        return tag


def spec_yaml(data) -> str:
    """``data`` as YAML, byte for byte what orchestrator.usecases.compile._dump writes (same options):
    orchestrator.core.yaml_emit's direct writer when it covers ``data`` (a spec's plain data always
    is, unless a string needs double quotes or folding), else PyYAML through _SpecDumper."""
    text = yaml_emit.dump(data)
    if text is not None:
        return text
    return yaml.dump(data, Dumper=_SpecDumper, allow_unicode=True, sort_keys=False,
                     default_flow_style=False, width=100)
