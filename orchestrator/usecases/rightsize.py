"""`govcloud rightsize`: the profile's right-sizing rules over the stored metrics ->
recommendations with evidence (window, statistic, threshold, article) and the monthly fee
delta; ``--draft DIR`` writes each that changes an approval as a change-document draft;
``--remind`` records the reminders of 重庆 第十七条 (event ``rightsize-reminded`` on the system),
``--urge STACK`` the bureau's urging (``rightsize-urged``), which start its escalation clock."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from ..calendar_files import workspace_calendar
from ..core.rightsize import CHINA, Disk, Flavor, Recommendation, ServerFacts, recommend
from ..errors import GovcloudError
from ..lifecycle_events import audit
from ..models.catalog import FlavorProvision, VolumeProvision
from ..workspace import Workspace
from .metrics import open_metrics
from .session import open_state

REMINDED, URGED = "rightsize-reminded", "rightsize-urged"


def facts(ws: Workspace) -> tuple[list[ServerFacts], list[Flavor]]:
    items = ws.catalog.items
    flavors = {i.code: Flavor(i.code, i.provisions.vcpus, i.provisions.ram_gb, i.unit_price)
               for i in items if isinstance(i.provisions, FlavorProvision)}
    vol_price = {i.provisions.volume_type: i.unit_price for i in items
                 if isinstance(i.provisions, VolumeProvision)}
    out = []
    for r in ws.server_rows():      # the compiled specs' servers (an index compile keeps)
        if r["flavor"] in flavors:
            out.append(ServerFacts(r["address"], r["stack"], r["approval"], flavors[r["flavor"]],
                                   r["system_disk_gb"],
                                   vol_price.get(r["system_disk_type"], Decimal(0)),
                                   tuple(Disk(a, gb, vol_price.get(t, Decimal(0)))
                                         for a, gb, t in r["disks"])))
    return out, sorted(flavors.values(), key=lambda f: f.code)


@dataclass
class RightsizeResult:
    at: dt.datetime
    profile: str
    recommendations: list[Recommendation]
    drafts: list[str] = field(default_factory=list)
    recorded: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        delta = sum((r.fee_delta for r in self.recommendations if r.fee_delta is not None),
                    Decimal("0.00"))
        return {"format": "govcloud-rightsize/1", "at": self.at.isoformat(),
                "profile": self.profile,
                "recommendations": [r.to_dict() for r in self.recommendations],
                "fee_delta": str(delta), "drafts": self.drafts, "recorded": self.recorded}


def _clocks(store) -> dict[str, dict[str, dt.date]]:
    out: dict[str, dict[str, dt.date]] = {}
    for e in store.events():
        if e["kind"] in (REMINDED, URGED):
            key = "reminded" if e["kind"] == REMINDED else "urged"
            out.setdefault(e["subject"], {}).setdefault(key, dt.date.fromisoformat(e["on"]))
    return out


def rightsize(ws: Workspace, at: dt.datetime, draft: Path | None = None, remind: bool = False,
              urge: str | None = None) -> RightsizeResult:
    servers, flavors = facts(ws)
    until = int(at.timestamp())
    window = max((r.window_days for r in ws.profile.rightsizing), default=0)
    with open_metrics(ws) as st:
        samples = st.samples(until - window * 86400, until) if window else {}
    cal = workspace_calendar(ws.root)
    recorded = []
    with open_state(ws) as store:
        if urge:
            if urge not in {s.stack for s in servers}:
                raise GovcloudError(f"--urge {urge!r}: no such system (give DEPARTMENT/SYSTEM)")
            store.record_event(urge, URGED, at.date().isoformat(), {"article": "第十七条"})
            audit(store, ws, URGED, None, {"stack": urge})
            recorded.append(f"{URGED} {urge}")
        recs = recommend(ws.profile, servers, samples, until, flavors, cal, _clocks(store))
        if remind:
            for r in recs:
                if r.escalation and r.escalation["stage"] == "remind":
                    store.record_event(r.stack, REMINDED, at.date().isoformat(),
                                       {"rule": r.rule, "article": r.article})
                    audit(store, ws, REMINDED, r.approval, {"stack": r.stack, "rule": r.rule})
                    recorded.append(f"{REMINDED} {r.stack}")
            if recorded:
                recs = recommend(ws.profile, servers, samples, until, flavors, cal,
                                 _clocks(store))
    res = RightsizeResult(at, ws.profile.code, recs, recorded=recorded)
    if draft is not None:
        res.drafts = write_drafts(ws, recs, draft, at.date())
    return res


def _draft_zones(approval, rec: Recommendation) -> tuple[dict, str] | None:
    """The approval's zones with the proposal applied to the server's group, or None when the
    recommendation is not a change of this approval (a system to reclaim is an exit)."""
    if not rec.server or not rec.proposal or "remove" in rec.proposal and rec.resource == "system":
        return None
    project, name = rec.server.split("/")[-2:]
    zone = project.rsplit("-", 1)[1]
    group = name.rsplit("-", 1)[0]
    zones = {z: r.model_dump(mode="json", exclude_defaults=True) for z, r in approval.zones.items()}
    req = zones.get(zone)
    servers = (req or {}).get("servers", [])
    g = next((x for x in servers if x["name"] == group), None)
    if g is None:
        return None
    count = g.get("count", 1)
    if "flavor" in rec.proposal:
        g["flavor"] = rec.proposal["flavor"]["to"]
        scope = f"server group {group} ({count} servers)"
    elif "gb" in rec.proposal and g.get("data_disks"):
        g["data_disks"][0]["gb"] = rec.proposal["gb"]["to"]
        scope = f"first data disk of server group {group} ({count} servers)"
    elif "remove" in rec.proposal:
        if count > 1:
            g["count"] = count - 1
        else:
            servers.remove(g)
        scope = f"one server of group {group}"
    else:
        return None
    return zones, scope


def write_drafts(ws: Workspace, recs: list[Recommendation], directory: Path,
                 on: dt.date) -> list[str]:
    """Each recommendation that changes an approval becomes a change document draft in the
    format of changes/<NO>.yaml (models/change.py): ``changes: <approval>``, the zones after the
    change, the reason with the article, evidence and fee delta. ``approvers`` is left empty:
    the draft does not validate until the bureau fills in its approvers and approval date (and
    signs it, changes/<NO>.yaml.sig), so a draft is never compiled by mistake. The same review
    writes the same files."""
    from ..core.billing import priced_items
    directory.mkdir(parents=True, exist_ok=True)
    approvals = {a.approval_no: a for a in ws.load_approvals().values()}
    catalog = ws.catalog
    written, n = [], 0
    for r in recs:
        a = approvals.get(r.approval or "")
        got = _draft_zones(a, r) if a is not None else None
        if got is None:
            continue
        zones, scope = got
        after = a.model_copy(update={"zones": a.model_validate(
            {**a.model_dump(mode="json"), "zones": zones}).zones})
        fee = lambda x: sum((p.unit_price * p.quantity for p in priced_items(x, catalog)),  # noqa: E731
                            Decimal("0.00"))
        delta = fee(after) - fee(a)
        n += 1
        no = f"{a.approval_no}-RS{on:%Y%m%d}{n:02d}"
        evidence = "; ".join(f"{e.statistic}({e.metric}) = {e.value} {e.word} {e.threshold}"
                             for e in r.evidence if e.met)
        doc = {"change_no": no, "changes": a.approval_no, "approved_on": on.isoformat(),
               "approvers": [],
               "reason": f"{r.action} {scope}: {ws.profile.name_zh} {r.article} ({r.rule}); "
                         f"{evidence}; monthly fee {delta:+} CNY (drafted by govcloud "
                         f"rightsize on {on})",
               "zones": zones}
        path = directory / f"{no}.yaml"
        path.write_text("# DRAFT by govcloud rightsize: the bureau fills in approvers and "
                        "approved_on, then signs it.\n"
                        + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
        r.proposal = {**r.proposal, "draft": str(path), "draft_fee_delta": str(delta)}
        written.append(str(path))
    return written


def now_china(now: dt.datetime) -> dt.datetime:
    return now.astimezone(CHINA)
