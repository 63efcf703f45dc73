"""The escalation board as one table with one "acknowledge selected" action (issue 10 §1, §3)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import Escalation
from services.casework import cases, escalation
from services.casework.cases import case_by_number
from services.supervision import reviews, sampling
from services.supervision.sampling import SamplingPlanInput
from tests.app.test_workflow import open_page
from tests.service.conftest import HANDLING, at


def _escalated(institution, n: int) -> list[str]:
    """n overdue cases with an unacknowledged escalation to the department head."""
    refs = [institution.intake(received_at=at(f"2026-10-0{i + 1} 09:00")) for i in range(n)]
    with institution.uow() as uow:
        escalation.run_automatic_escalations(uow)
    return [r.case_no for r in refs]


def test_the_board_is_one_table_and_acknowledges_the_selected_rows_at_once(institution, app):
    numbers = _escalated(institution, 3)
    page = open_page(app, institution.users["head"], "escalation")
    assert not page.exception
    assert len(page.dataframe) == 1  # one table, not a table and a button per escalation
    assert [b.label for b in page.button if "确认" in b.label] == ["确认所选升级（0 条）"]
    shown = page.dataframe[0].value
    assert sorted(v.split("case=")[1] for v in shown["case"]) == sorted(numbers)  # full numbers, linked
    first, second = (shown["case"].iloc[i].split("case=")[1] for i in (0, 1))
    page.session_state["board_table_0"] = {"selection": {"rows": [0, 1], "columns": [], "cells": []}}
    page = page.run()
    button = next(b for b in page.button if "确认" in b.label)
    assert button.label == "确认所选升级（4 条）" and not button.disabled  # two overdue milestones each
    page = button.click().run()
    assert not page.exception and not page.error
    assert [b.label for b in page.button if "确认" in b.label] == ["确认所选升级（0 条）"]  # the selection is spent
    with institution.uow() as uow:
        acknowledged = {(e.case_id, e.acknowledged_at is not None) for e in uow.session.scalars(select(Escalation))}
        picked = {case_by_number(uow, n).id for n in (first, second)}
    assert acknowledged == {(case_id, case_id in picked) for case_id, _ in acknowledged}
    assert len(acknowledged) == 3
    page = open_page(app, institution.users["head"], "escalation")
    assert sorted(page.dataframe[0].value["yours"]) == [0, 0, 2]  # the third case still waits


def test_an_archived_case_waits_on_the_board_until_its_escalation_is_acknowledged(institution, app):
    """Issue 10 §3: archiving hid the escalation from the board while the home tile still counted it."""
    from tests.service.test_case_view import to_archive

    closed = to_archive(institution, institution.intake(compensation_claim=60000))  # major (seed 002 art. 18(2))
    page = open_page(app, institution.users["supervisor"], "escalation")
    assert not page.exception
    shown = page.dataframe[0].value
    row = shown[shown["case"] == f"case?case={closed.case_no}"]
    assert list(row["reason"]) == ["升级未确认、已结案，升级未确认"]
    home = open_page(app, institution.users["supervisor"], "home")
    assert [m.value for m in home.metric if m.label == "未确认的升级"] == [str(len(shown))]  # the same set


def test_overdue_rectification_actions_name_the_department_by_its_label(institution, app):
    """Issue 10 §3: the owner department as the pack names it (证券营业部), not its code (branch); the reviewer's
    finding stays inert in the table's CSV download (issue 8 §5)."""
    ref = institution.intake(received_at=at("2026-11-02 10:00"), resolved_at_intake=True, explanation="已当场解释",
                             satisfaction=5)
    with institution.uow() as uow:
        cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)
    supervisor = institution.users["supervisor"]
    with institution.uow() as uow:
        sampling.draw(uow, supervisor, SamplingPlanInput(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                                         rate=1.0))
        [item] = sampling.my_review_items(uow, supervisor)
    with institution.uow() as uow:
        answers = {c.code: ("pass", "") for c in reviews.CHECKLIST}
        finding = reviews.FindingInput("=1+1 回访记录不完整", HANDLING["securities"], institution.users["head"],
                                       date(2026, 11, 25))
        reviews.submit_review(uow, supervisor, item.item_id, answers, [finding], at=at("2026-11-20 10:00"))
    page = open_page(app, supervisor, "escalation")
    assert not page.exception
    actions = page.dataframe[-1].value
    assert list(actions["责任部门"]) == ["证券营业部"]
    assert not actions["整改事项"].iloc[0].startswith("=")
