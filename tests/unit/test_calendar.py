"""Working-day calendar and deadlines, checked against RULES.md §3 and the real 2026 calendar."""

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.rules.calendar import (
    SHANGHAI,
    CalendarDay,
    DayType,
    Period,
    WorkingCalendar,
    deadline_day,
    due,
    end_of_day,
    format_deadline,
    shipped_special_days,
    shipped_years,
)

CAL = WorkingCalendar.shipped()
H, M = DayType.HOLIDAY, DayType.MAKEUP_WORKDAY
# Hand-made 2030: Mon 7 Jan is a holiday, Sat 12 Jan a make-up working day.
HAND = WorkingCalendar(
    [CalendarDay(date(2030, 1, 7), H, "Test Day"), CalendarDay(date(2030, 1, 12), M, "Test Day")],
    years=[2030],
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def deadline(text: str, start: datetime, calendar: WorkingCalendar = CAL) -> str:
    return format_deadline(due(calendar, Period.parse(text), start).at)


# --- the calendar itself ---------------------------------------------------------------------


def test_hand_made_calendar_day_types() -> None:
    assert HAND.day_type(date(2030, 1, 7)) is DayType.HOLIDAY
    assert HAND.day_type(date(2030, 1, 12)) is DayType.MAKEUP_WORKDAY
    assert HAND.day_type(date(2030, 1, 8)) is DayType.WORKDAY
    assert HAND.day_type(date(2030, 1, 13)) is DayType.WEEKEND
    assert HAND.is_working_day(date(2030, 1, 12)) and not HAND.is_working_day(date(2030, 1, 7))
    assert HAND.has_data(2030) and not HAND.has_data(2031)
    assert HAND.years == frozenset({2030})


def test_year_without_data_falls_back_to_monday_to_friday() -> None:
    assert not CAL.has_data(2027)
    assert CAL.day_type(date(2027, 1, 1)) is DayType.WORKDAY  # a Friday; no 2027 notice yet
    assert CAL.day_type(date(2027, 1, 2)) is DayType.WEEKEND


def test_days_lists_every_day_inclusive_with_names() -> None:
    days = HAND.days(date(2030, 1, 6), date(2030, 1, 12))
    assert [d.day.day for d in days] == [6, 7, 8, 9, 10, 11, 12]
    assert [d.day_type for d in days] == ["weekend", "holiday", *["workday"] * 4, "makeup_workday"]
    assert days[1].name == "Test Day" and days[2].name is None
    assert HAND.days(date(2030, 1, 2), date(2030, 1, 1)) == []


def test_special_days_must_be_consistent_exceptions() -> None:
    with pytest.raises(ValueError, match="holiday or makeup_workday"):
        WorkingCalendar([CalendarDay(date(2030, 1, 5), DayType.WORKDAY)], [2030])
    with pytest.raises(ValueError, match="2030-01-05"):
        WorkingCalendar(
            [CalendarDay(date(2030, 1, 5), H), CalendarDay(date(2030, 1, 5), M)], [2030]
        )


def test_shipped_calendar_covers_2004_to_2026_and_is_cached() -> None:
    assert shipped_years() == range(2004, 2027)
    assert CAL.years == frozenset(range(2004, 2027))
    assert WorkingCalendar.shipped() is CAL
    specials = shipped_special_days()
    assert {d.day_type for d in specials} == {H, M}
    assert all(d.name for d in specials)


def test_2026_national_day_and_mid_autumn() -> None:
    types = {d.day: d.day_type for d in CAL.days(date(2026, 9, 19), date(2026, 10, 11))}
    assert types[date(2026, 9, 20)] is M  # Sunday make-up day
    assert [types[date(2026, 9, d)] for d in (25, 26, 27)] == [H, H, H]  # Mid-autumn
    assert all(types[date(2026, 10, d)] is H for d in range(1, 8))  # National Day 1-7 Oct
    assert types[date(2026, 10, 10)] is M  # Saturday make-up day
    assert CAL.days(date(2026, 10, 3), date(2026, 10, 3))[0].name == "National Day"


def test_2026_spring_festival() -> None:
    types = {d.day: d.day_type for d in CAL.days(date(2026, 2, 13), date(2026, 2, 28))}
    assert types[date(2026, 2, 14)] is M and types[date(2026, 2, 28)] is M  # two Saturdays
    assert all(types[date(2026, 2, d)] is H for d in range(15, 24))  # 15-23 Feb
    assert types[date(2026, 2, 24)] is DayType.WORKDAY


# --- working_days ----------------------------------------------------------------------------


def test_makeup_saturday_counts_as_working_day() -> None:
    assert deadline("1 working_days", sh(2030, 1, 11, 9), HAND) == "2030-01-12 24:00"
    assert deadline("1 working_days", sh(2026, 10, 9, 9)) == "2026-10-10 24:00"
    assert deadline("1 working_days", sh(2026, 9, 19, 9)) == "2026-09-20 24:00"  # make-up Sunday


def test_holiday_is_skipped() -> None:
    assert deadline("1 working_days", sh(2030, 1, 4, 9), HAND) == "2030-01-08 24:00"


@pytest.mark.parametrize(
    ("calendar", "start", "expected"),
    [
        (CAL, sh(2026, 3, 6, 17), "2026-03-09 24:00"),  # Friday: next is Monday
        (CAL, sh(2026, 3, 7, 10), "2026-03-09 24:00"),  # Saturday: start day never counted
        (CAL, sh(2026, 10, 3, 10), "2026-10-08 24:00"),  # inside National Day
        (HAND, sh(2030, 1, 7, 10), "2030-01-08 24:00"),  # on a hand-made holiday
        (HAND, sh(2030, 1, 12, 10), "2030-01-14 24:00"),  # on a make-up Saturday
    ],
)
def test_working_days_start_day_is_never_counted(calendar, start, expected) -> None:
    assert deadline("1 working_days", start, calendar) == expected


def test_national_day_2026() -> None:
    start = sh(2026, 9, 30, 10)
    assert deadline("2 working_days", start) == "2026-10-09 24:00"  # 8, 9 Oct
    assert deadline("3 working_days", start) == "2026-10-10 24:00"  # make-up Saturday
    assert due(CAL, Period.parse("2 working_days"), start).at == sh(2026, 10, 10)


def test_spring_festival_2026() -> None:
    start = sh(2026, 2, 13, 16)  # Friday before the holiday
    assert deadline("1 working_days", start) == "2026-02-14 24:00"  # make-up Saturday
    assert deadline("3 working_days", start) == "2026-02-25 24:00"  # 14, 24, 25 Feb


# --- calendar_days, hours --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (sh(2026, 3, 2, 10), 3, "2026-03-05 24:00"),  # Thursday: no move
        (sh(2026, 3, 2, 10), 5, "2026-03-09 24:00"),  # Saturday -> Monday
        (sh(2026, 9, 24, 10), 7, "2026-10-08 24:00"),  # 1 Oct National Day -> 8 Oct
        (sh(2026, 2, 10, 10), 5, "2026-02-24 24:00"),  # 15 Feb Spring Festival -> 24 Feb
        (sh(2026, 10, 3, 10), 7, "2026-10-10 24:00"),  # make-up Saturday is a working day
        (sh(2026, 3, 2, 0, 0), 3, "2026-03-05 24:00"),  # start day not counted, even at 00:00
    ],
)
def test_calendar_days(start: datetime, n: int, expected: str) -> None:
    assert deadline(f"{n} calendar_days", start) == expected


