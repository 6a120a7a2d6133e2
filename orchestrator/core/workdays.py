"""PRC working days (工作日): official holidays off, 调休 make-up weekend days on.

Pure: no file I/O, no drivers, no state. The data comes from the State Council's yearly notice
(国务院办公厅关于<year>年部分节假日安排的通知), kept as ``catalog/calendar/cn-<year>.yaml`` and read by
:mod:`orchestrator.calendar_files`. A date in a year without data raises
:class:`CalendarMissingYear`; nothing here ever guesses a schedule.

Counting conventions (民法典 第二百零一、二百零二、二百零三条; docs/regulations.md "Reading conventions"):

* The start day is not counted. ``add_workdays(d, n)`` is the n-th working day *after* ``d``,
  whether or not ``d`` itself is a working day (an approval given on a holiday starts the count
  at the next working day; it does not count itself).
* ``workdays_between(a, b)`` counts the working days in the half-open interval ``(a, b]``:
  ``a`` excluded, ``b`` included. It is the inverse of ``add_workdays``:
  ``workdays_between(d, add_workdays(d, n)) == n`` for every ``n >= 0``.
* 日 / 个月 without 工作 are calendar days / months, and "a period ending on a holiday ends on the
  next working day": ``roll_forward`` applies that rule, ``deadline_days`` / ``deadline_months``
  combine it with calendar-day and calendar-month arithmetic.
* ``add_months`` follows 第二百零二条: the period ends on the corresponding day of the final month,
  or on that month's last day when it has no corresponding day (2026-01-31 + 1 month = 2026-02-28).

Only the days actually examined need data: ``add_workdays(date(2026, 12, 30), 1)`` is 2026-12-31
without any 2027 data, while ``add_workdays(date(2026, 12, 31), 1)`` needs 2027 and raises.
"""
from __future__ import annotations

import bisect
import calendar as _stdcal
from array import array
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, timedelta
from types import MappingProxyType
from typing import Iterable, Mapping, Sequence

from ..errors import GovcloudError

_ONE_DAY = timedelta(days=1)
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

CALENDAR_DIR_HINT = "catalog/calendar"


class CalendarMissingYear(GovcloudError):
    """A date falls in a year for which no official schedule has been loaded."""

    def __init__(self, year: int):
        self.year = year
        super().__init__(
            f"no working-day calendar for {year}: add {CALENDAR_DIR_HINT}/cn-{year}.yaml "
            "(the State Council publishes the schedule each November/December)")

    def __reduce__(self):  # keep it picklable (multiprocessing, caching)
        return (type(self), (self.year,))


class CalendarDataError(ValueError):
    """A year's data is inconsistent; ``errors`` are "field: message" strings."""

    def __init__(self, year: int, errors: Sequence[str]):
        self.year = year
        self.errors = list(errors)
        super().__init__(f"invalid working-day calendar for {year}: " + "; ".join(self.errors))


@dataclass(frozen=True)
class HolidayBlock:
    """Consecutive days off as the notice states them, weekend days inside the block included
    (e.g. 春节 2026-02-15..2026-02-23). ``start``/``end`` are both inclusive; they are ``from``/``to``
    in the YAML file."""

    name: str
    start: date
    end: date
    en: str = ""

    def days(self) -> list[date]:
        if self.end < self.start:
            return []
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]


@dataclass(frozen=True)
class MakeupDay:
    """A Saturday or Sunday that is worked (调休上班), for the holiday block named ``for_``."""

    date: date
    for_: str = ""


