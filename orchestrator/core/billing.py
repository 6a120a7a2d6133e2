"""Monthly bills: who pays what for which days of a month, per city. Pure.

Inputs are values: each approval with its monthly billing lines (``core.pricing``), its
lifecycle events (as the state store keeps them: ``{"kind", "on", "detail"}``), its effective
end (after extensions); the profile's ``billing`` rules (``models.profile.Billing``); the
working-day calendar (for 大同's reclaim deadline). Nothing here reads a file or the clock.

The method (重庆 第三十条, the one article that says how; the other cities take it as a
documented setting of their profile):

* a line's amount is ``unit price x quantity x days in service / days in the month``; the first
  and the last day in service both count;
* the exact amounts of a system's lines are added and the sum is rounded half-up to the fen
  **once per system per month** (line amounts are shown to 4 decimals, for reading only);
* only events whose day (``detail.at`` or ``on``) is on or before the month's last day count,
  so events of later months never change it; a closed month is changed only by adjustment lines (``usecases.bill``).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, NamedTuple

from ..errors import GovcloudError
from ..models.approval import Approval, PermanentTerm
from ..models.catalog import Catalog
from ..models.profile import Billing, Profile
from ..models.spec import BillingLine
from . import exit as exit_rules
from .workdays import WorkCalendar

FEN = Decimal("0.01")
SHOW = Decimal("0.0001")


def month_bounds(month: str) -> tuple[date, date]:
    """"2026-06" -> (2026-06-01, 2026-06-30); anything else is an error naming the format."""
    try:
        y, m = (int(p) for p in month.split("-"))
        first = date(y, m, 1)
    except (ValueError, TypeError):
        raise GovcloudError(f"--month {month!r}: give a month as YYYY-MM (e.g. 2026-06)") from None
    if len(month) != 7:
        raise GovcloudError(f"--month {month!r}: give a month as YYYY-MM (e.g. 2026-06)")
    return first, date(y, m, calendar.monthrange(y, m)[1])


def half_up(x: Decimal) -> Decimal:
    return x.quantize(FEN, rounding=ROUND_HALF_UP)


class Priced(NamedTuple):
    """One priced quantity of a catalog item (what a BillingLine carries, without pydantic)."""
    item: str
    unit: str
    unit_price: Decimal
    quantity: Decimal


def priced_items(approval: Approval, catalog: Catalog) -> list[Priced]:
    """The same quantities as ``core.pricing.price_approval`` (a test holds them equal), as
    plain tuples: billing prices every approval of the workspace, every month."""
    items = catalog.by_code()
    out: list[Priced] = []

    def add(item, qty) -> None:
        out.append(Priced(item.code, item.unit, item.unit_price, Decimal(qty)))
    for zone, req in approval.zones.items():
        for s in req.servers:
            add(items[s.flavor], s.count)
            add(items[s.system_disk.type], s.system_disk.gb * s.count)
            for d in s.data_disks:
                add(items[d.type], d.gb * s.count)
        for v in req.volumes:
            add(items[v.type], v.gb)
        if req.public_ips:
            add(catalog.zone_item("public_ip", zone), req.public_ips)
        if req.bandwidth_mbps:
            add(catalog.zone_item("bandwidth", zone), req.bandwidth_mbps)
    for svc in approval.services:
        add(items[svc.item], svc.quantity)
    return out


@dataclass(frozen=True)
class ChangeInput:
    """A change document (changes/<NO>.yaml) of the approval: its number, approval date and the
    approval's monthly quantities after it. It is billed from the first ``changed`` event of the
    approval on or after its approval date (the apply that carried it out); before that, and
    while no such event exists, the quantities before it are billed."""
    change_no: str
    approved_on: date
    lines: list


class Dated:
    """An approval's events with their days (``event_day``) read once: a report bills six
    months from the same events, and each month looks at them several times."""

    __slots__ = ("events", "days", "first")

    def __init__(self, events: list[dict[str, Any]]):
        self.events = events
        self.days = [event_day(e) for e in events]
        first: dict[str, date] = {}
        for d, e in zip(self.days, events):
            k = e["kind"]
            if k not in first or d < first[k]:
                first[k] = d
        self.first = first            # kind -> its earliest day

    def upto(self, last: date) -> list[dict[str, Any]]:
        """The events whose day is on or before ``last``, in their order."""
        if all(d <= last for d in self.days):
            return self.events
        return [e for d, e in zip(self.days, self.events) if d <= last]

    def first_upto(self, last: date) -> dict[str, date]:
        """kind -> earliest day, of the events up to ``last``."""
        return {k: d for k, d in self.first.items() if d <= last}

    def days_of(self, kind: str, last: date) -> list[date]:
        return sorted(d for d, e in zip(self.days, self.events) if e["kind"] == kind and d <= last)


@dataclass(frozen=True)
class ApprovalInput:
    approval: Approval
    lines: list[Priced] | list[BillingLine]   # monthly quantities (priced_items / pricing)
    events: list[dict[str, Any]]       # this approval's events, oldest first
    end: date | None = None            # effective end of a window/emergency term
    changes: tuple[ChangeInput, ...] = ()      # in approval order

    @cached_property
    def dated(self) -> Dated:
        return Dated(self.events)

    @cached_property
    def _rows(self) -> dict[int, tuple[Any, list[tuple]]]:
        return {}

    def rows(self, lines: list, names: dict[str, str]) -> list[tuple]:
        """``_aggregate(lines, names)`` for its lines or a change's, computed once per input."""
        got = self._rows.get(id(lines))
        if got is None or got[0] is not names or got[1] is not lines:
            got = self._rows[id(lines)] = (names, lines, _aggregate(lines, names))
        return got[2]