def test_hours_are_wall_clock_and_ignore_holidays() -> None:
    result = due(CAL, Period.parse("24 hours"), sh(2026, 9, 30, 10, 15))
    assert result.at == sh(2026, 10, 1, 10, 15) and result.years_without_data == frozenset()


def test_start_is_converted_to_shanghai_first() -> None:
    start = datetime(2026, 3, 5, 16, 30, tzinfo=UTC)  # Friday 00:30 in Shanghai
    result = due(CAL, Period.parse("1 calendar_days"), start)
    assert format_deadline(result.at) == "2026-03-09 24:00"
    assert result.at.tzinfo == SHANGHAI


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due(CAL, Period.parse("1 hours"), datetime(2026, 3, 5, 10))


# --- same_day_cutoff -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (sh(2026, 3, 4, 15, 30), "2026-03-04 15:30"),  # exactly the cutoff: same day
        (sh(2026, 3, 4, 15, 31), "2026-03-05 15:30"),
        (sh(2026, 3, 4, 15, 30, 1), "2026-03-05 15:30"),
        (sh(2026, 3, 7, 10), "2026-03-09 15:30"),  # Saturday
        (sh(2026, 9, 30, 16), "2026-10-08 15:30"),  # day before National Day, after cutoff
        (sh(2026, 10, 1, 9), "2026-10-08 15:30"),  # on the holiday
        (sh(2026, 10, 10, 9), "2026-10-10 15:30"),  # make-up Saturday before cutoff
        (sh(2026, 2, 13, 16), "2026-02-14 15:30"),  # Friday after cutoff -> make-up Saturday
    ],
)
def test_same_day_cutoff(start: datetime, expected: str) -> None:
    assert deadline("same_day_cutoff 15:30", start) == expected


