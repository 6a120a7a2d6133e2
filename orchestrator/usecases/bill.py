"""`govcloud bill`: the month's statement per department and system, the bureau's summary,
settlement deductions, closing a month and its adjustment lines.

A month is billed from the approvals, the catalog, the profile's ``billing`` rules and the
lifecycle events dated up to the month's end, so billing it twice gives the same document.
``--close`` (after the month's last day) stores that document in the state store; from then on
the month's bill is the stored one, and a later event that changes the month's figures shows up
as a *pending adjustment* until ``--adjust`` records it as an adjustment line (audited)."""
from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..billing_files import load_acceptance, load_closed, refuse_open_month, save_closed
from ..calendar_files import workspace_calendar
from ..core.billing import (ApprovalInput, Bill, ChangeInput, bill_month, month_bounds,
                            priced_items)
from ..core.changes import ordered, reference_errors
from ..core.settlement import settle
from ..errors import GovcloudError
from ..extensions import extension_ends
from ..inputs import ParseCache
from ..lifecycle_events import audit, events_by_subject
from ..workspace import Workspace
from .session import open_state


@dataclass
class BillResult:
    doc: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return self.doc


@dataclass
class Loaded:
    """What a bill reads from the workspace files, loaded once (the report bills six months)."""
    approvals: dict[str, Any]
    inputs: list[tuple[Any, list, tuple]]   # (approval as filed, quantities, its changes)
    names: dict[str, str]
    ends: dict[str, dt.date]
    cal: Any
    acceptance: dict[int, dict[str, str]]
    # The billing inputs of the last events given, kept with them: their parsed event days
    # and aggregated lines serve every month billed from the same events.
    _for_events: tuple[Any, list[ApprovalInput]] | None = None

    def approval_inputs(self, events: dict[str, list[dict[str, Any]]]) -> list[ApprovalInput]:
        if self._for_events is None or self._for_events[0] is not events:
            self._for_events = (events, [
                ApprovalInput(a, lines, events.get(a.approval_no, []), self.ends.get(a.approval_no),
                              ch) for a, lines, ch in self.inputs])
        return self._for_events[1]


def load(ws: Workspace) -> Loaded:
    # The parse cache compile leaves (read only here): unchanged approval files are not parsed.
    approvals = ws.load_approvals(ParseCache(ws.parse_cache_path, read_only=True), raw=True)
    catalog = ws.catalog
    changes: dict[str, list[ChangeInput]] = {}
    if ws.changes_dir.is_dir():
        docs = ws.load_changes()
        for err in reference_errors(approvals, docs):
            raise err
        current = {a.approval_no: a for a in approvals.values()}
        for _, c in ordered(docs):        # each change on top of the ones before it
            base = current[c.changes]
            after = base.model_copy(update={"zones": c.zones, **(
                {"services": c.services} if c.services is not None else {})})
            current[c.changes] = after
            changes.setdefault(c.changes, []).append(
                ChangeInput(c.change_no, c.approved_on, priced_items(after, catalog)))
    return Loaded(approvals, [(a, priced_items(a, catalog), tuple(changes.get(a.approval_no, ())))
                              for _, a in sorted(approvals.items())],
                  {i.code: i.name_zh for i in catalog.items}, extension_ends(ws),
                  workspace_calendar(ws.root), load_acceptance(ws.root))


def compute(ws: Workspace, month: str, events: dict[str, list[dict[str, Any]]],
            loaded: Loaded | None = None, lines: bool = True) -> Bill:
    """The month's bill with its settlement; ``lines=False``: the systems' totals only."""
    lo = loaded or load(ws)
    inputs = lo.approval_inputs(events)
    bill = bill_month(month, inputs, ws.profile, lo.cal, lo.names, lines)
    by_no = {a.approval_no: a for a in lo.approvals.values()}
    return settle(bill, by_no, {i.approval.approval_no: i.dated for i in inputs}, ws.profile,
                  lo.cal, lo.acceptance, lo.ends)


def payable_by_department(ws: Workspace, months: list[str], loaded: Loaded,
                          department: str | None = None,
                          events: dict[str, list[dict[str, Any]]] | None = None
                          ) -> dict[str, dict[str, str]]:
    """month -> department -> payable, for a trend: a closed month's stored figures (with its
    adjustments), else the month computed (no document built). ``events``: the state's, when
    the caller has read them."""
    out: dict[str, dict[str, str]] = {}
    with open_state(ws) as store:
        if events is None:
            events = events_by_subject(store)
        for m in months:
            stored = load_closed(store, m)
            if stored is not None:
                doc = _closed_view(stored, [])
                out[m] = {d["department"]: d["payable"] for d in doc["departments"]}
            else:
                b = compute(ws, m, events, loaded, lines=False)
                by: dict[str, Decimal] = {}
                for s in b.systems:
                    by[s.department] = by.get(s.department, Decimal("0.00")) + s.payable
                out[m] = {k: str(v) for k, v in by.items()}
            if department:
                out[m] = {k: v for k, v in out[m].items() if k == department}
    return out


