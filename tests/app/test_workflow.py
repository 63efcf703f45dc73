"""The daily workflow pages, signed in as the roles that use them (issue 4)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dashboard.text import literal
from db.models import Case, CaseEvent, Escalation
from services.casework import cases, escalation
from services.rules.policy import PACK_CODES
from tests.app.test_shell import submit
from tests.service.conftest import HANDLING, at, make_institution


def open_page(app, user_id: int, page: str, **query: str):
    at_ = app(user_id)
    for key, value in query.items():
        at_.query_params[key] = value
    at_.switch_page(f"../pages/{page}.py")
    return at_.run()


def open_tab(at_, key: str, label: str):
    """Click the tab `label` of the tabs `key`: only the open tab's content is on the page (issue 13 §4)."""
    assert label in [tab.label for tab in at_.tabs], label
    at_.session_state[key] = label
    return at_.run()


def fill_intake(at_, claim: float = 0.0):
    at_.text_input(key="intake_customer_name").input("张伟")
    at_.text_input(key="intake_customer_phone").input("13800138000")
    at_.selectbox(key="intake_category").set_value("staff_operation")
    at_.number_input(key="intake_claim").set_value(claim)
    at_.text_area(key="intake_content").input("营业部柜员操作失误导致委托未成交，要求赔偿损失")
    return at_.run()


def save(at_):
    return next(b for b in at_.button if b.label == "保存登记").click().run()


def case_count(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(Case))


def test_intake_previews_the_rules_before_saving(institution, app):
    at_ = fill_intake(open_page(app, institution.users["clerk"], "intake"), claim=60000)
    assert not at_.exception
    assert at_.metric[0].value == "重大"  # claim > 50,000 CNY (seed 002 art. 18(2))
    # issue 10 §3: the institution's document and article, not "seed 002 art. 18(2)" or a pack key path
    assert any(literal("《经纪业务客户投诉处理实施细则》第十八条（二）") in c.value for c in at_.caption)
    assert not any("seed" in c.value or "securities.grades" in c.value for c in at_.caption)
    assert case_count(institution.engine) == 0


def test_saving_twice_creates_one_case_and_links_to_it(institution, app):
    page = open_page(app, institution.users["clerk"], "intake")
    page.session_state["intake_key_value"] = "form-1"
    page = save(fill_intake(page))
    first = page.session_state["intake_saved"]
    assert page.success[0].value == f"已登记：{first}"
    assert [link.label for link in page.get("page_link") if link.label == "打开案件"]
    # A second click that reaches the server before the page changed carries the same form key.
    again = open_page(app, institution.users["clerk"], "intake")
    again.session_state["intake_key_value"] = "form-1"
    again = save(fill_intake(again))
    assert again.session_state["intake_saved"] == first
    assert case_count(institution.engine) == 1


def test_intake_validation_errors_are_shown_and_nothing_saved(institution, app):
    at_ = open_page(app, institution.users["clerk"], "intake")
    at_.text_area(key="intake_content").input("内容")
    at_ = save(at_.run())
    assert at_.error[0].value == "请填写客户姓名。"
    assert at_.text_area(key="intake_content").value == "内容"
    assert case_count(institution.engine) == 0


def test_a_repeat_customer_is_flagged_with_links_to_earlier_cases(institution, app):
    earlier = institution.intake()
    at_ = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    assert "近 12 个月内已投诉 1 次" in at_.warning[0].value
    assert any(earlier.case_no in link.label for link in at_.get("page_link"))


def test_the_queue_lists_my_cases_nearest_deadline_first(institution, app):
    late = institution.intake(received_at=at("2026-11-02 09:00"))
    early = institution.intake(received_at=at("2026-10-20 09:00"))
    at_ = open_page(app, institution.users["clerk"], "queue", view="first_responder")
    assert not at_.exception
    frame = at_.dataframe[0].value  # a table since issue 10 §3
    assert list(frame["case"]) == [f"case?case={early.case_no}", f"case?case={late.case_no}"]
    assert "超期" in frame["sla"][0]  # received 2026-10-20: overdue at tests.conftest.TODAY


def forward_on_page(app, institution, ref):
    at_ = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    at_.text_area(key="fw_text").input("请核实柜员操作记录")
    return submit(at_, "action_forward")


