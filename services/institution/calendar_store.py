"""The institution's working calendar in the database (RULES.md §3): its shipped years. Reading it is the
unit of work's (`uow.calendar()`, issue 9 §1); editing it is administration's."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.models import CalendarDayRow, CalendarYear
from services.rules.calendar import shipped_special_days, shipped_years


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
