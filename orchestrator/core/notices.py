"""Which notices are due: every clock govcloud keeps, per approval, turned into messages for the
people who act on them. Pure.

Clocks (core/lifecycle.py deadlines): provisioning / change applied, deployment, the emergency
backfill, the last day to request an extension, the exit's transition hold (过渡期) ending, the
reclaim deadline, the old system's keep period after a cut-over; plus wipe failures recorded by
the exit workflow (``wipe-failed`` events). The term's end is the expiry job's
(``govcloud expire`` sends those warnings); it is not repeated here.

Each deadline is notified once per threshold — ``THRESHOLDS`` working days before it is due,
and once when it is overdue — and once per sink: a ``notice-sent`` event records the notice's key
and the sinks it reached, so a run that failed for one sink retries only that one. A deadline
first seen inside several thresholds gets one notice (the tightest) and records them all.

Roles: ``provider`` (the provider's duty engineer: 值班工程师), ``department`` (the using
department's contact: 使用单位联系人), ``bureau`` (the 大数据局, who hears of what is overdue).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from .lifecycle import ApprovalStatus

NOTICE_SENT = "notice-sent"           # the event kind that makes notices idempotent
THRESHOLDS = (3, 1, 0)                # working days before a deadline
ROLES = ("provider", "department", "bureau")

# deadline key -> (who is told before it is due, who else is told when it is overdue, 中文)
ROUTES: dict[str, tuple[tuple[str, ...], tuple[str, ...], str]] = {
    "provision": (("provider",), ("bureau",), "资源开通期限"),
    "deploy": (("provider", "department"), ("bureau",), "部署期限"),
    "backfill": (("department",), ("bureau", "provider"), "应急资源补办申请期限"),
    "extension-request": (("department",), (), "延期申请最后一天"),
    "transition": (("department", "provider"), (), "过渡期结束"),
    "reclaim": (("provider",), ("bureau",), "资源回收期限"),
    "keep-old-system": (("department", "provider"), (), "旧系统保留期结束"),
}


@dataclass(frozen=True)
class Notice:
    key: str                      # idempotency key: subject|clock|due|threshold
    subject: str                  # approval number (or stack, for a wipe failure)
    clock: str                    # deadline key, or "wipe-failed"
    threshold: str                # "3" / "1" / "0" working days, "overdue", or "event"
    due: str | None
    roles: tuple[str, ...]
    title: str
    message: str
    article: str = ""
    covers: tuple[str, ...] = ()  # keys of the thresholds this notice stands for
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "subject": self.subject, "clock": self.clock,
                "threshold": self.threshold, "due": self.due, "roles": list(self.roles),
                "title": self.title, "message": self.message, "article": self.article,
                **self.data}


def _todo(dl) -> str:
    """The deadline's remedy, closing the message (core/remedies.py), with who acts."""
    if not dl.remedy:
        return ""
    return f". What to do ({dl.actor}): {dl.remedy}" if dl.actor else f". What to do: {dl.remedy}"


def _key(subject: str, clock: str, due: date | str | None, threshold: str) -> str:
    return f"{subject}|{clock}|{due}|{threshold}"


def due_notices(statuses: Iterable[ApprovalStatus], wipe_failures: Iterable[dict[str, Any]],
                delivered: dict[str, set[str]], today: date) -> list[Notice]:
    """Notices due ``today``. ``delivered``: notice key -> sinks it reached already (a key
    present with every sink is skipped by the caller per sink)."""
    out: list[Notice] = []
    for st in statuses:
        for dl in st.deadlines:
            route = ROUTES.get(dl.key)
            if route is None or dl.due is None or dl.done_on is not None or dl.error:
                continue
            before, escalate, zh = route
            left = dl.workdays_left
            if left is None:
                continue
            if dl.overdue:
                k = _key(st.approval_no, dl.key, dl.due, "overdue")
                if k in delivered:
                    continue
                out.append(Notice(
                    k, st.approval_no, dl.key, "overdue", dl.due.isoformat(), before + escalate,
                    f"OVERDUE: {dl.what} ({st.approval_no})",
                    f"{st.approval_no} ({st.stack}): {dl.what} was due on {dl.due} and is "
                    f"overdue by {-left} working day{'s' if left != -1 else ''}; "
                    f"{zh}已逾期（应于{dl.due}前完成）{_todo(dl)}", dl.citation, (k,),
                    {"stack": st.stack, "workdays_left": left, "actor": dl.actor,
                     "remedy": dl.remedy}))
                continue
            if dl.due < today:
                continue            # a date to know that has passed (not a hard deadline)
            crossed = [t for t in THRESHOLDS if left <= t]
            keys = [_key(st.approval_no, dl.key, dl.due, str(t)) for t in crossed]
            fresh = [(t, k) for t, k in zip(crossed, keys) if k not in delivered]
            if not fresh:
                continue
            t, k = min(fresh)
            when = "today" if left == 0 else f"in {left} working day{'s' if left != 1 else ''}"
            out.append(Notice(
                k, st.approval_no, dl.key, str(t), dl.due.isoformat(), before,
                f"{dl.what}: {dl.due} ({st.approval_no})",
                f"{st.approval_no} ({st.stack}): {dl.what}: due {dl.due}, {when}; "
                f"{zh}：{dl.due}（剩余{left}个工作日）{_todo(dl)}", dl.citation,
                tuple(k2 for _, k2 in fresh), {"stack": st.stack, "workdays_left": left,
                                               "actor": dl.actor, "remedy": dl.remedy}))
    for ev in wipe_failures:
        k = _key(ev["subject"], "wipe-failed", ev["on"], f"event-{ev['id']}")
        if k in delivered:
            continue
        d = ev.get("detail") or {}
        what = d.get("medium") or d.get("object") or d.get("address") or "a medium"
        out.append(Notice(
            k, ev["subject"], "wipe-failed", "event", ev["on"], ("provider", "bureau"),
            f"Wipe failed: {ev['subject']}",
            f"{ev['subject']}: wiping {what} failed on {ev['on']}"
            f"{': ' + str(d.get('error')) if d.get('error') else ''}; the data is not cleared "
            f"and the exit cannot finish until it is; 数据清除失败，请处理", d.get("article", ""),
            (k,), {"stack": ev["subject"]}))
    return out
