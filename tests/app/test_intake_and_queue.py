"""The clerk's intake and queue, finished (issue 10 §1–4): register the next one, refusals per field,
the queue as a table, home tiles that open exactly what they count."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl

from tests.app.test_shell import submit
from tests.app.test_workflow import case_count, fill_intake, forward_on_page, open_page, save
from tests.service.conftest import at


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


def queue_total(page) -> int:
    return int(next(c.value for c in page.caption if c.value.startswith("共 ")).split()[1])


def test_the_queue_is_a_table_of_full_case_numbers_linking_to_the_case_with_labels(institution, app):
    late = institution.intake(received_at=at("2026-11-02 09:00"))
    early = institution.intake(received_at=at("2026-10-20 09:00"))
    page = open_page(app, institution.users["clerk"], "queue", view="first_responder")
    assert not page.exception
    table = page.dataframe[0]
    frame = table.value
    assert list(frame["case"]) == [f"case?case={early.case_no}", f"case?case={late.case_no}"]
    config = json.loads(table.proto.columns)
    assert config["case"]["type_config"]["display_text"] == "case=(.*)$"  # the whole case number is shown
    assert config["case"]["width"] >= 9 * len(early.case_no)  # not cut at 1366 px
    assert config["case"]["label"] == "案件编号"
    assert "超期" in frame["sla"][0]  # received 2026-10-20: overdue at tests.conftest.TODAY
    assert set(frame["state"]) == {"已登记"} and "staff_operation" not in set(frame["category"])
    assert config["received"]["type_config"]["format"] == "YYYY-MM-DD HH:mm"


def test_clicking_the_selected_view_again_keeps_the_list(institution, app):
    institution.intake()
    page = open_page(app, institution.users["clerk"], "queue", view="first_responder")
    assert queue_total(page) == 1
    page = page.get("button_group")[0].set_value(None).run()  # what a click on the selected option sends
    assert not page.exception
    assert queue_total(page) == 1


def test_a_home_tile_opens_the_queue_filtered_to_what_it_counts(institution, app):
    institution.intake(received_at=at("2026-10-01 09:00"))
    institution.intake(resolved_at_intake=True, explanation="当场解释", satisfaction=4)
    home = app(institution.users["clerk"])
    tiles = {m.label: int(m.value) for m in home.metric}
    links = {link.proto.query_string: link for link in home.get("page_link")}
    assert tiles["待转办"] == 1
    query = next(q for q in links if "states=registered" in q)
    page = open_page(app, institution.users["clerk"], "queue", **dict(parse_qsl(query)))
    assert queue_total(page) == tiles["待转办"]
    assert page.multiselect(key="queue_states").value == ["registered"]


def test_a_missing_explanation_at_intake_is_said_under_it(institution, app):
    page = fill_intake(open_page(app, institution.users["clerk"], "intake"))
    page = page.checkbox(key="intake_resolved").check().run()
    page = save(page)
    assert [e.value for e in page.error] == ["请填写向客户所作的解释。"]
    shown = list(page.main)
    assert shown.index(page.error[0]) > shown.index(page.text_area(key="intake_explanation"))
    assert shown.index(page.error[0]) < shown.index(next(b for b in page.button if b.label == "保存登记"))


def test_the_queue_filters_say_what_an_empty_choice_means_in_chinese(institution, app):
    page = open_page(app, institution.users["clerk"], "queue")
    assert [m.proto.placeholder for m in page.multiselect] == ["在办案件", "全部", "全部", "全部"]
