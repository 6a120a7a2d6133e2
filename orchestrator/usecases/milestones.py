"""`govcloud record-event`: go-live steps, test and assessment results and filings of an approval
(trial-passed, security-tested, test-report-approved, cutover, went-live, deployment-completed,
configuration-completed, emergency-filed, contract-signed, contract-filed...), each a lifecycle
event with its document, checked against the profile's go-live gates, plus an audit entry."""
from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from ..core.golive import check_gate
from ..core.lifecycle import RECORDABLE
from ..errors import GovcloudError, Issue
from ..lifecycle_events import audit, events_by_subject, sync_approved
from ..workspace import Workspace
from .lifecycle import find_approval
from .session import open_state

# Kinds that need the provisioned resources first (all but the filings and the 报备, which
# may come before the configuration).
AFTER_PROVISIONING = {"deployment-completed", "configuration-completed", "trial-passed",
                      "security-tested", "tests-completed", "test-report-approved", "cutover",
                      "went-live"}
# Kinds that happen once; the others (tests, filings) may recur (等保三级 periodic tests).
ONCE = {"deployment-completed", "configuration-completed", "emergency-filed", "cutover",
        "went-live", "contract-signed", "test-report-approved", "trial-passed"}
# Results and filings must name their document (report, letter, contract, filing number).
NEEDS_DOCUMENT = {"trial-passed", "security-tested", "tests-completed", "test-report-approved",
                  "tests-filed",
                  "contract-signed", "contract-filed", "project-approval-filed", "emergency-filed"}


@dataclass
class EventRecorded:
    approval: str
    kind: str
    on: str
    at: str | None
    document: str | None
    until: str | None
    recorded: bool                 # false: the same event was recorded before

    def to_dict(self) -> dict[str, Any]:
        return {"format": "govcloud-record-event/1", **asdict(self)}


def _first(ev: list[dict[str, Any]]) -> dict[str, dt.date]:
    out: dict[str, dt.date] = {}
    for e in ev:
        out.setdefault(e["kind"], dt.date.fromisoformat(e["on"][:10]))
    return out


def record_event(ws: Workspace, approval_no: str, kind: str, on: dt.date, today: dt.date,
                 document: str | None = None, at: dt.datetime | None = None,
                 until: dt.date | None = None, note: str = "",
                 now: dt.datetime | None = None) -> EventRecorded:
    if kind not in RECORDABLE:
        raise GovcloudError(f"{kind!r} is not an event govcloud records by hand",
                            [Issue("kind", f"one of {', '.join(RECORDABLE)}")],
                            fix="pick one of: " + ", ".join(RECORDABLE))
    _, a, approvals = find_approval(ws, approval_no)
    if at is not None:
        on = at.date()
        # to the minute: a later time today is as much in the future as a later date
        if now is not None and at > now:
            raise GovcloudError(f"--at {at.isoformat(timespec='minutes')} is an event dated in "
                                f"the future (now is {now.isoformat(timespec='minutes')})",
                                [Issue("--at", "an event is recorded once it happened")],
                                fix="give the time it happened, or record it once it has")
    if on > today:
        raise GovcloudError(f"--date {on} is an event dated in the future (today is {today})",
                            [Issue("--date", "an event is recorded once it happened")],
                            fix="give the day it happened, or record it once it has")
    if on < a.approved_on:
        raise GovcloudError(f"--date {on} is before {approval_no} was approved ({a.approved_on})",
                            [Issue("--date", "an event cannot precede its approval")])
    if kind in NEEDS_DOCUMENT and not (document or "").strip():
        raise GovcloudError(f"{kind} needs its document (report, letter, contract or filing "
                            f"number)", [Issue("--document", "missing")],
                            fix=f"govcloud record-event {approval_no} {kind} --document DOC")
    if until is not None and kind != "contract-signed":
        raise GovcloudError("--until is the trial period's end set in the contract: only for "
                            "contract-signed", [Issue("--until", f"not for {kind}")])
    if until is not None and until < on:
        raise GovcloudError(f"--until {until} is before the contract was signed ({on})",
                            [Issue("--until", "the trial period ends after the signature")])
    with open_state(ws) as store:
        sync_approved(store, approvals)
        ev = events_by_subject(store).get(approval_no, [])
        first = _first(ev)
        same = [e for e in ev if e["kind"] == kind]
        for e in same:
            d = e.get("detail") or {}
            if e["on"][:10] == on.isoformat() and d.get("document") == document:
                return EventRecorded(approval_no, kind, on.isoformat(), d.get("at"), document,
                                     d.get("until"), False)
        if same and kind in ONCE:
            raise GovcloudError(f"{approval_no}: {kind} was already recorded on {same[0]['on']}",
                                [Issue("kind", "recorded once")],
                                fix="a wrong record is corrected by the operator in the audit "
                                    "log, not overwritten")
        if kind in AFTER_PROVISIONING:
            if "provisioned" not in first:
                raise GovcloudError(f"{approval_no} is not provisioned yet: {kind} needs its "
                                    f"resources", fix="run `govcloud apply` first")
            if on < first["provisioned"]:
                raise GovcloudError(f"--date {on} is before the resources were provisioned "
                                    f"({first['provisioned']})", [Issue("--date", "too early")])
        check_gate(ws.profile, a, kind, first, on)
        detail: dict[str, Any] = {"stack": a.stack}
        if document:
            detail["document"] = document
        if at is not None:
            detail["at"] = at.isoformat(timespec="minutes")
        if until is not None:
            detail["until"] = until.isoformat()
        if note:
            detail["note"] = note
        store.record_event(approval_no, kind, on.isoformat(), detail)
        audit(store, ws, kind, approval_no, {"on": on.isoformat(), **detail})
    return EventRecorded(approval_no, kind, on.isoformat(), detail.get("at"), document,
                         detail.get("until"), True)
