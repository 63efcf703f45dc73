"""The regulator's clock (RULES.md §7.1, CBIRC order 2020 no. 3 arts. 18, 23) walked through hand-worked cases.

Every expected instant is worked out here from the rule, on the shipped 2026 calendar: 25-27 Sep (Mid-autumn)
and 1-7 Oct (National Day) are holidays, Sun 20 Sep and Sat 10 Oct are make-up working days. A limit of N days
counts N calendar days after the day of receipt; a last day that is not a working day moves to the next working
day; the deadline is the end of that day (the exclusive 00:00 after it).
"""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db.models import CaseDeadline, CaseEvent, Escalation, ExtensionApproval
from services.administration import admin
from services.casework import cases, escalation, queue, statutory
from services.casework.case_view import case_detail
from services.errors import InvalidInput, InvalidTransition, NotPermitted, PolicyError
from services.institution.directory import create_user
from services.supervision import kpi
from tests.service.conftest import HANDLING, Institution, at, make_institution

RECEIVED = at("2026-09-20 10:00")  # a Sunday, but a make-up working day


@pytest.fixture
def bank(engine) -> Institution:
    return make_institution(engine, "bank")


def received(inst: Institution, **form) -> cases.CaseRef:
    return inst.intake(received_at=RECEIVED, **form)


def clock(inst: Institution, case_no: str) -> CaseDeadline:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        row = uow.session.scalar(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id, CaseDeadline.milestone == "statutory_decision"))
        uow.session.expunge_all()
        return row


def forwarded(inst: Institution, ref: cases.CaseRef) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], handling_form="请核实", at=at("2026-09-20 11:00"))


def extend(inst: Institution, ref: cases.CaseRef, who: str = "handler") -> cases.CaseRef:
    with inst.uow() as uow:
        return statutory.extend_statutory(uow, inst.users[who], ref.case_no, ref.version, reason="情况复杂，需调取录音",
                                          customer_informed_at=at("2026-10-08 09:00"), informed_method="电话")


def executive(inst: Institution) -> int:
    with inst.uow() as uow:
        return create_user(uow, "vp", "副行长", "kite-harbour9", ["executive"], None).id


def test_the_regulators_15_days_run_beside_the_packs_own_and_roll_over_national_day(consumer_finance):
    ref = received(consumer_finance)  # L3: the pack's own 3 working days
    rows = {m: d.due_at for m, d in [("statutory_decision", clock(consumer_finance, ref.case_no))]}
    # 15 days after Sun 20 Sep is Mon 5 Oct, a holiday: the next working day is Thu 8 Oct
    assert rows == {"statutory_decision": at("2026-10-09 00:00")}
    with consumer_finance.uow() as uow:
        detail = case_detail(uow, consumer_finance.users["clerk"], ref.case_no)
    # both clocks on the case page: 21, 22, 23 Sep are the pack's three working days
    assert {d.milestone: d.due_at for d in detail.deadlines} == {
        "resolve": at("2026-09-24 00:00"), "statutory_decision": at("2026-10-09 00:00")}


def test_a_pack_without_the_layer_has_no_statutory_clock(futures):
    ref = received(futures)
    assert clock(futures, ref.case_no) is None


def test_the_earlier_clock_drives_the_queue_and_escalation(consumer_finance):
    # L1 (litigation): the pack's 15 working days end Fri 16 Oct; the regulator's 15 days end Thu 8 Oct
    forwarded(consumer_finance, received(consumer_finance, flags=["litigation"]))
    with consumer_finance.uow() as uow:
        row = queue.my_queue(uow, consumer_finance.users["handler"], now=at("2026-10-08 12:00")).rows[0]
    assert (row.deadline.milestone, row.deadline.status) == ("statutory_decision", "at_risk")
    with consumer_finance.uow() as uow:
        escalation.run_automatic_escalations(uow, now=at("2026-10-09 08:00"))
    with consumer_finance.uow() as uow:
        keys = set(uow.session.scalars(select(Escalation.rule_key).where(Escalation.rule_key.like("overdue:%"))))
    assert keys == {"overdue:statutory_decision"}


