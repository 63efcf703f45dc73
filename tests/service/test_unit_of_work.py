"""The unit of work is the one door to the pack, the calendar and the time, and its caller owns the transaction
(issue 9 §1, §3)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from db.models import Case
from services.administration import admin
from services.administration.calendar_edits import set_calendar_day
from services.casework import cases
from services.errors import InvalidInput
from services.rules.calendar import DayType
from services.unit_of_work import UnitOfWork, transaction
from tests.conftest import TODAY
from tests.service.conftest import Institution


def case_count(inst: Institution) -> int:
    with inst.uow() as uow:
        return uow.session.scalar(select(func.count()).select_from(Case))


def test_every_now_in_one_unit_of_work_is_the_same_instant_from_the_clock(futures, clock):
    with futures.uow() as uow:
        first = uow.now()
        clock.at = TODAY + timedelta(hours=1)  # time moves on while the transaction runs …
        assert uow.now() == first == TODAY  # … but one transaction sees one "now"
    with futures.uow() as uow:
        assert uow.now() == TODAY + timedelta(hours=1)


def test_a_unit_of_work_may_be_given_its_own_clock(futures):
    then = TODAY - timedelta(days=3)
    with UnitOfWork(futures.engine, clock=lambda: then) as uow:
        assert uow.now() == then and uow.at(None) == then


def test_the_pack_and_calendar_are_read_once_and_afresh_after_an_edit_in_the_same_unit_of_work(futures):
    with futures.uow() as uow:
        policy, calendar = uow.policy(), uow.calendar()
        assert uow.policy() is policy and uow.calendar() is calendar
        admin.set_pack_value(uow, futures.users["admin"], "extension.max_count", 0)
        assert uow.policy().extension.max_count == 0
        set_calendar_day(uow, futures.users["admin"], date(2026, 12, 2), DayType.HOLIDAY, "临时休假")
        assert not uow.calendar().is_working_day(date(2026, 12, 2))


def test_use_cases_only_flush_so_nothing_stays_unless_the_caller_commits(futures):
    with UnitOfWork(futures.engine) as uow:
        cases.intake(uow, futures.users["clerk"], futures.complaint())
    assert case_count(futures) == 0
    with transaction(futures.engine) as uow:
        cases.intake(uow, futures.users["clerk"], futures.complaint())
    assert case_count(futures) == 1


def test_a_refusal_rolls_the_callers_transaction_back(futures):
    with pytest.raises(InvalidInput), transaction(futures.engine) as uow:
        cases.intake(uow, futures.users["clerk"], futures.complaint())
        cases.intake(uow, futures.users["clerk"], {**futures.complaint(), "channel": "carrier pigeon"})
    assert case_count(futures) == 0  # the first intake went with the refused second one


def test_a_reading_unit_of_work_reads_like_any_other_but_refuses_every_write(futures):
    """Issue 13 §5: the KPI, report, sampling-preview and board reads run read-only, so that pointing them at a
    standby (DATABASE_READ_URL) can never hide a write that would fail there."""
    from sqlalchemy.exc import DBAPIError

    futures.intake()
    with transaction(futures.engine, reading=True) as uow:
        assert uow.session.scalar(select(func.count()).select_from(Case)) == 1
        assert uow.policy() is not None  # the pack and the calendar are read as in any unit of work
    with pytest.raises(DBAPIError, match="read-only transaction"), transaction(futures.engine, reading=True) as uow:
        cases.intake(uow, futures.users["clerk"], futures.complaint())
    assert case_count(futures) == 1
