"""Issue 11 §3, §5, §7 (RULES.md §7.2, §7.3): regulator transfers, the open `other` channel, agents and major
complaints, recorded at intake. The expected values are written from the rules, not read from the code."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db.models import Case, CaseDeadline, CaseEvent, Escalation
from services.errors import InvalidInput
from tests.service.conftest import at, make_institution


@pytest.fixture
def bank(engine):
    return make_institution(engine, "bank")


def _case(inst, case_no):
    with inst.uow() as uow:
        case = uow.session.scalar(select(Case).where(Case.case_no == case_no))
        events = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                          .order_by(CaseEvent.id)))
        escalations = list(uow.session.scalars(select(Escalation).where(Escalation.case_id == case.id)))
        deadlines = {d.milestone: d for d in uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id))}
        uow.session.expunge_all()
    return case, events, escalations, deadlines


def _refused(inst, **form):
    with pytest.raises(InvalidInput) as refused:
        inst.intake(**form)
    assert refused.value.message("zh") and refused.value.message("en")
    return refused.value


def test_a_12378_transfer_is_recorded_with_its_reference_and_the_clock_starts_at_receipt(bank):
    # NFRA's 12378 hotline transferred it on 30 October; the bank received it on 2 November at 10:00.
    ref = bank.intake(source="nfra_12378", regulator_ref="12378-2026-1030-0042", transferred_on=date(2026, 10, 30))
    case, events, _, deadlines = _case(bank, ref.case_no)
    assert (case.source, case.regulator_ref, case.transferred_on) == (
        "nfra_12378", "12378-2026-1030-0042", date(2026, 10, 30))
    # The institution's clocks run from its own receipt (RULES.md §7.3): every deadline starts at 2 Nov 10:00.
    assert {d.starts_at for d in deadlines.values() if d.starts_at is not None} == {at("2026-11-02 10:00")}
    assert [e.event_type for e in events] == ["intake"]


def test_a_transfer_without_its_reference_or_date_is_refused(bank):
    assert _refused(bank, source="nfra_12378", transferred_on=date(2026, 10, 30)).field == "regulator_ref"
    assert _refused(bank, source="nfra_12378", regulator_ref="12378-1").field == "transferred_on"


def test_a_transfer_dated_after_receipt_or_in_the_future_is_refused(bank):
    # received 2 Nov; today is 30 Nov (tests/conftest.py)
    after = _refused(bank, source="pboc_12363", regulator_ref="12363-7", transferred_on=date(2026, 11, 3))
    assert after.key == "error.intake.transferred_after_receipt"
    future = _refused(bank, source="pboc_12363", regulator_ref="12363-7", transferred_on=date(2026, 12, 1),
                      received_at=at("2026-11-30 09:00"))
    assert future.key == "error.intake.transferred_in_future"


def test_the_institutions_own_complaint_carries_no_regulator_reference(bank):
    assert _refused(bank, regulator_ref="12378-1").key == "error.intake.transfer_fields_without_regulator"
    assert _refused(bank, source="cbrc").key == "error.intake.unknown_source"
    case, *_ = _case(bank, bank.intake().case_no)
    assert (case.source, case.regulator_ref, case.transferred_on) == ("own", None, None)


def test_a_media_complaint_in_consumer_finance_is_the_other_channel_with_its_note(consumer_finance):
    ref = consumer_finance.intake(channel="other", channel_note="媒体")
    case, *_ = _case(consumer_finance, ref.case_no)
    assert (case.channel, case.channel_note) == ("other", "媒体")
    assert _refused(consumer_finance, channel="other").field == "channel_note"
    assert _refused(consumer_finance, channel="other", channel_note="媒" * 201).field == "channel_note"
    assert _refused(consumer_finance, channel="media").field == "channel"  # not in the pack's list


@pytest.mark.parametrize("pack", ["futures", "branch", "securities", "consumer_finance", "bank"])
def test_every_pack_has_the_other_channel(engine, pack):
    inst = make_institution(engine, pack)
    case, *_ = _case(inst, inst.intake(channel="other", channel_note="行业协会转来").case_no)
    assert (case.channel, case.channel_note) == ("other", "行业协会转来")


def test_an_agent_needs_the_authorisation_letter(bank):
    assert _refused(bank, agent_name="王律师").field == "agent_authorisation"
    ref = bank.intake(agent_name="王律师", agent_authorisation="授权委托书 2026-118 号")
    case, *_ = _case(bank, ref.case_no)
    assert (case.agent_name, case.agent_authorisation) == ("王律师", "授权委托书 2026-118 号")


def test_a_major_complaint_is_escalated_to_the_top_at_intake(bank):
    # 23 customers came to the outlet together (order 3 art. 29: ≥ 20 in person): the bank's top role is the
    # president (bank.toml: rank 1 among the roles an executive answers).
    ref = bank.intake(major_cause="group_in_person", major_people=23)
    case, events, escalations, _ = _case(bank, ref.case_no)
    assert case.major_cause == "group_in_person"
    declared = [e for e in events if e.event_type == "major_declared"]
    assert [(e.at, e.data["cause"], e.data["people"]) for e in declared] == [
        (at("2026-11-02 10:00"), "group_in_person", 23)]
    major = [e for e in escalations if e.rule_key == "major:president"]
    assert [(e.to_role, e.created_at) for e in major] == [("president", at("2026-11-02 10:00"))]
    assert any(e.event_type == "escalation" and e.data["rule"] == "major:president" for e in events)


def test_a_group_of_fewer_than_twenty_is_not_a_major_complaint(bank):
    assert _refused(bank, major_cause="group_in_person", major_people=19).field == "major_people"
    assert _refused(bank, major_cause="group_in_person").field == "major_people"
    assert _refused(bank, major_cause="flood").field == "major_cause"


def test_an_import_registers_the_other_channel_with_its_note(futures):
    from services.administration import importer
    from tests.service.test_import import GOOD, xlsx

    row = {**GOOD[0], "channel": "其他渠道", "channel_note": "媒体"}
    with futures.uow() as uow:
        result = importer.import_file(uow, futures.users["clerk"], xlsx([row]), "cases.xlsx")
    assert result.errors == () and result.imported == 1
    case, *_ = _case(futures, result.case_nos[0])
    assert (case.channel, case.channel_note) == ("other", "媒体")
    with futures.uow() as uow:
        refused = importer.import_file(uow, futures.users["clerk"], xlsx([{**row, "channel_note": None}]), "b.xlsx")
    assert refused.imported == 0 and [e.column for e in refused.errors] == ["其他渠道说明"]