def bill(ws: Workspace, month: str, today: dt.date, department: str | None = None,
         close: bool = False, adjust: bool = False, loaded: Loaded | None = None,
         events: dict[str, list[dict[str, Any]]] | None = None) -> BillResult:
    """``loaded``/``events``: the workspace's inputs and the state's events, when the caller
    has read them (the report bills several months)."""
    first, last = month_bounds(month)
    with open_state(ws) as store:
        fresh = compute(ws, month, events if events is not None else events_by_subject(store),
                        loaded).to_dict()
        stored = load_closed(store, month)
        if stored is None and close:
            refuse_open_month(month, last, today)
            stored = copy.deepcopy(fresh)
            stored["closed"] = True
            stored["closed_on"] = today.isoformat()
            save_closed(store, month, stored)
            audit(store, ws, "bill-closed", None, {"month": month, "payable": stored["payable"]})
        if stored is not None:
            pending = _pending(stored, fresh)
            if pending and adjust:
                for p in pending:
                    stored.setdefault("adjustments", []).append({**p, "recorded_on":
                                                                 today.isoformat()})
                save_closed(store, month, stored)
                audit(store, ws, "bill-adjusted", None, {"month": month, "lines": pending})
                pending = []
            doc = _closed_view(stored, pending)
        else:
            doc = _ordered(fresh)
    if department:
        doc = only_department(doc, department, loaded or load(ws))
    return BillResult(doc)


def only_department(doc: dict[str, Any], department: str, loaded: Loaded) -> dict[str, Any]:
    """The bill of one department (an error naming the closest code when there is none)."""
    known = sorted({s["department"] for s in doc["systems"]}
                   | {a.department.code for a in loaded.approvals.values()})
    if department not in known:
        import difflib
        close_ = difflib.get_close_matches(department, known, n=1)
        raise GovcloudError(f"--department {department!r}: no such department in the "
                            f"approvals" + (f" (did you mean {close_[0]!r}?)" if close_ else ""),
                            fix="give a department code from approvals/*.yaml "
                                "(department.code)")
    return _only(doc, department)


def _payables(doc: dict[str, Any]) -> dict[str, Decimal]:
    out = {f"{s['department']}/{s['system']}": Decimal(s["payable"]) for s in doc["systems"]}
    for adj in doc.get("adjustments", []):
        out[adj["stack"]] = out.get(adj["stack"], Decimal(0)) + Decimal(adj["amount"])
    return out


def _pending(stored: dict[str, Any], fresh: dict[str, Any]) -> list[dict[str, Any]]:
    """What the month would be if billed again now, minus what was closed (and adjusted)."""
    was, now = _payables(stored), _payables(fresh)
    out = []
    names = {f"{s['department']}/{s['system']}": s for s in fresh["systems"] + stored["systems"]}
    for stack in sorted(set(was) | set(now)):
        delta = now.get(stack, Decimal(0)) - was.get(stack, Decimal(0))
        if delta:
            s = names[stack]
            out.append({"stack": stack, "department": s["department"],
                        "department_name": s["department_name"], "amount": str(delta),
                        "note": f"recomputed from the events recorded since the month was closed: "
                                f"{was.get(stack, Decimal(0))} -> {now.get(stack, Decimal(0))}"})
    return out


def _closed_view(stored: dict[str, Any], pending: list[dict[str, Any]]) -> dict[str, Any]:
    doc = copy.deepcopy(stored)
    adjustments = doc.pop("adjustments", [])
    doc.pop("closed_on", None)
    adjusted = sum((Decimal(a["amount"]) for a in adjustments), Decimal("0.00"))
    by_dept: dict[str, Decimal] = {}
    for a in adjustments:
        by_dept[a["department"]] = by_dept.get(a["department"], Decimal(0)) + Decimal(a["amount"])
    for d in doc["departments"]:
        d["payable"] = str(Decimal(d["payable"]) + by_dept.pop(d["department"], Decimal(0)))
    doc["closed"] = True
    doc["adjusted"] = str(adjusted)
    doc["adjustments"] = adjustments
    doc["payable"] = str(Decimal(doc["payable"]) + adjusted)
    doc["pending_adjustments"] = pending
    return _ordered(doc)


KEYS = ("format", "month", "first", "last", "profile", "profile_name", "currency", "rule",
        "closed", "departments", "systems", "adjustments", "total", "deducted", "adjusted",
        "payable", "pending_adjustments")


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    doc.setdefault("adjustments", [])
    return {k: doc[k] for k in KEYS}


def _only(doc: dict[str, Any], department: str) -> dict[str, Any]:
    """One department's document: its parts copied, not the whole bill (a report per
    department of a province would copy the province's bill for each)."""
    doc = _ordered(dict(doc))

    def mine(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return copy.deepcopy([r for r in rows if r["department"] == department])
    doc["rule"] = copy.deepcopy(doc["rule"])
    for key in ("systems", "departments", "adjustments", "pending_adjustments"):
        doc[key] = mine(doc[key])
    for key in ("total", "deducted", "payable"):
        field = {"total": "total", "deducted": "deducted", "payable": "payable"}[key]
        doc[key] = str(sum((Decimal(d[field]) for d in doc["departments"]), Decimal("0.00")))
    doc["adjusted"] = str(sum((Decimal(a["amount"]) for a in doc["adjustments"]),
                              Decimal("0.00")))
    return doc