def test_extended_to_30_days_then_a_further_30_only_with_a_superiors_approval_and_never_beyond_60(bank):
    vp = executive(bank)
    ref = extend(bank, forwarded(bank, received(bank)))
    assert clock(bank, ref.case_no).due_at == at("2026-10-21 00:00")  # 30 days: Tue 20 Oct
    with pytest.raises(NotPermitted) as refused:
        extend(bank, ref)
    assert refused.value.key == "error.statutory.approval_needed"
    with bank.uow() as uow:
        ref = statutory.request_extension(uow, bank.users["handler"], ref.case_no, ref.version, reason="需司法鉴定")
    # a handler cannot approve, nor may anyone approve their own request
    with pytest.raises(NotPermitted), bank.uow() as uow:
        statutory.decide_extension(uow, bank.users["handler"], ref.case_no, ref.version, approve=True, reason="同意")
    with bank.uow() as uow:
        ref = statutory.decide_extension(uow, vp, ref.case_no, ref.version, approve=True, reason="同意延长",
                                         at=at("2026-10-19 16:00"))
    ref = extend(bank, ref)
    assert clock(bank, ref.case_no).due_at == at("2026-11-20 00:00")  # 60 days: Thu 19 Nov
    with bank.uow() as uow:
        approval = uow.session.scalars(select(ExtensionApproval)).one()
        assert (approval.decided_by_id, approval.decided_at, approval.decision_reason, approval.approved) == (
            vp, at("2026-10-19 16:00"), "同意延长", True)
        assert approval.extension_id is not None
    with pytest.raises(PolicyError):
        extend(bank, ref)


def test_a_refused_request_allows_no_further_extension(bank):
    vp = executive(bank)
    ref = extend(bank, forwarded(bank, received(bank)))
    with bank.uow() as uow:
        ref = statutory.request_extension(uow, bank.users["handler"], ref.case_no, ref.version, reason="需司法鉴定")
    with bank.uow() as uow:
        ref = statutory.decide_extension(uow, vp, ref.case_no, ref.version, approve=False, reason="理由不充分")
    with pytest.raises(NotPermitted):
        extend(bank, ref)


def test_a_ten_day_appraisal_moves_the_deadline_by_ten_days(bank):
    ref = forwarded(bank, received(bank))
    with bank.uow() as uow:
        ref = statutory.pause_clock(uow, bank.users["handler"], ref.case_no, ref.version, kind="appraisal",
                                    starts_on=date(2026, 9, 28), reason="送司法鉴定笔迹",
                                    complainant_informed_at=at("2026-09-28 10:00"), informed_method="短信")
    paused = clock(bank, ref.case_no)
    assert paused.status == "paused"
    with bank.uow() as uow:  # standing still: neither at risk nor overdue, so not escalated (the pack's own
        escalation.run_automatic_escalations(uow, now=at("2026-10-09 08:00"))  # 15 days still are)
    with bank.uow() as uow:
        keys = set(uow.session.scalars(select(Escalation.rule_key).where(Escalation.rule_key.like("overdue:%"))))
    assert keys == {"overdue:resolve"}
    with bank.uow() as uow:
        ref = statutory.resume_clock(uow, bank.users["handler"], ref.case_no, ref.version, ends_on=date(2026, 10, 8))
    # 15 + 10 days after 20 Sep: Thu 15 Oct, a working day
    row = clock(bank, ref.case_no)
    assert (row.status, row.due_at) == ("open", at("2026-10-16 00:00"))
    with bank.uow() as uow:
        event = uow.session.scalars(select(CaseEvent).where(CaseEvent.event_type == "clock_resumed")).one()
    assert event.data["days"] == 10 and event.data["new_due"] == "2026-10-16T00:00:00+08:00"


def test_new_facts_restart_the_clock_from_their_receipt(bank):
    ref = extend(bank, forwarded(bank, received(bank)))
    with bank.uow() as uow:
        ref = statutory.restart_clock(uow, bank.users["handler"], ref.case_no, ref.version,
                                      received_at=at("2026-10-12 14:00"), note="客户补充提交转账凭证")
    row = clock(bank, ref.case_no)
    # 15 days after Mon 12 Oct: Tue 27 Oct; the earlier extension is spent with the old clock
    assert (row.starts_at, row.due_at, row.extensions) == (at("2026-10-12 14:00"), at("2026-10-28 00:00"), 0)


