"""The case page offers the department head "改派" on a forwarded case (issue 10 §5)."""

from __future__ import annotations

from services.casework import cases
from tests.app.test_shell import submit
from tests.app.test_workflow import open_page
from tests.service.conftest import HANDLING
from tests.service.test_reassign import colleague, forwarded


def test_the_head_reassigns_a_forwarded_case_from_the_case_page(institution, app):
    ref = forwarded(institution)
    other = colleague(institution, "handler2", HANDLING["securities"])
    page = open_page(app, institution.users["head"], "case", case=ref.case_no)
    assert not page.exception
    assert "改派" in [e.label for e in page.expander]
    page.selectbox(key="ra_handler").set_value(other)
    page.text_area(key="ra_reason").input("原处理人休假")
    page = submit(page, "action_reassign")
    assert not page.exception and not page.error
    with institution.uow() as uow:
        assert cases.case_by_number(uow, ref.case_no).assignee_id == other
    handler_page = open_page(app, institution.users["handler"], "case", case=ref.case_no)
    assert "改派" not in [e.label for e in handler_page.expander]


def test_the_head_selects_several_cases_in_the_department_queue_and_reassigns_them(institution, app):
    """Issue 10 §2: row selection in the head's department view, one handler and one reason for all."""
    refs = [forwarded(institution) for _ in range(2)]
    registered = institution.intake()
    other = colleague(institution, "handler2", HANDLING["securities"])
    page = open_page(app, institution.users["head"], "queue", view="department")
    assert not page.exception
    shown = list(page.dataframe[0].value["case"])
    assert f"case?case={registered.case_no}" in shown  # the department's registered case is listed too
    picked = [shown.index(f"case?case={r.case_no}") for r in refs] + [shown.index(f"case?case={registered.case_no}")]
    page.session_state["queue_table_0"] = {"selection": {"rows": picked, "columns": [], "cells": []}}
    page = page.run()
    assert [i.value for i in page.info] == ["所选案件中有 1 件不在已转办或处理中状态，不能改派，已略过。"]
    page.selectbox(key="qr_handler").set_value(other)
    page.text_area(key="qr_reason").input("原处理人休假")
    page = next(b for b in page.button if b.label == "改派所选（2 件）").click().run()
    assert not page.exception and not page.error
    assert [s.value for s in page.success] == ["已改派 2 件。"]
    with institution.uow() as uow:
        assert {cases.case_by_number(uow, r.case_no).assignee_id for r in refs} == {other}
    assert not any(b.label == "改派所选（2 件）" for b in page.button)  # the selection is spent


def test_a_handler_has_no_selection_in_the_queue(institution, app):
    forwarded(institution)
    page = open_page(app, institution.users["handler"], "queue")
    assert not page.exception and len(page.dataframe) == 1
    assert not any(b.label.startswith("改派所选") for b in page.button)


def test_a_refused_case_in_the_selection_is_named_and_none_is_reassigned(institution, app):
    refs = [forwarded(institution) for _ in range(2)]
    page = open_page(app, institution.users["head"], "queue", view="department")
    page.session_state["queue_table_0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    page = page.run()
    page.selectbox(key="qr_handler").set_value(institution.users["handler"])  # who already has both
    page.text_area(key="qr_reason").input("原处理人休假")
    page = next(b for b in page.button if b.label == "改派所选（2 件）").click().run()
    assert not page.exception and not page.success
    said = page.error[0].value.replace("\\", "")  # shown literally: Markdown escapes removed
    assert len(page.error) == 1 and said.startswith(min(r.case_no for r in refs) + "：")
    assert page.error[0].value.endswith("（所选案件均未改派）")


def test_a_case_changed_after_the_list_was_shown_is_not_reassigned(institution, app):
    """Versions as loaded (issue 10 §2): the click's rerun must not pick up someone else's change."""
    ref = forwarded(institution)
    other = colleague(institution, "handler2", HANDLING["securities"])
    page = open_page(app, institution.users["head"], "queue", view="department")
    page.session_state["queue_table_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    page = page.run()
    page.selectbox(key="qr_handler").set_value(other)
    page.text_area(key="qr_reason").input("原处理人休假")
    with institution.uow() as uow:  # meanwhile the handler records the first contact
        cases.first_contact(uow, institution.users["handler"], ref.case_no, ref.version, note="已致电客户")
    page = next(b for b in page.button if b.label == "改派所选（1 件）").click().run()
    assert not page.success and len(page.error) == 1 and "已被他人修改" in page.error[0].value
    with institution.uow() as uow:
        assert cases.case_by_number(uow, ref.case_no).assignee_id == institution.users["handler"]
