"""`govcloud rightsize`: the profile's right-sizing rules over the stored metrics ->
recommendations with evidence (window, statistic, threshold, article) and the monthly fee
delta; ``--draft DIR`` writes each as a change document for the bureau to sign;
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
    for spec in ws.load_specs():
        res = {r.address: r for r in spec.resources}
        disks: dict[str, list[Disk]] = {}
        for r in spec.resources:
            if r.kind == "volume_attachment" and r.refs.get("volume") in res:
                v = res[r.refs["volume"]]
                disks.setdefault(r.refs["server"], []).append(Disk(
                    v.address, int(v.properties["size_gb"]),
                    vol_price.get(v.properties.get("volume_type"), Decimal(0))))
        for r in spec.resources:
            if r.kind == "server" and r.properties.get("flavor") in flavors:
                out.append(ServerFacts(r.address, spec.stack, r.approval or "",
                                       flavors[r.properties["flavor"]],
                                       int(r.properties.get("system_disk_gb", 0)),
                                       vol_price.get(r.properties.get("system_disk_type"),
                                                     Decimal(0)),
                                       tuple(disks.get(r.address, []))))
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


def write_drafts(ws: Workspace, recs: list[Recommendation], directory: Path,
                 on: dt.date) -> list[str]:
    """One change document per recommendation with a proposal: ``<DIR>/<NO>.yaml``, where NO is
    RS-<date>-<n>. The same review writes the same files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    n = 0
    for r in recs:
        if not r.proposal:
            continue
        n += 1
        no = f"RS-{on:%Y%m%d}-{n:03d}"
        doc = {"change_no": no, "changes": r.approval, "status": "draft",
               "kind": r.action, "stack": r.stack, "server": r.server,
               "requested_on": on.isoformat(),
               "reason": f"{ws.profile.name_zh} {r.article}: {r.rule}",
               "proposal": r.proposal,
               "monthly_fee_delta": None if r.fee_delta is None else str(r.fee_delta),
               "evidence": [e.to_dict() for e in r.evidence],
               "note": "drafted by govcloud rightsize; the bureau reviews and signs it "
                       "(changes/<NO>.yaml.sig)"}
        path = directory / f"{no}.yaml"
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
        written.append(str(path))
    return written


def now_china(now: dt.datetime) -> dt.datetime:
    return now.astimezone(CHINA)