def test_a_repeat_of_the_same_matter_is_merged_into_the_open_case(bank):
    ref = forwarded(bank, received(bank))
    before = clock(bank, ref.case_no).due_at
    with bank.uow() as uow:
        ref = statutory.merge_repeat(uow, bank.users["clerk"], ref.case_no, ref.version,
                                     received_at=at("2026-09-22 09:00"), channel="phone", content="客户再次来电催办")
    assert clock(bank, ref.case_no).due_at == before
    with bank.uow() as uow:
        merged = uow.session.scalar(select(CaseEvent.note).where(CaseEvent.event_type == "repeat_merged"))
        assert merged == "客户再次来电催办"
        assert uow.session.scalar(select(cases.Case.id).where(cases.Case.case_no != ref.case_no)) is None


@pytest.mark.parametrize(("change", "error"), [
    ({"kind": "nap"}, InvalidInput),  # not a reason the rule stops the clock for
    ({"starts_on": date(2026, 9, 1)}, InvalidInput),  # before receipt
    ({"starts_on": date(2026, 12, 1)}, InvalidInput),  # not yet
])
def test_a_bad_pause_is_refused_and_changes_nothing(bank, change, error):
    ref = forwarded(bank, received(bank))
    values = {"kind": "mediation", "starts_on": date(2026, 9, 28), "reason": "人民调解",
              "complainant_informed_at": at("2026-09-28 10:00"), "informed_method": "电话", **change}
    with pytest.raises(error), bank.uow() as uow:
        statutory.pause_clock(uow, bank.users["handler"], ref.case_no, ref.version, **values)
    assert clock(bank, ref.case_no).status == "open"


def test_once_the_decision_is_told_the_clock_stops(bank):
    ref = forwarded(bank, received(bank))
    with bank.uow() as uow:
        ref = cases.resolve(uow, bank.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                            measures="退还费用", accountability="无", at=at("2026-09-30 10:00"))
    with bank.uow() as uow:
        ref = cases.feedback(uow, bank.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                             notification_method="recorded_call", notification_ref="录音编号 REC20261008-01",
                             at=at("2026-10-08 10:00"))  # with the proof of notification (RULES.md §7.2)
    assert clock(bank, ref.case_no).status == "met"
    with pytest.raises(InvalidTransition), bank.uow() as uow:
        statutory.restart_clock(uow, bank.users["handler"], ref.case_no, ref.version,
                                received_at=at("2026-10-09 10:00"), note="补充材料")


def test_kpis_report_the_statutory_on_time_rate_apart_from_the_packs_own(consumer_finance):
    # told on 8 Oct: late for the pack's 3 working days (due 24 Sep), on time for the regulator's (due 9 Oct)
    ref = forwarded(consumer_finance, received(consumer_finance))
    with consumer_finance.uow() as uow:
        ref = cases.resolve(uow, consumer_finance.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                            measures="退还费用", accountability="无", at=at("2026-10-07 10:00"))
    with consumer_finance.uow() as uow:
        cases.feedback(uow, consumer_finance.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                       notification_method="sms", notification_ref="短信发送记录 20261008-01",
                       at=at("2026-10-08 10:00"))  # with the proof of notification (RULES.md §7.2)
    with consumer_finance.uow() as uow:
        figures = kpi.kpis(uow, consumer_finance.users["supervisor"], date_from=date(2026, 9, 1),
                           date_to=date(2026, 10, 31), by="all").iloc[0]
    assert (figures["resolve_due"], figures["timeliness_rate"]) == (1, 0.0)
    assert (figures["statutory_due"], figures["statutory_met"], figures["statutory_rate"]) == (1, 1, 1.0)


def test_the_institution_switches_the_layer_and_its_roll_forward(bank):
    with bank.uow() as uow:  # Civil Code art. 203's roll-forward off: the 15th day counts even on a holiday
        admin.set_pack_value(uow, bank.users["admin"], "statutory.roll_forward", False)
    ref = received(bank)
    assert clock(bank, ref.case_no).due_at == at("2026-10-06 00:00")  # Mon 5 Oct, National Day
    with bank.uow() as uow:
        admin.set_pack_value(uow, bank.users["admin"], "statutory.enabled", False)
    assert clock(bank, received(bank).case_no) is None
