"""My queue (issue 4 §2): nearest deadline first, SLA badges in working days, filters, paging and scope;
the intake page's live preview and its "same customer complained before" warning."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.models import Case
from services.administration import admin
from services.casework import cases, queue
from services.errors import InvalidInput, NotPermitted
from services.institution.access import case_scope, load_actor
from services.institution.directory import create_user
from services.rules.transitions import CLOSED_STATES, OPEN_STATES
from tests.service.conftest import HANDLING, OTHER, Institution, at, at_risk_beyond_the_nearest


def my_queue(inst: Institution, who: str, **kw) -> queue.QueuePage:
    with inst.uow() as uow:
        return queue.my_queue(uow, inst.users[who], **kw)


def numbers(page: queue.QueuePage) -> list[str]:
    return [row.case_no for row in page.rows]


@pytest.fixture
def four_cases(consumer_finance) -> dict[str, str]:
    """Received together, so only the grade's period orders them (seed 003 §5)."""
    inst = consumer_finance
    l1 = inst.intake(flags=["litigation"])  # 15 working days → Mon 2026-11-23 24:00
    l3 = inst.intake()  # 3 working days → Thu 2026-11-05 24:00
    l2 = inst.intake(flags=["regulator"], channel="email")  # 7 working days → Wed 2026-11-11 24:00
    done = inst.intake(resolved_at_intake=True, explanation="当场解释费用构成", satisfaction=4)  # nothing open
    return {"L1": l1.case_no, "L3": l3.case_no, "L2": l2.case_no, "done": done.case_no}


def test_the_queue_puts_the_nearest_open_deadline_first_and_cases_without_one_last(consumer_finance, four_cases):
    page = my_queue(consumer_finance, "clerk", view="first_responder", now=at("2026-11-02 11:00"))
    assert numbers(page) == [four_cases[k] for k in ("L3", "L2", "L1", "done")]
    assert [(r.deadline.milestone, r.deadline.due_at) if r.deadline else None for r in page.rows] == [
        ("resolve", at("2026-11-06 00:00")), ("resolve", at("2026-11-12 00:00")),
        # L1: the regulator's 15 calendar days (Tue 17 Nov) come before the pack's 15 working days (RULES.md §7.1)
        ("statutory_decision", at("2026-11-18 00:00")), None]
    first = page.rows[0]
    assert (first.customer_name, first.grade, first.category, first.channel, first.state) == (
        "张伟", "L3", "service", "phone", "registered")
    assert page.total == 4


@pytest.mark.parametrize("now, status, unit, amount, text", [
    # Received Tue 2026-09-29 10:00, L3: 3 working days after 09-29 skip the National Day holiday
    # (10-01…10-07): 09-30, 10-08, 10-09 → due Fri 2026-10-09 24:00 (seed 003 §5, RULES.md §3).
    ("2026-09-30 10:00", "on_time", "working_days", 2, "按时 · 剩余 2 个工作日"),  # 10-08, 10-09 to come
    ("2026-10-08 09:00", "at_risk", "working_days", 1, "临近到期 · 剩余 1 个工作日"),  # last 25% began 10-07 08:30
    ("2026-10-09 18:00", "at_risk", "hours", 6, "临近到期 · 剩余 6 小时"),  # the last day: hours to 24:00
    # Sat 10-10 is a make-up working day: Saturday and Monday are the two working days overdue.
    ("2026-10-12 10:00", "overdue", "working_days", 2, "已超期 2 个工作日"),
])
def test_the_sla_badge_counts_working_days_on_the_institutions_calendar(consumer_finance, now, status, unit,
                                                                         amount, text):
    consumer_finance.intake(received_at=at("2026-09-29 10:00"))
    badge = my_queue(consumer_finance, "clerk", view="first_responder", now=at(now)).rows[0].deadline
    assert (badge.status, badge.unit, badge.amount) == (status, unit, amount)
    assert badge.text("zh") == text
    assert badge.due_text == "2026-10-09 24:00"


def test_an_hour_based_milestone_counts_hours(futures):
    futures.intake()  # seed 000 art. 17(2): forward within 1 hour of 10:00
    badge = my_queue(futures, "clerk", view="first_responder", now=at("2026-11-02 12:30")).rows[0].deadline
    assert (badge.milestone, badge.status, badge.unit, badge.amount) == ("forward", "overdue", "hours", 1.5)
    assert badge.text("en") == "1.5 hours overdue"


def test_filters_narrow_the_queue_in_the_database(consumer_finance, four_cases):
    def only(**kw: list[str]) -> list[str]:
        return numbers(my_queue(consumer_finance, "clerk", view="first_responder", **kw))

    assert only(grades=["L2"]) == [four_cases["L2"]]
    assert only(channels=["email"]) == [four_cases["L2"]]
    assert only(states=["feedback_given"]) == [four_cases["done"]]
    assert only(categories=["product"]) == []
    assert only(grades=["L1", "L3"], channels=["phone"]) == [four_cases[k] for k in ("L3", "L1", "done")]


def test_pages_split_the_sorted_queue_and_keep_the_total(consumer_finance, four_cases):
    first = my_queue(consumer_finance, "clerk", view="first_responder", page_size=3)
    second = my_queue(consumer_finance, "clerk", view="first_responder", page=2, page_size=3)
    assert numbers(first) == [four_cases["L3"], four_cases["L2"], four_cases["L1"]]
    assert numbers(second) == [four_cases["done"]]
    assert (first.total, second.total, first.pages) == (4, 4, 2)
    beyond = my_queue(consumer_finance, "clerk", view="first_responder", page=3, page_size=3)
    assert (numbers(beyond), beyond.total) == ([], 4)  # a page past the end still says how many there are
    with pytest.raises(InvalidInput) as refused:
        my_queue(consumer_finance, "clerk", page=0)
    assert refused.value.field == "page"


