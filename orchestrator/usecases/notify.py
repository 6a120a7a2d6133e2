"""`govcloud notify`: send the notices due now (core/notices.py) to each role's sinks
(``[notify.<role>]`` in govcloud.toml: SMTP, 企业微信 and 钉钉 robots, JSON lines, webhook),
once per threshold and per sink: each delivery is a ``notice-sent`` event, so a second run sends
nothing and a run after a sink failed retries only that sink. Run it daily (beside `expire`)."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from ..calendar_files import workspace_calendar
from ..core.lifecycle import approval_status
from ..core.notices import NOTICE_SENT, ROLES, due_notices
from ..extensions import extension_ends
from ..lifecycle_events import events_by_subject
from ..notify import NotifyError
from ..notify_sinks import role_sinks
from ..state.base import default_actor
from ..workspace import Workspace
from .session import locked, open_state

NOTIFY_FORMAT = "govcloud-notify/1"


@dataclass
class NotifyResult:
    now: str
    dry_run: bool
    notices: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, str]] = field(default_factory=list)       # {key, sink}
    failures: list[str] = field(default_factory=list)
    unconfigured: list[str] = field(default_factory=list)          # roles with no sink

    def to_dict(self) -> dict[str, Any]:
        return {"format": NOTIFY_FORMAT, "now": self.now, "dry_run": self.dry_run,
                "notices": self.notices, "sent": self.sent, "failures": self.failures,
                "unconfigured": self.unconfigured}


def notify(ws: Workspace, now: dt.datetime, dry_run: bool, lock_timeout: float = 30.0) -> NotifyResult:
    today = now.date()
    res = NotifyResult(now.isoformat(timespec="seconds"), dry_run)
    sinks: dict[str, list] = {}
    for role in ROLES:
        try:
            sinks[role] = role_sinks(role, ws.config.notify.get(role))
        except NotifyError as exc:
            res.failures.append(str(exc))
            sinks[role] = []
        if not sinks[role]:
            res.unconfigured.append(role)
    approvals = ws.load_approvals()
    cal = workspace_calendar(ws.root)
    ends = extension_ends(ws)
    with open_state(ws) as store, locked(store, "notify", lock_timeout):
        events = events_by_subject(store)
        delivered: dict[str, set[str]] = {}
        for e in store.events():
            if e["kind"] == NOTICE_SENT:
                for k in e["detail"].get("keys", []):
                    delivered.setdefault(k, set()).add(e["detail"].get("sink", ""))
        statuses = [approval_status(a, "", ws.profile, cal, events.get(a.approval_no, []), today,
                                    ends) for a in sorted(approvals.values(),
                                                          key=lambda a: a.approval_no)]
        wipes = [e for e in store.events() if e["kind"] == "wipe-failed"]
        # A notice is skipped only when every sink of its roles has it.
        all_keys = {k for k, got in delivered.items()}
        candidates = due_notices(statuses, wipes, {}, today)
        for n in candidates:
            targets = [s for r in n.roles for s in sinks.get(r, [])]
            missing = [s for s in targets if s.name not in delivered.get(n.key, set())]
            if n.key in all_keys and not missing:
                continue
            body = {**n.to_dict(), "workspace": ws.config.workspace.id,
                    "at": res.now, "profile": ws.profile.code}
            res.notices.append(body)
            if dry_run:
                continue
            for s in missing:
                try:
                    s.send(body)
                except NotifyError as exc:
                    res.failures.append(str(exc))
                    continue
                store.record_event(n.subject, NOTICE_SENT, today.isoformat(),
                                   {"keys": list(n.covers), "sink": s.name, "clock": n.clock,
                                    "threshold": n.threshold, "due": n.due,
                                    "roles": list(n.roles)})
                res.sent.append({"key": n.key, "sink": s.name})
        if res.sent:
            store.append_audit(default_actor(), "notify", ws.config.workspace.id, None,
                               {"sent": len(res.sent), "failures": len(res.failures)})
    return res
