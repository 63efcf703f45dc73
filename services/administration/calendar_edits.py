"""Editing the working calendar (RULES.md §3): a changed day moves the deadlines of open cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import delete

from db.models import CalendarDayRow, CalendarYear
from services.casework.deadlines import recompute_open_deadlines
from services.errors import InvalidInput
from services.institution import audit
from services.institution.access import load_actor, require_role
from services.rules.calendar import DayType
from services.unit_of_work import UnitOfWork

EDITABLE_TYPES = (DayType.HOLIDAY, DayType.MAKEUP_WORKDAY)


def set_calendar_day(uow: UnitOfWork, actor_id: int, day: date, day_type: DayType | None,
                     name: str | None = None) -> int:
    """Mark `day` a holiday or make-up working day (None: back to the Mon–Fri default).

    The day's year gets a row, but counts as covered only once marked complete (`mark_year_complete`,
    issue 10 §6): one entered date is not a year's holidays. Open cases' deadlines are recomputed and each
    changed case records it on its timeline; returns how many cases changed.
    """
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "edit_calendar")
    if day_type is not None and day_type not in EDITABLE_TYPES:
        raise InvalidInput("error.calendar.bad_day_type", field="day_type")
    uow.session.execute(delete(CalendarDayRow).where(CalendarDayRow.day == day))
    if day_type is not None:
        uow.session.add(CalendarDayRow(day=day, day_type=day_type.value, name=name, source="admin"))
    if uow.session.get(CalendarYear, day.year) is None:
        uow.session.add(CalendarYear(year=day.year, source="admin"))
    audit.record(uow.session, actor.id, "calendar_day_set", day=day.isoformat(),
                 day_type=day_type and day_type.value, name=name)
    uow.flush()
    uow.configuration_changed()
    changed = recompute_open_deadlines(uow, actor.id, reason=f"calendar {day.isoformat()}")
    uow.flush()
    return changed


def mark_year_complete(uow: UnitOfWork, actor_id: int, year: int, complete: bool = True) -> None:
    """The admin says `year`'s holidays and make-up days are all entered (issue 10 §6): from now on the year
    counts as covered (`WorkingCalendar.has_data`) and the missing-calendar warning stops naming it."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "edit_calendar")
    if not 1990 <= year <= 2200:
        raise InvalidInput("error.calendar.bad_year", field="year", year=year)
    row = uow.session.get(CalendarYear, year)
    if row is None:
        row = CalendarYear(year=year, source="admin")
        uow.session.add(row)
    row.complete = complete
    audit.record(uow.session, actor.id, "calendar_year_marked", year=year, complete=complete)
    uow.flush()
    uow.configuration_changed()
