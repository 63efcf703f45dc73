"""What people type is shown as typed on the case page, never as Markdown or HTML (issue 8 §5):
an image in a complaint must not make every reader's browser fetch a URL."""

from __future__ import annotations

from dashboard.text import literal
from services.casework import cases
from tests.app.test_workflow import open_page
from tests.service.conftest import HANDLING, at

MARKUP = ("![x](http://127.0.0.1:9/x.png)", "<img src=x onerror=alert(1)>", "**bold**", "[link](http://evil)",
          ":red[x]", "$x^2$", ":material/home:", "# heading", "&amp;")


def marked_up_case(institution) -> str:
    ref = institution.intake(customer_name="张伟 **[x](http://evil)**", content="\n".join(MARKUP))
    with institution.uow() as uow:
        ref = cases.forward(uow, institution.users["clerk"], ref.case_no, ref.version,
                            department=HANDLING[institution.pack], handler_id=institution.users["handler"],
                            handling_form="请核实", at=at("2026-11-02 10:30"))
    with institution.uow() as uow:
        ref = cases.first_contact(uow, institution.users["handler"], ref.case_no, ref.version,
                                  note=" ".join(MARKUP), at=at("2026-11-02 14:00"))
    with institution.uow() as uow:
        cases.escalate(uow, institution.users["handler"], ref.case_no, ref.version, to_role="branch_head",
                       reason=MARKUP[0], at=at("2026-11-02 15:00"))
    return ref.case_no


def markdown_sources(at_) -> list[str]:
    """Every string the page hands to Streamlit's Markdown renderer."""
    texts = [e.value for kind in ("markdown", "caption", "warning", "info", "error", "success", "title", "subheader")
             for e in getattr(at_, kind)]
    return texts + [e.label for kind in ("button", "expander") for e in getattr(at_, kind)]


def test_markdown_and_html_in_a_case_are_shown_literally(institution, app) -> None:
    case_no = marked_up_case(institution)
    at_ = open_page(app, institution.users["handler"], "case", case=case_no)
    assert not at_.exception
    sources = markdown_sources(at_)
    page = "\n".join(sources)
    for payload in MARKUP:
        assert literal(payload) in page  # all of it is there, escaped…
        assert payload not in page.replace(literal(payload), "")  # …and nowhere as live syntax
    assert sum(literal(MARKUP[0]) in s for s in sources) >= 4  # content, intake note, contact note, escalation
    assert literal("张伟 **[x](http://evil)**") in page


def test_literal_keeps_the_text_and_its_line_breaks() -> None:
    assert literal("a*b\nc_d") == "a\\*b  \nc\\_d"
    assert literal(None) == ""
    assert literal("中文，全角标点！") == "中文，全角标点！"  # only ASCII punctuation is Markdown syntax