@dataclass
class Line:
    approval: str
    term: str                  # permanent | change | window | emergency | deduction | adjustment
    item: str
    name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    monthly: Decimal           # unit price x quantity
    first: date | None
    last: date | None
    days: int
    exact: Decimal             # monthly x days / days in month (not rounded)
    article: str = ""
    note: str = ""

    @property
    def amount(self) -> Decimal:
        return self.exact.quantize(SHOW, rounding=ROUND_HALF_UP)

    def to_dict(self) -> dict[str, Any]:
        return {"approval": self.approval, "term": self.term, "item": self.item,
                "name": self.name, "unit": self.unit, "quantity": str(self.quantity),
                "unit_price": str(self.unit_price), "monthly": str(self.monthly),
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None,
                "days": self.days, "amount": str(self.amount), "article": self.article,
                "note": self.note}


@dataclass
class SystemBill:
    department: str
    department_name: str
    system: str
    system_name: str
    lines: list[Line] = field(default_factory=list)
    deductions: list[Line] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    days_in_month: int = 30

    @property
    def stack(self) -> str:
        return f"{self.department}/{self.system}"

    @cached_property
    def total(self) -> Decimal:
        """Fees of the month, rounded half-up to the fen once (the exact sum of the lines);
        read once the lines are complete."""
        num = sum((ln.monthly * ln.days for ln in self.lines), Decimal(0))
        return half_up(num / self.days_in_month)

    @property
    def deducted(self) -> Decimal:
        return sum((d.exact for d in self.deductions), Decimal("0.00"))

    @property
    def payable(self) -> Decimal:
        return self.total + self.deducted           # deductions are negative, in fen

    def to_dict(self) -> dict[str, Any]:
        return {"department": self.department, "department_name": self.department_name,
                "system": self.system, "system_name": self.system_name,
                "lines": [ln.to_dict() for ln in self.lines],
                "deductions": [d.to_dict() for d in self.deductions],
                "total": str(self.total), "deducted": str(self.deducted),
                "payable": str(self.payable), "notes": self.notes}


@dataclass
class Bill:
    month: str
    first: date
    last: date
    profile: str
    profile_name: str
    rule: dict[str, Any]
    systems: list[SystemBill]

    @property
    def total(self) -> Decimal:
        return sum((s.total for s in self.systems), Decimal("0.00"))

    @property
    def payable(self) -> Decimal:
        return sum((s.payable for s in self.systems), Decimal("0.00"))

    def to_dict(self) -> dict[str, Any]:
        """The ``govcloud-bill/1`` document (docs/json-output.md); amounts are strings."""
        return {"format": "govcloud-bill/1", "month": self.month,
                "first": self.first.isoformat(), "last": self.last.isoformat(),
                "profile": self.profile, "profile_name": self.profile_name, "currency": "CNY",
                "rule": self.rule, "closed": False, "departments": self.departments(),
                "systems": [s.to_dict() for s in self.systems], "total": str(self.total),
                "deducted": str(sum((s.deducted for s in self.systems), Decimal("0.00"))),
                "adjusted": "0.00", "payable": str(self.payable), "pending_adjustments": []}

    def departments(self) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for s in self.systems:
            d = out.setdefault(s.department, {"department": s.department,
                                               "department_name": s.department_name,
                                               "systems": 0, "total": Decimal("0.00"),
                                               "deducted": Decimal("0.00"),
                                               "payable": Decimal("0.00")})
            d["systems"] += 1
            d["total"] += s.total
            d["deducted"] += s.deducted
            d["payable"] += s.payable
        return [{**d, "total": str(d["total"]), "deducted": str(d["deducted"]),
                 "payable": str(d["payable"])} for _, d in sorted(out.items())]


