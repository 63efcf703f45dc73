"""Units of work share the calendar built from the same rows, and an edit is read by the next one (issue 13 §1)."""

from datetime import date

from services.administration.calendar_edits import mark_year_complete, set_calendar_day
from services.rules.calendar import DayType


def test_the_same_calendar_rows_give_the_same_calendar_and_an_edit_a_new_one(consumer_finance):
    inst = consumer_finance
    with inst.uow() as uow:
        first = uow.calendar()
    with inst.uow() as uow:
        assert uow.calendar() is first  # not rebuilt for every queue or board view
    with inst.uow() as uow:
        set_calendar_day(uow, inst.users["admin"], date(2026, 11, 4), DayType.HOLIDAY, "临时休假")
    with inst.uow() as uow:
        edited = uow.calendar()
        assert edited is not first and not edited.is_working_day(date(2026, 11, 4))
        assert first.is_working_day(date(2026, 11, 4))  # a built calendar never changes
    with inst.uow() as uow:
        set_calendar_day(uow, inst.users["admin"], date(2027, 1, 4), DayType.HOLIDAY, "试运行")
    with inst.uow() as uow:
        assert not uow.calendar().has_data(2027)
        mark_year_complete(uow, inst.users["admin"], 2027)
    with inst.uow() as uow:
        assert uow.calendar().has_data(2027)  # the covered years are part of what is read
