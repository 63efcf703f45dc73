"""The case page (issue 4 §3) and the printable handling form (issue 4 §5)."""

from __future__ import annotations

import pytest

from services.casework import case_view, cases, handling_form
from services.errors import NotFound, NotPermitted
from tests.service.conftest import HANDLING, Institution, at


def detail(inst: Institution, who: str, case_no: str, now: str = "2026-11-02 10:30") -> case_view.CaseDetail:
    with inst.uow() as uow:
        return case_view.case_detail(uow, inst.users[who], case_no, now=at(now))


def to_archive(inst: Institution, ref: cases.CaseRef) -> cases.CaseRef:
    """Forward → contact → resolve with compensation → feedback → return visit → archive (futures pack)."""
    steps = [
        ("clerk", cases.forward, dict(department=HANDLING[inst.pack], handler_id=inst.users["handler"],
                                      handling_form="请核实柜员操作记录并联系客户", at=at("2026-11-02 10:30"))),
        ("handler", cases.first_contact, dict(note="已致电客户", at=at("2026-11-02 14:00"))),
        ("handler", cases.resolve, dict(fact_finding="柜员录入金额错误属实", measures="道歉、更正并赔偿手续费",
                                        accountability="柜员通报批评", compensation_paid=200,
                                        signed_confirmation="客户已于 11-03 签字确认收到 200 元",
                                        at=at("2026-11-03 09:00"))),
        ("clerk", cases.feedback, dict(method="电话", satisfaction=4, at=at("2026-11-03 10:00"))),
        ("clerk", cases.return_visit, dict(method="电话", satisfaction=5, note="客户确认已更正",
                                           at=at("2026-11-10 10:00"))),
        ("clerk", cases.archive, dict(at=at("2026-11-10 11:00"))),
    ]
    for who, action, kw in steps:
        with inst.uow() as uow:
            ref = action(uow, inst.users[who], ref.case_no, ref.version, **kw)
    return ref


def test_the_case_page_masks_the_customers_numbers(futures):
    ref = futures.intake(customer_account_no="6222021234567890123")
    customer = detail(futures, "clerk", ref.case_no).customer
    assert (customer.name, customer.phone, customer.id_number, customer.account_no) == (
        "张伟", "138****8000", "110101********1234", "6222***********0123")
    assert customer.can_reveal
    assert not detail(futures, "admin", ref.case_no).customer.can_reveal  # RULES.md §6: not needed to administer


def test_the_case_page_shows_facts_assessment_deadlines_and_timeline(futures):
    ref = futures.intake()
    page = detail(futures, "clerk", ref.case_no, now="2026-11-02 10:50")
    assert (page.case_no, page.version, page.state, page.grade, page.first_responder, page.assignee) == (
        ref.case_no, ref.version, "registered", "general", "Clerk", None)
    assert page.department_code == HANDLING["futures"] and page.reasons == page.assessment["reasons"]
    assert page.reasons[0]["rule"].startswith("futures.grades[")  # reasons kept as data (issue 9 §6)
    forward = page.deadlines[0]
    assert (forward.milestone, forward.due_at, forward.sla.status) == ("forward", at("2026-11-02 11:00"), "at_risk")
    assert (forward.sla.unit, forward.sla.amount) == ("hours", 0.2)  # 10 minutes left of 1 hour
    assert [(e.event_type, e.actor_name, e.to_state) for e in page.timeline] == [
        ("intake", "Clerk", "registered"), ("escalation", "Clerk", "registered")]
    assert [e.to_role for e in page.escalations] == ["vp_business"]  # seed 000 art. 4


@pytest.mark.parametrize("who, actions", [
    ("clerk", ["forward", "invalid", "escalate", "withdraw"]),
    ("handler", ["invalid", "extend", "escalate", "withdraw"]),  # a handler may not forward
    ("head", ["forward", "invalid", "extend", "escalate", "withdraw"]),
    ("supervisor", ["escalate"]),
    ("admin", []),
])
def test_a_registered_case_offers_what_the_state_and_the_role_allow(futures, who, actions):
    ref = futures.intake()
    assert detail(futures, who, ref.case_no).allowed_actions == actions


def test_an_archived_case_offers_only_a_re_complaint_and_links_both_ways(futures):
    ref = to_archive(futures, futures.intake())
    assert detail(futures, "clerk", ref.case_no).allowed_actions == ["re_complaint"]
    assert detail(futures, "handler", ref.case_no).allowed_actions == ["re_complaint"]
    with futures.uow() as uow:
        new = cases.re_complaint(uow, futures.users["clerk"], ref.case_no, ref.version,
                                 {"received_at": at("2026-11-12 09:00"), "content": "对赔偿金额不满意"})
    assert [c.case_no for c in detail(futures, "clerk", ref.case_no).children] == [new.case_no]
    assert detail(futures, "clerk", new.case_no).parent.case_no == ref.case_no


