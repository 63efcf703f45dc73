"""The handling duties on the pages (issue 11 §4–5, RULES.md §7.2): the feedback form asks for the proof of
notification on a bank case, the decision letter prints every required field, review and recusal on the case page.
"""

from __future__ import annotations

from sqlalchemy import select

from dashboard.text import literal
from db.models import Case
from services.casework import cases
from tests.app.test_shell import submit
from tests.app.test_workflow import open_page
from tests.service.conftest import HANDLING, Institution, at, make_institution


def decided(inst: Institution, told: bool = True) -> cases.CaseRef:
    ref = inst.intake(received_at=at("2026-11-20 10:00"))
    with inst.uow() as uow:
        ref = cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                            handler_id=inst.users["handler"], handling_form="请核实", at=at("2026-11-20 11:00"))
    with inst.uow() as uow:
        ref = cases.resolve(uow, inst.users["handler"], ref.case_no, ref.version, fact_finding="柜员录入金额错误属实",
                            measures="道歉并更正金额", accountability="柜员通报批评", at=at("2026-11-23 16:00"))
    if told:
        with inst.uow() as uow:
            ref = cases.feedback(uow, inst.users["clerk"], ref.case_no, ref.version, method="书面", satisfaction=4,
                                 notification_method="written_posted", notification_ref="挂号信 XA987654321CN",
                                 at=at("2026-11-24 10:00"))
    return ref


def proof(inst: Institution, case_no: str) -> tuple[str | None, str | None, str]:
    with inst.uow() as uow:
        case = uow.session.scalar(select(Case).where(Case.case_no == case_no))
        return case.notification_method, case.notification_ref, case.state


def test_the_feedback_form_of_a_bank_case_asks_for_the_proof_of_notification(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = decided(bank, told=False)
    page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    assert page.selectbox(key="fb_notification_method").label == "告知投诉人的方式 *"
    assert page.text_input(key="fb_notification_ref").label == "告知凭证编号 *"
    page.text_input(key="fb_method").input("书面")
    page.selectbox(key="fb_notification_method").set_value("recorded_call")
    page = submit(page, "action_feedback")
    assert "告知凭证编号" in page.error[0].value  # refused under its field, nothing recorded
    assert proof(bank, ref.case_no) == (None, None, "resolved")
    page.text_input(key="fb_notification_ref").input("录音编号 REC20261130-01")
    assert submit(page, "action_feedback").success[0].value == "已完成：反馈客户。"
    assert proof(bank, ref.case_no) == ("recorded_call", "录音编号 REC20261130-01", "feedback_given")


def test_the_feedback_form_of_a_pack_without_the_layer_keeps_the_proof_optional(institution, app):
    ref = decided(institution, told=False)
    page = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    assert page.selectbox(key="fb_notification_method").label == "告知投诉人的方式"
    page.text_input(key="fb_method").input("电话")
    assert submit(page, "action_feedback").success[0].value == "已完成：反馈客户。"
    assert proof(institution, ref.case_no) == (None, None, "feedback_given")


def test_the_decision_letter_is_linked_once_decided_and_prints_every_required_field(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = decided(bank)
    case_page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    assert "打印处理决定告知书" in [link.label for link in case_page.get("page_link")]
    page = open_page(app, bank.users["clerk"], "letter", case=ref.case_no)
    assert not page.exception and page.get("download_button")
    letter = page.get("html")[0].proto.body
    for part in ("投诉处理决定告知书", ref.case_no, "银行分行", "张伟", "核实的事实", "柜员录入金额错误属实",
                 "处理决定及依据、理由", "道歉并更正金额", "柜员通报批评", "《某银行分行客户投诉处理和管理实施方案》",
                 "《银行业保险业消费投诉处理管理办法》", "2026-11-20 10:00", "2026-11-23 16:00", "2026-11-24 10:00",
                 "30 日内", "申请核查", "调解", "仲裁", "诉讼", "书面告知（邮寄）", "挂号信 XA987654321CN"):
        assert part in letter, part
    # told Tue 24 Nov; 30 calendar days → Thu 24 Dec, a working day: the last day to ask for a review
    assert "截止 2026-12-24 24:00" in letter


def test_an_undecided_case_has_no_letter(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = bank.intake()
    case_page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    assert "打印处理决定告知书" not in [link.label for link in case_page.get("page_link")]
    page = open_page(app, bank.users["clerk"], "letter", case=ref.case_no)
    assert "尚未作出处理决定" in page.error[0].value and not page.get("html")


def test_a_review_is_recorded_from_the_case_page_and_opens_the_new_case(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = decided(bank)
    page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    assert any(literal("2026-12-24 24:00") in c.value for c in page.caption)  # the window, from the rule
    page.text_area(key="du_review_content").input("对处理结果不服，申请核查")
    page = submit(page, "duties_review")
    with bank.uow() as uow:
        review = uow.session.scalar(select(Case).where(Case.reviewed_case_id.is_not(None)))
        assert review is not None and review.content == "对处理结果不服，申请核查"
    assert page.query_params["case"] == [review.case_no] or page.query_params["case"] == review.case_no
    assert page.success[0].value == "已完成：申请核查。"


def test_naming_the_employee_complained_about_asks_for_a_reason_to_forward_to_them(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = bank.intake()
    page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    page.selectbox(key="du_employee").set_value(bank.users["handler"])
    page = submit(page, "duties_name")
    assert page.success[0].value == "已完成：记录被投诉员工。"
    page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    page.selectbox(key="fw_department").set_value("outlet")
    page = page.run()
    page.selectbox(key="fw_handler").set_value(bank.users["handler"])
    page.text_area(key="fw_text").input("请核实")
    page = submit(page, "action_forward")
    assert "应回避" in page.error[0].value
    page.text_input(key="fw_recusal_reason").input("网点仅一人在岗，负责人复核")
    assert submit(page, "action_forward").success[0].value == "已完成：转办。"
    with bank.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        assert (case.assignee_id, case.recusal_override) == (bank.users["handler"], "网点仅一人在岗，负责人复核")


def test_a_review_asked_too_late_is_refused_on_the_page_with_the_last_day(app_env, app):
    bank = make_institution(app_env, "bank")
    ref = bank.intake(received_at=at("2026-10-12 10:00"))
    with bank.uow() as uow:
        ref = cases.forward(uow, bank.users["clerk"], ref.case_no, ref.version, department="outlet",
                            handler_id=bank.users["handler"], handling_form="请核实", at=at("2026-10-12 11:00"))
    with bank.uow() as uow:
        ref = cases.resolve(uow, bank.users["handler"], ref.case_no, ref.version, fact_finding="属实", measures="更正",
                            accountability="无", at=at("2026-10-19 16:00"))
    with bank.uow() as uow:
        cases.feedback(uow, bank.users["clerk"], ref.case_no, ref.version, method="书面", satisfaction=3,
                       notification_method="written_handed", notification_ref="签收回执 0007",
                       at=at("2026-10-20 10:00"))
    # told Tue 20 Oct; 30 calendar days → Thu 19 Nov, a working day; asked today, 30 Nov: too late
    page = open_page(app, bank.users["clerk"], "case", case=ref.case_no)
    page.text_area(key="du_review_content").input("申请核查")
    page = submit(page, "duties_review")
    assert "已超过申请核查期限" in page.error[0].value and literal("2026-11-19 24:00") in page.error[0].value
    with bank.uow() as uow:
        assert uow.session.scalar(select(Case.id).where(Case.reviewed_case_id.is_not(None))) is None
