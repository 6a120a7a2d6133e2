"""Settlement by score: deductions from a month's fees where a city ties payment to the
provider's performance. Pure.

* Deadlines (大同 第三十条 with 第二十六条's 服务响应; 巴中 第四十三条; 重庆 第四十条): for each provider
  deadline of the lifecycle clocks (``core.lifecycle``: provision, reclaim...) that fell due in
  the month and was missed (done after its due date, or still open at the month's end), the
  profile's ``pct`` of the system's monthly total is deducted, as its own line with the article
  of the deadline and of the settlement. No regulation states an amount: every ``pct`` is a
  profile setting, and the line says so.
* Acceptance (重庆 第四十一条): the year's acceptance result (验收: passed / deferred 暂缓通过 /
  failed 不通过) deducts the profile's percentage from every month of that year.
Each deduction is rounded half-up to the fen on its own.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ..models.approval import Approval, PermanentTerm
from ..models.profile import Profile
from .billing import Bill, Dated, Line, half_up
from .lifecycle import Deadline, approval_status
from .workdays import WorkCalendar

RESULTS = ("passed", "deferred", "failed")


def missed_deadlines(a: Approval, profile: Profile, cal: WorkCalendar,
                     events: list[dict[str, Any]] | Dated, first: date, last: date,
                     ends: dict[str, date] | None = None) -> list[Any]:
    """Deadlines of ``a`` due within [first, last] and missed as seen on ``last``."""
    dated = events if isinstance(events, Dated) else Dated(events)
    deadlines = []
    if _may_fall_due(a, first, last):
        st = approval_status(a, "", profile, cal, dated.upto(last), last, ends)
        deadlines = [d for d in st.deadlines if d.key != "reclaim"]
    reclaim = _reclaim(dated.first_upto(last), profile, cal, last)
    if reclaim is not None:
        deadlines.append(reclaim)
    return [d for d in deadlines if d.hard and d.due is not None and first <= d.due <= last
            and (d.late or d.overdue)]


def _may_fall_due(a: Approval, first: date, last: date) -> bool:
    """Can a provisioning deadline of ``a`` (counted from its approval, or its term's start) fall
    due in [first, last]? Those deadlines are a few working days long: an approval made more
    than 60 days before the month (and not starting inside it) has none due in it. Saves the
    full lifecycle evaluation of every approval every month."""
    starts = [a.approved_on] + ([] if isinstance(a.term, PermanentTerm) else [a.term.start])
    return any(first - timedelta(days=60) <= d <= last for d in starts)


def _reclaim(on: dict[str, date], profile: Profile, cal: WorkCalendar,
             today: date) -> Deadline | None:
    """The reclaim clock (大同 第十六条) kept after the termination: from the exit approval
    (else the request) to the reclaim (else the termination). ``on``: kind -> earliest day."""
    r = profile.rules.reclaim_deadline_workdays
    if r is None:
        return None
    start = _first_day(on, ("exit-approved", "exit-requested"))
    if start is None:
        return None
    due = cal.add_workdays(start, r.value)
    done = _first_day(on, ("reclaimed", "terminated"))
    dl = Deadline("reclaim", f"resources reclaimed within {r.value} working days of the exit "
                  f"approval", due, "reclaim_deadline_workdays", profile.cite(r), done)
    dl.late = done is not None and done > due
    dl.overdue = done is None and today > due
    return dl


def _first_day(on: dict[str, date], kinds: tuple[str, ...]) -> date | None:
    return next((on[k] for k in kinds if k in on), None)


def settle(bill: Bill, approvals: dict[str, Approval],
           events: dict[str, list[dict[str, Any]]] | dict[str, Dated],
           profile: Profile, cal: WorkCalendar, acceptance: dict[int, dict[str, str]] | None = None,
           ends: dict[str, date] | None = None) -> Bill:
    """Adds the deduction lines to ``bill`` (in place) and returns it. ``events``: each
    approval's events, or their ``Dated`` (read once for several months)."""
    rule = profile.billing.settlement if profile.billing else None
    if rule is None:
        return bill
    by_stack: dict[str, list[Approval]] = {}
    for a in approvals.values():
        by_stack.setdefault(a.stack, []).append(a)
    acc = (acceptance or {}).get(bill.first.year)
    for sb in bill.systems:
        base = sb.total
        for a in sorted(by_stack.get(sb.stack, []), key=lambda a: a.approval_no):
            for dl in missed_deadlines(a, profile, cal, events.get(a.approval_no, []),
                                       bill.first, bill.last, ends):
                for d in rule.deductions:
                    if d.deadline != dl.key:
                        continue
                    how = f"done {dl.done_on}" if dl.done_on else "not done by the month's end"
                    note = (f"{dl.what}: due {dl.due}, {how}; {d.pct}% of the month's fee"
                            + ("; the percentage is a profile setting (the regulation states "
                               "no amount)" if d.setting else ""))
                    sb.deductions.append(_deduction(a.approval_no, f"deadline.{dl.key}", base,
                                                    d.pct, f"{d.article}; {rule.article}", note))
        if acc and rule.acceptance is not None and acc.get("result") in ("deferred", "failed"):
            r = rule.acceptance
            pct = r.failed_pct if acc["result"] == "failed" else r.deferred_pct
            word = "不通过" if acc["result"] == "failed" else "暂缓通过"
            note = (f"{bill.first.year} acceptance {acc['result']} ({word})"
                    + (f", {acc['document']}" if acc.get("document") else "")
                    + f"; {pct}% of the month's fee"
                    + ("; the percentage is a profile setting (验收结果应用规则 are not in the "
                       "text)" if r.setting else ""))
            sb.deductions.append(_deduction("", "acceptance", base, pct, r.article, note))
    return bill


def _deduction(approval: str, item: str, base: Decimal, pct: Decimal, article: str,
               note: str) -> Line:
    amount = -half_up(base * pct / 100)
    return Line(approval, "deduction", item, "settlement deduction", "", Decimal(1), amount,
                amount, None, None, 0, amount, article, note)
