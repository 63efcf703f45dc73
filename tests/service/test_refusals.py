"""Every refusal: a clear domain error in Chinese and English, and nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from db.models import Case, CaseEvent, Customer, User
from services.casework import cases
from services.errors import Conflict, InvalidInput, InvalidTransition, NotPermitted
from tests.service.conftest import HANDLING, Institution, at


def counts(inst: Institution) -> tuple[int, int, int]:
    with inst.uow() as uow:
        return tuple(uow.session.scalar(select(func.count()).select_from(t)) for t in (Case, Customer, CaseEvent))


def state_of(inst: Institution, case_no: str) -> tuple[str, int]:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        return case.state, case.version


@pytest.mark.parametrize("field, value", [
    ("customer_name", ""), ("customer_phone", None), ("content", "  "), ("category", "astrology"),
    ("channel", "pigeon"), ("compensation_claim", -5), ("received_at", "2026-11-02T10:00:00"),
    ("flags", ["alien"]),
])
def test_intake_refuses_missing_or_bad_data_and_saves_nothing(futures, field, value):
    before = counts(futures)
    with pytest.raises(InvalidInput) as refused:
        futures.intake(**{field: value})
    assert refused.value.field == field
    assert refused.value.message("zh") and refused.value.message("en")
    assert counts(futures) == before


def test_roles_without_intake_cannot_record_a_complaint(futures):
    with pytest.raises(NotPermitted):
        futures.intake(who="trainee")


def test_a_disabled_user_is_refused_at_once(futures):
    with futures.uow() as uow:
        uow.session.execute(update(User).where(User.id == futures.users["clerk"]).values(active=False))
    with pytest.raises(NotPermitted):
        futures.intake()


def test_a_handler_of_another_department_cannot_act_on_the_case(futures):
    ref = futures.intake()
    with pytest.raises(NotPermitted), futures.uow() as uow:
        cases.withdraw(uow, futures.users["outsider"], ref.case_no, ref.version, reason="x")


def test_only_intake_staff_or_heads_forward(futures):
    ref = futures.intake(who="handler")
    with pytest.raises(NotPermitted), futures.uow() as uow:
        cases.forward(uow, futures.users["handler"], ref.case_no, ref.version, department=HANDLING["futures"],
                      handler_id=futures.users["handler"], handling_form="x")


def test_forwarding_needs_a_handler_of_the_chosen_department(futures):
    ref = futures.intake()
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        cases.forward(uow, futures.users["clerk"], ref.case_no, ref.version, department=HANDLING["futures"],
                      handler_id=futures.users["outsider"], handling_form="请核实")
    assert refused.value.field == "handler"
    assert state_of(futures, ref.case_no) == ("registered", ref.version)


def test_a_case_cannot_skip_states(futures):
    ref = futures.intake()
    with pytest.raises(InvalidTransition) as refused, futures.uow() as uow:
        cases.feedback(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4)
    # the state and the action in the clerk's words, not their codes (issue 10 §3)
    assert refused.value.message("zh") == "案件当前状态为“已登记”，不能执行此操作（反馈客户）。"
    with pytest.raises(InvalidTransition), futures.uow() as uow:
        cases.re_complaint(uow, futures.users["clerk"], ref.case_no, ref.version,
                           {"received_at": at("2026-11-03 09:00"), "content": "再次投诉"})


def test_a_stale_version_is_a_conflict_not_an_overwrite(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        cases.escalate(uow, futures.users["clerk"], ref.case_no, ref.version, to_role="cro", reason="升级")
    with futures.uow() as uow:
        cases.forward(uow, futures.users["clerk"], ref.case_no, ref.version, department=HANDLING["futures"],
                      handler_id=futures.users["handler"], handling_form="第一个人的处理单")
    with pytest.raises(Conflict) as refused, futures.uow() as uow:
        cases.withdraw(uow, futures.users["clerk"], ref.case_no, ref.version, reason="第二个人的撤诉")
    assert "刷新" in refused.value.message("zh")
    assert state_of(futures, ref.case_no)[0] == "forwarded"


def forwarded(inst: Institution) -> cases.CaseRef:
    ref = inst.intake()
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], handling_form="请核实")


def test_compensation_paid_needs_the_customers_signed_confirmation(futures):
    ref = forwarded(futures)
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        cases.resolve(uow, futures.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                      measures="赔偿", accountability="扣绩效", compensation_paid=500)
    assert refused.value.field == "signed_confirmation"
    assert state_of(futures, ref.case_no) == ("forwarded", ref.version)


@pytest.mark.parametrize("missing", ["fact_finding", "measures", "accountability"])
def test_resolving_needs_facts_measures_and_accountability(futures, missing):
    ref = forwarded(futures)
    values = {"fact_finding": "属实", "measures": "道歉", "accountability": "批评", missing: ""}
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        cases.resolve(uow, futures.users["handler"], ref.case_no, ref.version, **values)
    assert refused.value.field == missing


def test_feedback_satisfaction_is_on_the_five_point_scale(futures):
    ref = forwarded(futures)
    with futures.uow() as uow:
        ref = cases.resolve(uow, futures.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                            measures="道歉", accountability="批评")
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        cases.feedback(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=6)
    assert refused.value.field == "satisfaction"


def test_a_resolved_at_intake_case_needs_the_customers_satisfaction(futures):
    with pytest.raises(InvalidInput) as refused:
        futures.intake(resolved_at_intake=True, explanation="已解释", satisfaction=9)
    assert refused.value.field == "satisfaction"
    assert counts(futures) == (0, 0, 0)


def test_an_extension_needs_a_reason_told_to_the_customer(futures):
    ref = forwarded(futures)
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        cases.extend(uow, futures.users["handler"], ref.case_no, ref.version, milestone="resolve",
                     new_due=at("2026-11-04 10:00"), reason="", customer_informed_at=at("2026-11-02 11:00"),
                     informed_method="电话")
    assert refused.value.field == "reason"
