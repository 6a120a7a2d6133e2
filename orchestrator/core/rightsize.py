"""Right-sizing: the profile's rules over measured utilisation -> recommendations with their
evidence and a priced proposal. Pure.

Each rule (``models.profile.SizingRule``) names an action (expand / shrink / reclaim / remind),
the resource, the article, a window in days before the review time, and conditions:
``statistic(metric over the window) <word> value``, where the word is the article's own
(``models.profile.satisfies``: 以上/以下/及以下/未超过 include the number, 超过/高于/低于/大于 exclude
it). A rule holds when ``any`` (or ``all``) of its conditions hold. Server rules look at one
server's series; system rules pool the samples of every server of the system.

Proposals: the next flavor of the same family (catalog code prefix) down or up, a data disk cut
to keep 500 GB free... priced from the catalog as the monthly fee delta (Decimal).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from ..models.profile import Profile, SizingCondition, SizingRule, satisfies
from .workdays import WorkCalendar, add_months

CHINA = timezone(timedelta(hours=8))
Samples = dict[str, list[tuple[int, float]]]          # metric -> [(ts, value)]
# A condition is judged only on a series that covers its window (its first sample at most a
# day after the window's start); otherwise its evidence says so (value None) and it fails.
COVERAGE_SLACK = 86400


@dataclass(frozen=True)
class Flavor:
    code: str
    vcpus: int
    ram_gb: int
    price: Decimal

    @property
    def family(self) -> str:
        """"ecs.s4m8" -> "ecs.s": the code up to its first digit."""
        return re.match(r"[^0-9]*", self.code).group(0)


@dataclass(frozen=True)
class Disk:
    address: str
    gb: int
    unit_price: Decimal


@dataclass(frozen=True)
class ServerFacts:
    address: str
    stack: str
    approval: str
    flavor: Flavor
    system_disk_gb: int
    system_disk_price: Decimal
    data_disks: tuple[Disk, ...] = ()

    @property
    def monthly(self) -> Decimal:
        return (self.flavor.price + self.system_disk_price * self.system_disk_gb
                + sum((d.unit_price * d.gb for d in self.data_disks), Decimal(0)))


@dataclass
class Evidence:
    metric: str
    statistic: str
    window_from: str
    window_to: str
    value: Any
    threshold: Any
    word: str
    met: bool
    samples: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Recommendation:
    rule: str
    action: str
    resource: str
    stack: str
    server: str | None
    approval: str | None
    article: str
    setting: bool
    evidence: list[Evidence]
    proposal: dict[str, Any] = field(default_factory=dict)
    fee_delta: Decimal | None = None
    escalation: dict[str, Any] | None = None
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "action": self.action, "resource": self.resource,
                "stack": self.stack, "server": self.server, "approval": self.approval,
                "article": self.article, "setting": self.setting,
                "evidence": [e.to_dict() for e in self.evidence], "proposal": self.proposal,
                "fee_delta": None if self.fee_delta is None else str(self.fee_delta),
                "escalation": self.escalation, "note": self.note}


def _day(ts: int) -> date:
    return datetime.fromtimestamp(ts, CHINA).date()


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, CHINA).isoformat()


def spikes_in_hour(points: list[tuple[int, float]], above: float, word: str) -> int:
    """The most samples ``word`` ``above`` within any one hour [t, t + 3600)."""
    ts = [t for t, v in points if satisfies(v, above, word)]
    best = lo = 0
    for hi in range(len(ts)):
        while ts[hi] - ts[lo] >= 3600:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def statistic(c: SizingCondition, points: list[tuple[int, float]], today: date) -> tuple[Any, bool]:
    """(the measured value for the evidence, does the condition hold)."""
    vals = [v for _, v in points]
    if c.statistic == "down_since":
        up = [t for t, v in points if v >= 1]
        last_up = _day(max(up)) if up else _day(points[0][0])
        return last_up.isoformat(), satisfies(today, add_months(last_up, int(c.value)), c.word)
    if c.statistic == "spikes_in_hour":
        n = spikes_in_hour(points, float(c.above), c.above_word or "超过")
        return n, satisfies(n, c.value, c.word)
    value = max(vals) if c.statistic == "max" else min(vals) if c.statistic == "min" else (
        math.fsum(vals) / len(vals))
    value = round(value, 6)
    return value, satisfies(value, c.value, c.word)


def _points(samples: list[Samples], metric: str, lo: int, hi: int) -> list[tuple[int, float]]:
    if metric == "idle_pct":
        return sorted((t, 100.0 - v) for s in samples for t, v in s.get("mem_pct", [])
                      if lo <= t <= hi)
    return sorted((t, v) for s in samples for t, v in s.get(metric, []) if lo <= t <= hi)


def evaluate(rule: SizingRule, samples: list[Samples], until: int) -> tuple[list[Evidence], bool]:
    lo = until - rule.window_days * 86400
    today = _day(until)
    out: list[Evidence] = []
    for c in rule.conditions:
        pts = _points(samples, c.metric, lo, until)
        if not pts:
            continue
        if pts[0][0] > lo + COVERAGE_SLACK:       # the series does not cover the window
            out.append(Evidence(c.metric, c.statistic, _iso(lo), _iso(until), None, c.value,
                                c.word, False, len(pts)))
            continue
        value, met = statistic(c, pts, today)
        threshold = c.value if c.statistic != "spikes_in_hour" else {
            "count": c.value, "above": c.above, "above_word": c.above_word}
        out.append(Evidence(c.metric, c.statistic, _iso(lo), _iso(until), value, threshold,
                            c.word, met, len(pts)))
    if len(out) < len(rule.conditions) and rule.match == "all":
        return out, False
    held = any(e.met for e in out) if rule.match == "any" else bool(out) and all(e.met for e in out)
    return out, held


def _neighbour(f: Flavor, flavors: list[Flavor], down: bool) -> Flavor | None:
    same = [g for g in flavors if g.family == f.family and g.code != f.code]
    if down:
        cands = [g for g in same if g.vcpus <= f.vcpus and g.ram_gb <= f.ram_gb]
        return max(cands, key=lambda g: (g.vcpus * g.ram_gb, g.code), default=None)
    cands = [g for g in same if g.vcpus >= f.vcpus and g.ram_gb >= f.ram_gb]
    return min(cands, key=lambda g: (g.vcpus * g.ram_gb, g.code), default=None)


def propose(rec: Recommendation, rule: SizingRule, s: ServerFacts | None,
            system: list[ServerFacts], flavors: list[Flavor]) -> None:
    if rule.resource in ("vcpus", "ram_gb") or (rule.resource == "server" and rule.action
                                                 == "expand"):
        assert s is not None
        to = _neighbour(s.flavor, flavors, down=rule.action == "shrink")
        if to is None:
            rec.note = f"no {'smaller' if rule.action == 'shrink' else 'larger'} flavor of the " \
                       f"{s.flavor.code} family in the catalog: decide by hand"
            return
        rec.proposal = {"flavor": {"from": s.flavor.code, "to": to.code},
                        "vcpus": {"from": s.flavor.vcpus, "to": to.vcpus},
                        "ram_gb": {"from": s.flavor.ram_gb, "to": to.ram_gb}}
        rec.fee_delta = to.price - s.flavor.price
    elif rule.resource == "data_disk":
        assert s is not None
        if not s.data_disks:
            rec.note = "the server has no data disk"
            return
        d = s.data_disks[0]
        if rule.action == "shrink":
            free = min(e.value for e in rec.evidence if e.metric == "disk_free_gb")
            keep = rule.conditions[0].value
            cut = int((free - keep) // 10 * 10)
            new = max(10, d.gb - cut)
        else:
            new = int(math.ceil(d.gb * 1.5 / 10) * 10)
        rec.proposal = {"volume": d.address, "gb": {"from": d.gb, "to": new}}
        rec.fee_delta = d.unit_price * (new - d.gb)
    elif rule.resource == "server":
        assert s is not None
        rec.proposal = {"remove": s.address}
        rec.fee_delta = -s.monthly
    elif rule.resource == "system" and rule.action == "reclaim":
        rec.proposal = {"remove": rec.stack}
        rec.fee_delta = -sum((x.monthly for x in system), Decimal(0))


def escalation(rule: SizingRule, reminded: date | None, urged: date | None, today: date,
               cal: WorkCalendar) -> dict[str, Any] | None:
    """重庆 第十七条: where the reminder clock stands on ``today``."""
    e = rule.escalation
    if e is None:
        return None
    if reminded is None:
        return {"stage": "remind", "reminded_on": None, "urge_from": None, "shrink_from": None,
                "article": e.article}
    urge_at = add_months(reminded, e.urge_after_months)
    out = {"stage": "reminded", "reminded_on": reminded.isoformat(),
           "urge_from": (urge_at + timedelta(days=1)).isoformat(), "shrink_from": None,
           "article": e.article}
    if satisfies(today, urge_at, "超过"):
        out["stage"] = "urge"
    if urged is not None:
        shrink_at = cal.add_workdays(urged, e.shrink_after_workdays)
        out["urged_on"] = urged.isoformat()
        out["shrink_from"] = cal.add_workdays(shrink_at, 1).isoformat()
        out["stage"] = "bureau-may-shrink" if satisfies(today, shrink_at, "超过") else "urged"
    return out


def recommend(profile: Profile, servers: list[ServerFacts], samples: dict[str, Samples],
              until: int, flavors: list[Flavor], cal: WorkCalendar,
              clocks: dict[str, dict[str, date]] | None = None) -> list[Recommendation]:
    """Every rule of the profile over every server (or system) with samples in its window.
    ``clocks``: stack -> {"reminded": date, "urged": date} (escalation events)."""
    by_stack: dict[str, list[ServerFacts]] = {}
    for s in servers:
        by_stack.setdefault(s.stack, []).append(s)
    out: list[Recommendation] = []
    today = _day(until)
    for rule in profile.rightsizing:
        if rule.scope == "system":
            for stack in sorted(by_stack):
                group = by_stack[stack]
                ev, held = evaluate(rule, [samples.get(s.address, {}) for s in group], until)
                if held:
                    rec = Recommendation(rule.key, rule.action, rule.resource, stack, None,
                                         group[0].approval, rule.article, rule.setting, ev,
                                         note=rule.note)
                    propose(rec, rule, None, group, flavors)
                    c = (clocks or {}).get(stack, {})
                    rec.escalation = escalation(rule, c.get("reminded"), c.get("urged"), today,
                                                cal)
                    out.append(rec)
            continue
        for s in sorted(servers, key=lambda s: s.address):
            ev, held = evaluate(rule, [samples.get(s.address, {})], until)
            if held:
                rec = Recommendation(rule.key, rule.action, rule.resource, s.stack, s.address,
                                     s.approval, rule.article, rule.setting, ev, note=rule.note)
                propose(rec, rule, s, by_stack[s.stack], flavors)
                out.append(rec)
    return out
