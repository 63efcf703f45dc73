"""An admin's edits to the active pack reach every screen that reads the pack (issue 9, the confirmed bug:
the case page, the queue, the board, the KPI tables and the printed form used the shipped file)."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from db.models import Setting
from services.administration import admin
from services.casework import cases, escalation, handling_form, queue
from services.casework.case_view import case_detail
from services.supervision import kpi
from services.unit_of_work import PACK_EDITS
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


# issue 9 §1: the unit of work is the one door to the institution's pack, its calendar and the time. Each name
# below may appear only in its home: where it is defined, the door itself, and the shipped-file reads that are
# legitimate (set-up's pack list, the training library's shipped scenarios, the pure `assess --policy` CLI).
CLOCK = {"services/rules/clock.py"}
HOMES: dict[str, set[str]] = {
    "load_policy": {"services/rules/packs.py", "services/unit_of_work.py", "services/training/scenarios/__init__.py",
                    "services/__main__.py", "pages/setup.py"},
    "load_calendar": set(), "active_policy": set(), "policy_for": set(),  # the old side doors
    "datetime.now": CLOCK, "datetime.today": CLOCK, "datetime.utcnow": CLOCK, "date.today": CLOCK,
    "time.time": CLOCK,
}


def _side_doors(tree: ast.AST) -> set[str]:
    """The names of HOMES that a module imports, calls or refers to."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            found |= {name for alias in node.names for name in (alias.name, f"{node.module}.{alias.name}")}
        elif isinstance(node, ast.Name):
            found.add(node.id)
        elif isinstance(node, ast.Attribute):
            owner = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", "")
            found |= {node.attr, f"{owner}.{node.attr}"}
    return found & HOMES.keys()


def test_nothing_reads_the_pack_the_calendar_or_the_time_but_through_the_unit_of_work():
    root = Path(__file__).resolve().parents[2]
    outside = sorted(f"{relative}: {name}" for folder in ("services", "dashboard", "pages", "demo")
                     for path in (root / folder).rglob("*.py")
                     for relative in [path.relative_to(root).as_posix()]
                     for name in _side_doors(ast.parse(path.read_text(encoding="utf-8")))
                     if relative not in HOMES[name])
    assert outside == []


def test_a_category_cause_and_channel_added_to_the_pack_take_a_case_with_no_python_edit(futures):
    """Issue 9 §4: the pack file is the truth for its own codes; the database holds no copy of them."""
    inst = futures
    with inst.uow() as uow:
        data = uow.policy().to_data()
        data["categories"]["wealth_management"] = {**data["categories"]["service_quality"],
                                                   "zh": "资管产品", "en": "Wealth management"}
        data["causes"]["third_party"] = {"zh": "第三方原因", "en": "third party"}
        data["channels"]["sms"] = {"zh": "短信", "en": "SMS", "source": "institution's own channel"}
        uow.session.add(Setting(key=PACK_EDITS, value={"futures": data}))  # the admin's edited copy
    ref = inst.intake(category="wealth_management", cause="third_party", channel="sms")
    with inst.uow() as uow:
        page = case_detail(uow, inst.users["clerk"], ref.case_no)
        case = cases.case_by_number(uow, ref.case_no)
        assert (case.category, case.cause, case.channel) == ("wealth_management", "third_party", "sms")
        assert uow.policy().label("category", page.category) == "资管产品"
