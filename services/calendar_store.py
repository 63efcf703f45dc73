"""The institution's working calendar in the database (RULES.md §3), and editing it."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import CalendarDayRow, CalendarYear
from services import audit
from services.access import load_actor, require_role
from services.calendar import CalendarDay, DayType, WorkingCalendar, shipped_special_days, shipped_years
from services.errors import InvalidInput

EDITABLE_TYPES = (DayType.HOLIDAY, DayType.MAKEUP_WORKDAY)
_CACHE = "working_calendar"  # session.info key: many service calls in one transaction read it once


def load_calendar(session: Session) -> WorkingCalendar:
    """The calendar, read once per session (unit of work); `set_calendar_day` drops the copy."""
    if _CACHE not in session.info:
        rows = session.scalars(select(CalendarDayRow)).all()
        years = session.scalars(select(CalendarYear.year)).all()
        session.info[_CACHE] = WorkingCalendar((CalendarDay(r.day, DayType(r.day_type), r.name) for r in rows), years)
    return session.info[_CACHE]


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


def set_calendar_day(uow: UnitOfWork, actor_id: int, day: date, day_type: DayType | None,
                     name: str | None = None) -> int:
    """Mark `day` a holiday or make-up working day (None: back to the Mon–Fri default).

    The day's year becomes a year with data. Open cases' deadlines are recomputed and each
    changed case records it on its timeline; returns how many cases changed.
    """
    from services.deadlines import recompute_open_deadlines  # deadlines depend on the calendar

    actor = load_actor(uow.session, actor_id)
    require_role(actor, "edit_calendar")
    if day_type is not None and day_type not in EDITABLE_TYPES:
        raise InvalidInput("日期类型只能是节假日或调休工作日。",
                           "A day can only be set to holiday or make-up working day.", field="day_type")
    uow.session.execute(delete(CalendarDayRow).where(CalendarDayRow.day == day))
    if day_type is not None:
        uow.session.add(CalendarDayRow(day=day, day_type=day_type.value, name=name, source="admin"))
    if uow.session.get(CalendarYear, day.year) is None:
        uow.session.add(CalendarYear(year=day.year, source="admin"))
    audit.record(uow.session, actor.id, "calendar_day_set", day=day.isoformat(),
                 day_type=day_type and day_type.value, name=name)
    uow.flush()
    uow.session.info.pop(_CACHE, None)
    changed = recompute_open_deadlines(uow, actor.id, reason=f"calendar {day.isoformat()}")
    uow.commit()
    return changed
