"""``plan --refresh-only``: what the cloud holds, compared with the state (not with the specs),
and which of those differences the approvals allow the state to accept. Pure.

Terraform's refresh-only mode writes whatever the cloud holds into the state. Here only drift the
approval allows is accepted: a value equal to what the spec wants (the state was stale), or a
quota limit below the approved one (within the grant). Anything else — a value the approval does
not grant, an object no approval covers, an approved object gone from the cloud, a changed
reference — is a *violation*: shown, never accepted, and left for a normal plan (which puts the
object back as approved) or for the exit process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..models.cloud import Observed
from ..models.spec import ResourceSpec
from ..models.state import StateRecord
from .resources import KINDS, QUOTA_FIELDS


@dataclass(frozen=True)
class Drift:
    address: str
    kind: str
    verdict: str                       # "accept" | "violation"
    reason: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)   # field -> {state, cloud, approved}
    record: StateRecord | None = None  # what the state becomes when accepted (None: removed)

    def to_dict(self) -> dict[str, Any]:
        return {"address": self.address, "kind": self.kind, "reason": self.reason,
                "changes": self.changes}


def _allowed(kind: str, f: str, cloud: Any, approved: Any) -> bool:
    if cloud == approved:
        return True
    return (kind == "quota" and f in QUOTA_FIELDS and isinstance(cloud, int)
            and isinstance(approved, int) and cloud <= approved)


def classify(desired: dict[str, ResourceSpec], records: dict[str, StateRecord],
             observed: list[Observed]) -> tuple[list[Drift], int]:
    """(the drifts, how many objects are unchanged). ``desired``: effective properties today."""
    obs = {o.address: o for o in observed if o.address}
    id_to_addr = {o.cloud_id: o.address for o in obs.values()}
    out: list[Drift] = []
    same = 0
    for addr in sorted(set(records) | set(obs)):
        rec, o, d = records.get(addr), obs.get(addr), desired.get(addr)
        kind = (rec or o).kind
        if o is None:
            out.append(Drift(addr, kind, "violation", "recorded in state but gone from the cloud "
                             "(deleted outside govcloud): not accepted; a normal plan creates it "
                             "again" if d else "recorded, gone from the cloud, and no approval "
                             "covers it"))
            continue
        if rec is not None and rec.status == "tainted":
            out.append(Drift(addr, kind, "violation", "tainted (its create failed): a normal plan "
                             "replaces it"))
            continue
        fields = sorted(KINDS[kind].fields) if kind in KINDS else []
        base = rec.properties if rec is not None else {}
        changes = {f: {"state": base.get(f), "cloud": o.properties.get(f),
                       "approved": d.properties.get(f) if d else None}
                   for f in fields if f in o.properties and o.properties.get(f) != base.get(f)
                   and (rec is not None or d is None or f in d.properties)}
        refs_moved = []
        if d is not None:
            refs_moved = [f for f in KINDS[kind].refs
                          if d.refs.get(f) != id_to_addr.get(o.refs.get(f, ""), o.refs.get(f))]
        if rec is not None and not changes and not refs_moved:
            same += 1
            continue
        if d is None:
            out.append(Drift(addr, kind, "violation",
                             "in the cloud with this workspace's tags but no approval covers it"
                             if rec is None else "drifted, and no approval covers it any more",
                             changes))
            continue
        bad = [f for f, ch in changes.items() if not _allowed(kind, f, ch["cloud"], ch["approved"])]
        if refs_moved:
            out.append(Drift(addr, kind, "violation", f"{', '.join(refs_moved)} points elsewhere "
                             f"than the approval says", changes))
        elif bad:
            out.append(Drift(addr, kind, "violation", "the cloud holds what the approval does not "
                             f"grant: {', '.join(bad)} (a normal plan puts it back)", changes))
        else:
            props = {**(rec.properties if rec else dict(d.properties)),
                     **{f: ch["cloud"] for f, ch in changes.items()}}
            why = ("found by its tags, as approved: recorded" if rec is None else
                   "within the approval: " + ", ".join(
                       f"{f} {ch['state']} -> {ch['cloud']}" for f, ch in changes.items()))
            out.append(Drift(addr, kind, "accept", why, changes,
                             StateRecord(addr, kind, d.target, o.cloud_id, "ok", d.stack,
                                         d.approval, props, dict(d.refs))))
    return out, same
