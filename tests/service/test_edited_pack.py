"""An admin's edits to the active pack reach every screen that reads the pack (issue 9, the confirmed bug:
the case page, the queue, the board, the KPI tables and the printed form used the shipped file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from db.models import Setting
from services.administration import admin
from services.casework import cases, escalation, handling_form, queue
from services.casework.case_view import case_detail
from services.institution import settings
from services.supervision import kpi
from tests.service.conftest import HANDLING, at

RENAMED = "服务质量（本机构）"


def test_an_edited_pack_reaches_the_case_page_queue_board_kpis_and_printed_form(futures):
    inst = futures
    ref = inst.intake()
    with inst.uow() as uow:
        ref = cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING["futures"],
                            handler_id=inst.users["handler"], handling_form="请核实", at=at("2026-11-02 10:30"))
    with inst.uow() as uow:
        ref = cases.first_contact(uow, inst.users["handler"], ref.case_no, ref.version, note="已联系",
                                  at=at("2026-11-02 11:00"))
    with inst.uow() as uow:
        resolve = next(d for d in case_detail(uow, inst.users["handler"], ref.case_no).deadlines
                       if d.milestone == "resolve")
    # 60% into the period: on time with the shipped window (the last 25%), at risk with the edited 50%.
    now = resolve.starts_at + (resolve.due_at - resolve.starts_at) * 0.6
    with inst.uow() as uow:
        before = case_detail(uow, inst.users["handler"], ref.case_no, now=now)
    assert "extend" in before.allowed_actions
    assert next(d for d in before.deadlines if d.milestone == "resolve").sla.status == "on_time"

    for path, value in (("extension.max_count", 0), ("warning_window", 0.5),
                        ("categories.service_quality.zh", RENAMED)):
        with inst.uow() as uow:
            admin.set_pack_value(uow, inst.users["admin"], path, value)

    with inst.uow() as uow:
        page = case_detail(uow, inst.users["handler"], ref.case_no, now=now)
        assert "extend" not in page.allowed_actions and page.extendable == []
        assert next(d for d in page.deadlines if d.milestone == "resolve").sla.status == "at_risk"
        row = queue.my_queue(uow, inst.users["handler"], view="assigned", now=now).rows[0]
        assert (row.deadline.milestone, row.deadline.status) == ("resolve", "at_risk")
        board = {r.case_no: r for r in escalation.board(uow, inst.users["head"], now=now)}
        assert "at_risk" in board[ref.case_no].reasons
        table = kpi.kpis(uow, inst.users["supervisor"], date_from=date(2026, 11, 1), date_to=date(2026, 11, 30),
                         by="category")
        assert list(table["label"]) == [RENAMED]
        printed = handling_form.to_html(handling_form.handling_form(uow, inst.users["handler"], ref.case_no))
        assert RENAMED in printed


def test_only_the_institutions_door_reads_a_pack_file():
    """services.institution.settings.policy_for is the door; the shipped file is read directly only where no institution
    exists yet or by contract: set-up's pack list, the training library (shipped scenarios), `assess --policy`."""
    root = Path(__file__).resolve().parents[2]
    allowed = {"services/rules/packs.py", "services/institution/settings.py",
               "services/training/scenarios/__init__.py",
               "services/__main__.py", "pages/setup.py"}
    readers = {str(p.relative_to(root)) for folder in ("services", "dashboard", "pages") for p in
               (root / folder).rglob("*.py") if "load_policy(" in p.read_text(encoding="utf-8")}
    assert readers <= allowed, readers - allowed


def test_a_category_cause_and_channel_added_to_the_pack_take_a_case_with_no_python_edit(futures):
    """Issue 9 §4: the pack file is the truth for its own codes; the database holds no copy of them."""
    inst = futures
    with inst.uow() as uow:
        data = settings.active_policy(uow.session).to_data()
        data["categories"]["wealth_management"] = {**data["categories"]["service_quality"],
                                                   "zh": "资管产品", "en": "Wealth management"}
        data["causes"]["third_party"] = {"zh": "第三方原因", "en": "third party"}
        data["channels"]["sms"] = {"zh": "短信", "en": "SMS", "source": "institution's own channel"}
        uow.session.add(Setting(key=settings.PACK_EDITS, value={"futures": data}))  # the admin's edited copy
        uow.commit()
    ref = inst.intake(category="wealth_management", cause="third_party", channel="sms")
    with inst.uow() as uow:
        page = case_detail(uow, inst.users["clerk"], ref.case_no)
        case = cases.case_by_number(uow, ref.case_no)
        assert (case.category, case.cause, case.channel) == ("wealth_management", "third_party", "sms")
        assert settings.active_policy(uow.session).label("category", page.category) == "资管产品"
