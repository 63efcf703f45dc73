"""Case numbers under concurrent intakes (issue 13 §4): unique, gapless and in order per day, and the day's
counter row held only for the number itself, not for the rest of the intake."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, func, select, text

from db.models import Case, CaseEvent
from services.casework import cases
from services.unit_of_work import UnitOfWork, transaction
from tests.service.conftest import Institution


def _statements(inst: Institution, **form: Any) -> list[str]:
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(inst.engine, "before_cursor_execute", seen)
    try:
        inst.intake(**form)
    finally:
        event.remove(inst.engine, "before_cursor_execute", seen)
    return sent


def test_an_intake_takes_its_number_last(futures):
    """From the counter's row to the commit, only the case's own number is written: the case, its deadlines,
    events and escalations go in before, so a second intake of the day waits for two statements, not ten."""
    sent = _statements(futures, compensation_claim=600000)  # a large claim: rule escalations too
    counter = [n for n, s in enumerate(sent) if "case_counters" in s]
    assert len(counter) == 1
    after = sent[counter[0] + 1:]
    assert len(after) == 1 and after[0].startswith("UPDATE cases SET case_no="), after
    assert any(s.startswith("INSERT INTO escalations") for s in sent[:counter[0]])
    with futures.uow() as uow:  # the provisional number is gone; the events are the case's
        numbers = list(uow.session.scalars(select(Case.case_no)))
        events = uow.session.scalar(select(func.count()).select_from(CaseEvent))
    assert numbers == ["TS-20261102-000001"] and events >= 1


def test_intakes_resolved_at_once_or_not_are_numbered_in_the_days_sequence(futures):
    refs = [futures.intake(), futures.intake(resolved_at_intake=True, explanation="当场解释", satisfaction=4),
            futures.intake()]
    assert [r.case_no for r in refs] == [f"TS-20261102-00000{n}" for n in (1, 2, 3)]
    with futures.uow() as uow:
        assert sorted(uow.session.scalars(select(Case.case_no))) == [r.case_no for r in refs]


def test_two_intakes_of_the_same_day_at_once_get_consecutive_numbers(futures, engine):
    """The second intake writes its case while the first is still open, waits at the day's counter, and takes
    the next number once the first commits: no duplicate, no gap."""
    second: list[str] = []

    def other() -> None:
        with transaction(engine) as uow:
            second.append(cases.intake(uow, futures.users["clerk"], futures.complaint()).case_no)

    waiting = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE NOT l.granted "
               "AND a.query LIKE 'INSERT INTO case_counters%'")
    thread = threading.Thread(target=other)
    with UnitOfWork(engine) as first, engine.connect() as watcher:
        mine = cases.intake(first, futures.users["clerk"], futures.complaint()).case_no
        thread.start()
        deadline = time.monotonic() + 30
        while not watcher.scalar(text(waiting)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.scalar(text(waiting)) == 1  # the second waits at the counter, its case written
        first.commit()
    thread.join(30)
    assert (mine, second) == ("TS-20261102-000001", ["TS-20261102-000002"])
    with futures.uow() as uow:
        assert sorted(uow.session.scalars(select(Case.case_no))) == [mine, *second]


def test_an_intake_that_fails_after_its_number_leaves_no_gap(futures, engine):
    """A rolled-back intake gives its number back: the next one takes it."""
    with UnitOfWork(engine) as uow:  # left without a commit: rolled back
        cases.intake(uow, futures.users["clerk"], futures.complaint())
    assert futures.intake().case_no == "TS-20261102-000001"
