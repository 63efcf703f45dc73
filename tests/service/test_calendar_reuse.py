"""Units of work share the calendar built from the same rows, and an edit is read by the next one (issue 13 §1, §4)."""

from datetime import date

from sqlalchemy import text

from services.administration.calendar_edits import mark_year_complete, set_calendar_day
from services.rules.calendar import DayType
from services.unit_of_work import UnitOfWork


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


def test_a_calendar_changed_by_another_server_or_by_hand_is_read_by_the_next_unit_of_work(consumer_finance):
    """The calendar is kept by its revision, which the database stamps on every change (migration 0025): a change
    that no service of this process made is still seen."""
    inst = consumer_finance
    with inst.uow() as uow:
        assert uow.calendar().is_working_day(date(2026, 11, 5))
    with inst.engine.begin() as conn:
        conn.execute(text("INSERT INTO working_calendar (day, day_type, name, source) "
                          "VALUES ('2026-11-05', 'holiday', '手工录入', 'manual')"))
    with inst.uow() as uow:
        assert not uow.calendar().is_working_day(date(2026, 11, 5))


def test_an_edit_rolled_back_leaves_every_later_unit_of_work_on_the_calendar_as_it_was(consumer_finance):
    inst = consumer_finance
    with UnitOfWork(inst.engine) as uow:  # never committed
        set_calendar_day(uow, inst.users["admin"], date(2026, 11, 6), DayType.HOLIDAY, "临时休假")
        assert not uow.calendar().is_working_day(date(2026, 11, 6))
    with inst.uow() as uow:
        assert uow.calendar().is_working_day(date(2026, 11, 6))
