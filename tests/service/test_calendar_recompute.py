"""The recompute of open deadlines after a calendar edit, set-based (issue 13 §3), against the per-case way."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, text

from db.models import Case, CaseDeadline, CaseEvent
from demo import loader
from services.administration import calendar_edits
from services.casework.deadlines import case_facts, next_due_differences, store_next_due, sync_deadlines
from services.institution.directory import create_user
from services.rules.assess import assess
from services.rules.calendar import DayType
from services.rules.transitions import CLOSED_STATES
from services.unit_of_work import UnitOfWork
from tests.conftest import TODAY
from tests.service.conftest import at

EDITS = ((date(2026, 11, 25), DayType.HOLIDAY), (date(2026, 12, 2), DayType.HOLIDAY),
         (date(2026, 11, 28), DayType.MAKEUP_WORKDAY))  # a past day, a coming one, a Saturday worked
RECORDS = {
    "deadlines": """
        SELECT c.case_no, d.milestone, d.starts_at, d.due_at, d.original_due_at, d.met_at, d.status, d.period,
               d.source, d.extensions
        FROM case_deadlines d JOIN cases c ON c.id = d.case_id ORDER BY 1, 2""",
    "events": """
        SELECT c.case_no, e.at, u.username, e.event_type, e.from_state, e.to_state, e.note,
               e.data - 'escalation_id'  -- the sequences are not rolled back between the runs
        FROM case_events e JOIN cases c ON c.id = e.case_id LEFT JOIN users u ON u.id = e.actor_id
        ORDER BY c.case_no, e.id""",
    "cases": """
        SELECT case_no, version, updated_at = now(), next_due_at, next_milestone, next_at_risk_at
        FROM cases ORDER BY 1""",
}


def per_case(uow: UnitOfWork, actor_id: int, reason: str) -> int:
    """The recompute as it was before issue 13 §3: each open case re-assessed and synchronised on its own."""
    calendar = uow.calendar()
    owing = uow.session.scalars(select(Case).where(
        Case.state.not_in(CLOSED_STATES),
        Case.id.in_(select(CaseDeadline.case_id).where(CaseDeadline.status == "open")))).all()
    changed = 0
    for case in owing:
        changes = sync_deadlines(uow, case, assess(uow.policy(case.pack), case_facts(case), calendar))
        if changes:
            changed += 1
            uow.session.add(CaseEvent(case_id=case.id, at=uow.now(), actor_id=actor_id,
                                      event_type="deadlines_recomputed", note=reason, data={"changes": changes}))
    uow.flush()
    store_next_due(uow, Case.id.in_([case.id for case in owing]))
    return changed


@pytest.mark.parametrize("pack", ["securities", "consumer_finance"])
def test_the_set_based_recompute_moves_what_assess_moves_case_by_case(engine, monkeypatch, pack):
    def records(set_based: bool) -> tuple[list[int], dict[str, list[tuple]]]:
        if not set_based:
            monkeypatch.setattr(calendar_edits, "recompute_open_deadlines", per_case)
        with UnitOfWork(engine) as uow:  # never committed: each run starts from the same empty institution
            loader.load_demo(uow, pack, cases=400, now=TODAY, seed=5, password="kite-harbour9-demo",
                             replay="none")
            admin = create_user(uow, "chief", "王主任", "kite-harbour9", ["admin"], None).id
            changed = [calendar_edits.set_calendar_day(uow, admin, day, kind, "调整") for day, kind in EDITS]
            assert next_due_differences(uow) == []
            return changed, {table: [tuple(row) for row in uow.session.execute(text(sql))]
                             for table, sql in RECORDS.items()}

    (changed, set_based), (expected, one_by_one) = records(True), records(False)
    monkeypatch.undo()
    assert changed == expected and min(changed) > 0 and sum(changed) > 15  # each edit moves deadlines
    assert sum(1 for e in set_based["events"] if e[3] == "deadlines_recomputed") == sum(changed)
    for table, rows in one_by_one.items():
        assert [r for r in set_based[table] if r not in rows] == [r for r in rows if r not in set_based[table]], table
        assert set_based[table] == rows, table


def test_a_deadline_loaded_before_the_edit_reads_the_moved_one(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()  # Mon 2026-11-02, L3: 3 working days → Thu 2026-11-05 24:00
    with inst.uow() as uow:
        row = uow.session.scalar(select(CaseDeadline).where(CaseDeadline.case_id == ref.id,
                                                            CaseDeadline.milestone == "resolve"))
        assert row is not None and row.due_at == at("2026-11-06 00:00")
        calendar_edits.set_calendar_day(uow, inst.users["admin"], date(2026, 11, 4), DayType.HOLIDAY, "临时休假")
        assert row.due_at == at("2026-11-07 00:00")  # not the stale value of the identity map
