"""Each home tile opens the queue filtered to exactly what it counts (issue 10 §4)."""

from __future__ import annotations

import pytest

from services.casework import cases, queue
from services.casework.home import todays_work
from services.errors import InvalidInput
from tests.service.conftest import HANDLING, Institution, at


def forwarded(inst: Institution, received: str) -> cases.CaseRef:
    ref = inst.intake(received_at=at(received))
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], handling_form="请核实")


def test_every_tile_count_is_the_total_of_the_list_it_opens(consumer_finance):
    inst = consumer_finance
    inst.intake(received_at=at("2026-10-01 09:00"))  # registered, long overdue
    inst.intake(received_at=at("2026-11-30 09:00"))  # registered, on time
    forwarded(inst, "2026-10-01 09:00")  # the handler's, overdue
    forwarded(inst, "2026-11-30 09:30")  # the handler's, on time
    done = forwarded(inst, "2026-11-27 09:00")
    with inst.uow() as uow:
        cases.resolve(uow, inst.users["handler"], done.case_no, done.version, fact_finding="属实",
                      measures="道歉并更正", accountability="批评教育")
    inst.intake(resolved_at_intake=True, explanation="当场解释", satisfaction=4)  # to archive
    seen = set()
    for who in ("clerk", "handler", "head"):
        with inst.uow() as uow:
            tiles = [tile for tile in todays_work(uow, inst.users[who]) if tile.page == "queue"]
            for tile in tiles:
                listed = queue.my_queue(uow, inst.users[who], page_size=200, **queue.filters_from_query(tile.query))
                assert (who, tile.key, listed.total) == (who, tile.key, tile.count)
                assert len(listed.rows) == tile.count
                seen.add(tile.key)
    assert seen >= {"to_forward", "to_feedback", "to_archive", "assigned_open", "overdue", "department_open"}


def test_an_unknown_deadline_filter_is_refused(consumer_finance):
    with pytest.raises(InvalidInput) as refused, consumer_finance.uow() as uow:
        queue.my_queue(uow, consumer_finance.users["clerk"], due="someday")
    assert refused.value.field == "due"
