"""A *provisional* working-day calendar for a year whose State Council notice is not out yet,
from the statutory holidays of 《全国年节及纪念日放假办法》 (2024-11-10 revision). Pure.

第二条 (the holidays for all citizens, 13 days):

* 新年 1天 (1月1日); 春节 4天 (农历除夕、正月初一至初三); 清明节 1天 (农历清明当日);
  劳动节 2天 (5月1日、2日); 端午节 1天 (农历端午当日); 中秋节 1天 (农历中秋当日);
  国庆节 3天 (10月1日至3日).

第六条: a holiday for all citizens that falls on a Saturday or Sunday is made up on a working day
(补假). This calendar gives the 补假 on the next Monday-Friday that is not already off.

What it cannot know is the 调休 the notice adds each year (weekdays moved off, weekend days
worked: 第四条 leaves that to the State Council's yearly notice). So it is *provisional*: an
operator enables it explicitly (``govcloud calendar provisional YEAR`` writes it with
``provisional: true``), every result counted in it says "provisional", and the notice, once
published, replaces it (``govcloud calendar import NOTICE.txt``).

The lunar dates are astronomical (the 农历 of GB/T 33661-2017, computed years ahead), not a
guess about the State Council: the table is cross-checked against the ``lunardate`` package
and chinese-calendar's solar terms in tests/lifecycle/test_calendar_import.py.
"""
from __future__ import annotations

from datetime import date, timedelta

from ..errors import GovcloudError
from .workdays import HolidayBlock, YearCalendar

REGULATION = "《全国年节及纪念日放假办法》(2024年11月10日修订) 第二条、第六条"

# year -> (农历除夕, 清明, 端午 五月初五, 中秋 八月十五)
LUNAR = {
    2027: (date(2027, 2, 5), date(2027, 4, 5), date(2027, 6, 9), date(2027, 9, 15)),
    2028: (date(2028, 1, 25), date(2028, 4, 4), date(2028, 5, 28), date(2028, 10, 3)),
    2029: (date(2029, 2, 12), date(2029, 4, 4), date(2029, 6, 16), date(2029, 9, 22)),
    2030: (date(2030, 2, 2), date(2030, 4, 5), date(2030, 6, 5), date(2030, 9, 12)),
}
_EN = {"元旦": "New Year's Day", "春节": "Spring Festival", "清明节": "Qingming Festival",
       "劳动节": "Labour Day", "端午节": "Dragon Boat Festival", "中秋节": "Mid-Autumn Festival",
       "国庆节": "National Day"}


def statutory_days(year: int) -> dict[date, str]:
    """第二条's days off for all citizens in ``year``: date -> holiday name."""
    if year not in LUNAR:
        raise GovcloudError(
            f"no provisional calendar for {year}: the lunar dates are tabled for "
            f"{min(LUNAR)}-{max(LUNAR)} only",
            fix=f"write catalog/calendar/cn-{year}.yaml with `govcloud calendar import NOTICE.txt` "
                "from the State Council's notice")
    chuxi, qingming, duanwu, zhongqiu = LUNAR[year]
    days: dict[date, str] = {}

    def put(d: date, name: str) -> None:
        if d.year == year:
            days.setdefault(d, name)
    put(date(year, 1, 1), "元旦")
    for i in range(4):
        put(chuxi + timedelta(days=i), "春节")
    put(qingming, "清明节")
    put(date(year, 5, 1), "劳动节")
    put(date(year, 5, 2), "劳动节")
    put(duanwu, "端午节")
    put(zhongqiu, "中秋节")
    for i in range(3):
        put(date(year, 10, 1) + timedelta(days=i), "国庆节")
    return days


def provisional_year(year: int) -> YearCalendar:
    """Statutory days plus 第六条's 补假, grouped into holiday blocks (weekend days between the
    days off included, as the notice writes blocks); no make-up working days."""
    days = statutory_days(year)
    off = dict(days)
    for d in sorted(days):
        if d.weekday() >= 5:
            sub = d + timedelta(days=1)
            while sub.weekday() >= 5 or sub in off:
                sub += timedelta(days=1)
            if sub.year == year:
                off[sub] = days[d]
    blocks: list[HolidayBlock] = []
    run: list[date] = []

    def close() -> None:
        if not run:
            return
        names = []
        for d in run:
            if d in off and off[d] not in names:
                names.append(off[d])
        name = "、".join(names)
        blocks.append(HolidayBlock(name=name, start=run[0], end=run[-1],
                                   en=" and ".join(_EN[n] for n in names)))
        run.clear()
    for d in sorted(off):
        if run:
            gap = [run[-1] + timedelta(days=i) for i in range(1, (d - run[-1]).days)]
            if not all(g.weekday() >= 5 for g in gap):
                close()
            else:
                run.extend(gap)
        run.append(d)
    close()
    return YearCalendar.from_blocks(
        year, blocks, [], provisional=True,
        source=f"PROVISIONAL: statutory holidays of {REGULATION}, not the State Council's notice")
