"""The regulator's clock on the pages (issue 11 §1, RULES.md §7.1): both clocks on the case page and in the queue,
and the further extension's approval step, asked by the handler and decided by an executive."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from db.models import ExtensionApproval
from tests.app.test_shell import submit
from tests.app.test_workflow import open_page
from tests.service.conftest import Institution, make_institution
from tests.service.test_statutory import executive, extend, forwarded, received


@pytest.fixture
def bank(app_env) -> Institution:
    return make_institution(app_env, "bank")


def test_the_case_page_and_the_queue_show_both_clocks(app, bank):
    ref = forwarded(bank, received(bank))
    page = open_page(app, bank.users["handler"], "case", case=ref.case_no)
    assert not page.exception
    deadlines = page.dataframe[0].value if page.dataframe else None
    shown = " ".join(str(v) for v in deadlines.to_numpy().ravel()) if deadlines is not None else ""
    shown += " ".join(m.value for m in page.markdown)
    assert "办结" in shown and "法定处理时限" in shown  # the pack's own and the regulator's
    assert {"暂停法定时限（鉴定、检测、评估、调解）", "延长法定处理时限"} <= {e.label for e in page.expander}
    queue = open_page(app, bank.users["handler"], "queue")
    assert not queue.exception
    assert queue.dataframe[0].value["statutory"].iloc[0].endswith("2026-10-08 24:00")


def test_the_further_extension_is_asked_for_then_approved_by_an_executive(app, bank):
    vp = executive(bank)
    ref = extend(bank, forwarded(bank, received(bank)))
    page = open_page(app, bank.users["handler"], "case", case=ref.case_no)
    labels = {e.label for e in page.expander}
    assert "申请再次延长（需审批）" in labels and "延长法定处理时限" not in labels  # not without approval
    page.text_area(key="rq_reason").input("需司法鉴定，情况特别复杂")
    page = submit(page, "action_request_extension")
    assert not page.exception and not page.error
    approver = open_page(app, vp, "case", case=ref.case_no)
    assert "审批延长申请" in {e.label for e in approver.expander}
    approver.text_area(key="ap_reason").input("同意延长")
    approver = submit(approver, "action_approve_extension")
    assert not approver.exception and not approver.error
    with bank.uow() as uow:
        approval = uow.session.scalars(select(ExtensionApproval)).one()
        assert (approval.approved, approval.decided_by_id, approval.decision_reason) == (True, vp, "同意延长")
    page = open_page(app, bank.users["handler"], "case", case=ref.case_no)
    assert "延长法定处理时限" in {e.label for e in page.expander}
