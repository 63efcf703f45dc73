"""An admin's calendar edit moves open cases' deadlines, and each case records it (RULES.md §3)."""

from datetime import date

import pytest
from sqlalchemy import select

from db.models import CaseDeadline, CaseEvent
from services.administration.admin import calendar_gaps
from services.administration.calendar_edits import mark_year_complete, set_calendar_day
from services.casework import cases
from services.errors import NotPermitted
from services.rules.calendar import DayType
from tests.service.conftest import at


def resolve_due(inst, case_no):
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        return uow.session.scalar(select(CaseDeadline.due_at).where(
            CaseDeadline.case_id == case.id, CaseDeadline.milestone == "resolve"))


def test_a_new_holiday_moves_open_deadlines_and_is_recorded_on_the_timeline(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()  # Mon 2026-11-02, L3: 3 working days → Thu 2026-11-05 24:00
    assert resolve_due(inst, ref.case_no) == at("2026-11-06 00:00")
    with inst.uow() as uow:
        changed = set_calendar_day(uow, inst.users["admin"], date(2026, 11, 4), DayType.HOLIDAY, "临时休假")
    assert changed == 1
    assert resolve_due(inst, ref.case_no) == at("2026-11-07 00:00")
    with inst.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        events = uow.session.scalars(select(CaseEvent.event_type).where(CaseEvent.case_id == case.id)).all()
        assert "deadlines_recomputed" in events
        assert not uow.calendar().is_working_day(date(2026, 11, 4))


def test_one_date_does_not_cover_a_year_until_the_admin_marks_it_complete(consumer_finance):
    # issue 10 §6: one 2027 date used to silence the missing-calendar warning for the whole year
    admin = consumer_finance.users["admin"]
    with consumer_finance.uow() as uow:
        assert not uow.calendar().has_data(2027)
        set_calendar_day(uow, admin, date(2027, 2, 20), DayType.MAKEUP_WORKDAY, "春节调休")
    with consumer_finance.uow() as uow:
        calendar = uow.calendar()
        assert calendar.is_working_day(date(2027, 2, 20)) and not calendar.has_data(2027)
        assert calendar_gaps(uow, date(2026, 11, 23)) == [2027]
        assert calendar.has_data(2026)  # the shipped years are complete
    with consumer_finance.uow() as uow:
        mark_year_complete(uow, admin, 2027)
    with consumer_finance.uow() as uow:
        assert uow.calendar().has_data(2027) and calendar_gaps(uow, date(2026, 11, 23)) == []


def test_only_admins_mark_a_year_complete(consumer_finance):
    with pytest.raises(NotPermitted), consumer_finance.uow() as uow:
        mark_year_complete(uow, consumer_finance.users["head"], 2027)


def test_only_admins_edit_the_calendar(consumer_finance):
    with pytest.raises(NotPermitted), consumer_finance.uow() as uow:
        set_calendar_day(uow, consumer_finance.users["head"], date(2026, 11, 4), DayType.HOLIDAY, "x")


def test_the_database_calendar_is_seeded_from_the_shipped_data(engine):
    from services.unit_of_work import transaction

    with transaction(engine) as uow:
        calendar = uow.calendar()
    assert calendar.years == frozenset(range(2004, 2027))
    assert calendar.day_type(date(2026, 10, 1)) == DayType.HOLIDAY
    assert calendar.day_type(date(2026, 10, 10)) == DayType.MAKEUP_WORKDAY
