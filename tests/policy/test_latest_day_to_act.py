"""One "latest day to act" for every 「提前N个工作日」 rule: the day a message prints is accepted by
the same check and the next working day is refused, for every day of 2025-2026 (also when the
end or change day is a rest day: 大同 第十八条, 亳州 第二十二、二十四、二十八条)."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings, strategies as st

from orchestrator.core.lifecycle import approval_status
from orchestrator.core.policy import PolicyViolation, check_extension, check_platform_notice
from tests.policy.builders import CAL, approval, model, profile

D = dt.date
DAYS = st.dates(min_value=D(2025, 2, 15), max_value=D(2026, 12, 31))


@settings(max_examples=400, deadline=None)
@given(day=DAYS, n=st.integers(min_value=0, max_value=10))
def test_latest_is_accepted_and_the_next_working_day_refused(day, n):
    latest = CAL.latest_day_to_act(day, n)
    assert latest < day or n == 0
    assert CAL.notice_workdays(latest, day) >= n
    after = CAL.next_workday(latest)
    if after < day:
        assert CAL.notice_workdays(after, day) < n
    # and the inverse: the earliest day a notice given on `latest` covers is not after `day`
    if n:
        assert CAL.earliest_day_after_notice(latest, n) <= day
        assert CAL.latest_day_to_act(CAL.earliest_day_after_notice(latest, n), n) >= latest


def test_every_day_of_2025_2026_for_the_profiles_numbers():
    """Exhaustive over the days (not sampled): N = 3 (大同/亳州 platform notice) and 7 (亳州 extensions)."""
    day = D(2025, 2, 15)
    while day <= D(2026, 12, 31):
        for n in (3, 7):
            latest = CAL.latest_day_to_act(day, n)
            assert CAL.notice_workdays(latest, day) >= n
            nxt = CAL.next_workday(latest)
            assert nxt >= day or CAL.notice_workdays(nxt, day) < n, (day, n)
        day += dt.timedelta(days=1)


BZ_WINDOW = approval("BZ-W", approved_on="2026-06-01",
                     term={"kind": "window", "start": "2026-06-20", "end": "2026-10-08"})


@pytest.mark.parametrize("end", ["2026-10-04", "2026-10-10", "2026-10-11", "2026-06-21", "2026-08-03"])
def test_extension_latest_printed_by_status_is_accepted_by_extend(end):
    """亳州 第二十二条: the last request day status prints is accepted; the next working day refused.
    2026-10-04 (国庆节) and 2026-10-11 (Sunday) are rest days, 10-10 a 调休 Saturday."""
    data = dict(BZ_WINDOW, term={"kind": "window", "start": "2026-06-20", "end": end})
    a, p = model(data), profile("bozhou")
    end_d = D.fromisoformat(end)
    st_ = approval_status(a, "", p, CAL, [], D(2026, 6, 20))
    printed = [d for d in st_.deadlines if d.key == "extension-request"][0].due
    ok = check_extension(a, end_d, end_d + dt.timedelta(days=20), printed, end_d, p, CAL)
    assert ok.latest_request == printed
    with pytest.raises(PolicyViolation) as exc:
        check_extension(a, end_d, end_d + dt.timedelta(days=20), CAL.next_workday(printed),
                        end_d, p, CAL)
    assert str(printed) in exc.value.issues[0].message and "第二十二条" in exc.value.issues[0].message


@pytest.mark.parametrize("city", ["datong", "bozhou"])
@pytest.mark.parametrize("change", ["2026-10-03", "2026-10-08", "2026-10-11", "2026-02-22"])
def test_platform_change_latest_printed_is_accepted(city, change):
    """大同 第十八条 / 亳州 第二十八条 with the change on a rest day (10-03, 10-11, 02-22) or not."""
    p, c = profile(city), D.fromisoformat(change)
    with pytest.raises(PolicyViolation) as exc:
        check_platform_notice(c, c - dt.timedelta(days=1), p, CAL)
    msg = exc.value.issues[0].message
    latest = D.fromisoformat(msg.split("(by ")[1][:10])
    assert check_platform_notice(c, latest, p, CAL) >= 3           # the printed day is accepted
    with pytest.raises(PolicyViolation):
        check_platform_notice(c, CAL.next_workday(latest), p, CAL)
    # the fix's "move the change to X" is accepted for the notice given that day
    moved = D.fromisoformat(exc.value.fix.split("move the change to ")[1][:10])
    assert check_platform_notice(moved, c - dt.timedelta(days=1), p, CAL) >= 3
