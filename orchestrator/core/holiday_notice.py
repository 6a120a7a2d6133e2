"""The State Council's yearly holiday notice (国务院办公厅关于YYYY年部分节假日安排的通知), pasted as
text, read into one year's working-day data (:class:`~orchestrator.core.workdays.YearCalendar`
blocks). Pure: text in, values out; ``govcloud calendar import`` writes the file.

The notice's wording is regular; every item reads like one of::

    一、元旦：1月1日（周三）放假1天，不调休。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。

A date without a year is in the notice's year; a day without a month (「至8日」) is in the month
of the date before it. Every weekday the notice prints in brackets (周三) and every day count
(「共8天」, 「放假1天」) is checked against the dates, so a mistyped date is refused, naming the item,
instead of becoming a wrong calendar. A block reaching into another year (「2022年12月31日至2023年
1月2日」) keeps only this year's days and says so (the other year's file holds the rest).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from ..errors import GovcloudError, Issue
from .workdays import HolidayBlock, MakeupDay, validate_year

ENGLISH = {"元旦": "New Year's Day", "新年": "New Year's Day", "春节": "Spring Festival",
           "清明节": "Qingming Festival", "劳动节": "Labour Day", "端午节": "Dragon Boat Festival",
           "中秋节": "Mid-Autumn Festival", "国庆节": "National Day"}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
WEEKDAY_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_TITLE = re.compile(r"国务院办公厅关于\s*(\d{4})\s*年部分节假日安排的通知")
_NUMBER = re.compile(r"国办发明电\s*〔\s*\d{4}\s*〕\s*\d+\s*号")
_SIGNED = re.compile(r"^\s*(\d{4})年(\d{1,2})月(\d{1,2})日\s*$", re.M)
_ITEM = re.compile(r"(?m)^\s*([一二三四五六七八九十]{1,3})、\s*([^：:，。\n]{1,30}?)\s*[：:]\s*(.*)$")
_DAY = re.compile(r"(?:(\d{4})\s*年\s*)?(?:(\d{1,2})\s*月\s*)?(\d{1,2})\s*日(?:\s*[（(]([^）)]*)[）)])?")
_COUNT = re.compile(r"(?:共|放假)\s*(\d+)\s*天")
_CN_DIGITS = "一二三四五六七八九"


class NoticeError(GovcloudError):
    """The text is not a holiday notice govcloud can read; issues name the item."""

    def __init__(self, summary: str, issues: list[Issue] | None = None):
        super().__init__(summary, issues or [], fix="paste the notice's full text as published "
                         "(title, 文号, the numbered items 一、…上班。, signature date), then run "
                         "`govcloud calendar import NOTICE.txt` again")


@dataclass
class ParsedNotice:
    year: int
    source: str
    blocks: list[HolidayBlock]
    makeup: list[MakeupDay]
    warnings: list[str] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)   # block name -> lunar dates quoted


def _cn_number(text: str) -> int:
    if text == "十":
        return 10
    if text.startswith("十"):
        return 10 + _CN_DIGITS.index(text[1]) + 1
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_CN_DIGITS.index(tens) + 1) * 10 + (_CN_DIGITS.index(ones) + 1 if ones else 0)
    return _CN_DIGITS.index(text) + 1


def _days(text: str, year: int, where: str, issues: list[Issue]) -> list[tuple[date, str]]:
    """Every 「M月D日（…）」 in ``text`` as (date, bracket text), months and years carried over."""
    out: list[tuple[date, str]] = []
    y, m = year, None
    for mt in _DAY.finditer(text):
        if mt.group(1):
            y = int(mt.group(1))
        if mt.group(2):
            m = int(mt.group(2))
        if m is None:
            issues.append(Issue(where, f"「{mt.group(0)}」 has no month and no date before it gives one"))
            continue
        try:
            d = date(y, m, int(mt.group(3)))
        except ValueError as exc:
            issues.append(Issue(where, f"「{mt.group(0)}」 is not a date: {exc}"))
            continue
        bracket = mt.group(4) or ""
        wd = re.search(r"(?:周|星期)([一二三四五六日天])", bracket)
        if wd and _WEEKDAYS[wd.group(1)] != d.weekday():
            issues.append(Issue(where, f"「{mt.group(0)}」: the notice says {wd.group(0)} but {d} is a "
                                f"{WEEKDAY_EN[d.weekday()]}; check the date against the notice"))
        out.append((d, bracket))
    return out


def parse_notice(text: str) -> ParsedNotice:
    """Read the notice's year, 文号, signature date and numbered items; raise :class:`NoticeError`
    naming every item that cannot be read or does not add up."""
    text = text.replace("\r\n", "\n").replace("\u3000", " ").lstrip("\ufeff")
    title = _TITLE.search(text)
    if not title:
        raise NoticeError("not a holiday notice: no title 「国务院办公厅关于YYYY年部分节假日安排的通知」",
                          [Issue("title", "the first lines must hold the notice's title")])
    year = int(title.group(1))
    number = _NUMBER.search(text)
    signed = _SIGNED.findall(text)
    extra = [re.sub(r"\s+", "", number.group(0))] if number else []
    if signed:
        sy, sm, sd = (int(x) for x in signed[-1])
        extra.append(date(sy, sm, sd).isoformat())
    source = title.group(0) + (f" ({', '.join(extra)})" if extra else "")
    issues: list[Issue] = []
    warnings: list[str] = []
    blocks: list[HolidayBlock] = []
    makeup: list[MakeupDay] = []
    notes: dict[str, str] = {}
    items = list(_ITEM.finditer(text))
    if not items:
        raise NoticeError(f"no numbered items (一、元旦：…) in the {year} notice",
                          [Issue("items", "expected lines like 「一、元旦：1月1日（周四）放假1天。」")])
    for k, it in enumerate(items):
        num, name, body = it.group(1), it.group(2).strip(), it.group(3).strip()
        where = f"{num}、{name}"
        if _cn_number(num) != k + 1:
            issues.append(Issue(where, f"item {num} is number {k + 1} in the text: an item is missing "
                                "or out of order"))
        sentences = [s for s in re.split(r"[。；;]", body) if s.strip()]
        off = [s for s in sentences if "放假" in s]
        if len(off) != 1:
            issues.append(Issue(where, "expected one sentence saying which days are off (…放假…)"))
            continue
        head = off[0].split("放假", 1)[0]
        days = _days(head, year, where, issues)
        if len(days) not in (1, 2) or (len(days) == 2 and "至" not in head):
            issues.append(Issue(where, f"「{head}」: expected one day or 「D1至D2」 before 放假"))
            continue
        start, end = days[0][0], days[-1][0]
        if end < start:
            issues.append(Issue(where, f"{end} is before {start}"))
            continue
        n = (end - start).days + 1
        count = _COUNT.search(off[0])
        if count and int(count.group(1)) != n:
            issues.append(Issue(where, f"the notice says {count.group(0)} but {start}..{end} is "
                                f"{n} day{'s' if n != 1 else ''}"))
        lunar = [b for _, b in days if "农历" in b]
        if lunar:
            notes[name] = "..".join(re.sub(r"[、,，]?\s*(?:周|星期).$", "", b) for _, b in days)
        if start.year != year or end.year != year:
            lo, hi = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
            warnings.append(f"{where}: {start}..{end} reaches outside {year}; kept {lo}..{hi} "
                            f"(check that cn-{start.year if start.year != year else end.year}.yaml "
                            "has the other days off)")
            start, end = lo, hi
        en = " and ".join(ENGLISH.get(p, "") for p in name.split("、"))
        blocks.append(HolidayBlock(name=name, start=start, end=end,
                                   en=en if all(ENGLISH.get(p) for p in name.split("、")) else ""))
        for s in sentences:
            if "上班" not in s:
                continue
            for d, _ in _days(s, year, where, issues):
                if d.year != year:
                    warnings.append(f"{where}: make-up working day {d} is outside {year}; it belongs "
                                    f"in cn-{d.year}.yaml")
                    continue
                makeup.append(MakeupDay(date=d, for_=name))
    if not issues:
        issues += [Issue(*e.split(": ", 1)) if ": " in e else Issue("", e)
                   for e in validate_year(year, blocks, makeup)]
    if issues:
        raise NoticeError(f"the {year} notice cannot be imported: {len(issues)} problem(s)", issues)
    return ParsedNotice(year, source, blocks, sorted(makeup, key=lambda m: m.date), warnings, notes)


def block_comment(b: HolidayBlock) -> str:
    n = (b.end - b.start).days + 1
    return f"{n} day{'s' if n != 1 else ''}"


def days_between(a: date, b: date) -> list[date]:
    return [a + timedelta(days=i) for i in range((b - a).days + 1)]
