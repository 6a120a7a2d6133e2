"""`govcloud calendar check | add-workdays | workdays | is-workday`: the shipped calendar plus the
workspace's catalog/calendar/ (which adds or overrides years); unknown years are errors."""
from __future__ import annotations

import pytest

from tests.policy.builders import workspace


@pytest.mark.parametrize("start,n,expected", [
    ("2026-09-30", "2", "2026-10-09"),    # National Day: 10-01..10-07 off
    ("2026-02-13", "2", "2026-02-24"),    # 02-14 is a 调休 Saturday, then 春节 02-15..02-23
    ("2026-02-27", "1", "2026-02-28"),    # the second 春节 make-up Saturday
    ("2026-10-03", "2", "2026-10-09"),    # approved on a holiday: counting starts after it
    ("2026-07-20", "-7", "2026-07-09"),   # "at least 7 working days before"
    ("2025-12-31", "1", "2026-01-04"),    # 元旦 2026 01-01..01-03, 01-04 is a 调休 Sunday
])
def test_add_workdays(cli, start, n, expected):
    r = cli("calendar", "add-workdays", "--", start, n)   # "--": N may be negative
    assert r.exit_code == 0 and r.output.strip() == expected


def test_workdays_and_json(cli):
    assert cli("calendar", "workdays", "2026-09-30", "2026-10-09").output.strip() == "2"
    assert cli("calendar", "workdays", "2025-12-31", "2026-12-31").output.strip() == "248"
    assert cli("calendar", "add-workdays", "2026-09-30", "2", "--output", "json").json() == {
        "format": "govcloud-calendar-add-workdays/1", "from": "2026-09-30", "workdays": 2,
        "date": "2026-10-09", "provisional": []}


def test_is_workday(cli):
    assert cli("calendar", "is-workday", "2026-10-10").exit_code == 0      # 调休 Saturday
    r = cli("calendar", "is-workday", "2026-10-05")
    assert r.exit_code == 3 and "国庆节" in r.output


def test_a_year_without_data_is_an_error_naming_the_file(cli):
    r = cli("calendar", "add-workdays", "2026-12-31", "1")
    assert r.exit_code == 1 and "add catalog/calendar/cn-2027.yaml" in r.output
    assert cli("calendar", "add-workdays", "2026-12-30", "1").output.strip() == "2026-12-31"


def test_check_the_shipped_calendar(cli):
    r = cli("calendar", "check", "--output", "json")
    assert r.exit_code == 0
    assert {f["year"]: f["workdays"] for f in r.json()["files"]} == {2025: 248, 2026: 248}


NEXT_YEAR = """year: 2027
source: "test fixture shaped like the State Council notice (not the official 2027 schedule)"
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-06, to: 2027-02-12}
makeup_workdays:
  - {date: 2027-02-20, for: 春节}
"""


def test_an_operator_adds_next_year_to_the_workspace(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong")
    (ws / "catalog" / "calendar").mkdir(parents=True)
    (ws / "catalog" / "calendar" / "cn-2027.yaml").write_text(NEXT_YEAR, encoding="utf-8")
    r = cli("calendar", "check", "-C", ws)
    assert r.exit_code == 0 and "2027" in r.output and "years 2025, 2026, 2027" in r.output
    assert cli("calendar", "add-workdays", "2026-12-31", "1", "-C", ws).output.strip() == "2027-01-04"
    assert cli("calendar", "is-workday", "2027-02-20", "-C", ws).exit_code == 0


def test_a_workspace_file_overrides_a_shipped_year(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong")
    shipped = (__import__("orchestrator.calendar_files", fromlist=["x"]).default_calendar_dir()
               / "cn-2026.yaml").read_text(encoding="utf-8")
    own = shipped.replace("  - {name: 中秋节, en: Mid-Autumn Festival, from: 2026-09-25, to: 2026-09-27}",
                          "  - {name: 中秋节, en: Mid-Autumn Festival, from: 2026-09-25, to: 2026-09-27}\n"
                          "  - {name: 临时, en: Extra day, from: 2026-09-28, to: 2026-09-28}")
    assert own != shipped
    (ws / "catalog" / "calendar").mkdir(parents=True)
    (ws / "catalog" / "calendar" / "cn-2026.yaml").write_text(own, encoding="utf-8")
    assert cli("calendar", "add-workdays", "2026-09-25", "1").output.strip() == "2026-09-28"
    assert cli("calendar", "add-workdays", "2026-09-25", "1", "-C", ws).output.strip() == "2026-09-29"
    data = cli("calendar", "check", "-C", ws, "--output", "json").json()
    assert [f["used"] for f in data["files"] if f["year"] == 2026] == [False, True]


def test_a_broken_file_names_file_and_field(tmp_path, cli):
    ws = workspace(tmp_path, "bazhong")
    (ws / "catalog" / "calendar").mkdir(parents=True)
    bad = NEXT_YEAR.replace("2027-02-20", "2027-02-22")       # a Monday is no make-up day
    (ws / "catalog" / "calendar" / "cn-2027.yaml").write_text(bad, encoding="utf-8")
    r = cli("calendar", "check", "-C", ws)
    assert r.exit_code == 1 and "cn-2027.yaml" in r.output
    assert "makeup_workdays[0].date" in r.output and "Monday" in r.output
    r = cli("calendar", "check", str(ws / "catalog" / "calendar" / "cn-2027.yaml"))
    assert r.exit_code == 1
