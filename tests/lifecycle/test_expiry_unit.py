"""The pure parts of expiry: the effective quota on a date, and what the expiry job may take
out of a plan (only expired objects; quota lowered by at most the ended windows' increments)."""
from __future__ import annotations

from datetime import date

from orchestrator.core.expiry import select
from orchestrator.models.plan import Action
from orchestrator.models.spec import ResourceSpec
from orchestrator.core.planner import effective_properties

Q = "quota:local/edu/p/quota"
WINDOWS = [{"approval": "W1", "start": "2026-06-20", "end": "2026-07-19", "add": {"cores": 8}},
           {"approval": "W2", "start": "2026-07-20", "end": "2026-08-19", "add": {"cores": 4}}]
QUOTA = ResourceSpec(address=Q, kind="quota", name="quota", target="local",
                     properties={"cores": 2, "instances": 1}, windows=WINDOWS)


def test_effective_properties_follows_the_windows():
    assert effective_properties(QUOTA, date(2026, 6, 19))[0]["cores"] == 2
    props, note = effective_properties(QUOTA, date(2026, 6, 20))
    assert props["cores"] == 10 and "raised for W1" in note and "W2 (opens 2026-07-20)" in note
    assert effective_properties(QUOTA, date(2026, 7, 20))[0]["cores"] == 6       # W1 ended, W2 opened
    assert effective_properties(QUOTA, date(2026, 8, 20))[0]["cores"] == 2
    assert effective_properties(QUOTA, None)[0]["cores"] == 14                   # no date: all windows


def _server(addr, expires):
    return ResourceSpec(address=addr, kind="server", name=addr.rsplit("/", 1)[1], target="local",
                        approval="W1", expires_on=expires)


def test_select_keeps_only_expired_deletes_and_bounded_quota_decreases():
    specs = {Q: QUOTA, "server:local/edu/p/a": _server("server:local/edu/p/a", date(2026, 7, 20))}
    prior = {"cloud_id": "x", "status": "ok", "refs": {}, "properties": {}}
    actions = [
        Action("server:local/edu/p/a", "server", "local", "delete", "expired on 2026-07-20", prior=prior,
               cause="expired"),
        Action("server:local/edu/p/gone", "server", "local", "delete", "no longer in any stack spec",
               prior=prior, cause="removed-from-spec"),
        # the plan would set cores 10 -> 1 (another reduction pending) and instances 1 -> 3
        Action(Q, "quota", "local", "update", "cores changed",
               {"cores": {"old": 10, "new": 1}, "instances": {"old": 1, "new": 3}},
               {"address": Q, "kind": "quota", "name": "quota", "target": "local",
                "properties": {"cores": 1, "instances": 3}, "refs": {}}, prior, cause="drift"),
    ]
    sel = select(actions, specs, date(2026, 7, 20))
    assert [a.address for a in sel.deletes] == ["server:local/edu/p/a"]
    assert sel.quota[0].changes == {"cores": {"old": 10, "new": 2}}       # only W1's 8 cores
    assert sel.quota[0].desired.properties == {"cores": 2, "instances": 1}
    assert sel.quota[0].cause == "window-ended"
    stale = select(actions, specs, date(2026, 7, 20), {"W1": date(2026, 8, 20)})
    assert stale.deletes == [] and stale.quota == [] and stale.stale
