"""Working-day calendar and deadline arithmetic (RULES.md §3), pure Python, Asia/Shanghai."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from chinese_calendar.constants import Holiday as _CC_Holiday
from chinese_calendar.constants import holidays as _CC_HOLIDAYS
from chinese_calendar.constants import workdays as _CC_WORKDAYS

# RULES.md §3: every rule runs in Asia/Shanghai (no DST since 1991, so wall clock == elapsed time).
SHANGHAI = ZoneInfo("Asia/Shanghai")

PeriodKind = Literal["hours", "calendar_days", "working_days", "same_day_cutoff"]
_COUNTED_KINDS = ("hours", "calendar_days", "working_days")
_COUNTED_RE = re.compile(r"([0-9]+)\s+(hours|calendar_days|working_days)")
_CUTOFF_RE = re.compile(r"same_day_cutoff\s+([0-9]{1,2}):([0-9]{2})")


class DayType(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"


_WORKING_TYPES = frozenset({DayType.WORKDAY, DayType.MAKEUP_WORKDAY})
_SPECIAL_TYPES = frozenset({DayType.HOLIDAY, DayType.MAKEUP_WORKDAY})


# chinese_calendar's English holiday name → its code; shown through the catalogue's `holiday.<code>` (issue 10 §2)
HOLIDAY_CODES = {str(h.value): h.name for h in _CC_Holiday}


@dataclass(frozen=True)
class CalendarDay:
    day: date
    day_type: DayType
    name: str | None = None  # chinese_calendar's English name, e.g. "National Day"


@dataclass(frozen=True)
class Period:
    """A deadline rule of a policy pack: `N hours`, `N calendar_days`, `N working_days`
    or `same_day_cutoff HH:MM` (RULES.md §3)."""

    kind: PeriodKind
    n: int = 0
    cutoff: time | None = None

    def __post_init__(self) -> None:
        if self.kind not in get_args(PeriodKind):
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.kind == "same_day_cutoff":
            c = self.cutoff
            if self.n != 0 or c is None or c.tzinfo or (c.second, c.microsecond) != (0, 0):
                raise ValueError("same_day_cutoff needs n=0 and a naive HH:MM cutoff time")
        elif self.cutoff is not None or isinstance(self.n, bool) or self.n < 1:
            raise ValueError(f"{self.kind} needs a whole n >= 1 and no cutoff, got n={self.n!r}")

    @classmethod
    def parse(cls, text: str) -> Period:
        """Parse the canonical text; anything else is a ValueError quoting the text."""
        s = text.strip() if isinstance(text, str) else ""
        if m := _COUNTED_RE.fullmatch(s):
            n = int(m.group(1))
            if n >= 1:
                return cls(m.group(2), n)  # type: ignore[arg-type]  # regex limits the kind
        elif m := _CUTOFF_RE.fullmatch(s):
            hour, minute = int(m.group(1)), int(m.group(2))
            if hour < 24 and minute < 60:
                return cls("same_day_cutoff", 0, time(hour, minute))
        raise ValueError(
            f"invalid period {text!r}: expected 'N hours', 'N calendar_days', 'N working_days' "
            "(N >= 1) or 'same_day_cutoff HH:MM'"
        )

    def __str__(self) -> str:
        if self.kind == "same_day_cutoff":
            assert self.cutoff is not None
            return f"same_day_cutoff {self.cutoff:%H:%M}"
        return f"{self.n} {self.kind}"


class WorkingCalendar:
    """Statutory holidays and make-up working days (调休) for the years that have data.

    RULES.md §3 fallback: a day with no entry is a working day Mon-Fri and a weekend day Sat/Sun;
    for a year outside `years` that is all we know, and `due` reports the year so the UI warns.
    """

    def __init__(self, special_days: Iterable[CalendarDay], years: Iterable[int]) -> None:
        self.years: frozenset[int] = frozenset(years)
        self._special: dict[date, CalendarDay] = {}
        for entry in special_days:
            if entry.day_type not in _SPECIAL_TYPES:
                raise ValueError(
                    f"special day {entry.day} must be holiday or makeup_workday: {entry.day_type}"
                )
            known = self._special.get(entry.day)
            if known is not None and known.day_type != entry.day_type:
                raise ValueError(
                    f"special day {entry.day} is both {known.day_type} and {entry.day_type}"
                )
            self._special[entry.day] = entry
        # the days a special entry turns from the Mon-Fri rule: working weekend days, and weekdays off
        self._gained = sorted(d for d, e in self._special.items() if e.day_type in _WORKING_TYPES and d.weekday() >= 5)
        self._lost = sorted(d for d, e in self._special.items() if e.day_type not in _WORKING_TYPES and d.weekday() < 5)

    @classmethod
    @cache
    def shipped(cls) -> WorkingCalendar:
        """The calendar shipped with the `chinesecalendar` package (seed data, RULES.md §3)."""
        return cls(shipped_special_days(), shipped_years())

    def day_type(self, d: date) -> DayType:
        entry = self._special.get(d)
        if entry is not None:
            return entry.day_type
        return DayType.WEEKEND if d.weekday() >= 5 else DayType.WORKDAY

    def is_working_day(self, d: date) -> bool:
        return self.day_type(d) in _WORKING_TYPES

    def working_days(self, first: date, last: date) -> int:
        """Working days in [first, last] (0 if last < first), without walking the days: a queue's badges count
        across years of overdue cases."""
        if last < first:
            return 0
        return (_weekdays_before(last + timedelta(days=1)) - _weekdays_before(first)
                + _within(self._gained, first, last) - _within(self._lost, first, last))

    def has_data(self, year: int) -> bool:
        return year in self.years

    def days(self, first: date, last: date) -> list[CalendarDay]:
        """Every day from `first` to `last` inclusive with its type (empty if last < first)."""
        out: list[CalendarDay] = []
        d = first
        while d <= last:
            out.append(self._special.get(d) or CalendarDay(d, self.day_type(d)))
            d += timedelta(days=1)
        return out


def _weekdays_before(d: date) -> int:
    """Mondays to Fridays from 0001-01-01 (a Monday) up to the day before `d`."""
    weeks, rest = divmod(d.toordinal() - 1, 7)
    return weeks * 5 + min(rest, 5)


def _within(days: list[date], first: date, last: date) -> int:
    return bisect_right(days, last) - bisect_left(days, first)


def shipped_years() -> range:
    """The years the installed `chinesecalendar` package has data for (2004-2026 in 1.11)."""
    return range(min(_CC_HOLIDAYS).year, max(_CC_HOLIDAYS).year + 1)


def shipped_special_days() -> list[CalendarDay]:
    """Holidays (weekend days inside a holiday period included) and make-up working days."""
    days = [CalendarDay(d, DayType.HOLIDAY, name) for d, name in _CC_HOLIDAYS.items()]
    days += [CalendarDay(d, DayType.MAKEUP_WORKDAY, name) for d, name in _CC_WORKDAYS.items()]
    return sorted(days, key=lambda c: c.day)


@dataclass(frozen=True)
class Due:
    at: datetime  # aware, Shanghai, exclusive: 24:00 of day D is 00:00 of D+1 (RULES.md §3)
    years_without_data: frozenset[int]  # weekday fallback was used for these years -> warn


class _Walker:
    """Asks the calendar about days and remembers every year consulted that had no data."""

    def __init__(self, calendar: WorkingCalendar) -> None:
        self.calendar = calendar
        self.missing: set[int] = set()

    def is_working(self, d: date) -> bool:
        if not self.calendar.has_data(d.year):
            self.missing.add(d.year)
        return self.calendar.is_working_day(d)

    def next_working(self, d: date) -> date:
        """The first working day strictly after `d`."""
        d += timedelta(days=1)
        while not self.is_working(d):
            d += timedelta(days=1)
        return d


def start_of_day(d: date) -> datetime:
    """00:00 of Shanghai day `d`: days, periods and date filters are Shanghai local days (RULES.md §3)."""
    return datetime.combine(d, time(0), tzinfo=SHANGHAI)


def end_of_day(d: date) -> datetime:
    """24:00 of Shanghai day `d`, stored as the exclusive instant 00:00 of d+1 (RULES.md §3): the one
    definition of "end of day" for deadlines, picked due dates and whole-day filters (issue 9 §2)."""
    return start_of_day(d + timedelta(days=1))


def deadline_day(at: datetime) -> date:
    """The Shanghai day an instant's deadline belongs to: an exclusive 00:00 is 24:00 of the day before."""
    return (at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()


def due(calendar: WorkingCalendar, period: Period, start: datetime) -> Due:
    """The deadline of `period` started at `start` (RULES.md §3, Civil Code arts. 201, 203)."""
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"start must be timezone-aware, got naive {start.isoformat()}")
    local = start.astimezone(SHANGHAI)  # RULES.md §3: days are Shanghai local days
    walker = _Walker(calendar)
    if period.kind == "hours":
        at = local + timedelta(hours=period.n)  # wall clock; Shanghai has no DST
    elif period.kind == "calendar_days":
        # RULES.md §3: start day not counted; a last day that is not a working day moves forward
        last = local.date() + timedelta(days=period.n)
        if not walker.is_working(last):
            last = walker.next_working(last)
        at = end_of_day(last)
    elif period.kind == "working_days":
        # RULES.md §3: count N working days strictly after the start date, whatever its type
        last = local.date()
        for _ in range(period.n):
            last = walker.next_working(last)
        at = end_of_day(last)
    else:
        # RULES.md §3 / seed 001 art. 7: on a working day at or before the cutoff -> that day
        assert period.cutoff is not None
        day = local.date()
        if not (walker.is_working(day) and local.time() <= period.cutoff):
            day = walker.next_working(day)
        at = datetime.combine(day, period.cutoff, tzinfo=SHANGHAI)
    return Due(at=at, years_without_data=frozenset(walker.missing))


def at_risk_from(starts_at: Any, due_at: Any, warning_window: Any) -> Any:
    """RULES.md §3: the instant a period's last `warning_window` share begins — from then until it is due,
    the deadline is at risk. One expression for Python instants and for SQL columns alike (its SQL twin)."""
    return due_at - (due_at - starts_at) * warning_window


def iso(at: datetime) -> str:
    """An instant as the timeline and the assessment record it: ISO 8601 in Shanghai time, whichever zone the
    value came back from the database in."""
    return at.astimezone(SHANGHAI).isoformat()


def format_deadline(at: datetime) -> str:
    """`YYYY-MM-DD HH:MM` in Shanghai; an exclusive 00:00 is shown as the previous day's 24:00."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"deadline must be timezone-aware, got naive {at.isoformat()}")
    local = at.astimezone(SHANGHAI)
    if local.time() == time(0):
        return f"{deadline_day(local):%Y-%m-%d} 24:00"
    return f"{local:%Y-%m-%d %H:%M}"
