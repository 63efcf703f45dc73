"""The institution's working calendar in the database (RULES.md §3); editing it is administration's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CalendarDayRow, CalendarYear
from services.rules.calendar import CalendarDay, DayType, WorkingCalendar, shipped_special_days, shipped_years

CACHE = "working_calendar"  # session.info key: many service calls in one transaction read it once


def load_calendar(session: Session) -> WorkingCalendar:
    """The calendar, read once per session (unit of work); `set_calendar_day` drops the copy."""
    if CACHE not in session.info:
        rows = session.scalars(select(CalendarDayRow)).all()
        years = session.scalars(select(CalendarYear.year)).all()
        session.info[CACHE] = WorkingCalendar((CalendarDay(r.day, DayType(r.day_type), r.name) for r in rows), years)
    calendar: WorkingCalendar = session.info[CACHE]  # only this function writes the key
    return calendar


def seed_shipped_calendar(session: Session) -> None:
    """Load the years the chinesecalendar package covers (2004–2026 as shipped)."""
    known = set(session.scalars(select(CalendarYear.year)))
    for year in shipped_years():
        if year not in known:
            session.add(CalendarYear(year=year, source="chinese_calendar"))
    for day in shipped_special_days():
        if day.day.year not in known:
            session.add(CalendarDayRow(day=day.day, day_type=day.day_type.value, name=day.name,
                                       source="chinese_calendar"))
