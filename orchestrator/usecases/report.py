"""`govcloud report --month M [--department D] --out DIR`: the monthly report the profile's
``reports`` duties ask for (四川 第十七、二十二条 to the bureau and each department; 亳州 第二十七条
云资源利用情况表、运行维护报告、优化建议; 大同 第九条 quarterly, 第十七条 monthly; 巴中 第二十一、二十八条;
重庆 第四十三条), as one ``govcloud-report/1`` document rendered to a self-contained HTML file
(inline SVG charts) and an XLSX workbook with the same figures.

What it holds: fees per department over the last six months (closed months as closed), the
month's bill totals, utilisation per system (mean and peak of CPU, memory, disk) with the
profile's thresholds, the right-sizing recommendations at the month's end, deadlines met and
missed per obligation and actor, windows and emergency terms ending next month,
decommissions and certificates of the month, and the audit log's health."""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..core.audit import verify_chain
from ..core.billing import month_bounds
from ..core.lifecycle import approval_status
from ..core.rightsize import CHINA, recommend
from ..lifecycle_events import events_by_subject
from ..models.approval import PermanentTerm
from ..workspace import Workspace
from .bill import Loaded, bill as bill_month, load, only_department, payable_by_department
from .metrics import open_metrics
from .rightsize import facts
from .session import open_state

TREND_MONTHS = 6
ACTORS = {"provision": "provider", "reclaim": "provider", "change": "provider",
          "end": "provider", "deploy": "department", "backfill": "department",
          "extension-request": "department", "transition": "department",
          "keep-old-system": "department"}


def months_back(month: str, n: int) -> list[str]:
    y, m = (int(p) for p in month.split("-"))
    out = []
    for _ in range(n):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    return out[::-1]


def _duties(ws: Workspace, last: dt.date) -> list[dict[str, Any]]:
    out = []
    for d in ws.profile.reports:
        due = (d.cadence == "monthly" or (d.cadence == "quarterly" and last.month % 3 == 0)
               or (d.cadence == "yearly" and last.month == 12))
        out.append({"key": d.key, "name_zh": d.name_zh, "cadence": d.cadence, "due": due,
                    "sender": d.sender, "audience": d.audience, "article": d.article,
                    "contents": d.contents, "setting": d.setting, "note": d.note})
    return out


def _stats(points: list[float]) -> dict[str, float | None]:
    if not points:
        return {"mean": None, "peak": None}
    return {"mean": round(math.fsum(points) / len(points), 2), "peak": round(max(points), 2)}


@dataclass
class Gathered:
    """What every report of a month reads, read and computed once: a profile whose reports
    also go to each department (四川) renders one per department from it."""
    month: str
    loaded: Loaded
    events: dict[str, list[dict[str, Any]]]
    entries: list
    brk: Any
    bill: dict[str, Any]                       # the month's bill, every department
    trend: dict[str, dict[str, str]]           # earlier month -> department -> payable
    names: dict[str, str]                      # department code -> name
    by_department: dict[str, dict[str, Any]]   # department -> approval number -> approval
    servers: dict[str, list]                   # department -> its servers (ServerFacts)
    flavors: list
    samples: dict[str, Any]


def gather(ws: Workspace, month: str, today: dt.date) -> Gathered:
    first, last = month_bounds(month)
    loaded = load(ws)
    with open_state(ws) as store:
        events = events_by_subject(store)
        head, entries = store.audit_consistent()
        brk = verify_chain(entries, head)
    months = months_back(month, TREND_MONTHS)
    doc = bill_month(ws, month, today, loaded=loaded, events=events).to_dict()
    trend = payable_by_department(ws, months[:-1], loaded, events=events)
    approvals = {a.approval_no: a for a in loaded.approvals.values()}
    by_department: dict[str, dict[str, Any]] = {}
    for no, a in approvals.items():
        by_department.setdefault(a.department.code, {})[no] = a
    servers, flavors = facts(ws)
    per: dict[str, list] = {}
    for s in servers:
        per.setdefault(s.stack.split("/", 1)[0], []).append(s)
    lo = int(dt.datetime.combine(first, dt.time(0), CHINA).timestamp())
    hi = int(dt.datetime.combine(last, dt.time(23, 59, 59), CHINA).timestamp())
    window = max([r.window_days for r in ws.profile.rightsizing] + [0])
    with open_metrics(ws) as mst:
        samples = mst.samples(min(lo, hi - window * 86400), hi)
    per[""] = servers
    return Gathered(month, loaded, events, entries, brk, doc, trend,
                    {a.department.code: a.department.name for a in approvals.values()},
                    by_department, per, flavors, samples)


