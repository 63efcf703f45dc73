"""The audit page (issue 8 §7) and the download helper, through the real app."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEvent, Case
from services.casework import case_view
from services.institution import audit
from tests.app.test_workflow import open_page
from tests.service.conftest import Institution


def downloads(inst: Institution) -> list[tuple[str, int | None]]:
    with inst.uow() as uow:
        rows = uow.session.execute(select(AuditEvent.detail, AuditEvent.case_id)
                                   .where(AuditEvent.action == "downloaded").order_by(AuditEvent.seq))
        return [(detail["what"], case_id) for detail, case_id in rows]


def test_an_admin_filters_the_trail_verifies_the_chain_and_the_export_is_recorded(institution, app):
    case_no = institution.intake().case_no
    with institution.uow() as uow:
        case_view.case_detail(uow, institution.users["clerk"], case_no)
    page = open_page(app, institution.users["admin"], "audit")
    assert not page.exception
    assert page.title[0].value == "审计日志"
    shown = page.dataframe[0].value
    assert {"查看案件", "启用政策包"} <= set(shown["操作"])
    page.selectbox(key="audit_action").set_value("case_viewed")
    page.text_input(key="audit_case").input(case_no)
    page = page.run()
    shown = page.dataframe[0].value
    assert list(shown["操作"]) == ["查看案件"] and list(shown["用户名"]) == ["clerk"]
    assert list(shown["投诉编号"]) == [case_no]
    page = page.button(key="audit_verify").click().run()
    assert page.success[0].value.startswith("审计链完整：已检查 2 行。")
    page = page.toggle(key="audit_export").set_value(True).run()
    page = page.get("download_button")[0].click().run()
    assert not page.exception
    assert downloads(institution) == [("audit_xlsx", None)]
    with institution.uow() as uow:
        assert audit.verify(uow.session).intact


def test_the_print_page_download_is_recorded_against_its_case(institution, app):
    case_no = institution.intake().case_no
    page = open_page(app, institution.users["clerk"], "print", case=case_no)
    assert not page.exception
    page = page.get("download_button")[0].click().run()
    with institution.uow() as uow:
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == case_no))
        printed = uow.session.scalars(select(AuditEvent.case_id).where(AuditEvent.action == "case_printed")).all()
    assert downloads(institution) == [("handling_form", case_id)]
    assert printed == [case_id]  # the rerun after the click does not print it twice