def test_the_page_offers_only_allowed_actions(institution, app):
    ref = institution.intake()
    at_ = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    labels = {e.label for e in at_.expander}
    assert "转办" not in labels and "撤诉" in labels  # handlers don't forward (services.institution.access)


def test_a_missing_field_is_refused_and_the_input_kept(institution, app):
    ref = institution.intake()
    at_ = forward_on_page(app, institution, ref)
    handler = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    handler.text_area(key="rs_facts").input("属实")
    handler = submit(handler, "action_resolve")
    assert handler.error[0].value == "请填写处理措施。"
    assert handler.text_area(key="rs_facts").value == "属实"
    assert at_.success


def test_the_second_of_two_people_saving_gets_a_conflict_and_keeps_their_input(institution, app):
    ref = institution.intake()
    first = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    second = open_page(app, institution.users["head"], "case", case=ref.case_no)
    first.text_area(key="wd_reason").input("客户撤回")
    assert submit(first, "action_withdraw").success
    second.text_area(key="es_reason").input("客户要求升级")
    second = submit(second, "action_escalate")
    assert "已被他人修改" in second.error[0].value
    assert second.text_area(key="es_reason").value == "客户要求升级"


def test_a_case_outside_ones_scope_says_not_permitted_and_shows_nothing(institution, app):
    ref = institution.intake()
    at_ = open_page(app, institution.users["outsider"], "case", case=ref.case_no)
    assert at_.error[0].value == "该案件不存在或不在您的权限范围内。"
    assert not at_.tabs and "张伟" not in str(at_.main)


def test_phone_is_masked_and_revealing_it_is_recorded(institution, app):
    ref = institution.intake()
    at_ = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    assert any(literal("138****8000") in m.value for m in at_.markdown)
    at_ = next(b for b in at_.button if b.key == "rv_phone").click().run()
    assert any("13800138000" in m.value for m in at_.markdown)
    with institution.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        assert uow.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.event_type == "reveal_pii")) == 1


def test_opening_the_escalation_board_records_nothing_the_sweep_does(institution, app):
    """Issue 9 §8: the board only reads; the server's sweep (or cron) records the escalations."""
    ref = institution.intake(received_at=at("2026-10-01 09:00"))
    at_ = open_page(app, institution.users["head"], "escalation")
    assert not at_.exception and not at_.info
    assert overdue_keys(institution, ref.case_no) == []
    with institution.uow() as uow:
        assert escalation.sweep(uow) >= 1
    at_ = open_page(app, institution.users["head"], "escalation")
    assert overdue_keys(institution, ref.case_no).count("overdue:resolve") == 1
    assert any(f"case={ref.case_no}" in str(v) for df in at_.dataframe for v in df.value.iloc[:, 0])


def overdue_keys(institution, case_no: str) -> list[str]:
    with institution.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        return list(uow.session.scalars(select(Escalation.rule_key).where(
            Escalation.case_id == case.id, Escalation.rule_key.like("overdue:%"))))


def test_the_handling_form_prints_every_required_field(institution, app):
    ref = institution.intake()
    at_ = open_page(app, institution.users["clerk"], "print", case=ref.case_no)
    assert not at_.exception
    assert at_.get("download_button")
    page = at_.get("html")[0].proto.body
    for label in ("客户投诉处理单", ref.case_no, "首问责任人", "事实认定", "处理措施", "满意"):
        assert label in page


