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


# --- the reply package and the reply (RULES.md §7.3) ---------------------------------------------------

def _decided_transfer(bank):
    """A 12363 transfer taken to feedback: forwarded, resolved, the customer told."""
    from services.casework import cases

    ref = bank.intake(source="pboc_12363", regulator_ref="12363-2026-0077", transferred_on=date(2026, 10, 31),
                      agent_name="王律师", agent_authorisation="授权委托书 2026-118 号")
    u = bank.users
    with bank.uow() as uow:
        ref = cases.forward(uow, u["clerk"], ref.case_no, ref.version, department="outlet", handler_id=u["handler"],
                            handling_form="请核实", at=at("2026-11-02 11:00"))
    with bank.uow() as uow:
        ref = cases.resolve(uow, u["handler"], ref.case_no, ref.version, fact_finding="柜员未告知计息规则属实",
                            measures="补偿利息 120 元并致歉", accountability="批评教育", at=at("2026-11-05 10:00"))
    with bank.uow() as uow:
        return cases.feedback(uow, u["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                              notification_method="recorded_call", notification_ref="录音 20261105-0042",
                              at=at("2026-11-05 15:00"))


def test_the_reply_package_holds_every_required_field(bank):
    from services.casework import transfers

    ref = _decided_transfer(bank)
    with bank.uow() as uow:
        package = transfers.reply_package(uow, bank.users["clerk"], ref.case_no)
    shown = dict(pair for _, rows in transfers.sections(package, "zh") for pair in rows)
    assert shown["转办来源"] == "人民银行 / 12363" and shown["监管转办编号"] == "12363-2026-0077"
    assert shown["转办日期"] == "2026-10-31" and shown["本机构受理时间"] == "2026-11-02 10:00"
    assert shown["投诉内容"] == "营业部柜员办理业务出错，要求更正"
    assert shown["核实情况"] == "柜员未告知计息规则属实" and shown["处理措施及结果"] == "补偿利息 120 元并致歉"
    assert shown["告知时间"] == "2026-11-05 15:00" and shown["反馈方式"] == "电话"
    # the proof of notification the feedback recorded (RULES.md §7.2 art. 21)
    assert shown["告知方式（证明）"] == "录音电话" and shown["告知凭证编号"] == "录音 20261105-0042"
    assert shown["代理人（授权委托书）"] == "王律师 (授权委托书 2026-118 号)"
    html = transfers.to_html(package, "en")
    for value in ("PBOC / 12363", "12363-2026-0077", "2026-10-31", "recorded call", "Measures and result"):
        assert value in html


def test_the_reply_package_in_a_spreadsheet_is_inert(bank):
    from io import BytesIO

    from openpyxl import load_workbook

    from services.casework import transfers

    ref = _decided_transfer(bank)
    with bank.uow() as uow:
        uow.session.execute(Case.__table__.update().where(Case.case_no == ref.case_no).values(
            measures="=HYPERLINK(\"http://x\")"))
    with bank.uow() as uow:
        book = load_workbook(BytesIO(transfers.to_xlsx(transfers.reply_package(uow, bank.users["clerk"],
                                                                                 ref.case_no))))
    cells = {row[1]: row[2] for row in book.active.iter_rows(min_row=2, values_only=True)}
    assert cells["监管转办编号"] == "12363-2026-0077"
    assert cells["处理措施及结果"] == "'=HYPERLINK(\"http://x\")"


def test_the_reply_sent_is_recorded_with_its_date_and_method(bank):
    from services.casework import transfers

    ref = _decided_transfer(bank)
    with pytest.raises(InvalidInput) as early, bank.uow() as uow:  # before the decision of 5 November
        transfers.record_reply(uow, bank.users["clerk"], ref.case_no, ref.version, sent_on=date(2026, 11, 4),
                               method="监管系统报送")
    assert early.value.field == "sent_on"
    with bank.uow() as uow:
        after = transfers.record_reply(uow, bank.users["clerk"], ref.case_no, ref.version,
                                       sent_on=date(2026, 11, 6), method="监管系统报送", at=at("2026-11-06 09:00"))
    assert after.version == ref.version + 1
    _, events, _, _ = _case(bank, ref.case_no)
    assert [(e.at, e.data) for e in events if e.event_type == "regulator_reply"] == [
        (at("2026-11-06 09:00"), {"sent_on": "2026-11-06", "method": "监管系统报送"})]
    with bank.uow() as uow:
        package = transfers.reply_package(uow, bank.users["clerk"], ref.case_no)
    assert [(r.sent_on, r.method) for r in package.replies] == [(date(2026, 11, 6), "监管系统报送")]


def test_an_own_complaint_has_no_reply_package(bank):
    from services.casework import transfers

    ref = bank.intake()
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        transfers.reply_package(uow, bank.users["clerk"], ref.case_no)
    assert refused.value.key == "error.reply.not_transferred"


def test_a_case_found_major_later_is_escalated_once(bank):
    from services.casework import transfers

    ref = bank.intake()
    with bank.uow() as uow:
        ref = transfers.declare_major_later(uow, bank.users["clerk"], ref.case_no, ref.version,
                                            cause="regulator_designated", at=at("2026-11-03 09:00"))
    case, events, escalations, _ = _case(bank, ref.case_no)
    assert case.major_cause == "regulator_designated"
    assert [(e.to_role, e.rule_key, e.created_at) for e in escalations] == [
        ("president", "major:president", at("2026-11-03 09:00"))]
    assert [e.data for e in events if e.event_type == "major_declared"] == [
        {"cause": "regulator_designated", "people": None}]
    with pytest.raises(InvalidInput), bank.uow() as uow:
        transfers.declare_major_later(uow, bank.users["clerk"], ref.case_no, ref.version, cause="disaster")


def test_the_printed_form_shows_the_agent_the_transfer_and_the_other_channel(bank):
    from services.casework import handling_form

    ref = bank.intake(source="petition", regulator_ref="信访-2026-9", transferred_on=date(2026, 11, 1),
                      channel="other", channel_note="人民网留言板", agent_name="王律师",
                      agent_authorisation="授权委托书 2026-118 号")
    with bank.uow() as uow:
        page = handling_form.to_html(handling_form.handling_form(uow, bank.users["clerk"], ref.case_no))
    for shown in ("代理人", "王律师", "授权委托书 2026-118 号", "信访", "信访-2026-9", "2026-11-01", "人民网留言板"):
        assert shown in page, shown


def test_transfers_and_major_complaints_are_marked_in_the_queue_and_on_the_board(bank):
    from services.casework import escalation, queue

    transferred = bank.intake(source="csrc_12386", regulator_ref="12386-5", transferred_on=date(2026, 11, 2))
    grave = bank.intake(major_cause="disaster")
    own = bank.intake()
    with bank.uow() as uow:
        rows = {r.case_no: r for r in queue.my_queue(uow, bank.users["clerk"], view="first_responder").rows}
        board = {r.case_no: r for r in escalation.board(uow, bank.users["head"], now=at("2026-11-02 11:00"))}
    assert (rows[transferred.case_no].source, rows[own.case_no].source) == ("csrc_12386", "own")
    assert rows[grave.case_no].major_cause == "disaster"
    # a general-grade case on the board only because it is major by art. 29, the first reason shown
    assert board[grave.case_no].reasons[0] == "major_complaint" and board[grave.case_no].major_cause == "disaster"


def test_the_monthly_report_counts_transfers_by_source(bank):
    from services.supervision import report

    _decided_transfer(bank)  # PBOC 12363, decided in November
    bank.intake(source="nfra_12378", regulator_ref="12378-9", transferred_on=date(2026, 11, 2))
    bank.intake(source="nfra_12378", regulator_ref="12378-10", transferred_on=date(2026, 11, 1))
    bank.intake()
    with bank.uow() as uow:
        built = report.monthly_report(uow, bank.users["supervisor"], "2026-11")
    table = built.tables["监管转办"]
    counts = {row["来源"]: (row["受理件数"], row["已办结"], row["已回复监管"]) for _, row in table.iterrows()}
    assert counts == {"本机构渠道": (1, 0, 0), "金融监管总局 / 12378": (2, 0, 0), "人民银行 / 12363": (1, 1, 0),
                      "证监会 / 12386": (0, 0, 0), "信访": (0, 0, 0), "其他监管机构": (0, 0, 0)}


def test_an_import_keeps_a_regulators_transfer_and_an_agent(futures):
    from datetime import datetime

    from services.administration import importer
    from tests.service.test_import import GOOD, xlsx

    row = {**GOOD[0], "source": "12378", "regulator_ref": "12378-2026-7", "transferred_on": datetime(2026, 10, 11),
           "agent_name": "王律师", "agent_authorisation": "委托书 9 号"}
    with futures.uow() as uow:
        result = importer.import_file(uow, futures.users["clerk"], xlsx([row]), "cases.xlsx")
    assert result.errors == ()
    case, *_ = _case(futures, result.case_nos[0])
    assert (case.source, case.regulator_ref, case.transferred_on, case.agent_name, case.agent_authorisation) == (
        "nfra_12378", "12378-2026-7", date(2026, 10, 11), "王律师", "委托书 9 号")
    refusals = (({"source": "外星监管"}, "投诉来源"), ({"regulator_ref": None}, "监管转办编号"),
                ({"agent_authorisation": None}, "授权委托书编号"))
    for n, (bad, column) in enumerate(refusals):
        with futures.uow() as uow:
            refused = importer.import_file(uow, futures.users["clerk"], xlsx([{**row, **bad}]), f"bad{n}.xlsx")
        assert refused.imported == 0 and [(e.row, e.column) for e in refused.errors] == [(3, column)]
