"""PRC working days: the shipped calendar data, the counting rules, missing years, validation,
and workspace overrides. The cross-check tests need ``chinese-calendar==1.11.0`` (test extra)."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from orchestrator.core import workdays
from orchestrator.calendar_files import (CalendarFileError, default_calendar_dir, load_calendar,
                                         load_calendar_file)
from orchestrator.errors import GovcloudError, InputError
from orchestrator.core.workdays import (CalendarDataError, CalendarMissingYear, HolidayBlock, MakeupDay,
                                   WorkCalendar, YearCalendar, add_months, validate_year)

D = date


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return load_calendar([default_calendar_dir()])


def days_of(year: int):
    d = D(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


# --- the shipped data ----------------------------------------------------------------------
def test_shipped_years(cal):
    assert cal.known_years == (2025, 2026)
    assert "国办发明电〔2024〕12号" in cal.year(2025).source
    assert "2026年部分节假日安排" in cal.year(2026).source


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_day_agrees_with_chinese_calendar(cal, year):
    import chinese_calendar  # test dependency, pinned to 1.11.0

    wrong = [d for d in days_of(year) if cal.is_workday(d) != chinese_calendar.is_workday(d)]
    assert wrong == []


@pytest.mark.parametrize("year", [2025, 2026])
def test_blocks_and_makeup_days_match_chinese_calendar(cal, year):
    from chinese_calendar import constants

    off = sorted(d for d in constants.holidays if d.year == year)
    runs: list[list[date]] = []
    for d in off:
        if runs and d - runs[-1][1] == timedelta(days=1):
            runs[-1][1] = d
        else:
            runs.append([d, d])
    assert [(b.start, b.end) for b in cal.year(year).blocks] == [tuple(r) for r in runs]
    assert cal.year(year).makeup == {d for d in constants.workdays if d.year == year}


def test_2026_matches_libraries_md(cal):
    y = cal.year(2026)
    assert sorted(y.makeup) == [D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9),
                                D(2026, 9, 20), D(2026, 10, 10)]
    assert {d for d in y.holidays if d.month == 2} == {D(2026, 2, i) for i in range(15, 24)}
    assert {d for d in y.holidays if d.month == 10} == {D(2026, 10, i) for i in range(1, 8)}
    assert cal.holiday_name(D(2026, 2, 17)) == "春节"
    assert cal.holiday_name(D(2026, 2, 24)) is None


def test_248_working_days_in_2026(cal):
    assert cal.year(2026).workday_count() == 248
    assert cal.workdays_between(D(2025, 12, 31), D(2026, 12, 31)) == 248


def test_248_working_days_in_2025(cal):  # value from chinese-calendar 1.11.0
    assert cal.year(2025).workday_count() == 248


# --- counting -------------------------------------------------------------------------------
def test_approval_before_national_day(cal):
    assert cal.add_workdays(D(2026, 9, 30), 2) == D(2026, 10, 9)
    assert cal.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 8)


@pytest.mark.parametrize("start, n, due", [
    (D(2026, 2, 13), 1, D(2026, 2, 14)),   # Fri -> Sat 02-14 is a make-up working day
    (D(2026, 2, 14), 1, D(2026, 2, 24)),   # 02-15..02-23 off
    (D(2026, 2, 13), 2, D(2026, 2, 24)),
    (D(2026, 2, 12), 3, D(2026, 2, 24)),
    (D(2026, 2, 24), 4, D(2026, 2, 28)),   # Sat 02-28 is worked
    (D(2026, 2, 27), 1, D(2026, 2, 28)),
    (D(2026, 2, 28), 1, D(2026, 3, 2)),    # Sun 03-01 is not
    (D(2026, 2, 16), 1, D(2026, 2, 24)),   # approved inside the holiday
])
def test_around_spring_festival_2026(cal, start, n, due):
    assert cal.add_workdays(start, n) == due
    assert cal.workdays_between(start, due) == n


def test_approval_made_on_a_holiday(cal):
    # The start day is not counted, and a holiday is not a working day anyway.
    assert not cal.is_workday(D(2026, 10, 3))
    assert cal.add_workdays(D(2026, 10, 3), 1) == D(2026, 10, 8)
    assert cal.add_workdays(D(2026, 10, 3), 2) == D(2026, 10, 9)
    # 10-10 (Saturday) is a make-up working day
    assert cal.add_workdays(D(2026, 10, 3), 3) == D(2026, 10, 10)


def test_crossing_the_year_boundary(cal):
    # 2026-01-01..03 off, Sunday 01-04 worked
    assert cal.add_workdays(D(2025, 12, 31), 3) == D(2026, 1, 6)
    assert cal.add_workdays(D(2025, 12, 31), 1) == D(2026, 1, 4)
    assert cal.workdays_between(D(2025, 12, 31), D(2026, 1, 6)) == 3


def test_workdays_between_convention(cal):
    assert cal.workdays_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert cal.workdays_between(D(2026, 3, 2), D(2026, 3, 3)) == 1      # (a, b]: b counted
    assert cal.workdays_between(D(2026, 3, 1), D(2026, 3, 2)) == 1      # a (Sunday) not counted
    assert cal.workdays_between(D(2026, 3, 3), D(2026, 3, 2)) == -1
    assert cal.workdays_between(D(2026, 9, 30), D(2026, 10, 9)) == 2
    for start in (D(2026, 1, 1), D(2026, 2, 13), D(2026, 9, 19), D(2026, 10, 3)):
        for n in range(0, 25):
            assert cal.workdays_between(start, cal.add_workdays(start, n)) == n


def test_next_workday_is_strictly_after_and_roll_forward_is_not(cal):
    assert cal.next_workday(D(2026, 3, 2)) == D(2026, 3, 3)
    assert cal.roll_forward(D(2026, 3, 2)) == D(2026, 3, 2)
    assert cal.roll_forward(D(2026, 10, 1)) == D(2026, 10, 8)     # period ending on a holiday
    assert cal.roll_forward(D(2026, 2, 14)) == D(2026, 2, 14)     # make-up Saturday
    assert cal.roll_forward(D(2026, 3, 7)) == D(2026, 3, 9)       # ordinary Saturday
    assert cal.previous_workday(D(2026, 2, 24)) == D(2026, 2, 14)


def test_zero_and_negative_workdays(cal):
    assert cal.add_workdays(D(2026, 10, 3), 0) == D(2026, 10, 3)
    # "extension asked at least 7 wd before expiry": latest day to ask for a 2026-10-09 expiry
    latest = cal.add_workdays(D(2026, 10, 9), -7)
    assert latest == D(2026, 9, 22)   # 中秋节 09-25..27 and 国庆节 10-01..07 are skipped
    assert cal.workdays_between(latest, D(2026, 10, 9)) == 7
    with pytest.raises(TypeError):
        cal.add_workdays(D(2026, 1, 5), 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("start, n, end", [
    (D(2026, 1, 31), 1, D(2026, 2, 28)),
    (D(2026, 3, 31), 1, D(2026, 4, 30)),
    (D(2024, 1, 31), 1, D(2024, 2, 29)),
    (D(2024, 2, 29), 12, D(2025, 2, 28)),
    (D(2026, 11, 15), 3, D(2027, 2, 15)),
    (D(2026, 5, 31), -3, D(2026, 2, 28)),
    (D(2026, 1, 15), 0, D(2026, 1, 15)),
])
def test_add_months(start, n, end):
    assert add_months(start, n) == end


def test_calendar_day_and_month_deadlines_roll_forward(cal):
    # 7 日 from 2026-09-24 ends 10-01, a holiday -> next working day 10-08
    assert cal.deadline_days(D(2026, 9, 24), 7) == D(2026, 10, 8)
    # 1 个月 from 2026-01-15 ends 02-15 (Spring Festival) -> 02-24
    assert cal.deadline_months(D(2026, 1, 15), 1) == D(2026, 2, 24)
    # 1 个月 from 2026-01-31 ends 02-28 (no 02-31), a make-up Saturday: a working day, no roll
    assert cal.deadline_months(D(2026, 1, 31), 1) == D(2026, 2, 28)
    # 1 个月 from 2026-02-07 ends Saturday 03-07, an ordinary rest day -> Monday 03-09
    assert cal.deadline_months(D(2026, 2, 7), 1) == D(2026, 3, 9)


# --- missing years --------------------------------------------------------------------------
MSG_2027 = ("no working-day calendar for 2027: add catalog/calendar/cn-2027.yaml "
            "(the State Council publishes the schedule each November/December)")


def test_2027_raises_naming_the_file(cal):
    with pytest.raises(CalendarMissingYear) as exc:
        cal.is_workday(D(2027, 1, 4))
    assert str(exc.value) == MSG_2027
    assert exc.value.year == 2027
    assert isinstance(exc.value, GovcloudError)
    with pytest.raises(CalendarMissingYear, match=r"cn-2027\.yaml"):
        cal.add_workdays(D(2026, 12, 31), 1)
    with pytest.raises(CalendarMissingYear, match=r"cn-2027\.yaml"):
        cal.workdays_between(D(2026, 12, 1), D(2027, 1, 10))
    with pytest.raises(CalendarMissingYear, match=r"cn-2027\.yaml"):
        cal.deadline_months(D(2026, 12, 15), 1)
    with pytest.raises(CalendarMissingYear, match=r"cn-2024\.yaml"):
        cal.add_workdays(D(2025, 1, 2), -2)


def test_only_examined_days_need_data(cal):
    assert cal.add_workdays(D(2026, 12, 30), 1) == D(2026, 12, 31)


# --- validation -----------------------------------------------------------------------------
SPRING = HolidayBlock("春节", D(2026, 2, 15), D(2026, 2, 23), en="Spring Festival")


def test_valid_data_has_no_errors():
    assert validate_year(2026, [SPRING], [MakeupDay(D(2026, 2, 14), "春节")]) == []


def test_validation_to_before_from():
    errs = validate_year(2026, [HolidayBlock("春节", D(2026, 2, 23), D(2026, 2, 15))], [])
    assert errs == ["holidays[0].to: 2026-02-15 is before from 2026-02-23"]


def test_validation_date_outside_the_year():
    errs = validate_year(2026, [HolidayBlock("元旦", D(2025, 12, 31), D(2026, 1, 1))],
                         [MakeupDay(D(2027, 1, 9), "元旦")])
    assert errs[0].startswith("holidays[0].from: 2025-12-31 is outside 2026")
    assert any(e.startswith("makeup_workdays[0].date: 2027-01-09 is outside 2026") for e in errs)


def test_validation_makeup_on_a_weekday():
    errs = validate_year(2026, [SPRING], [MakeupDay(D(2026, 2, 13), "春节")])
    assert errs == ["makeup_workdays[0].date: 2026-02-13 is a Friday; a make-up working day (调休) "
                    "is a Saturday or Sunday that is worked"]


def test_validation_makeup_inside_a_holiday():
    errs = validate_year(2026, [SPRING], [MakeupDay(D(2026, 2, 21), "春节")])
    assert len(errs) == 1
    assert errs[0].startswith("makeup_workdays[0].date: 2026-02-21 is inside holidays[0] (春节")


def test_validation_duplicate_dates():
    errs = validate_year(2026, [SPRING, HolidayBlock("again", D(2026, 2, 22), D(2026, 2, 24))],
                         [MakeupDay(D(2026, 2, 28), "春节"), MakeupDay(D(2026, 2, 28), "春节")])
    assert ("holidays[1]: duplicate date(s) 2026-02-22, 2026-02-23, already in holidays[0] (春节)"
            in errs)
    assert "makeup_workdays[1].date: duplicate date 2026-02-28, already makeup_workdays[0]" in errs


def test_validation_makeup_for_unknown_block():
    errs = validate_year(2026, [SPRING], [MakeupDay(D(2026, 2, 14), "Spring")])
    assert errs and errs[0].startswith("makeup_workdays[0].for: 'Spring' is not the name")


def test_from_blocks_raises_on_bad_data():
    with pytest.raises(CalendarDataError, match="holidays\\[0\\].to"):
        YearCalendar.from_blocks(2026, [HolidayBlock("x", D(2026, 2, 2), D(2026, 2, 1))], [])
    with pytest.raises(CalendarDataError):
        YearCalendar(2026, frozenset({D(2026, 2, 14)}), frozenset({D(2026, 2, 14)}))


def test_work_calendar_rejects_two_datasets_for_one_year(cal):
    with pytest.raises(ValueError):
        WorkCalendar((cal.year(2026), cal.year(2026)))
    assert WorkCalendar.of([cal.year(2025), cal.year(2026), cal.year(2026)]).known_years == (2025, 2026)


# --- files ----------------------------------------------------------------------------------
FAKE_2027 = """\
# test fixture, NOT the real 2027 schedule
year: 2027
source: "test fixture (not an official notice)"
holidays:
  - {name: 元旦, en: New Year's Day, from: 2027-01-01, to: 2027-01-03}
makeup_workdays:
  - {date: 2027-01-09, for: 元旦}
"""


def test_workspace_directory_adds_a_year(tmp_path):
    (tmp_path / "cn-2027.yaml").write_text(FAKE_2027, encoding="utf-8")
    cal = load_calendar([default_calendar_dir(), tmp_path])
    assert cal.known_years == (2025, 2026, 2027)
    # 2027-01-01 (Fri) .. 01-03 off in the fixture
    assert cal.add_workdays(D(2026, 12, 31), 1) == D(2027, 1, 4)
    assert cal.add_workdays(D(2026, 12, 30), 3) == D(2027, 1, 5)
    assert cal.is_workday(D(2027, 1, 9))   # fixture's make-up Saturday
    with pytest.raises(CalendarMissingYear, match="cn-2028.yaml"):
        cal.is_workday(D(2028, 1, 3))


def test_later_directory_overrides_the_same_year(tmp_path):
    text = (default_calendar_dir() / "cn-2026.yaml").read_text(encoding="utf-8")
    text = text.replace("to: 2026-10-07}", "to: 2026-10-08}")  # pretend a corrected notice
    (tmp_path / "cn-2026.yaml").write_text(text, encoding="utf-8")
    shipped = load_calendar([default_calendar_dir()])
    overridden = load_calendar([default_calendar_dir(), tmp_path])
    assert shipped.is_workday(D(2026, 10, 8)) and not overridden.is_workday(D(2026, 10, 8))
    assert overridden.add_workdays(D(2026, 9, 30), 2) == D(2026, 10, 10)
    assert overridden.is_workday(D(2025, 5, 6))   # 2025 still from the shipped directory
    # order matters: the shipped directory last wins back
    assert load_calendar([tmp_path, default_calendar_dir()]).is_workday(D(2026, 10, 8))


def test_missing_directory_is_skipped(tmp_path):
    assert load_calendar([default_calendar_dir(), tmp_path / "nope"]).known_years == (2025, 2026)


def _err(tmp_path: Path, name: str, text: str) -> CalendarFileError:
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(CalendarFileError) as exc:
        load_calendar([tmp_path])
    return exc.value


def test_file_error_names_file_and_field(tmp_path):
    err = _err(tmp_path, "cn-2027.yaml", FAKE_2027.replace("to: 2027-01-03", "to: 2026-12-30"))
    assert err.path == tmp_path / "cn-2027.yaml"
    assert "cn-2027.yaml" in str(err)
    assert any(e.startswith("holidays[0].to: 2026-12-30 is before from 2027-01-01") for e in err.errors)
    assert isinstance(err, InputError)
    assert err.issues[0].path == "holidays[0].to"


def test_file_unknown_field(tmp_path):
    err = _err(tmp_path, "cn-2027.yaml", FAKE_2027.replace("source:", "sourse:"))
    assert any(e.startswith("sourse: unknown field 'sourse' (did you mean 'source'?)")
               for e in err.errors)


def test_file_missing_field_and_bad_date(tmp_path):
    text = FAKE_2027.replace("makeup_workdays:\n  - {date: 2027-01-09, for: 元旦}\n", "")
    text = text.replace("from: 2027-01-01", "from: 20270101")
    err = _err(tmp_path, "cn-2027.yaml", text)
    assert "makeup_workdays: required field is missing" in err.errors
    assert any(e.startswith("holidays[0].from: expected a date written YYYY-MM-DD") for e in err.errors)


def test_file_year_must_match_name(tmp_path):
    err = _err(tmp_path, "cn-2028.yaml", FAKE_2027)
    assert err.errors == ["year: 2027 does not match the file name cn-2028.yaml (expected year: 2028)"]


def test_file_makeup_weekday(tmp_path):
    err = _err(tmp_path, "cn-2027.yaml", FAKE_2027.replace("2027-01-09", "2027-01-08"))
    assert err.errors[0].startswith("makeup_workdays[0].date: 2027-01-08 is a Friday")


def test_file_not_yaml_and_misnamed(tmp_path):
    err = _err(tmp_path, "cn-2027.yaml", "year: [2027\n")
    assert "not valid YAML" in err.errors[0]
    (tmp_path / "cn-2027.yaml").unlink()
    err = _err(tmp_path, "cn-2027.yml", FAKE_2027)
    assert "cn-<4-digit year>.yaml" in err.errors[0]


def test_other_files_are_ignored(tmp_path):
    (tmp_path / "README.md").write_text("calendar files go here\n", encoding="utf-8")
    (tmp_path / "cn-2027.yaml").write_text(FAKE_2027, encoding="utf-8")
    assert load_calendar([tmp_path]).known_years == (2027,)
    assert load_calendar_file(tmp_path / "cn-2027.yaml").source.startswith("test fixture")


def test_default_calendar_dir():
    assert default_calendar_dir() == Path(__file__).resolve().parents[2] / "catalog" / "calendar"
    assert (default_calendar_dir() / "cn-2026.yaml").is_file()


# --- purity ---------------------------------------------------------------------------------


def test_counted_table_agrees_with_walking_day_by_day(cal):
    """add_workdays / workdays_between answer from a cumulative count of the known years; the
    day-by-day walk they replace is the reference, also around a year without data (2027
    missing between 2026 and a 2028 file: the same result or the same CalendarMissingYear)."""
    import random
    y2028 = YearCalendar.from_blocks(2028, [HolidayBlock("元旦", D(2028, 1, 1), D(2028, 1, 3))], [])
    gap = WorkCalendar.of([*cal.years, y2028])
    rng = random.Random(19)

    def same(fast, slow):
        try:
            want = slow()
        except CalendarMissingYear as exc:
            with pytest.raises(CalendarMissingYear) as got:
                fast()
            assert got.value.year == exc.year
            return 0
        assert fast() == want
        return 1
    answered = 0
    for c in (cal, gap):
        for _ in range(3000):
            a = D(2024, 12, 1) + timedelta(days=rng.randint(0, 4 * 366))
            b = a + timedelta(days=rng.randint(-400, 400))
            n = rng.choice([rng.randint(-300, 300), rng.randint(-5, 5)])
            answered += same(lambda: c.workdays_between(a, b), lambda: c._between_walking(a, b)
                             if b >= a else -c._between_walking(b, a))
            answered += same(lambda: c.add_workdays(a, n), lambda: c._add_walking(a, n))
    assert answered > 4000          # most cases have data: the table was exercised
    assert gap.add_workdays(D(2026, 12, 30), 1) == D(2026, 12, 31)   # examined days only
    with pytest.raises(CalendarMissingYear):
        gap.workdays_between(D(2026, 12, 30), D(2028, 1, 5))