@pytest.mark.parametrize("pack", PACK_CODES)
def test_every_pack_takes_a_case_from_intake_to_archive_through_the_pages(app_env, app, pack):
    inst = make_institution(app_env, pack)
    ref = inst.intake()
    page = open_page(app, inst.users["clerk"], "case", case=ref.case_no)
    page.selectbox(key="fw_department").set_value(HANDLING[pack])
    page = page.run()
    page.text_area(key="fw_text").input("请核实")
    assert submit(page, "action_forward").success[0].value == "已完成：转办。"
    page = open_page(app, inst.users["handler"], "case", case=ref.case_no)
    page.text_area(key="rs_facts").input("属实")
    page.text_area(key="rs_measures").input("道歉并更正")
    page.text_area(key="rs_accountability").input("批评教育")
    assert submit(page, "action_resolve").success[0].value == "已完成：办结。"
    page = open_page(app, inst.users["clerk"], "case", case=ref.case_no)
    page.text_input(key="fb_method").input("电话")
    if pack in ("bank", "consumer_finance"):  # the statutory layer asks for the proof of notification (§7.2)
        page.text_input(key="fb_notification_ref").input("签收回执 0001")
    assert submit(page, "action_feedback").success[0].value == "已完成：反馈客户。"
    if pack == "branch":  # seed 001 art. 8: the return visit is required before filing
        page = open_page(app, inst.users["clerk"], "case", case=ref.case_no)
        page.text_input(key="rv_method").input("电话")
        page.text_area(key="rv_note").input("客户确认已解决")
        assert submit(page, "action_return_visit").success[0].value == "已完成：回访。"
    if pack == "bank":  # RULES.md §7.4: the JR/T 0169 codes before filing, the facts' suggestion pre-filled
        page = submit(open_page(app, inst.users["clerk"], "case", case=ref.case_no), "action_archive")
        assert literal("缺少 JR/T 0169 渠道分类、JR/T 0169 业务类别、JR/T 0169 投诉原因") in page.error[0].value
        page = open_page(app, inst.users["clerk"], "case", case=ref.case_no)
        assert (page.selectbox(key="jrt_channel").value, page.selectbox(key="jrt_business").value) == ("A3", "B01")
        page.selectbox(key="jrt_cause").set_value("C01")
        assert submit(page, "jrt_form").success[0].value == "已完成：JR/T 0169 分类。"
    page = submit(open_page(app, inst.users["clerk"], "case", case=ref.case_no), "action_archive")
    assert page.success[0].value == "已完成：归档。"


def test_first_contact_extension_invalid_and_re_complaint_through_the_page(institution, app):
    ref = institution.intake()
    forward_on_page(app, institution, ref)
    handler = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    handler.text_area(key="fc_note").input("已致电客户说明进度")
    assert submit(handler, "action_first_contact").success[0].value == "已完成：首次联系客户。"
    handler = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    handler.text_area(key="ex_reason").input("需调取录音")
    handler.text_input(key="ex_method").input("电话")
    handler.date_input(key="ex_due").set_value(date(2026, 11, 9))  # past the pack's limit (RULES.md §3)
    assert "新期限须晚于" in submit(handler, "action_extend").error[0].value
    # securities: once, by at most the period again — 2 working days after Wed 11-04 24:00 → Fri 11-06 24:00
    handler.date_input(key="ex_due").set_value(date(2026, 11, 6))
    assert submit(handler, "action_extend").success[0].value == "已完成：延期。"
    other = institution.intake(customer_phone="13700000000")
    clerk = open_page(app, institution.users["clerk"], "case", case=other.case_no)
    clerk.text_area(key="iv_explanation").input("客户误解交易规则，已解释")
    assert submit(clerk, "action_invalid").success[0].value == "已完成：按无效投诉办结。"
    clerk = open_page(app, institution.users["clerk"], "case", case=other.case_no)
    clerk.text_input(key="fb_method").input("电话")
    clerk = submit(clerk, "action_feedback")
    clerk = open_page(app, institution.users["clerk"], "case", case=other.case_no)
    clerk.text_area(key="rc_content").input("对解释不满意，再次投诉")
    clerk = submit(clerk, "action_re_complaint")
    assert clerk.success[0].value == "已完成：再投诉。"
    with institution.uow() as uow:
        parent = cases.case_by_number(uow, other.case_no)
        assert uow.session.scalar(select(func.count()).select_from(Case).where(Case.parent_case_id == parent.id)) == 1


def test_the_case_page_speaks_english_one_click_away(institution, app):
    ref = institution.intake()
    page = open_page(app, institution.users["clerk"], "case", case=ref.case_no)
    page = page.sidebar.get("button_group")[0].set_value("en").run()
    assert page.title[0].value == f"Case {ref.case_no}"
    assert any(m.value.startswith("**Customer name**: ") for m in page.markdown)
    assert {e.label for e in page.expander} >= {"Forward", "Withdraw"}