def test_extend_is_offered_only_while_the_pack_still_allows_one(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()
    assert detail(inst, "handler", ref.case_no).extendable == ["resolve"]
    with inst.uow() as uow:
        cases.extend(uow, inst.users["handler"], ref.case_no, ref.version, milestone="resolve",
                     new_due=at("2026-11-11 00:00"), reason="需调取录音核实",
                     customer_informed_at=at("2026-11-04 10:00"), informed_method="电话")
    page = detail(inst, "handler", ref.case_no)
    assert page.extendable == [] and "extend" not in page.allowed_actions  # seed 003 §5: at most once


def test_revealing_a_number_returns_it_and_is_recorded(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        assert case_view.reveal_pii(uow, futures.users["handler"], ref.case_no, "phone") == "13800138000"
    page = detail(futures, "clerk", ref.case_no)
    last = page.timeline[-1]
    assert (last.event_type, last.actor_name, last.data) == ("reveal_pii", "Handler", {"field": "phone"})
    assert page.customer.phone == "138****8000"  # still masked for the next viewer


@pytest.mark.parametrize("who", ["trainee", "admin", "outsider"])
def test_revealing_is_refused_to_roles_or_users_that_do_not_need_it_and_leaves_no_trace(futures, who):
    ref = futures.intake()
    with pytest.raises(NotPermitted), futures.uow() as uow:
        case_view.reveal_pii(uow, futures.users[who], ref.case_no, "id_number")
    assert "reveal_pii" not in [e.event_type for e in detail(futures, "clerk", ref.case_no).timeline]


def test_a_case_outside_ones_scope_is_refused_exactly_like_a_missing_one(futures):
    ref = futures.intake()
    with pytest.raises(NotPermitted) as outside:
        detail(futures, "outsider", ref.case_no)
    with pytest.raises(NotPermitted) as missing:
        detail(futures, "outsider", "TS-20261102-999999")
    assert outside.value.key == missing.value.key == "error.case.not_in_scope"
    assert (outside.value.message("zh"), outside.value.message("en")) == (
        "该案件不存在或不在您的权限范围内。", "This case does not exist or is outside your scope.")
    assert ref.case_no not in outside.value.message("zh") + outside.value.message("en")
    with pytest.raises(NotFound):  # a supervisor sees every case: a wrong number simply does not exist
        detail(futures, "supervisor", "TS-20261102-999999")
    with pytest.raises(NotPermitted):
        detail(futures, "trainee", ref.case_no)


def test_the_handling_form_carries_every_field_the_seeds_require(futures):
    ref = to_archive(futures, futures.intake(content="柜员把 <100> 元录成 1000 元"))
    with futures.uow() as uow:
        form = handling_form.handling_form(uow, futures.users["clerk"], ref.case_no)
    assert (form.case_no, form.received_at, form.channel, form.customer_name, form.customer_phone) == (
        ref.case_no, at("2026-11-02 10:00"), "phone", "张伟", "138****8000")
    assert (form.category, form.grade, form.first_responder, form.responsible_department, form.handler) == (
        "service_quality", "general", "Clerk", "客服中心", "Handler")
    assert (form.handling_form, form.fact_finding, form.measures, form.accountability) == (
        "请核实柜员操作记录并联系客户", "柜员录入金额错误属实", "道歉、更正并赔偿手续费", "柜员通报批评")
    assert (form.compensation_claimed, form.compensation_paid) == (0, 200)
    assert form.signed_confirmation == "客户已于 11-03 签字确认收到 200 元"
    assert (form.feedback_at, form.feedback_method, form.satisfaction) == (at("2026-11-03 10:00"), "电话", 5)
    assert (form.return_visit_at, form.return_visit_method, form.return_visit_note) == (
        at("2026-11-10 10:00"), "电话", "客户确认已更正")
    assert form.archived_at == at("2026-11-10 11:00")
    # seed 000 art. 17: forwarded in 30 min (< 1 h); contact and resolution within 24 h of forwarding
    assert [(d.milestone, d.met_on_time) for d in form.deadlines] == [
        ("forward", True), ("first_contact", True), ("resolve", True)]
    page = handling_form.to_html(form, "zh")
    for expected in ("<!DOCTYPE html>", "size: A4", "客户投诉处理单", ref.case_no, "2026-11-02 10:00", "首问责任人",
                     "事实认定", "对责任部门和责任人的处理", "客户签字确认", "满意", "回访情况", "归档时间",
                     "按时完成", "138****8000", "&lt;100&gt;"):
        assert expected in page, expected
    assert "13800138000" not in page and "<100>" not in page
    assert "Complaint handling form" in handling_form.to_html(form, "en")


def test_the_handling_form_is_refused_outside_ones_scope(futures):
    ref = futures.intake()
    with pytest.raises(NotPermitted), futures.uow() as uow:
        handling_form.handling_form(uow, futures.users["outsider"], ref.case_no)
