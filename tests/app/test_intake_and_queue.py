"""The clerk's intake and queue, finished (issue 10 §1–4): register the next one, refusals per field,
the queue as a table, home tiles that open exactly what they count."""

from __future__ import annotations

from tests.app.test_workflow import fill_intake, open_page, save


def test_register_the_next_one_clears_the_form(institution, app):
    page = save(fill_intake(open_page(app, institution.users["clerk"], "intake")))
    assert page.session_state["intake_saved"]
    page = next(b for b in page.button if b.label == "登记下一件").click().run()
    assert not page.exception
    assert "intake_saved" not in page.session_state
    assert page.text_input(key="intake_customer_name").value == ""
    assert any(b.label == "保存登记" for b in page.button)
