"""The clerk's intake and queue, finished (issue 10 §1–4): register the next one, refusals per field,
the queue as a table, home tiles that open exactly what they count."""

from __future__ import annotations

from tests.app.test_shell import submit
from tests.app.test_workflow import case_count, fill_intake, forward_on_page, open_page, save


def test_register_the_next_one_clears_the_form(institution, app):
    page = save(fill_intake(open_page(app, institution.users["clerk"], "intake")))
    assert page.session_state["intake_saved"]
    page = next(b for b in page.button if b.label == "登记下一件").click().run()
    assert not page.exception
    assert "intake_saved" not in page.session_state
    assert page.text_input(key="intake_customer_name").value == ""
    assert any(b.label == "保存登记" for b in page.button)


def test_a_negative_claim_is_refused_under_the_field_and_nothing_saved(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"), claim=-500.0)
    page = save(page)
    assert [e.value for e in page.error] == ["金额不能为负数。"]
    assert page.number_input(key="intake_claim").value == -500.0  # kept, not turned into 0
    assert "intake_saved" not in page.session_state
    assert case_count(institution.engine) == 0


def test_abc_as_a_phone_is_refused_under_the_phone(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page.text_input(key="intake_customer_phone").input("abc")
    page = save(page.run())
    assert len(page.error) == 1 and page.error[0].value.startswith("联系方式应为手机号")
    assert case_count(institution.engine) == 0


def test_resolve_with_a_negative_payment_says_so_and_stale_errors_clear(institution, app):
    ref = institution.intake()
    forward_on_page(app, institution, ref)
    page = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    page.text_area(key="rs_facts").input("属实")
    page = submit(page, "action_resolve")
    assert [e.value for e in page.error] == ["请填写处理措施。"]
    page.text_area(key="rs_measures").input("道歉并更正")
    page.text_area(key="rs_accountability").input("批评教育")
    page.number_input(key="rs_paid").set_value(-100.0)
    page = submit(page, "action_resolve")
    assert [e.value for e in page.error] == ["金额不能为负数。"]  # the stale 请填写处理措施 is gone
    assert not page.success
    page.number_input(key="rs_paid").set_value(0.0)
    assert submit(page, "action_resolve").success[0].value == "已完成：办结。"
