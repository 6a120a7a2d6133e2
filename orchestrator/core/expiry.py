"""What `govcloud expire` may do on a given day: pick the due removals out of a plan. Pure.

From a full plan made for ``today`` (the planner already turns every resource whose window has
ended into a delete "expired on <date>" and lowers windowed quotas), keep only:

* deletes of resources that a stack spec marks ``expires_on <= today`` — never a delete for any
  other reason (an approval removed, drift, a duplicate): those wait for a reviewed apply;
* quota updates of projects whose windows have ended, reduced to the fields that go *down*
  (a window opening the same day is raised by the next apply, not by the expiry job);
* security-group updates that close the inbound rules only an ended window approved (a rule
  that a permanent or still-open approval grants stays; nothing is ever added here);

and skip deletes whose approval has a recorded extension that the specs do not show yet (the
extension file is newer than the compiled spec: recompile first), and deletes of objects that
something staying still refers to (a network whose other servers wait for a reviewed apply).
Everything else in the plan is left for `govcloud apply`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

from .graph import project_of
from ..models.plan import Action, ActionKind as A, Cause
from ..models.spec import ResourceSpec
from .resources import KINDS, rule_key
from .windows import ended_windows, extended_uncompiled, open_windows


@dataclass
class Selection:
    deletes: list[Action] = field(default_factory=list)
    quota: list[Action] = field(default_factory=list)
    stale: list[tuple[str, str]] = field(default_factory=list)      # (address, why skipped)
    held: list[tuple[str, str]] = field(default_factory=list)       # (address, still used by)
    approvals: set[str] = field(default_factory=set)                 # approvals whose resources go

    rules: list[Action] = field(default_factory=list)                # inbound rules closed

    @property
    def actions(self) -> list[Action]:
        return self.deletes + self.quota + self.rules

    def data_holding(self) -> list[Action]:
        """The deletes of objects that hold tenant data (volumes, servers' root disks)."""
        return [a for a in self.deletes if KINDS[a.kind].holds_data]


def select(actions: Iterable[Action], resources: dict[str, ResourceSpec], today: date,
           extension_ends: dict[str, date] | None = None) -> Selection:
    ends = extension_ends or {}
    sel = Selection()
    actions = list(actions)
    quota_updates = []
    for a in actions:
        spec = resources.get(a.address)
        if a.action is A.DELETE:
            if spec is None or spec.expires_on is None or spec.expires_on > today:
                continue
            later = ends.get(spec.approval or "")      # the extension's last day (included)
            if later is not None and later >= spec.expires_on and later >= today:
                sel.stale.append((a.address, f"{spec.approval} was extended until {later} but "
                                             f"the spec still says it expires on "
                                             f"{spec.expires_on}: run `govcloud compile`"))
                continue
            sel.deletes.append(a)
            if spec.approval:
                sel.approvals.add(spec.approval)
        elif a.action is A.UPDATE and a.kind == "quota" and spec is not None and spec.windows:
            quota_updates.append((a, spec))
        elif a.action is A.UPDATE and a.kind == "security_group" and spec is not None \
                and spec.windows and "rules" in a.changes:
            for w, later in extended_uncompiled(spec, today, ends):
                if w.rules:
                    sel.stale.append((a.address, f"{w.approval} was extended until {later} but the "
                                      f"spec still says its window's last day is {w.end}: its inbound rules "
                                      f"stay open; run `govcloud compile`"))
            closed = _close_ended_rules(a, spec, today, ends)
            if closed is not None:
                sel.rules.append(closed)
                sel.approvals.update(w.approval for w in ended_windows(spec, today, ends))
    _hold_referenced(actions, sel)
    stale_projects = {project_of(addr) for addr, _ in sel.stale + sel.held}
    for a, spec in quota_updates:
        if project_of(a.address) in stale_projects:
            continue
        ended: dict[str, int] = {}
        for w in ended_windows(spec, today, ends):
            for f, n in w.add.items():
                ended[f] = ended.get(f, 0) + n
        lowered = {}
        for f, ch in a.changes.items():
            old, new = ch.get("old"), ch.get("new")
            if f in ended and isinstance(old, int) and isinstance(new, int) and new < old:
                # never below what the ended windows added: other reductions wait for an apply
                lowered[f] = {"old": old, "new": max(new, old - ended[f])}
        if not lowered:
            continue
        props = dict(a.desired.properties)
        for f, ch in a.changes.items():      # the cloud's values for everything else
            props[f] = lowered[f]["new"] if f in lowered else ch.get("old")
        sel.quota.append(Action(a.address, a.kind, a.target, A.UPDATE,
                                f"lowered after temporary windows ended: "
                                f"{', '.join(sorted(lowered))}", lowered,
                                a.desired.with_properties(props), a.prior, Cause.WINDOW_ENDED))
    return sel


def _close_ended_rules(a: Action, spec: ResourceSpec, today: date,
                      ends: dict[str, date] | None = None) -> Action | None:
    """The cloud's rules minus those only ended windows approved, or None if none is there.
    Open and ended windows come from :mod:`orchestrator.core.windows` (an accepted extension not
    compiled yet keeps its window open)."""
    keep = {rule_key(r) for r in spec.properties.get("rules", [])}
    for w in open_windows(spec, today, ends):
        keep |= {rule_key(r) for r in w.rules}
    ended = {rule_key(r) for w in ended_windows(spec, today, ends) for r in w.rules} - keep
    have = a.changes["rules"].get("old") or []
    left = [r for r in have if rule_key(r) not in ended]
    if len(left) == len(have):
        return None
    desired = a.desired.with_properties({**a.desired.properties, "rules": left})
    ended_by = sorted(w.approval for w in ended_windows(spec, today, ends) if w.rules)
    return Action(a.address, a.kind, a.target, A.UPDATE,
                  f"inbound rules closed after temporary windows ended: {', '.join(ended_by)}",
                  {"rules": {"old": have, "new": left}}, desired, a.prior, Cause.WINDOW_ENDED)


def _refs(a: Action) -> dict[str, str]:
    return dict((a.prior or {}).get("refs") or (a.desired.refs if a.desired else {}))


def _hold_referenced(actions: list[Action], sel: Selection) -> None:
    """Drop deletes of objects that an object staying in the cloud refers to (until stable)."""
    going = {a.address for a in sel.deletes}
    while True:
        staying = [a for a in actions if a.address not in going and a.prior is not None]
        users: dict[str, str] = {}
        for a in staying:
            for ref in _refs(a).values():
                users.setdefault(ref, a.address)
        held = [a for a in sel.deletes if a.address in users]
        if not held:
            return
        for a in held:
            sel.held.append((a.address, f"still used by {users[a.address]}"))
            going.discard(a.address)
        sel.deletes = [a for a in sel.deletes if a.address in going]
