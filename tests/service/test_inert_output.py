"""Markdown, HTML and formula payloads typed into a case come out inert in the Excel report, CSV,
the printed handling form and the report page (issue 8 §5)."""

from __future__ import annotations

import csv
import html
import io

import pandas as pd
import pytest
from openpyxl import load_workbook

from services.casework import cases
from services.casework.handling_form import handling_form, to_html
from services.export import write_csv
from services.supervision import report
from tests.service.conftest import HANDLING, at

FORMULAS = ('=HYPERLINK("http://x","y")', "+1", "-2+3", "@SUM(A1)", "\t=1")
MARKUP = ("![x](http://127.0.0.1:9/x.png)", "<img src=x onerror=alert(1)>", "**bold**", "[link](http://evil)",
          ":red[x]", "$x^2$")


def test_formulas_typed_as_escalation_reasons_are_text_in_the_excel_report(futures) -> None:
    ref = futures.intake()
    for payload in FORMULAS:
        with futures.uow() as uow:
            ref = cases.escalate(uow, futures.users["clerk"], ref.case_no, ref.version, to_role="general_manager",
                                 reason=payload, at=at("2026-11-02 11:00"))
    with futures.uow() as uow:
        built = report.system_report(uow, "2026-11")
    buffer = io.BytesIO()
    report.to_xlsx(built, buffer)
    sheet = load_workbook(io.BytesIO(buffer.getvalue()))["升级案件"]
    reasons = {c.value: c for c in next(sheet.iter_cols(min_col=8, max_col=8, min_row=2))}
    for payload in FORMULAS:  # the service trims what was typed; the rest is kept, made inert
        cell = reasons["'" + payload.strip()]
        assert cell.data_type == "s"
    assert not any(c.data_type == "f" for row in sheet.iter_rows() for c in row)


def test_formulas_in_a_csv_are_text_with_a_leading_apostrophe() -> None:
    frame = pd.DataFrame({"备注": [*FORMULAS, "正常文字", "a-b"], "金额": [-1, 2, 3, 4, 5, 6, 7]})
    rows = list(csv.reader(io.StringIO(write_csv(frame).decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [*("'" + p for p in FORMULAS), "正常文字", "a-b"]
    assert rows[1][1] == "-1"  # numbers stay numbers


@pytest.fixture
def marked_up_case(futures):
    ref = futures.intake(content=" ".join(MARKUP))
    with futures.uow() as uow:
        ref = cases.forward(uow, futures.users["clerk"], ref.case_no, ref.version, department=HANDLING["futures"],
                            handler_id=futures.users["handler"], handling_form="\n".join(MARKUP),
                            at=at("2026-11-02 10:30"))
    with futures.uow() as uow:
        cases.first_contact(uow, futures.users["handler"], ref.case_no, ref.version, note=" ".join(MARKUP),
                            at=at("2026-11-02 14:00"))
    return futures, ref.case_no


def test_the_printed_handling_form_escapes_what_was_typed(marked_up_case) -> None:
    inst, case_no = marked_up_case
    with inst.uow() as uow:
        page = to_html(handling_form(uow, inst.users["clerk"], case_no))
    assert "<img" not in page and "href" not in page
    for payload in MARKUP:
        assert html.escape(payload) in page


def test_the_report_page_escapes_what_was_typed(futures) -> None:
    ref = futures.intake()
    with futures.uow() as uow:
        cases.escalate(uow, futures.users["clerk"], ref.case_no, ref.version, to_role="general_manager",
                       reason=MARKUP[1], at=at("2026-11-02 11:00"))
    with futures.uow() as uow:
        page = report.to_html(report.system_report(uow, "2026-11"))
    assert "<img" not in page
    assert html.escape(MARKUP[1]) in page
