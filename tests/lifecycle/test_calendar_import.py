"""`govcloud calendar import NOTICE.txt` (the State Council's yearly notice, pasted as text) and
`govcloud calendar provisional YEAR` (statutory holidays only, explicitly enabled, every result
marked "provisional")."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from orchestrator.calendar_files import default_calendar_dir, load_calendar
from orchestrator.core.holiday_notice import NoticeError, parse_notice
from orchestrator.core.provisional_calendar import LUNAR, provisional_year, statutory_days
from tests.policy.builders import workspace

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "calendar"
D = dt.date


@pytest.mark.parametrize("year", [2025, 2026])
def test_round_trip_reproduces_the_shipped_file_exactly(cli, tmp_path, year):
    r = cli("calendar", "import", FIXTURES / f"notice-{year}.txt", "--to", tmp_path)
    assert r.exit_code == 0, r.output
    shipped = (default_calendar_dir() / f"cn-{year}.yaml").read_text(encoding="utf-8")
    assert (tmp_path / f"cn-{year}.yaml").read_text(encoding="utf-8") == shipped
    # a second import changes nothing and says so
    again = cli("calendar", "import", FIXTURES / f"notice-{year}.txt", "--to", tmp_path,
                "--output", "json").json()
    assert again["written"] is False and again["format"] == "govcloud-calendar-import/1"


def _notice(year: int, edit=None) -> str:
    text = (FIXTURES / f"notice-{year}.txt").read_text(encoding="utf-8")
    return edit(text) if edit else text


@pytest.mark.parametrize("edit,where,what", [
    (lambda t: t.replace("10月1日（周四）至7日（周三）", "10月2日（周四）至7日（周三）"), "七、国庆节", "周四"),
    (lambda t: t.replace("共9天", "共8天"), "二、春节", "共8天"),
    (lambda t: t.replace("六、中秋节", "八、中秋节"), "八、中秋节", "out of order"),
    (lambda t: t.replace("5月9日（周六）上班", "5月8日（周五）上班"), "makeup_workdays", "Friday"),
])
def test_a_mistyped_notice_is_refused_naming_the_item(edit, where, what):
    with pytest.raises(NoticeError) as exc:
        parse_notice(_notice(2026, edit))
    assert any(where in (i.path + i.message) and what in i.message for i in exc.value.issues), \
        exc.value.issues
    assert parse_notice(_notice(2026)).year == 2026          # negative control


def test_not_a_notice(cli, tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("一、元旦：1月1日放假。", encoding="utf-8")
    r = cli("calendar", "import", p, "--to", tmp_path)
    assert r.exit_code == 1 and "国务院办公厅关于YYYY年部分节假日安排的通知" in r.output
    assert not (tmp_path / "cn-2026.yaml").exists()


def test_a_block_reaching_into_another_year_keeps_this_years_days():
    text = ("国务院办公厅关于2023年部分节假日安排的通知\n"
            "一、元旦：2022年12月31日（周六）至2023年1月2日（周一）放假调休，共3天。\n"
            "二、春节：1月21日（农历除夕、周六）至27日（农历正月初六、周五）放假调休，共7天。"
            "1月28日（周六）、1月29日（周日）上班。\n")
    p = parse_notice(text)
    assert (p.blocks[0].start, p.blocks[0].end) == (D(2023, 1, 1), D(2023, 1, 2))
    assert "cn-2022.yaml" in p.warnings[0]


def test_import_into_a_workspace_then_days_into_next_year_count(cli, tmp_path):
    ws = workspace(tmp_path, "bazhong")
    assert cli("calendar", "add-workdays", "2026-12-31", "1", "-C", ws).exit_code == 1
    fake = _notice(2026, lambda t: t.replace("2026年", "2027年"))   # shaped like a notice
    fake = fake.replace("1月1日（周四）至3日（周六）", "1月1日（周五）至3日（周日）").replace("1月4日（周日）上班。", "")
    p = tmp_path / "notice-2027.txt"
    p.write_text(fake.split("二、")[0], encoding="utf-8")
    r = cli("calendar", "import", p, "-C", ws)
    assert r.exit_code == 0, r.output
    assert (ws / "catalog" / "calendar" / "cn-2027.yaml").is_file()
    assert cli("calendar", "add-workdays", "2026-12-31", "1", "-C", ws).output.strip() == "2027-01-04"
    # a different official schedule for the same year needs --force
    p.write_text(fake.split("二、")[0].replace("至3日（周日）", "至2日（周六）").replace("共3天", "共2天"),
                 encoding="utf-8")
    r = cli("calendar", "import", p, "-C", ws)
    assert r.exit_code == 1 and "--force" in r.output and "2027-01-03" in r.output
    assert cli("calendar", "import", p, "-C", ws, "--force").exit_code == 0


def test_lunar_table_matches_the_astronomical_calendar():
    from lunardate import LunarDate
    import chinese_calendar
    for year, (chuxi, qingming, duanwu, zhongqiu) in LUNAR.items():
        assert LunarDate(year, 1, 1).to_solar_date() - dt.timedelta(days=1) == chuxi
        assert LunarDate(year, 5, 5).to_solar_date() == duanwu
        assert LunarDate(year, 8, 15).to_solar_date() == zhongqiu
        terms = dict((n, d) for d, n in chinese_calendar.get_solar_terms(D(year, 4, 1), D(year, 4, 10)))
        assert terms["清明"] == qingming


def test_provisional_2027_statutory_days_and_makeup_rest():
    days = statutory_days(2027)
    assert len(days) == 13                                    # 第二条: 13 days for all citizens
    y = provisional_year(2027)
    assert y.provisional and not y.makeup
    # 春节: 除夕 02-05 (Fri) .. 初三 02-08 (Mon); 02-06/07 fall on the weekend -> 补假 02-09, 02-10
    assert not y.is_workday(D(2027, 2, 10)) and y.is_workday(D(2027, 2, 11))
    # 国庆节 10-01 (Fri) .. 10-03 (Sun): 补假 10-04, 10-05
    assert not y.is_workday(D(2027, 10, 5)) and y.is_workday(D(2027, 10, 6))
    # 2028: 中秋 10-03 is also a 国庆 day (one day off, not two)
    assert provisional_year(2028).is_workday(D(2028, 10, 6))
    with pytest.raises(Exception, match="2031") as exc:
        provisional_year(2031)
    assert "calendar import" in exc.value.fix


def test_provisional_is_enabled_explicitly_and_every_result_says_so(cli, tmp_path):
    ws = workspace(tmp_path, "bazhong")
    r = cli("calendar", "provisional", "2027", "-C", ws)
    assert r.exit_code == 0, r.output
    cal = load_calendar([default_calendar_dir(), ws / "catalog" / "calendar"])
    assert cal.provisional_years == (2027,)
    r = cli("calendar", "add-workdays", "2026-12-31", "1", "-C", ws)
    assert r.output.startswith("2027-01-04") and "provisional" in r.output
    j = cli("calendar", "add-workdays", "2026-12-31", "1", "-C", ws, "--output", "json").json()
    assert j["provisional"] == [2027]
    assert cli("calendar", "workdays", "2027-01-01", "2027-12-31", "-C", ws,
               "--output", "json").json()["provisional"] == [2027]
    # a result in 2026 alone is not provisional
    j = cli("calendar", "add-workdays", "2026-12-01", "1", "-C", ws, "--output", "json").json()
    assert j["provisional"] == []
    # the provisional calendar never lands in the shipped directory
    r = cli("calendar", "provisional", "2027", "--to", default_calendar_dir())
    assert r.exit_code == 1 and not (default_calendar_dir() / "cn-2027.yaml").exists()


def test_an_import_replaces_the_provisional_calendar_and_never_the_other_way(cli, tmp_path):
    ws = workspace(tmp_path, "bazhong")
    cal_dir = ws / "catalog" / "calendar"
    fake = _notice(2026, lambda t: t.replace("2026年", "2027年")).split("二、")[0]
    fake = fake.replace("1月1日（周四）至3日（周六）", "1月1日（周五）至3日（周日）").replace("1月4日（周日）上班。", "")
    (tmp_path / "n.txt").write_text(fake, encoding="utf-8")
    assert cli("calendar", "provisional", "2027", "-C", ws).exit_code == 0
    r = cli("calendar", "import", tmp_path / "n.txt", "-C", ws, "--output", "json")
    assert r.exit_code == 0 and r.json()["replaced"] == "provisional"
    assert "provisional" not in (cal_dir / "cn-2027.yaml").read_text(encoding="utf-8")
    r = cli("calendar", "provisional", "2027", "-C", ws)
    assert r.exit_code == 1 and "never replaces" in r.output


# --- status / expire over a year without data ----------------------------------------------------
from tests.policy.builders import approval  # noqa: E402

ENDS_2027 = [approval(f"BZ-Y{i}", approved_on="2026-11-02", system=f"sys-{i}",
                      term={"kind": "window", "start": "2026-11-16", "end": end})
             for i, end in enumerate(["2027-01-15", "2027-02-10", "2027-03-01"])]


def test_status_warns_once_per_run_and_exits_non_zero(cli, tmp_path, monkeypatch):
    ws = workspace(tmp_path, "bazhong", *ENDS_2027)
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-12-02")
    r = cli("status", "-C", ws)
    assert r.exit_code == 1, r.output
    assert r.output.count("no working-day calendar for 2027") == 1
    assert all(f"BZ-Y{i}" in r.output for i in range(3))
    j = cli("status", "-C", ws, "--output", "json").json()
    assert j["calendar_missing"] == [2027] and len(j["calendar_warnings"]) == 1
    assert all(not any("2027" in w for w in a["warnings"]) for a in j["approvals"])
    # with the provisional calendar enabled: computed, exit 0, and it says provisional
    assert cli("calendar", "provisional", "2027", "-C", ws).exit_code == 0
    r = cli("status", "-C", ws)
    assert r.exit_code == 0 and r.output.count("provisional calendar for 2027") == 1
    j = cli("status", "-C", ws, "--output", "json").json()
    assert j["calendar_missing"] == [] and all(a["provisional"] == [2027] for a in j["approvals"])


def test_expire_sends_one_calendar_notice_and_exits_1(cli, tmp_path, monkeypatch):
    ws = workspace(tmp_path, "bazhong", *ENDS_2027)
    assert cli("compile", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-11-16")
    assert cli("apply", "-C", ws, "--auto-approve").exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2026-12-02")
    sink = tmp_path / "notices.jsonl"
    r = cli("expire", "-C", ws, "--notify", f"jsonl:{sink}")
    assert r.exit_code == 1 and r.output.count("no working-day calendar for 2027") == 1, r.output
    sent = [json.loads(x) for x in sink.read_text(encoding="utf-8").splitlines()]
    assert [n["type"] for n in sent] == ["calendar-missing"]
    assert sent[0]["approvals"] == ["BZ-Y0", "BZ-Y1", "BZ-Y2"] and sent[0]["years"] == [2027]
    # provisional enabled: the warning for BZ-Y0 (7 working days ahead? not yet) is computed, exit 0
    assert cli("calendar", "provisional", "2027", "-C", ws).exit_code == 0
    monkeypatch.setenv("GOVCLOUD_TODAY", "2027-01-06")
    r = cli("expire", "-C", ws, "--notify", f"jsonl:{sink}", "--output", "json")
    assert r.exit_code == 0, r.output
    warned = [n for n in r.json()["notices"] if n["type"] == "expiry-warning"]
    assert warned and warned[0]["approval"] == "BZ-Y0" and warned[0]["provisional"] == [2027]
    assert "provisional" in warned[0]["message"]


import json  # noqa: E402