def forward_to_the_handler(inst: Institution, case_no: str) -> None:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        cases.forward(uow, inst.users["clerk"], case.case_no, case.version, department=HANDLING[inst.pack],
                      handler_id=inst.users["handler"], handling_form="请核实监管转来的投诉")


def test_each_view_shows_only_its_own_cases(consumer_finance, four_cases):
    inst = consumer_finance
    forward_to_the_handler(inst, four_cases["L2"])
    assert numbers(my_queue(inst, "handler", view="assigned")) == [four_cases["L2"]]
    assert my_queue(inst, "clerk", view="assigned").total == 0
    assert my_queue(inst, "head", view="department").total == 4  # the head's department handles all four


def test_a_handler_or_head_of_another_department_sees_nothing_of_it(consumer_finance, four_cases):
    inst = consumer_finance
    with inst.uow() as uow:
        other_head = create_user(uow, "other_head", "Other Head", "kite-harbour9", ["dept_head"], OTHER[inst.pack]).id
    for view in ("assigned", "first_responder"):
        assert my_queue(inst, "outsider", view=view).total == 0
    with inst.uow() as uow:
        assert queue.my_queue(uow, other_head, view="department").total == 0
    with pytest.raises(NotPermitted):  # the department view is the head's (issue 4 §2)
        my_queue(inst, "outsider", view="department")
    with pytest.raises(NotPermitted):
        my_queue(inst, "trainee", view="assigned")


def test_no_view_lists_a_case_outside_the_users_scope(consumer_finance, four_cases):
    """The queue's filter is the view's alone: each view must stay inside what `case_scope` lets the user see."""
    inst = consumer_finance
    forward_to_the_handler(inst, four_cases["L2"])
    listed = 0
    for who, user_id in inst.users.items():
        with inst.uow() as uow:
            actor = load_actor(uow.session, user_id)
            visible = set(uow.session.scalars(select(Case.case_no).where(case_scope(actor))))
            for view in ("assigned", "first_responder", "department"):
                for due in (None, "overdue", "at_risk"):
                    try:
                        page = queue.my_queue(uow, user_id, view=view, due=due, states=[*OPEN_STATES, *CLOSED_STATES])
                    except NotPermitted:
                        continue
                    assert set(numbers(page)) <= visible, (who, view, due)
                    listed += page.total
    assert listed  # the views listed cases at all


def test_the_intake_preview_runs_the_rules_without_saving(consumer_finance):
    inst = consumer_finance
    form = {**inst.complaint(), "flags": ["litigation"]}
    with inst.uow() as uow:
        assessment = queue.intake_preview(uow, inst.users["clerk"], form)
        saved = uow.session.scalar(select(func.count()).select_from(Case))
    assert (assessment.grade, assessment.escalate_to) == ("L1", ("supervisor", "management"))
    assert assessment.deadlines == {"resolve": at("2026-11-24 00:00"),  # 15 working days (seed 003 §5)
                                    "statutory_decision": at("2026-11-18 00:00")}  # 15 days (RULES.md §7.1)
    assert any("《消费金融投诉管理制度》" in line for line in assessment.explanation)
    assert saved == 0
    with pytest.raises(InvalidInput) as refused, inst.uow() as uow:
        queue.intake_preview(uow, inst.users["clerk"], {**form, "category": "astrology"})
    assert refused.value.field == "category"


def test_the_same_customer_within_twelve_months_is_found_by_phone_or_id_number(consumer_finance):
    inst = consumer_finance
    recent = inst.intake(received_at=at("2026-03-01 09:00"), content="还款扣款失败，多次致电未解决" * 5)
    inst.intake(received_at=at("2025-10-01 09:00"))  # 13 months before: not counted
    inst.intake(customer_phone="13900000000", customer_id_number="310101198001010000")  # someone else

    def found(**kw: str) -> list[queue.RecentComplaint]:
        with inst.uow() as uow:
            return queue.recent_complaints(uow, inst.users["clerk"], now=at("2026-11-02 10:00"), **kw).visible

    by_phone = found(customer_phone="13800138000")
    assert [(c.case_no, c.state) for c in by_phone] == [(recent.case_no, "registered")]
    assert by_phone[0].excerpt == ("还款扣款失败，多次致电未解决" * 5)[:60]
    assert [c.case_no for c in found(customer_id_number="110101199001011234")] == [recent.case_no]
    assert found() == []


# --- the at-risk filter reads its candidates from the open deadlines (issue 13 §1), the same cases as before ---------


def test_the_at_risk_filter_finds_a_case_at_risk_on_a_deadline_other_than_its_nearest(consumer_finance):
    inst = consumer_finance
    ref = at_risk_beyond_the_nearest(inst)
    assert numbers(my_queue(inst, "clerk", view="first_responder", due="at_risk", now=at("2026-11-03 12:00"))) == [
        ref.case_no]


def test_the_at_risk_filter_judges_by_the_window_of_the_case_s_own_pack(consumer_finance):
    inst = consumer_finance
    ref = inst.intake(received_at=at("2026-11-02 09:00"))  # L3: resolve due 11-06 00:00, 87 hours
    with inst.uow() as uow:  # narrower than every other pack's 25 %: at risk from 11-05 15:18
        admin.set_pack_value(uow, inst.users["admin"], "warning_window", 0.1)
    assert my_queue(inst, "clerk", view="first_responder", due="at_risk", now=at("2026-11-05 12:00")).total == 0
    assert numbers(my_queue(inst, "clerk", view="first_responder", due="at_risk", now=at("2026-11-05 16:00"))) == [
        ref.case_no]
