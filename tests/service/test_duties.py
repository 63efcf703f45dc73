"""Handling duties of the statutory layer (issue 11 §4–5, RULES.md §7.2, order 3 arts. 17, 19–21): proof of
notification on feedback, the review (核查) window and its limit, recusal of the employee complained about.

The expected instants are worked out here by hand from the rules, not read back from the code.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db.models import Case, CaseDeadline, CaseEvent
from services.administration import importer
from services.casework import cases, decision_letter, duties, handling_form
from services.casework.case_view import case_detail, event_note
from services.errors import InvalidInput, InvalidTransition
from services.rules.packs import load_policy
from tests.service.conftest import HANDLING, Institution, at, make_institution


def resolved(inst: Institution, received: str = "2026-11-02 10:00", resolved_at: str = "2026-11-03 09:00"
             ) -> cases.CaseRef:
    ref = inst.intake(received_at=at(received))
    with inst.uow() as uow:
        ref = cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                            handler_id=inst.users["handler"], handling_form="请核实柜员操作记录", at=at(received))
    with inst.uow() as uow:
        return cases.resolve(uow, inst.users["handler"], ref.case_no, ref.version, fact_finding="柜员录入金额错误属实",
                             measures="道歉并更正", accountability="柜员通报批评", at=at(resolved_at))


def told(inst: Institution, ref: cases.CaseRef, when: str, **proof) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.feedback(uow, inst.users["clerk"], ref.case_no, ref.version, method="书面回复",
                              satisfaction=4, at=at(when), **proof)


def row(inst: Institution, case_no: str) -> tuple[Case, dict[str, CaseDeadline], list[CaseEvent]]:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        deadlines = {d.milestone: d for d in uow.session.scalars(
            select(CaseDeadline).where(CaseDeadline.case_id == case.id))}
        events = list(uow.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                          .order_by(CaseEvent.id)))
        uow.session.expunge_all()
        return case, deadlines, events


PROOF = {"notification_method": "written_posted", "notification_ref": "挂号信 XA123456789CN"}


# --- proof of notification (art. 21) -------------------------------------------------------------------------

@pytest.mark.parametrize("missing, field", [
    ({}, "notification_method"),
    ({"notification_method": "written_posted"}, "notification_ref"),
    ({"notification_method": "written_posted", "notification_ref": "  "}, "notification_ref"),
    ({"notification_ref": "录音编号 20261103-01"}, "notification_method"),
])
def test_a_bank_feedback_without_proof_of_notification_is_refused_and_nothing_is_met(engine, missing, field):
    bank = make_institution(engine, "bank")
    ref = resolved(bank)
    with pytest.raises(InvalidInput) as refused:
        told(bank, ref, "2026-11-03 10:00", **missing)
    assert refused.value.field == field
    assert refused.value.message("zh") and refused.value.message("en") != refused.value.key
    case, deadlines, _ = row(bank, ref.case_no)
    assert case.state == "resolved" and case.feedback_at is None and case.notification_method is None
    assert deadlines["resolve"].status == "open"  # the bank's decision is met by feedback (seed 004)


def test_a_bank_feedback_with_proof_records_it_and_meets_the_decision(engine):
    bank = make_institution(engine, "bank")
    ref = told(bank, resolved(bank), "2026-11-03 10:00", **PROOF)
    case, deadlines, events = row(bank, ref.case_no)
    assert (case.notification_method, case.notification_ref) == ("written_posted", "挂号信 XA123456789CN")
    # received 2 Nov 10:00; 15 calendar days → the last day is 17 Nov, due 18 Nov 00:00; told 3 Nov: on time
    assert (deadlines["resolve"].status, deadlines["resolve"].met_at) == ("met", at("2026-11-03 10:00"))
    assert events[-1].event_type == "feedback"
    assert events[-1].data == {"method": "书面回复", "satisfaction": 4, **PROOF}


def test_an_unknown_notification_method_is_refused(engine):
    bank = make_institution(engine, "bank")
    ref = resolved(bank)
    with pytest.raises(InvalidInput) as refused:
        told(bank, ref, "2026-11-03 10:00", notification_method="pigeon", notification_ref="x")
    assert refused.value.field == "notification_method"


def test_a_pack_without_the_layer_keeps_feedback_as_it_was(futures):
    ref = told(futures, resolved(futures), "2026-11-03 10:00")
    case, _, events = row(futures, ref.case_no)
    assert case.state == "feedback_given" and case.notification_method is None and case.notification_ref is None
    assert events[-1].data == {"method": "书面回复", "satisfaction": 4}  # nothing new on the timeline either
    other = told(futures, resolved(futures), "2026-11-03 10:00", notification_method="sms",
                 notification_ref="短信 20261103-7")
    case, _, events = row(futures, other.case_no)
    assert (case.notification_method, case.notification_ref) == ("sms", "短信 20261103-7")  # optional, but kept


# --- review / 核查 (art. 20) ---------------------------------------------------------------------------------

def decided_on_1_september(inst: Institution) -> cases.CaseRef:
    """A bank case whose decision the complainant was told on Tuesday 1 September 2026, 10:00."""
    ref = resolved(inst, "2026-08-25 10:00", "2026-08-31 16:00")
    return told(inst, ref, "2026-09-01 10:00", **PROOF)


def ask_review(inst: Institution, ref: cases.CaseRef, when: str, who: str = "clerk") -> cases.CaseRef:
    with inst.uow() as uow:
        return duties.request_review(uow, inst.users[who], ref.case_no, ref.version, at(when),
                                     "客户对处理决定不服，申请核查")


def test_a_review_asked_on_the_last_day_is_a_new_linked_case_decided_within_30_days(engine):
    bank = make_institution(engine, "bank")
    first = decided_on_1_september(bank)
    # told 1 Sep; 30 calendar days → 1 Oct, National Day (holidays 1–7 Oct): the last day moves to Thu 8 Oct
    review = ask_review(bank, first, "2026-10-08 16:00")
    case, deadlines, _ = row(bank, review.case_no)
    original, _, events = row(bank, first.case_no)
    assert review.case_no != first.case_no and review.state == "registered"
    assert (case.reviewed_case_id, case.customer_id, case.parent_case_id) == (original.id, original.customer_id, None)
    assert events[-1].event_type == "review_requested" and events[-1].data == {"review_case": review.case_no}
    # asked 8 Oct; 30 calendar days → Sat 7 Nov, not a working day → Mon 9 Nov, due at its end
    assert deadlines["review_decision"].due_at == at("2026-11-10 00:00")
    assert deadlines["review_decision"].status == "open"
    # the review runs on its own 30 days (art. 20), not a fresh 15-day decision (art. 18)
    assert deadlines["statutory_decision"].status == "waived"
    with bank.uow() as uow:
        review = cases.forward(uow, bank.users["clerk"], review.case_no, review.version, department="outlet",
                               handler_id=bank.users["head"], handling_form="上级机构核查", at=at("2026-10-09 10:00"))
    with bank.uow() as uow:
        review = cases.resolve(uow, bank.users["head"], review.case_no, review.version, fact_finding="原处理认定属实",
                               measures="维持原处理决定", accountability="无", at=at("2026-11-05 10:00"))
    told(bank, review, "2026-11-06 10:00", **PROOF)
    _, deadlines, _ = row(bank, review.case_no)
    assert (deadlines["review_decision"].status, deadlines["review_decision"].met_at) == ("met", at("2026-11-06 10:00"))
    assert deadlines["statutory_decision"].status == "waived"  # forwarding and resolving left it so


def test_a_review_asked_the_day_after_the_last_day_is_refused(engine):
    bank = make_institution(engine, "bank")
    first = decided_on_1_september(bank)
    with pytest.raises(InvalidInput) as refused:
        ask_review(bank, first, "2026-10-09 09:00")  # the day after Thu 8 Oct (1 Oct rolled past National Day)
    assert refused.value.key == "error.review.too_late" and refused.value.field == "received_at"
    assert "2026-10-08 24:00" in refused.value.message("zh") and "2026-10-08 24:00" in refused.value.message("en")
    with bank.uow() as uow:
        assert uow.session.scalar(select(Case.id).where(Case.reviewed_case_id.is_not(None))) is None


def test_day_31_is_refused_when_no_holiday_moves_the_last_day(engine):
    bank = make_institution(engine, "bank")
    ref = resolved(bank, "2026-05-25 10:00", "2026-05-29 16:00")
    ref = told(bank, ref, "2026-06-01 10:00", **PROOF)  # 30 days → Wed 1 July, a working day
    with pytest.raises(InvalidInput):
        ask_review(bank, ref, "2026-07-02 09:00")
    assert ask_review(bank, ref, "2026-07-01 17:00").state == "registered"


def test_a_review_is_asked_once_of_a_decision_told(engine):
    bank = make_institution(engine, "bank")
    open_case = resolved(bank)
    with pytest.raises(InvalidTransition):  # no decision told yet
        ask_review(bank, open_case, "2026-11-04 09:00")
    first = decided_on_1_september(bank)
    review = ask_review(bank, first, "2026-09-10 09:00")
    first = cases_ref(bank, first.case_no)
    with pytest.raises(InvalidInput) as refused:
        ask_review(bank, first, "2026-09-11 09:00")
    assert refused.value.key == "error.review.already_requested"
    assert review.case_no in refused.value.message("en")


def test_a_pack_without_the_layer_takes_no_review(futures):
    plain = told(futures, resolved(futures), "2026-11-03 10:00")
    with pytest.raises(InvalidInput) as refused:
        ask_review(futures, plain, "2026-11-04 09:00")
    assert refused.value.key == "error.review.no_statutory_layer"


def cases_ref(inst: Institution, case_no: str) -> cases.CaseRef:
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        return cases.CaseRef(case.id, case.case_no, case.version, case.state)


# --- recusal (art. 17) ----------------------------------------------------------------------------------------

def name(inst: Institution, ref: cases.CaseRef, who: str | None) -> cases.CaseRef:
    with inst.uow() as uow:
        return duties.name_complained_employee(uow, inst.users["clerk"], ref.case_no, ref.version,
                                               inst.users[who] if who else None, at=at("2026-11-02 10:10"))


def test_a_case_is_not_forwarded_to_the_employee_complained_about_without_a_recorded_reason(engine):
    bank = make_institution(engine, "bank")
    ref = name(bank, bank.intake(), "handler")
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        cases.forward(uow, bank.users["clerk"], ref.case_no, ref.version, department="outlet",
                      handler_id=bank.users["handler"], handling_form="请核实", at=at("2026-11-02 10:30"))
    assert refused.value.key == "error.case.recusal" and refused.value.field == "handler"
    assert "Handler" in refused.value.message("en") and refused.value.message("zh") != refused.value.key
    with bank.uow() as uow:
        ref = cases.forward(uow, bank.users["clerk"], ref.case_no, ref.version, department="outlet",
                            handler_id=bank.users["handler"], handling_form="请核实", at=at("2026-11-02 10:30"),
                            recusal_reason="网点仅一名柜员在岗，负责人复核其处理")
    case, _, events = row(bank, ref.case_no)
    assert case.assignee_id == bank.users["handler"] and case.recusal_override == "网点仅一名柜员在岗，负责人复核其处理"
    kinds = [e.event_type for e in events]
    assert kinds.index("recusal_override") == kinds.index("forward") - 1  # recorded with the forwarding
    override = next(e for e in events if e.event_type == "recusal_override")
    assert (override.note, override.data) == ("网点仅一名柜员在岗，负责人复核其处理", {"handler": "handler"})


def test_a_head_cannot_reassign_the_case_to_the_employee_complained_about_without_a_reason(engine):
    bank = make_institution(engine, "bank")
    ref = bank.intake()
    with bank.uow() as uow:
        ref = cases.forward(uow, bank.users["clerk"], ref.case_no, ref.version, department="outlet",
                            handler_id=bank.users["head"], handling_form="请核实", at=at("2026-11-02 10:30"))
    ref = name(bank, ref, "handler")
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        cases.reassign(uow, bank.users["head"], ref.case_no, ref.version, handler_id=bank.users["handler"],
                       reason="负责人出差")
    assert refused.value.key == "error.case.recusal"
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        cases.reassign_many(uow, bank.users["head"], [(ref.case_no, ref.version)], handler_id=bank.users["handler"],
                            reason="负责人出差")
    assert ref.case_no in refused.value.message("zh")
    with bank.uow() as uow:
        cases.reassign(uow, bank.users["head"], ref.case_no, ref.version, handler_id=bank.users["handler"],
                       reason="负责人出差", recusal_reason="客户同意由该员工继续处理，负责人复核")
    case, _, events = row(bank, ref.case_no)
    assert case.assignee_id == bank.users["handler"] and case.recusal_override
    assert [e.event_type for e in events][-2:] == ["recusal_override", "reassign"]


def test_naming_someone_else_or_nobody_lifts_nothing_and_forwarding_elsewhere_is_free(engine):
    bank = make_institution(engine, "bank")
    ref = name(bank, bank.intake(), "handler")
    assert row(bank, ref.case_no)[0].complained_employee_id == bank.users["handler"]
    with bank.uow() as uow:
        detail = case_detail(uow, bank.users["clerk"], ref.case_no)
        policy = uow.policy("bank")
    named = next(e for e in detail.timeline if e.event_type == "note")
    assert event_note(policy, named, "zh") == "记录被投诉员工：Handler（依规回避）"
    assert event_note(policy, named, "en") == "Employee complained about: Handler (must stand aside)"
    with bank.uow() as uow:
        ref = cases.forward(uow, bank.users["clerk"], ref.case_no, ref.version, department="outlet",
                            handler_id=bank.users["head"], handling_form="请核实", at=at("2026-11-02 10:30"))
    case, _, events = row(bank, ref.case_no)
    assert case.recusal_override is None and "recusal_override" not in [e.event_type for e in events]
    ref = name(bank, ref, None)
    assert row(bank, ref.case_no)[0].complained_employee_id is None
    with pytest.raises(InvalidInput), bank.uow() as uow:
        duties.name_complained_employee(uow, bank.users["clerk"], ref.case_no, ref.version, 999999)


# --- the decision letter (art. 19) -----------------------------------------------------------------------------

def test_the_decision_letter_carries_facts_decision_basis_remedies_and_the_proof(engine):
    bank = make_institution(engine, "bank")
    ref = resolved(bank, "2026-08-25 10:00", "2026-08-31 16:00")
    with bank.uow() as uow:
        letter = decision_letter.decision_letter(uow, bank.users["clerk"], ref.case_no)
    assert letter.told_at is None and letter.review_ends is None  # not told yet: no window to print
    told(bank, ref, "2026-09-01 10:00", **PROOF)
    with bank.uow() as uow:
        letter = decision_letter.decision_letter(uow, bank.users["clerk"], ref.case_no)
    printed = decision_letter.to_html(letter)
    for part in (ref.case_no, "银行分行", "张伟", "营业部柜员办理业务出错，要求更正", "柜员录入金额错误属实",
                 "道歉并更正", "柜员通报批评", "《某银行分行客户投诉处理和管理实施方案》",
                 "《银行业保险业消费投诉处理管理办法》",
                 "2026-08-25 10:00", "2026-08-31 16:00", "2026-09-01 10:00", "书面告知（邮寄）", "挂号信 XA123456789CN",
                 "30 日内", "申请核查", "调解", "仲裁", "诉讼"):
        assert part in printed, part
    assert "2026-09-01</p>" in printed and "2026-11-30" not in printed  # dated the day it was told
    # told 1 Sep → 30 days end on 1 Oct, National Day → the last day is Thu 8 Oct
    assert "截止 2026-10-08 24:00" in printed
    english = decision_letter.to_html(letter, "en")
    assert "within 30 days" in english and "mediation" in english and "arbitration" in english and "court" in english


def test_the_letter_prints_user_text_as_text_and_waits_for_a_decision(engine):
    bank = make_institution(engine, "bank")
    ref = bank.intake(content="<script>alert(1)</script> **粗体**")
    with pytest.raises(InvalidTransition), bank.uow() as uow:
        decision_letter.decision_letter(uow, bank.users["clerk"], ref.case_no)
    with bank.uow() as uow:
        ref = cases.mark_invalid(uow, bank.users["clerk"], ref.case_no, ref.version, explanation="<b>不属于投诉</b>")
    with bank.uow() as uow:
        printed = decision_letter.to_html(decision_letter.decision_letter(uow, bank.users["clerk"], ref.case_no))
    assert "<script>" not in printed and "&lt;script&gt;alert(1)&lt;/script&gt; **粗体**" in printed
    assert "&lt;b&gt;不属于投诉&lt;/b&gt;" in printed


def test_a_review_decision_letter_names_the_case_reviewed_and_offers_no_second_review(engine):
    bank = make_institution(engine, "bank")
    first = decided_on_1_september(bank)
    review = ask_review(bank, first, "2026-09-10 09:00")
    with bank.uow() as uow:
        review = cases.mark_invalid(uow, bank.users["clerk"], review.case_no, review.version, explanation="维持原决定")
    with bank.uow() as uow:
        letter = decision_letter.decision_letter(uow, bank.users["clerk"], review.case_no)
    printed = decision_letter.to_html(letter)
    assert letter.reviewed_case_no == first.case_no and first.case_no in printed
    assert "上级机构申请核查" not in printed and "诉讼" in printed  # the review was the last word (art. 20)


def test_the_printed_handling_form_files_the_proof_of_notification(engine):
    bank = make_institution(engine, "bank")
    ref = told(bank, resolved(bank), "2026-11-03 10:00", **PROOF)
    with bank.uow() as uow:
        printed = handling_form.to_html(handling_form.handling_form(uow, bank.users["clerk"], ref.case_no))
    assert "<th>告知方式</th><td class=\"text\">书面告知（邮寄）</td>" in printed
    assert "<th>告知凭证编号</th><td class=\"text\">挂号信 XA123456789CN</td>" in printed


def test_a_form_without_proof_prints_no_proof_rows(futures):
    ref = told(futures, resolved(futures), "2026-11-03 10:00")
    with futures.uow() as uow:
        printed = handling_form.to_html(handling_form.handling_form(uow, futures.users["clerk"], ref.case_no))
    assert "告知凭证编号" not in printed


# --- import: the proof comes with a fed-back row --------------------------------------------------------------

def _sheet(rows: list[dict]) -> bytes:
    book = load_workbook(io.BytesIO(importer.template_xlsx(load_policy("bank"))))
    keys = [c.key for c in importer.COLUMNS]
    for values in rows:
        book["案件"].append([values.get(key) for key in keys])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


FED_BACK = {"received_at": "2026-10-12 10:00", "channel": "phone", "category": "deposit", "customer_name": "李娜",
            "customer_phone": "13900139000", "content": "存款利息计算有误", "forwarded_at": "2026-10-12 10:30",
            "handler": "handler", "handling_form": "请核实", "resolved_at": "2026-10-13 09:00",
            "fact_finding": "利率录入错误属实", "measures": "补付利息", "accountability": "经办人通报",
            "feedback_at": "2026-10-13 10:00", "feedback_method": "书面", "satisfaction": "满意"}


def test_a_bank_import_of_a_fed_back_case_needs_the_proof_and_records_it(engine):
    bank = make_institution(engine, "bank")
    with bank.uow() as uow:
        refused = importer.import_file(uow, bank.users["clerk"], _sheet([FED_BACK]), "cases.xlsx")
    assert refused.imported == 0 and {e.column for e in refused.errors} == {"告知方式", "告知凭证编号"}
    proof = {"notification_method": "书面告知（邮寄）", "notification_ref": "挂号信 XA555CN"}
    with bank.uow() as uow:
        result = importer.import_file(uow, bank.users["clerk"], _sheet([{**FED_BACK, **proof}]), "cases.xlsx")
    assert result.errors == () and result.imported == 1
    case, deadlines, _ = row(bank, result.case_nos[0])
    assert (case.notification_method, case.notification_ref) == ("written_posted", "挂号信 XA555CN")
    assert deadlines["resolve"].status == "met"
