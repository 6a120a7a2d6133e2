"""One calendar-month convention (民法典 第二百零一、二百零二条, core/workdays.add_months): the start
day is not counted and a period of N months ends on the corresponding day of the last month, or
that month's last day when it has none. A term's ``end`` is its last day of service, so a window
of at most N months may last through ``add_months(start, N)``, and not one day longer; the same
function bounds emergency terms, extensions, keep periods and holds. Also: the latest request
day that `status` prints for a term ending (last day) on every day of 2025-2026 is accepted by
`extend`, the next working day refused."""
from __future__ import annotations

import datetime as dt

import pytest

from orchestrator.core.lifecycle import approval_status
from orchestrator.core.policy import PolicyViolation, check_extension, term_findings
from orchestrator.core.workdays import add_months
from tests.policy.builders import CAL, approval, model, profile

D = dt.date


@pytest.mark.parametrize("kind, start, last_ok", [
    ("window", "2025-11-30", "2026-02-28"),        # 3 months from 11-30: no 02-30, the month's last day
    ("window", "2023-11-30", "2024-02-29"),        # leap year
    ("window", "2026-01-31", "2026-04-30"),
    ("emergency", "2026-08-31", "2027-02-28"),     # 6 months
    ("emergency", "2023-08-31", "2024-02-29"),
])
def test_a_term_may_last_through_add_months_and_not_a_day_longer(kind, start, last_ok):
    months = 3 if kind == "window" else 6
    assert add_months(D.fromisoformat(start), months) == D.fromisoformat(last_ok)
    p = profile("bozhou")
    term = {"kind": kind, "start": start, "end": last_ok}
    if kind == "emergency":
        term["reason"] = "应急"
    ok = model(approval("BZ-T", approved_on="2023-01-02", term=term))
    assert [f for f in term_findings(ok, p) if f.rule.endswith("_max_months")] == []
    longer = (D.fromisoformat(last_ok) + dt.timedelta(days=1)).isoformat()
    bad = model(approval("BZ-T", approved_on="2023-01-02", term={**term, "end": longer}))
    found = [f for f in term_findings(bad, p) if f.rule.endswith("_max_months")]
    assert found and last_ok in found[0].message                    # "at the latest" names it


def test_latest_request_day_for_every_last_day_of_2025_2026():
    """亳州 第二十二条 (7 working days), exhaustively: for a window whose last day is each day of
    2025-02-15..2026-12-31, the day status prints is accepted by extend and the next working
    day is refused by the same check."""
    p = profile("bozhou")
    day = D(2025, 2, 15)
    while day <= D(2026, 12, 31):
        a = model(approval("BZ-W", approved_on="2025-01-02",
                           term={"kind": "window", "start": "2025-01-10", "end": day.isoformat()}))
        st = approval_status(a, "", p, CAL, [], D(2025, 1, 10))
        printed = [d for d in st.deadlines if d.key == "extension-request"][0].due
        assert printed == CAL.latest_day_to_act(day, 7)
        until = day + dt.timedelta(days=10)
        assert check_extension(a, day, until, printed, day, p, CAL).latest_request == printed
        nxt = CAL.next_workday(printed)
        with pytest.raises(PolicyViolation):
            check_extension(a, day, until, nxt, day, p, CAL)
        day += dt.timedelta(days=1)