# --- when an approval is in service --------------------------------------------------------------
def event_day(e: dict[str, Any]) -> date:
    """An event's day: its ``detail.at`` (an ISO time, China time) when it has one, else ``on``."""
    at = (e.get("detail") or {}).get("at")
    return date.fromisoformat(str(at)[:10]) if at else date.fromisoformat(e["on"][:10])


def _first_of(on: dict[str, date], kinds: list[str]) -> tuple[str, date] | None:
    for kind in kinds:
        if kind in on:
            return kind, on[kind]
    return None


def _start(a_: Approval, on: dict[str, date], rule: Billing, notes: list[str]) -> date | None:
    """The first day billed; ``on``: the earliest day of each of the approval's event kinds."""
    temporary = not isinstance(a_.term, PermanentTerm)
    if temporary or a_.change_of:
        got = _first_of(on, [rule.temporary_start_event])
        if got is None:
            return None
        day = got[1]
        return max(day, a_.term.start) if temporary else day
    got = _first_of(on, [rule.start_event, *rule.start_fallback])
    if got is None:
        return None
    if got[0] != rule.start_event:
        notes.append(f"{a_.approval_no}: billing starts at {got[0]} on {got[1]} (fallback: no "
                     f"{rule.start_event} event recorded)")
    return got[1]


def stop_day(events: list[dict[str, Any]], rule: Billing, profile: Profile, cal: WorkCalendar,
             notes: list[str], who: str) -> date | None:
    """The last day billed, or None while the system is in service: the exit process's
    ``billing_stop`` (one implementation of each city's stop rule), with a note where the bill
    follows a fallback event or a late reclaim."""
    on: dict[str, date] = {}
    for e in events:
        d = event_day(e)
        on[e["kind"]] = min(d, on.get(e["kind"], d))
    return stop_day_on(on, rule, profile, cal, notes, who)


def stop_day_on(on: dict[str, date], rule: Billing, profile: Profile, cal: WorkCalendar,
                notes: list[str], who: str) -> date | None:
    """``stop_day`` from the earliest day of each event kind."""
    stop, _article = exit_rules.billing_stop(profile, on, cal)
    if rule.stop_event == "reclaim-deadline":
        due, counted_from = exit_rules.reclaim_due(profile, on, cal)
        if due is None and "reclaimed" in on:
            notes.append(f"{who}: billing stops at reclaimed on {on['reclaimed']} (no "
                         f"{counted_from} event recorded to count the reclaim deadline from)")
            return on["reclaimed"]
        if due is not None and "reclaimed" in on and on["reclaimed"] > due:
            notes.append(f"{who}: reclaimed on {on['reclaimed']}, after the deadline {due}: "
                         f"billing stops on the deadline ({profile.name_zh} {rule.stop_article})")
        return stop
    if stop is not None and rule.stop_event not in on:
        fell = next(k for k in rule.stop_fallback if on.get(k) == stop)
        notes.append(f"{who}: billing stops at {fell} on {stop} (fallback: no "
                     f"{rule.stop_event} event recorded)")
    return stop


def _aggregate(lines: list, names: dict[str, str]) -> list[tuple]:
    """Per catalog item, in first-seen order: (item, name, unit, quantity, unit price, monthly
    fee = unit price x quantity)."""
    agg: dict[str, list] = {}
    for ln in lines:
        row = agg.setdefault(ln.item, [ln.item, names.get(ln.item, ln.item), ln.unit,
                                       Decimal(0), ln.unit_price])
        row[3] += ln.quantity
    return [(*r, r[4] * r[3]) for r in agg.values()]


def _segments(a: ApprovalInput, changed: list[date], lo: date, hi: date):
    """[lo, hi] split at the days the approval's change documents took effect (``changed``:
    the days of its ``changed`` events, sorted): (first, last, quantities, change number or
    "")."""
    if not a.changes:
        return [(lo, hi, a.lines, "")]
    cuts: list[tuple[date, list, str]] = []
    after = date.min
    for c in a.changes:
        eff = next((d for d in changed if d >= c.approved_on and d > after), None)
        if eff is None:
            break                                   # not carried out yet: later ones neither
        cuts.append((eff, c.lines, c.change_no))
        after = eff
    out = []
    start, lines, no = lo, a.lines, ""
    for eff, new_lines, change_no in cuts:
        if eff > hi:
            break
        if eff > start:
            out.append((start, eff - timedelta(days=1), lines, no))
            start = eff
        lines, no = new_lines, change_no
    out.append((start, hi, lines, no))
    return out