def validate_year(year: int, holidays: Sequence[HolidayBlock],
                  makeup: Sequence[MakeupDay]) -> list[str]:
    """Every inconsistency in one year's data, as "field: message" strings (empty when valid).

    Field paths use the YAML names: ``holidays[i].from``, ``holidays[i].to``,
    ``makeup_workdays[k].date``, ``makeup_workdays[k].for``.
    """
    errors: list[str] = []
    owner: dict[date, int] = {}  # day off -> index of the first block holding it
    overlaps: dict[tuple[int, int], list[date]] = {}

    for i, b in enumerate(holidays):
        where = f"holidays[{i}]"
        if not b.name.strip():
            errors.append(f"{where}.name: must not be empty")
        if b.end < b.start:
            errors.append(f"{where}.to: {b.end} is before from {b.start}")
        for key, d in (("from", b.start), ("to", b.end)):
            if d.year != year:
                errors.append(f"{where}.{key}: {d} is outside {year}; this file holds {year} only "
                              f"(put {d.year} dates into cn-{d.year}.yaml)")
        for d in b.days():
            if d.year != year:
                continue
            if d in owner:
                overlaps.setdefault((i, owner[d]), []).append(d)
            else:
                owner[d] = i
    for (i, j), days in overlaps.items():
        listed = ", ".join(str(d) for d in days)
        errors.append(f"holidays[{i}]: duplicate date(s) {listed}, already in holidays[{j}] "
                      f"({holidays[j].name})")

    names = {b.name for b in holidays}
    seen: dict[date, int] = {}
    for k, m in enumerate(makeup):
        where = f"makeup_workdays[{k}]"
        d = m.date
        if d.year != year:
            errors.append(f"{where}.date: {d} is outside {year}; this file holds {year} only "
                          f"(put {d.year} dates into cn-{d.year}.yaml)")
        if d.weekday() < 5:
            errors.append(f"{where}.date: {d} is a {_WEEKDAY_NAMES[d.weekday()]}; a make-up working "
                          "day (调休) is a Saturday or Sunday that is worked")
        if d in owner:
            b = holidays[owner[d]]
            errors.append(f"{where}.date: {d} is inside holidays[{owner[d]}] "
                          f"({b.name}, {b.start}..{b.end}); a day cannot be both off and worked")
        if d in seen:
            errors.append(f"{where}.date: duplicate date {d}, already makeup_workdays[{seen[d]}]")
        else:
            seen[d] = k
        if m.for_ and m.for_ not in names:
            errors.append(f"{where}.for: {m.for_!r} is not the name of a holiday block in this "
                          f"year (names: {', '.join(b.name for b in holidays) or 'none'})")
    return errors


@dataclass(frozen=True)
class YearCalendar:
    """One year's official schedule: days off on weekdays and weekends alike (``holidays``) and
    weekend days that are worked (``makeup``). Build it with :meth:`from_blocks` to validate
    the notice's blocks; direct construction checks only that the sets fit the year."""

    year: int
    holidays: frozenset[date]
    makeup: frozenset[date]
    source: str = ""
    blocks: tuple[HolidayBlock, ...] = ()
    makeup_days: tuple[MakeupDay, ...] = ()
    provisional: bool = False   # from the statutory holidays only, not the State Council's notice

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup", frozenset(self.makeup))
        errors = [f"holidays: {d} is outside {self.year}"
                  for d in sorted(self.holidays) if d.year != self.year]
        errors += [f"makeup: {d} is outside {self.year}"
                   for d in sorted(self.makeup) if d.year != self.year]
        errors += [f"makeup: {d} is also a holiday" for d in sorted(self.holidays & self.makeup)]
        if errors:
            raise CalendarDataError(self.year, errors)

    @classmethod
    def from_blocks(cls, year: int, holidays: Sequence[HolidayBlock],
                    makeup: Sequence[MakeupDay], source: str = "",
                    provisional: bool = False) -> "YearCalendar":
        """Validate with :func:`validate_year` (raising :class:`CalendarDataError`) and expand."""
        errors = validate_year(year, holidays, makeup)
        if errors:
            raise CalendarDataError(year, errors)
        days = frozenset(d for b in holidays for d in b.days())
        return cls(year=year, holidays=days, makeup=frozenset(m.date for m in makeup),
                   source=source, blocks=tuple(holidays), makeup_days=tuple(makeup),
                   provisional=provisional)

    def is_workday(self, d: date) -> bool:
        if d.year != self.year:
            raise ValueError(f"{d} is not in {self.year}")
        if d in self.makeup:
            return True
        return d.weekday() < 5 and d not in self.holidays

    def holiday_name(self, d: date) -> str | None:
        """Name of the block containing ``d`` (e.g. "国庆节"), or None."""
        for b in self.blocks:
            if b.start <= d <= b.end:
                return b.name
        return None

    def workday_count(self) -> int:
        start = date(self.year, 1, 1)
        n = (date(self.year + 1, 1, 1) - start).days
        return sum(self.is_workday(start + timedelta(days=i)) for i in range(n))