# --- years without data ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        ("5 working_days", sh(2026, 12, 30, 10), "2027-01-06 24:00"),  # 31 Dec, 1, 4, 5, 6 Jan
        ("10 calendar_days", sh(2026, 12, 25, 10), "2027-01-04 24:00"),
        ("same_day_cutoff 15:30", sh(2026, 12, 31, 16), "2027-01-01 15:30"),
    ],
)
def test_period_into_2027_uses_weekdays_and_reports_it(text: str, start: datetime, expected: str):
    result = due(CAL, Period.parse(text), start)
    assert format_deadline(result.at) == expected
    assert result.years_without_data == frozenset({2027})


def test_period_inside_known_years_reports_nothing() -> None:
    assert due(CAL, Period.parse("3 working_days"), sh(2026, 9, 30)).years_without_data == set()


# --- Period ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "period", "canonical"),
    [
        ("24 hours", Period("hours", 24), "24 hours"),
        ("3 working_days", Period("working_days", 3), "3 working_days"),
        ("60 calendar_days", Period("calendar_days", 60), "60 calendar_days"),
        ("same_day_cutoff 15:30", Period("same_day_cutoff", 0, time(15, 30)), None),
        ("  7   working_days ", Period("working_days", 7), "7 working_days"),
        ("same_day_cutoff 9:05", Period("same_day_cutoff", 0, time(9, 5)), "same_day_cutoff 09:05"),
    ],
)
def test_period_parse(text: str, period: Period, canonical: str | None) -> None:
    assert Period.parse(text) == period
    assert str(period) == (canonical or text)


@pytest.mark.parametrize(
    "text",
    ["", "3", "0 hours", "-1 hours", "3 days", "3 working days", "hours 3", "3.5 hours",
     "3 Hours", "same_day_cutoff", "same_day_cutoff 25:00", "same_day_cutoff 15:60",
     "same_day_cutoff 15:30 x", "1 same_day_cutoff 15:30"],
)  # fmt: skip
def test_period_parse_errors_quote_the_text(text: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(text))):
        Period.parse(text)


@pytest.mark.parametrize(
    "args",
    [("hours", 0), ("days", 1), ("same_day_cutoff", 0, None), ("working_days", 2, time(15))],
)
def test_period_refuses_invalid_fields(args: tuple) -> None:
    with pytest.raises(ValueError):
        Period(*args)


# --- format_deadline -------------------------------------------------------------------------


def test_format_deadline_shows_24_00() -> None:
    assert format_deadline(sh(2026, 10, 10)) == "2026-10-09 24:00"
    assert format_deadline(sh(2026, 1, 1)) == "2025-12-31 24:00"
    assert format_deadline(datetime(2026, 10, 9, 16, tzinfo=UTC)) == "2026-10-09 24:00"
    assert format_deadline(sh(2026, 10, 10, 0, 0, 1)) == "2026-10-10 00:00"
    assert format_deadline(sh(2026, 10, 10, 15, 30)) == "2026-10-10 15:30"
    with pytest.raises(ValueError):
        format_deadline(datetime(2026, 10, 10))


def test_end_of_day_is_the_exclusive_shanghai_midnight_that_deadlines_and_day_filters_share() -> None:
    """Issue 9 §2: one "end of day" — 24:00 Shanghai, stored as 00:00 of the next day (RULES.md §3)."""
    assert end_of_day(date(2026, 10, 9)) == sh(2026, 10, 10)
    assert end_of_day(date(2026, 10, 9)) == datetime(2026, 10, 9, 16, tzinfo=UTC)
    assert deadline_day(end_of_day(date(2026, 10, 9))) == date(2026, 10, 9)
    assert deadline_day(sh(2026, 10, 10, 0, 0, 1)) == date(2026, 10, 10)
    assert due(CAL, Period.parse("3 working_days"), sh(2026, 11, 2, 10)).at == end_of_day(date(2026, 11, 5))


# --- properties ------------------------------------------------------------------------------

