"""The institution's working calendar in the database (RULES.md §3); editing it is administration's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CalendarDayRow, CalendarYear
from services.rules.calendar import CalendarDay, DayType, WorkingCalendar

CACHE = "working_calendar"  # session.info key: many service calls in one transaction read it once


def load_calendar(session: Session) -> WorkingCalendar:
    """The calendar, read once per session (unit of work); `set_calendar_day` drops the copy."""
    if CACHE not in session.info:
        rows = session.scalars(select(CalendarDayRow)).all()
        years = session.scalars(select(CalendarYear.year)).all()
        session.info[CACHE] = WorkingCalendar((CalendarDay(r.day, DayType(r.day_type), r.name) for r in rows), years)
    calendar: WorkingCalendar = session.info[CACHE]  # only this function writes the key
    return calendar
