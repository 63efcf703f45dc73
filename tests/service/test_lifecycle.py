"""Every path of RULES.md §2 through the service layer, with its timeline."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import CaseDeadline, CaseEvent, Escalation
from services.casework import cases
from services.errors import DomainError, InvalidInput, InvalidTransition
from tests.service.conftest import HANDLING, Institution, at, make_institution


def timeline(inst: Institution, case_no: str) -> list[tuple[str, str | None]]:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        return [(e.event_type, e.to_state) for e in uow.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]


def deadlines(inst: Institution, case_no: str) -> dict[str, CaseDeadline]:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        rows = {d.milestone: d for d in uow.session.scalars(
            select(CaseDeadline).where(CaseDeadline.case_id == case.id))}
        uow.session.expunge_all()
        return rows


def take_to_resolved(inst: Institution, ref: cases.CaseRef, **resolution) -> cases.CaseRef:
    with inst.uow() as uow:
        ref = cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                            handler_id=inst.users["handler"], handling_form="请核实柜员操作记录",
                            at=at("2026-11-02 10:30"))
    with inst.uow() as uow:
        ref = cases.first_contact(uow, inst.users["handler"], ref.case_no, ref.version,
                                  note="已致电客户说明处理进度", at=at("2026-11-02 14:00"))
    with inst.uow() as uow:
        return cases.resolve(uow, inst.users["handler"], ref.case_no, ref.version,
                             fact_finding="柜员录入金额错误属实", measures="道歉并更正", accountability="柜员通报批评",
                             at=at("2026-11-03 09:00"), **resolution)


def test_a_case_goes_from_intake_to_archive_with_every_step_on_its_timeline(futures):
    ref = futures.intake()
    assert ref.case_no.startswith("TS-20261102-") and ref.state == "registered"
    ref = take_to_resolved(futures, ref)
    with futures.uow() as uow:
        ref = cases.feedback(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话",
                             satisfaction=4, at=at("2026-11-03 10:00"))
    with futures.uow() as uow:
        ref = cases.return_visit(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话",
                                 satisfaction=5, note="客户确认已更正", at=at("2026-11-10 10:00"))
    with futures.uow() as uow:
        ref = cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version)
    assert ref.state == "archived"
    assert [t for t, _ in timeline(futures, ref.case_no)] == [
        "intake", "escalation", "forward", "deadlines_recomputed", "first_contact", "resolve",
        "feedback", "return_visit", "archive"]
    marks = {m: d.status for m, d in deadlines(futures, ref.case_no).items()}
    # seed 000 art. 17: forward within 1 hour (30 min), contact and resolve within 24 hours of forwarding.
    assert marks == {"forward": "met", "first_contact": "met", "resolve": "met"}


def test_first_contact_and_resolve_deadlines_start_when_the_case_is_forwarded(futures):
    ref = futures.intake()
    assert deadlines(futures, ref.case_no)["resolve"].due_at == at("2026-11-03 10:00")
    take_to_resolved(futures, ref)
    due = deadlines(futures, ref.case_no)
    assert due["first_contact"].due_at == at("2026-11-03 10:30")
    assert due["resolve"].due_at == at("2026-11-03 10:30")


def test_the_first_responder_is_whoever_recorded_the_case_and_stays_so(futures):
    ref = take_to_resolved(futures, futures.intake(who="clerk"))
    with futures.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        assert (case.first_responder_id, case.assignee_id) == (futures.users["clerk"], futures.users["handler"])


def test_resolved_at_intake_closes_in_one_step_still_fully_recorded(futures):
    ref = futures.intake(resolved_at_intake=True, explanation="向客户解释了交易规则", satisfaction=5)
    assert ref.state == "feedback_given"
    assert timeline(futures, ref.case_no) == [
        ("intake", "registered"), ("escalation", "registered"),  # general → vice-president (seed 000 art. 4)
        ("resolve_at_intake", "resolved"), ("feedback", "feedback_given")]
    assert {d.status for d in deadlines(futures, ref.case_no).values()} <= {"met", "waived"}
    with futures.uow() as uow:
        assert cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version).state == "archived"


def test_an_invalid_complaint_still_needs_explanation_and_feedback_before_archive(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        ref = cases.mark_invalid(uow, futures.users["clerk"], ref.case_no, ref.version,
                                 explanation="客户误解了保证金规则，已解释")
    with pytest.raises(InvalidTransition), futures.uow() as uow:
        cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version)
    with futures.uow() as uow:
        ref = cases.feedback(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=3)
    with futures.uow() as uow:
        assert cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version).state == "archived"


def test_withdrawal_ends_processing_that_day_and_waives_open_deadlines(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        ref = cases.withdraw(uow, futures.users["clerk"], ref.case_no, ref.version, reason="客户来电撤回投诉")
    assert ref.state == "withdrawn"
    assert {d.status for d in deadlines(futures, ref.case_no).values()} == {"waived"}
    with futures.uow() as uow:
        assert cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version).state == "archived"


def test_a_re_complaint_is_a_new_case_linked_to_the_old_one(futures):
    ref = futures.intake(resolved_at_intake=True, explanation="已解释", satisfaction=2)
    with futures.uow() as uow:
        new = cases.re_complaint(uow, futures.users["clerk"], ref.case_no, ref.version,
                                 {"received_at": at("2026-11-05 09:00"), "content": "对处理结果不满意"})
    with futures.uow() as uow:
        case = cases.case_by_number(uow, new.case_no)
        parent = cases.case_by_number(uow, ref.case_no)
        assert (case.parent_case_id, case.customer_id) == (parent.id, parent.customer_id)
    assert ("re_complaint", "feedback_given") in timeline(futures, ref.case_no)


def test_automatic_escalations_follow_the_pack(futures):
    ref = futures.intake(flags=["violation"])
    with futures.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        roles = set(uow.session.scalars(select(Escalation.to_role).where(Escalation.case_id == case.id)))
        assert case.grade == "major" and roles == {"cro"}  # seed 000 art. 4


def test_a_handler_escalates_by_hand_to_a_role_of_the_pack(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        cases.escalate(uow, futures.users["clerk"], ref.case_no, ref.version, to_role="general_manager",
                       reason="客户情绪激动，扬言投诉至监管")
    assert ("escalation", "registered") in timeline(futures, ref.case_no)[-1:]


def test_branch_cases_cannot_be_archived_without_the_required_return_visit(branch):
    ref = take_to_resolved(branch, branch.intake())
    with branch.uow() as uow:
        ref = cases.feedback(uow, branch.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4)
    with pytest.raises(InvalidInput) as refused, branch.uow() as uow:
        cases.archive(uow, branch.users["clerk"], ref.case_no, ref.version)
    assert refused.value.field == "return_visit"
    assert refused.value.message("zh") == "处理单尚不完整，不能归档：缺少 回访记录。"  # by name (issue 10 §7)
    assert refused.value.message("en").endswith("return visit.") and "return_visit" not in refused.value.message("en")
    # seed 001 art. 8: return visit due 60 calendar days after resolution (2026-11-03 + 60 = 2027-01-02,
    # a Saturday in a year without data → Monday 2027-01-04, 24:00).
    assert deadlines(branch, ref.case_no)["return_visit"].due_at == at("2027-01-05 00:00")


def test_an_extension_is_limited_by_the_pack_and_keeps_the_original_deadline(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()  # L3: resolve within 3 working days → Thu 2026-11-05 24:00 (seed 003 §5)
    original = deadlines(inst, ref.case_no)["resolve"].due_at
    assert original == at("2026-11-06 00:00")
    with inst.uow() as uow:
        ref = cases.extend(uow, inst.users["handler"], ref.case_no, ref.version, milestone="resolve",
                           new_due=at("2026-11-11 00:00"), reason="需调取录音核实",
                           customer_informed_at=at("2026-11-04 10:00"), informed_method="电话")
    due = deadlines(inst, ref.case_no)["resolve"]
    assert (due.due_at, due.original_due_at, due.extensions) == (at("2026-11-11 00:00"), original, 1)
    with pytest.raises(DomainError), inst.uow() as uow:  # consumer_finance: at most once
        cases.extend(uow, inst.users["handler"], ref.case_no, ref.version, milestone="resolve",
                     new_due=at("2026-11-12 00:00"), reason="再次延期",
                     customer_informed_at=at("2026-11-10 10:00"), informed_method="电话")


def test_an_extension_beyond_the_grades_period_again_is_refused(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()
    # 3 more working days after Thu 2026-11-05 end on Tue 2026-11-10 24:00
    with pytest.raises(InvalidInput) as refused, inst.uow() as uow:
        cases.extend(uow, inst.users["handler"], ref.case_no, ref.version, milestone="resolve",
                     new_due=at("2026-11-12 00:00"), reason="需调取录音核实",
                     customer_informed_at=at("2026-11-04 10:00"), informed_method="电话")
    assert refused.value.field == "new_due"


def test_saving_the_same_intake_form_twice_creates_one_case(futures):
    first = futures.intake(intake_key="form-7f3a")
    second = futures.intake(intake_key="form-7f3a")
    assert first.case_no == second.case_no
    assert futures.intake(intake_key="form-other").case_no != first.case_no


@pytest.fixture
def securities(engine):
    return make_institution(engine, "securities")


def test_a_branch_level_case_is_reported_to_headquarters_within_three_working_days(securities):
    ref = take_to_resolved(securities, securities.intake())  # resolved Tue 2026-11-03 09:00
    report = deadlines(securities, ref.case_no)["report_hq"]
    assert report.due_at == at("2026-11-07 00:00")  # seed 002 art. 19(1): 3 working days → Fri 11-06 24:00
    with securities.uow() as uow:
        ref = cases.report_hq(uow, securities.users["head"], ref.case_no, ref.version, note="已书面报备经纪管理总部",
                              at=at("2026-11-05 16:00"))
    assert deadlines(securities, ref.case_no)["report_hq"].status == "met"
    with pytest.raises(InvalidTransition), securities.uow() as uow:
        cases.report_hq(uow, securities.users["head"], ref.case_no, ref.version, note="再次报备")
