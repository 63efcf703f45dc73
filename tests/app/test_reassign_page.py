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