def _term(a: Approval) -> str:
    return a.term.kind if not isinstance(a.term, PermanentTerm) else (
        "change" if a.change_of else "permanent")


def bill_month(month: str, approvals: list[ApprovalInput], profile: Profile, cal: WorkCalendar,
               names: dict[str, str], lines: bool = True) -> Bill:
    """The bill of ``month`` ("YYYY-MM"): one SystemBill per department/system that has a day
    in service in the month, lines per approval and catalog item. ``lines=False``: the systems'
    totals only, without their lines (a report's trend of earlier months): the same sum of
    monthly fee x days, in the same order, rounded once."""
    rule = profile.billing
    if rule is None:
        raise GovcloudError(f"profile {profile.code} has no billing rules",
                            fix="add a `billing:` block to the profile (see catalog/profiles/)")
    first, last = month_bounds(month)
    dim = (last - first).days + 1
    by_stack: dict[str, list[ApprovalInput]] = {}
    for a in approvals:
        by_stack.setdefault(a.approval.stack, []).append(a)
    systems: list[SystemBill] = []
    for stack in sorted(by_stack):
        inputs = sorted(by_stack[stack], key=lambda a: (a.approval.approved_on,
                                                         a.approval.approval_no))
        a0 = inputs[0].approval
        sb = SystemBill(a0.department.code, a0.department.name, a0.system.code, a0.system.name,
                        days_in_month=dim)
        num, billed = Decimal(0), False      # lines=False: the sum SystemBill.total takes
        # Events up to the month's end only: later ones cannot change this month.
        firsts = [a.dated.first_upto(last) for a in inputs]
        every: dict[str, date] = {}
        for on in firsts:
            for k, d in on.items():
                if k not in every or d < every[k]:
                    every[k] = d
        system_stop = stop_day_on(every, rule, profile, cal, sb.notes, stack)
        for a, on in zip(inputs, firsts):
            ap = a.approval
            start = _start(ap, on, rule, sb.notes)
            if start is None:
                continue
            stop = system_stop
            if not isinstance(ap.term, PermanentTerm):
                end = a.end or ap.term.end      # end: the term's last day of service
                if "expired" in on:
                    end = min(end, max(on["expired"] - timedelta(days=1), start))
                stop = min(stop, end) if stop else end
            lo, hi = max(start, first), min(stop, last) if stop else last
            if hi < lo:
                continue
            changed = a.dated.days_of("changed", last) if a.changes else []
            for seg_lo, seg_hi, quantities, change_no in _segments(a, changed, lo, hi):
                days = (seg_hi - seg_lo).days + 1
                if not lines:
                    for row in a.rows(quantities, names):
                        num += row[5] * days
                        billed = True
                    continue
                term = "change" if change_no else _term(ap)
                note = f"as changed by {change_no}" if change_no else ""
                for item, name, unit, qty, price, monthly in a.rows(quantities, names):
                    sb.lines.append(Line(ap.approval_no, term, item, name, unit, qty, price,
                                         monthly, seg_lo, seg_hi, days, monthly * days / dim,
                                         rule.start_article, note))
        if not lines and billed:
            sb.__dict__["total"] = half_up(num / dim)       # what SystemBill.total sums
            systems.append(sb)
        elif sb.lines:
            systems.append(sb)
    return Bill(month, first, last, profile.code, profile.name_zh, rule_summary(profile), systems)


def rule_summary(profile: Profile) -> dict[str, Any]:
    r = profile.billing
    assert r is not None
    return {"start_event": r.start_event, "start_fallback": r.start_fallback,
            "start_article": r.start_article, "start_setting": r.start_setting,
            "stop_event": r.stop_event, "stop_fallback": r.stop_fallback,
            "stop_article": r.stop_article, "stop_setting": r.stop_setting,
            "temporary_start_event": r.temporary_start_event,
            "proration": "monthly fee x days in service / days in month, first and last day counted",
            "proration_article": r.proration_article, "proration_setting": r.proration_setting,
            "rounding": "half-up to the fen, once per system per month",
            "rounding_article": r.rounding_article, "rounding_setting": r.rounding_setting}