starts = st.datetimes(
    min_value=datetime(2004, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.sampled_from([SHANGHAI, UTC, ZoneInfo("America/New_York")]),
)
day_kinds = st.sampled_from(["calendar_days", "working_days"])
cutoffs = st.builds(time, st.integers(0, 23), st.integers(0, 59))
periods = st.one_of(
    st.builds(Period, st.just("hours"), st.integers(1, 2000)),
    st.builds(Period, day_kinds, st.integers(1, 120)),
    st.builds(Period, st.just("same_day_cutoff"), st.just(0), cutoffs),
)
special_2030 = st.lists(
    st.builds(
        CalendarDay,
        st.dates(date(2030, 1, 1), date(2030, 12, 31)),
        st.sampled_from([H, M]),
    ),
    unique_by=lambda c: c.day,
)


def last_day(at: datetime) -> date:
    return (at - timedelta(microseconds=1)).astimezone(SHANGHAI).date()


@settings(deadline=None)
@given(periods, starts)
def test_deadline_is_after_its_start(period: Period, start: datetime) -> None:
    at = due(CAL, period, start).at
    local = start.astimezone(SHANGHAI)
    on_cutoff = local.time() == period.cutoff and CAL.is_working_day(local.date())
    if period.kind == "same_day_cutoff" and on_cutoff:
        assert at == start  # RULES.md §3: received exactly at the cutoff -> due that instant
    else:
        assert at > start


@settings(deadline=None)
@given(periods, starts)
def test_deadline_lands_on_a_working_day(period: Period, start: datetime) -> None:
    result = due(CAL, period, start)
    local = result.at.astimezone(SHANGHAI)
    if period.kind == "same_day_cutoff":
        assert local.time() == period.cutoff and CAL.is_working_day(local.date())
    elif period.kind != "hours":
        assert local.time() == time(0) and CAL.is_working_day(last_day(result.at))
    assert result.years_without_data <= set(range(2027, local.year + 1))
    if period.kind != "hours" and last_day(result.at).year >= 2027:
        assert last_day(result.at).year in result.years_without_data


@settings(deadline=None)
@given(st.sampled_from(["hours", "calendar_days", "working_days"]), st.integers(1, 90), starts)
def test_deadline_is_monotonic_in_n(kind: str, n: int, start: datetime) -> None:
    shorter = due(CAL, Period(kind, n), start).at  # type: ignore[arg-type]
    longer = due(CAL, Period(kind, n + 1), start).at  # type: ignore[arg-type]
    assert shorter < longer if kind != "calendar_days" else shorter <= longer


@settings(deadline=None)
@given(special_2030, st.dates(date(2030, 1, 1), date(2030, 10, 31)), st.integers(1, 40))
def test_working_days_count_exactly_n_on_a_hand_made_calendar(specials, start, n) -> None:
    cal = WorkingCalendar(specials, [2030])
    result = due(cal, Period("working_days", n), datetime.combine(start, time(12), SHANGHAI))
    last = last_day(result.at)
    counted = [d for d in cal.days(start + timedelta(days=1), last) if cal.is_working_day(d.day)]
    assert len(counted) == n and counted[-1].day == last


@settings(deadline=None)
@given(special_2030, st.dates(date(2030, 1, 1), date(2030, 10, 31)), st.integers(1, 60))
def test_calendar_days_move_only_past_rest_days(specials, start, n) -> None:
    cal = WorkingCalendar(specials, [2030])
    result = due(cal, Period("calendar_days", n), datetime.combine(start, time(23, 59), SHANGHAI))
    last = last_day(result.at)
    skipped = cal.days(start + timedelta(days=n), last - timedelta(days=1))
    assert last >= start + timedelta(days=n)
    assert cal.is_working_day(last) and not any(cal.is_working_day(d.day) for d in skipped)


@given(periods)
def test_period_text_round_trips(period: Period) -> None:
    assert Period.parse(str(period)) == period


def test_working_days_between_two_dates_skip_holidays_and_count_make_up_days() -> None:
    # week of Mon 7 Jan 2030 on HAND: the Monday off, the Saturday worked
    assert HAND.working_days(date(2030, 1, 7), date(2030, 1, 13)) == 5
    assert HAND.working_days(date(2030, 1, 12), date(2030, 1, 12)) == 1
    assert HAND.working_days(date(2030, 1, 7), date(2030, 1, 7)) == 0
    assert HAND.working_days(date(2030, 1, 8), date(2030, 1, 7)) == 0
    assert CAL.working_days(date(2026, 10, 1), date(2026, 10, 11)) == 3  # National Day: 1–7 off, Sat 10 worked


@settings(deadline=None)
@given(special_2030, st.dates(date(2029, 12, 1), date(2030, 12, 31)), st.integers(-3, 500))
def test_working_days_between_two_dates_are_the_working_days_among_them(specials, first, span) -> None:
    cal = WorkingCalendar(specials, [2030])
    last = first + timedelta(days=span)
    assert cal.working_days(first, last) == sum(cal.is_working_day(d.day) for d in cal.days(first, last))