@dataclass(frozen=True)
class WorkCalendar:
    """Working-day arithmetic over the years that have data. Immutable and hashable."""

    years: tuple[YearCalendar, ...] = ()
    _by_year: Mapping[int, YearCalendar] = field(init=False, repr=False, compare=False,
                                                 hash=False)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.years, key=lambda y: y.year))
        seen = [y.year for y in ordered]
        dupes = sorted({y for y in seen if seen.count(y) > 1})
        if dupes:
            raise ValueError(f"more than one calendar for year(s) {dupes}")
        object.__setattr__(self, "years", ordered)
        object.__setattr__(self, "_by_year", MappingProxyType({y.year: y for y in ordered}))

    @classmethod
    def of(cls, years: Iterable[YearCalendar]) -> "WorkCalendar":
        """A calendar from years given in override order: a later entry replaces an earlier
        one of the same year."""
        merged: dict[int, YearCalendar] = {}
        for y in years:
            merged[y.year] = y
        return cls(tuple(merged.values()))

    # --- data ----------------------------------------------------------------------------
    @property
    def known_years(self) -> tuple[int, ...]:
        return tuple(self._by_year)

    def has_year(self, year: int) -> bool:
        return year in self._by_year

    @property
    def provisional_years(self) -> tuple[int, ...]:
        """Years whose data is the provisional statutory-holiday calendar (``calendar provisional``)."""
        return tuple(y.year for y in self.years if y.provisional)

    def provisional_in(self, *days: date | None) -> tuple[int, ...]:
        """The provisional years a result over ``days`` (the span from the earliest to the latest)
        was counted in: a non-empty answer means the result must say "provisional"."""
        known = [d for d in days if d is not None]
        if not known or not self.provisional_years:
            return ()
        lo, hi = min(known).year, max(known).year
        return tuple(y for y in self.provisional_years if lo <= y <= hi)

    def year(self, year: int) -> YearCalendar:
        """The data for ``year``; raises :class:`CalendarMissingYear` when there is none."""
        try:
            return self._by_year[year]
        except KeyError:
            raise CalendarMissingYear(year) from None

    def holiday_name(self, d: date) -> str | None:
        return self.year(d.year).holiday_name(d)

    # --- days ----------------------------------------------------------------------------
    def is_workday(self, d: date) -> bool:
        """True on Monday-Friday outside a holiday block, and on make-up (调休) weekend days."""
        return self.year(d.year).is_workday(d)

    def next_workday(self, d: date) -> date:
        """The first working day strictly after ``d`` (``d`` itself is never returned)."""
        d += _ONE_DAY
        while not self.is_workday(d):
            d += _ONE_DAY
        return d

    def previous_workday(self, d: date) -> date:
        """The last working day strictly before ``d``."""
        d -= _ONE_DAY
        while not self.is_workday(d):
            d -= _ONE_DAY
        return d

    def roll_forward(self, d: date) -> date:
        """``d`` if it is a working day, else the next one: a period ending on a holiday or
        rest day ends on the next working day (民法典 第二百零三条)."""
        return d if self.is_workday(d) else self.next_workday(d)

    def add_workdays(self, d: date, n: int) -> date:
        """The n-th working day after ``d``; the start day is not counted, whatever it is.

        ``add_workdays(date(2026, 9, 30), 2) == date(2026, 10, 9)`` (国庆节 10-01..10-07 off).
        ``n == 0`` returns ``d`` unchanged. ``n < 0`` walks backwards: the |n|-th working day
        before ``d`` (for "at least N 工作日 before" rules; ``workdays_between(result, d) == |n|``
        when ``d`` is itself a working day).
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        got = self._add_by_table(d, n) if n else d
        return got if got is not None else self._add_walking(d, n)

    def _add_walking(self, d: date, n: int) -> date:
        step = self.next_workday if n > 0 else self.previous_workday
        for _ in range(abs(n)):
            d = step(d)
        return d

    # A bill or report evaluates tens of thousands of deadlines, each a walk of up to years of
    # days: the cumulative working-day count of the known years answers in O(1) (O(log) for
    # add_workdays). Spans touching a year without data take the walk, which raises for it.
    @cached_property
    def _table(self) -> tuple[int, int, array] | None:
        """(first ordinal, end ordinal, counts): counts[i] = working days in [first, first+i)."""
        if not self.years:
            return None
        first = date(self.years[0].year, 1, 1).toordinal()
        end = date(self.years[-1].year + 1, 1, 1).toordinal()
        counts = array("l", [0])
        total = 0
        for o in range(first, end):
            d = date.fromordinal(o)
            y = self._by_year.get(d.year)
            total += bool(y is not None and y.is_workday(d))
            counts.append(total)
        return first, end, counts

    def _covered(self, lo: date, hi: date) -> bool:
        """Do the known years cover every day in [lo, hi]?"""
        return all(y in self._by_year for y in range(lo.year, hi.year + 1))

    def _missing(self, years) -> None:
        """Raise CalendarMissingYear for the first of ``years`` without data, as the walk
        would on reaching it (a deadline a year ahead is not walked day by day to find that
        next year has no calendar)."""
        for y in years:
            if y not in self._by_year:
                self.year(y)

    def _add_by_table(self, d: date, n: int) -> date | None:
        t = self._table
        if t is None:
            return None
        first, end, counts = t
        o = d.toordinal()
        if not first <= o < end:
            return None
        if n > 0:
            target = counts[o + 1 - first] + n
            j = bisect.bisect_left(counts, target)
            if j < len(counts):
                got = date.fromordinal(first + j - 1)
                if self._covered(d + _ONE_DAY, got):
                    return got
            self._missing(range((d + _ONE_DAY).year, self.years[-1].year + 2))
            return None
        c = counts[o - first] + n
        if c >= 0:
            got = date.fromordinal(first + bisect.bisect_left(counts, c + 1) - 1)
            if self._covered(got, d - _ONE_DAY):
                return got
        self._missing(range((d - _ONE_DAY).year, self.years[0].year - 2, -1))
        return None

    def workdays_between(self, a: date, b: date) -> int:
        """Number of working days in ``(a, b]``: ``a`` not counted, ``b`` counted.

        ``workdays_between(d, add_workdays(d, n)) == n``. ``a == b`` gives 0; ``b < a`` gives the
        negative of ``workdays_between(b, a)``. The days of the whole 2026 year:
        ``workdays_between(date(2025, 12, 31), date(2026, 12, 31)) == 248``.
        """
        if b < a:
            return -self.workdays_between(b, a)
        t = self._table
        if a < b and t is not None and t[0] <= a.toordinal() + 1:
            if b.toordinal() < t[1] and self._covered(a + _ONE_DAY, b):
                first, _, counts = t
                return counts[b.toordinal() + 1 - first] - counts[a.toordinal() + 1 - first]
            self._missing(range((a + _ONE_DAY).year, b.year + 1))
        return self._between_walking(a, b)

    def _between_walking(self, a: date, b: date) -> int:
        count = 0
        d = a + _ONE_DAY
        while d <= b:
            if self.is_workday(d):
                count += 1
            d += _ONE_DAY
        return count

    def latest_day_to_act(self, day: date, n: int) -> date:
        """The last day on which something due 「提前n个工作日」 before ``day`` may still be done:
        the n-th working day before ``day`` (``day`` itself never counts, working day or not).

        This is THE function for every "at least n working days before" rule (extension
        requests 亳州 第二十二、二十四条, platform-change notices 大同 第十八条 / 亳州 第二十八条):
        the check (:meth:`notice_workdays` ``>= n``) accepts exactly the days up to it, so the day
        a message prints is always accepted and the next working day refused, also when ``day``
        is a rest day. 2026-10-08 (Thu) with n=2: 09-29 (10-01..10-07 off, 09-30 counts)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise TypeError(f"n must be an int >= 0, got {n!r}")
        return self.add_workdays(day, -n)

    def earliest_day_after_notice(self, acted_on: date, n: int) -> date:
        """The first day for which acting on ``acted_on`` gives n working days of notice (the
        inverse of :meth:`latest_day_to_act`: ``latest_day_to_act(result, n) >= acted_on``)."""
        return self.add_workdays(acted_on - _ONE_DAY, n) + _ONE_DAY

    def notice_workdays(self, acted_on: date, day: date) -> int:
        """Working days of notice given by acting on ``acted_on`` for ``day``: the working days in
        ``[acted_on, day)`` (``day`` excluded, the action's own day included when it is a working
        day). ``notice_workdays(a, d) >= n`` exactly when ``a <= latest_day_to_act(d, n)``."""
        if acted_on >= day:
            return 0
        count = 0
        d = acted_on
        while d < day:
            if self.is_workday(d):
                count += 1
            d += _ONE_DAY
        return count

    def deadline_days(self, start: date, days: int) -> date:
        """End of a period of ``days`` calendar days (日) from ``start`` (start not counted),
        moved to the next working day when it falls on a holiday or rest day."""
        return self.roll_forward(start + timedelta(days=days))

    def deadline_months(self, start: date, months: int) -> date:
        """End of a period of ``months`` calendar months (个月) from ``start`` (see
        :func:`add_months`), moved to the next working day when it falls on a day off."""
        return self.roll_forward(add_months(start, months))


def add_months(d: date, n: int) -> date:
    """Calendar-month arithmetic (民法典 第二百零二条): the corresponding day of the month ``n``
    months later, or that month's last day when it has none.

    2026-01-31 + 1 = 2026-02-28; 2026-03-31 + 1 = 2026-04-30; 2024-02-29 + 12 = 2025-02-28;
    2026-05-31 - 3 = 2026-02-28. No working-day data is needed; combine with
    :meth:`WorkCalendar.roll_forward` (or use :meth:`WorkCalendar.deadline_months`) for periods.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    months = d.year * 12 + (d.month - 1) + n
    year, month = divmod(months, 12)
    month += 1
    last = _stdcal.monthrange(year, month)[1]
    return date(year, month, min(d.day, last))
