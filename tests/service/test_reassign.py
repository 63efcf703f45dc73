"""A department head reassigns a forwarded case within the department (issue 10 §5)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import CaseEvent
from services.casework import case_view, cases
from services.errors import Conflict, InvalidInput, InvalidTransition, NotPermitted
from services.institution.directory import create_user
from tests.service.conftest import HANDLING, OTHER, Institution, at


def forwarded(inst: Institution) -> cases.CaseRef:
    ref = inst.intake()
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], handling_form="请核实", at=at("2026-11-02 10:30"))


def colleague(inst: Institution, name: str, department: str, roles: tuple[str, ...] = ("handler",)) -> int:
    with inst.uow() as uow:
        inst.users[name] = create_user(uow, name, name.title(), "kite-harbour9", list(roles), department).id
    return inst.users[name]


def reassign(inst: Institution, who: str, ref: cases.CaseRef, handler: int, reason: str = "原处理人休假"):
    with inst.uow() as uow:
        return cases.reassign(uow, inst.users[who], ref.case_no, ref.version, handler_id=handler, reason=reason,
                              at=at("2026-11-03 09:00"))


def test_the_head_gives_a_forwarded_case_to_another_handler_of_the_department(futures):
    ref = forwarded(futures)
    other = colleague(futures, "handler2", HANDLING["futures"])
    with futures.uow() as uow:
        offered = case_view.case_detail(uow, futures.users["head"], ref.case_no, now=at("2026-11-03 08:00"))
        assert "reassign" in offered.allowed_actions
        assert "reassign" not in case_view.case_detail(uow, futures.users["handler"], ref.case_no).allowed_actions
    after = reassign(futures, "head", ref, other)
    assert after.version > ref.version and after.state == "forwarded"
    with futures.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        assert case.assignee_id == other
        event = uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                            CaseEvent.event_type == "reassign")).one()
    assert (event.actor_id, event.note, event.data) == (
        futures.users["head"], "原处理人休假", {"handler": "handler2", "previous_handler": "handler"})
    with futures.uow() as uow:  # the new handler now has it in their own queue and may act on it
        cases.first_contact(uow, other, ref.case_no, after.version, note="已致电客户")


def test_reassigning_is_checked_like_every_case_action(futures):
    ref = forwarded(futures)
    here = colleague(futures, "handler2", HANDLING["futures"])
    there = colleague(futures, "elsewhere", OTHER["futures"])
    colleague(futures, "other_head", OTHER["futures"], ("dept_head",))
    with pytest.raises(NotPermitted):
        reassign(futures, "handler", ref, here)  # a handler does not reassign
    with pytest.raises(NotPermitted):
        reassign(futures, "other_head", ref, here)  # another department's head
    with pytest.raises(InvalidInput):
        reassign(futures, "head", ref, there)  # outside the department
    with pytest.raises(InvalidInput):
        reassign(futures, "head", ref, futures.users["handler"])  # already theirs
    with pytest.raises(InvalidInput):
        reassign(futures, "head", ref, here, reason=" ")
    with pytest.raises(Conflict):
        reassign(futures, "head", cases.CaseRef(ref.id, ref.case_no, ref.version - 1, ref.state), here)
    registered = futures.intake()
    with pytest.raises(InvalidTransition):
        reassign(futures, "head", registered, here)  # not forwarded yet: that is forwarding


def reassign_many(inst: Institution, who: str, refs: list[cases.CaseRef], handler: int, reason: str = "原处理人休假"):
    with inst.uow() as uow:
        return cases.reassign_many(uow, inst.users[who], [(r.case_no, r.version) for r in refs], handler_id=handler,
                                   reason=reason, at=at("2026-11-03 09:00"))


def test_the_head_reassigns_several_cases_at_once(futures):
    """The queue's "reassign selected" (issue 10 §2): each case gets the handler, the reason and its own entry."""
    refs = [forwarded(futures) for _ in range(3)]
    other = colleague(futures, "handler2", HANDLING["futures"])
    done = reassign_many(futures, "head", refs, other)
    assert sorted(r.case_no for r in done) == sorted(r.case_no for r in refs)
    with futures.uow() as uow:
        for ref in refs:
            case = cases.case_by_number(uow, ref.case_no)
            assert case.assignee_id == other
            event = uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id,
                                                                CaseEvent.event_type == "reassign")).one()
            assert (event.note, event.data["handler"]) == ("原处理人休假", "handler2")


def test_one_refused_case_reassigns_none_and_is_named(futures):
    refs = [forwarded(futures) for _ in range(2)]
    other = colleague(futures, "handler2", HANDLING["futures"])
    stale = cases.CaseRef(refs[1].id, refs[1].case_no, refs[1].version - 1, refs[1].state)
    with pytest.raises(Conflict) as refused:  # loaded before someone else changed it: all or nothing
        reassign_many(futures, "head", [refs[0], stale], other)
    assert refs[1].case_no in refused.value.message("zh")
    registered = futures.intake()
    with pytest.raises(InvalidTransition):
        reassign_many(futures, "head", [refs[0], registered], other)
    with pytest.raises(NotPermitted):
        reassign_many(futures, "handler", refs, other)
    with pytest.raises(InvalidInput):
        reassign_many(futures, "head", [], other)
    with futures.uow() as uow:
        assert {cases.case_by_number(uow, r.case_no).assignee_id for r in refs} == {futures.users["handler"]}