def report(ws: Workspace, month: str, today: dt.date, department: str | None = None,
           gathered: Gathered | None = None) -> dict[str, Any]:
    g = gathered if gathered is not None and gathered.month == month else \
        gather(ws, month, today)
    first, last = month_bounds(month)
    loaded = g.loaded
    mine = g.by_department.get(department, {}) if department is not None else \
        {a.approval_no: a for a in loaded.approvals.values()}
    cal, ends = loaded.cal, loaded.ends
    # --- fees: this month and the trend -------------------------------------------------------
    months = months_back(month, TREND_MONTHS)
    doc_bill = g.bill if department is None else only_department(g.bill, department, loaded)
    trend = {m: {k: v for k, v in g.trend[m].items() if department is None or k == department}
             for m in months[:-1]}
    trend[month] = {d["department"]: d["payable"] for d in doc_bill["departments"]}
    names = g.names
    codes = sorted({c for m in months for c in trend[m]})
    fees = {"months": months,
            "departments": [{"department": code, "department_name": names.get(code, code),
                             "payable": [trend[m].get(code, "0.00") for m in months]}
                            for code in codes],
            "total": [str(sum((Decimal(v) for v in trend[m].values()), Decimal("0.00")))
                      for m in months]}
    # --- lifecycle: deadlines, windows, decommissions, audit ------------------------------------
    events, entries, brk = g.events, g.entries, g.brk
    deadlines: dict[str, dict[str, Any]] = {}
    for no, a in sorted(mine.items()):
        evs = [e for e in events.get(no, []) if e["on"][:10] <= last.isoformat()]
        st = approval_status(a, "", ws.profile, cal, evs, last, ends)
        for dl in st.deadlines:
            if not dl.hard or dl.due is None or not first <= dl.due <= last:
                continue
            row = deadlines.setdefault(dl.key, {"key": dl.key, "what": dl.what,
                                                "actor": ACTORS.get(dl.key, "other"),
                                                "citation": dl.citation, "met": 0, "missed": 0,
                                                "items": []})
            missed = dl.late or dl.overdue
            row["missed" if missed else "met"] += 1
            row["items"].append({"approval": no, "stack": a.stack, "due": dl.due.isoformat(),
                                 "done_on": dl.done_on.isoformat() if dl.done_on else None,
                                 "status": "missed" if missed else ("met" if dl.done_on
                                                                    else "open")})
    nxt = last + dt.timedelta(days=1)
    nfirst, nlast = month_bounds(f"{nxt.year:04d}-{nxt.month:02d}")
    windows = []
    for no, a in sorted(mine.items()):
        if not isinstance(a.term, PermanentTerm):
            end = ends.get(no, a.term.end)
            if nfirst <= end <= nlast:
                windows.append({"approval": no, "stack": a.stack, "kind": a.term.kind,
                                "end": end.isoformat()})
    decommissions = [{"approval": no, "stack": mine[no].stack, "kind": e["kind"], "on": e["on"]}
                     for no in sorted(mine) for e in events.get(no, [])
                     if e["kind"] in ("offline", "terminated")
                     and first.isoformat() <= e["on"][:10] <= last.isoformat()]
    certs = []
    cdir = ws.root / "certificates"
    if cdir.is_dir():
        for f in sorted(cdir.glob("*.json")):
            day = f.stem[-10:]
            stack = f.stem[:-11].replace("__", "/")
            if first.isoformat() <= day <= last.isoformat() and (
                    department is None or stack.startswith(department + "/")):
                certs.append({"file": f"certificates/{f.name}", "stack": stack, "on": day})
    # --- utilisation and recommendations ----------------------------------------------------------
    servers, flavors, samples = g.servers.get(department or "", []), g.flavors, g.samples
    lo = int(dt.datetime.combine(first, dt.time(0), CHINA).timestamp())
    hi = int(dt.datetime.combine(last, dt.time(23, 59, 59), CHINA).timestamp())
    util: dict[str, dict[str, list[float]]] = {}
    for s in servers:
        for metric in ("cpu_pct", "mem_pct", "disk_used_pct"):
            util.setdefault(s.stack, {}).setdefault(metric, []).extend(
                v for t, v in samples.get(s.address, {}).get(metric, []) if lo <= t <= hi)
    per_stack = Counter(s.stack for s in servers)
    utilisation = [{"stack": stack, "servers": per_stack[stack],
                    **{m: _stats(util[stack][m]) for m in ("cpu_pct", "mem_pct", "disk_used_pct")}}
                   for stack in sorted(util)]
    thresholds = sorted({(c.metric, c.value, c.word, r.article, r.key, r.action)
                         for r in ws.profile.rightsizing for c in r.conditions
                         if c.metric in ("cpu_pct", "mem_pct", "disk_used_pct")
                         and c.statistic in ("max", "mean")})
    recs = recommend(ws.profile, servers, samples, hi, flavors, cal)
    return {"format": "govcloud-report/1", "month": month, "first": first.isoformat(),
            "last": last.isoformat(), "profile": ws.profile.code,
            "profile_name": ws.profile.name_zh, "department": department,
            "duties": _duties(ws, last), "fees": fees,
            "bill": {k: doc_bill[k] for k in ("total", "deducted", "adjusted", "payable",
                                              "closed")}
                    | {"systems": len(doc_bill["systems"]), "departments": doc_bill["departments"]},
            "utilisation": utilisation,
            "thresholds": [{"metric": m, "value": v, "word": w, "article": a, "rule": k,
                            "action": act} for m, v, w, a, k, act in thresholds],
            "recommendations": [r.to_dict() for r in recs],
            "fee_delta": str(sum((r.fee_delta for r in recs if r.fee_delta is not None),
                                 Decimal("0.00"))),
            "deadlines": sorted(deadlines.values(), key=lambda d: (d["actor"], d["key"])),
            "windows_next_month": windows, "decommissions": decommissions,
            "certificates": certs,
            "audit": {"entries": len(entries), "intact": brk is None,
                      "first_bad": brk.__dict__ if brk else None}}


def departments(ws: Workspace, gathered: Gathered | None = None) -> list[str]:
    loaded = gathered.loaded if gathered is not None else load(ws)
    return sorted({a.department.code for a in loaded.approvals.values()})


def per_department(ws: Workspace) -> bool:
    """Does a due monthly duty go to each department too (四川 第十七、二十二条)?"""
    return any("department" in d.audience for d in ws.profile.reports)
