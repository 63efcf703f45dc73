"""The monthly compliance report (RULES.md §6) on the hand-built cases of test_kpi, read back from the
workbook, and the `report` / `kpi` / `import` commands against the test database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, text

from db.engine import owner_url_of
from db.models import Case, Department
from db.supervision_models import RectificationAction, Review, SampleItem, SamplingPlan
from services.errors import InvalidInput, NotPermitted
from services.supervision import report, reviews, sampling
from services.unit_of_work import transaction
from tests.service.conftest import Institution, at
from tests.service.test_import import GOOD, xlsx
from tests.service.test_kpi import NOW, build_cases

ROOT = Path(__file__).resolve().parents[2]
SHEETS = ["说明", "总览", "按类别", "按等级", "按部门", "按渠道", "逾期案件", "升级案件", "监督发现",
          "抽查评价", "抽查样本"]


def add_findings(inst: Institution, case_no: str) -> None:
    """Four rectification actions; October's report follows the first two (due by 10-31, not closed before)."""
    with inst.uow() as uow:
        supervisor = inst.users["supervisor"]
        service = uow.session.scalar(select(Department.id).where(Department.code == "customer_service"))
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == case_no))
        plan = SamplingPlan(period_from=date(2026, 9, 1), period_to=date(2026, 9, 30), population_filter={},
                            stratify_by=["department"], rate=1, seed="s", population_size=1, sample_size=1,
                            created_by_id=supervisor)
        uow.session.add(plan)
        uow.flush()
        item = SampleItem(plan_id=plan.id, case_id=case_id, stratum="customer_service", reason="drawn",
                          reviewer_id=supervisor)
        uow.session.add(item)
        uow.flush()
        review = Review(sample_item_id=item.id, reviewer_id=supervisor, checklist={})
        uow.session.add(review)
        uow.flush()
        closed = {"status": "closed", "evidence": "已整改", "closed_by_id": supervisor}
        for finding, due, extra in (
                ("回访记录缺失", date(2026, 10, 20), {}),  # open and overdue at the month's end
                ("延期未告知客户", date(2026, 10, 25), {**closed, "closed_at": at("2026-10-24 10:00")}),
                ("受理登记不完整", date(2026, 9, 30), {**closed, "closed_at": at("2026-09-29 10:00")}),
                ("首问责任人未跟踪", date(2026, 11, 15), {})):
            uow.session.add(RectificationAction(review_id=review.id, finding=finding, owner_department_id=service,
                                                owner_id=supervisor, due_date=due, **extra))


@pytest.fixture
def october(engine):
    inst, numbers = build_cases(engine)
    add_findings(inst, numbers["c10"])
    return inst, numbers


def sheet_rows(book, name: str) -> list[list]:
    return [[c.value for c in row] for row in book[name].iter_rows(min_row=2)]


def test_the_workbook_has_one_sheet_per_table_with_the_months_figures(october):
    inst, no = october
    with inst.uow() as uow:
        monthly = report.monthly_report(uow, inst.users["supervisor"], "2026-10", now=NOW)
    buffer = io.BytesIO()
    report.to_xlsx(monthly, buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == SHEETS
    overview = {name: (num, den, value) for name, num, den, value in sheet_rows(book, "总览")}
    assert overview["投诉量"][2] == 9
    assert overview["处理及时率"] == (5, 7, pytest.approx(5 / 7, abs=1e-4))  # test_kpi's hand count
    assert overview["满意率"] == (4, 6, pytest.approx(4 / 6, abs=1e-4))
    assert overview["重复投诉率"] == (1, 9, pytest.approx(1 / 9, abs=1e-4))
    assert (overview["逾期未办结数"][2], overview["升级次数"][2], overview["延期次数"][2]) == (2, 10, 1)
    assert (overview["监督发现（整改事项）"][2], overview["其中逾期未整改"][2]) == (2, 1)
    assert book["总览"]["D3"].number_format == "0.0%"  # the timeliness rate
    departments = {row[1]: row for row in sheet_rows(book, "按部门")}
    assert set(departments) == {"客服中心", "业务部门"}
    assert departments["客服中心"][2] == 8  # 投诉量
    assert [r[0] for r in sheet_rows(book, "逾期案件")] == [no["c11"], no["c4"]]  # by due date
    assert sheet_rows(book, "逾期案件")[1][7] == "2026-10-21 09:30"  # 办结期限
    escalated = sheet_rows(book, "升级案件")
    assert len(escalated) == 10 and "总经理" in {row[6] for row in escalated}  # c4, by hand
    # one reason per escalation, naming its addressee as the sweep's do (issue 10 §4)
    assert escalated[0][7] == "按政策包升级规则上报负责业务的副总经理（等级：一般）"
    findings = sheet_rows(book, "监督发现")
    assert [(r[1], r[4], r[6]) for r in findings] == [
        ("回访记录缺失", "整改中", "是"), ("延期未告知客户", "已关闭", "否")]


def test_a_department_head_gets_the_report_of_their_department(october):
    inst, _ = october
    with inst.uow() as uow:
        monthly = report.monthly_report(uow, inst.users["head"], "2026-10", now=NOW)
    assert monthly.scope == "客服中心"
    assert list(monthly.tables["按部门"]["名称"]) == ["客服中心"]
    assert monthly.tables["总览"].set_index("指标").loc["投诉量", "数值"] == 8


def test_the_printable_page_shows_every_table_with_rates_as_percentages(october):
    inst, _ = october
    with inst.uow() as uow:
        page = report.to_html(report.monthly_report(uow, inst.users["supervisor"], "2026-10", now=NOW))
    assert "<h1>2026年10月投诉处理合规报告</h1>" in page
    assert all(f"<h2>{name}</h2>" in page for name in SHEETS)
    assert "<td>71.4%</td>" in page


def test_the_printable_page_names_groups_by_their_labels_not_their_codes(october):  # issue 10 §7
    inst, _ = october
    with inst.uow() as uow:
        monthly = report.monthly_report(uow, inst.users["supervisor"], "2026-10", now=NOW)
    page = report.to_html(monthly)
    codes = {c for name in ("按部门", "按类别", "按渠道", "按等级") for c in monthly.tables[name]["代码"]}
    assert codes and not any(f"<td>{c}</td>" in page for c in codes) and "<th>代码</th>" not in page
    assert "<td>客服中心</td>" in page
    assert "代码" in monthly.tables["按部门"]  # the workbook keeps them: a spreadsheet user matches on codes


def test_the_cover_cites_the_institutions_document_not_our_rules_file(october):
    inst, _ = october
    with inst.uow() as uow:
        cover = report.monthly_report(uow, inst.users["supervisor"], "2026-10", now=NOW).tables["说明"]
    basis = " ".join(str(v) for v in cover.to_numpy().ravel())
    assert "本机构《客户投诉解决制度》" in basis  # the futures pack's document (issue 10 §3)
    assert "RULES.md" not in basis and "seed" not in basis


def test_the_report_is_refused_to_staff_and_needs_a_real_month(october):
    inst, _ = october
    with pytest.raises(NotPermitted), inst.uow() as uow:
        report.monthly_report(uow, inst.users["handler"], "2026-10")
    with pytest.raises(InvalidInput), inst.uow() as uow:
        report.monthly_report(uow, inst.users["supervisor"], "2026-13")


def test_findings_come_from_the_supervision_tables_through_one_query(october):
    inst, _ = october
    with inst.uow() as uow:
        found = report.findings_for_month(uow.session, "2026-10", now=NOW)
        september = report.findings_for_month(uow.session, "2026-09", now=NOW)
    assert [(f.finding, f.overdue) for f in found] == [("回访记录缺失", True), ("延期未告知客户", False)]
    assert [f.finding for f in september] == ["受理登记不完整"]  # closed on 09-29, before its due date


def test_without_the_supervision_tables_the_report_has_no_findings(october, owner_engine):
    # DDL needs the owner, and is transactional in PostgreSQL: rolled back when the block ends
    with transaction(owner_engine) as uow:
        uow.session.execute(text("DROP TABLE rectification_actions"))
        assert report.findings_for_month(uow.session, "2026-10", now=NOW) == []
        monthly = report.build_report(uow, report.SYSTEM, "2026-10", now=NOW)
    assert monthly.tables["监督发现"].empty


# --- the supervision sample (RULES.md §8, issue 12 §2–3) --------------------------------------------


def sample_october(inst: Institution) -> dict[str, str]:
    """Every October case received, dissatisfied ones by rule and half the rest drawn; all reviewed, the first
    drawn case failing one checklist item. Returns case number → how it was included."""
    with inst.uow() as uow:
        plan_id = sampling.draw(uow, inst.users["supervisor"], sampling.SamplingPlanInput(
            period_from=date(2026, 10, 1), period_to=date(2026, 10, 31), period_basis="received", states=(),
            stratify_by=(), rate=0.5, include=("dissatisfied",), evaluation_tolerable=0.05, seed="2026-10"))
        rows = sampling.sample_rows(uow, inst.users["supervisor"], plan_id)
        first = next(r.item_id for r in rows if not r.included_by)
        for row in rows:
            answers = {c.code: ("pass", "") for c in reviews.CHECKLIST}
            if row.item_id == first:
                answers["case_record"] = ("fail", "未记录事实认定")
            reviews.submit_review(uow, row.reviewer_id, row.item_id, answers)
    return {r.case_no: r.reason for r in rows}


def test_the_report_says_which_cases_were_included_by_rule_and_evaluates_the_sample(october):
    inst, _ = october
    reasons = sample_october(inst)
    assert set(reasons.values()) == {"rule", "drawn"}
    with inst.uow() as uow:
        monthly = report.monthly_report(uow, inst.users["supervisor"], "2026-10", now=NOW)
    buffer = io.BytesIO()
    report.to_xlsx(monthly, buffer)
    book = load_workbook(io.BytesIO(buffer.getvalue()))
    sample = {row[1]: row for row in sheet_rows(book, "抽查样本")}
    assert {no: row[3] for no, row in sample.items()} == {
        no: "按规则纳入：客户不满意" if reason == "rule" else "随机抽取" for no, reason in reasons.items()}
    assert sorted(row[5] for row in sample.values()) == ["否"] * (len(sample) - 1) + ["是"]
    evaluation = sheet_rows(book, "抽查评价")
    assert [row[2] for row in evaluation] == ["全部案件", "合计"]  # unstratified: one stratum, then overall
    overall = evaluation[-1]
    drawn = sum(reason == "drawn" for reason in reasons.values())
    assert (overall[4], overall[5], overall[6]) == (drawn, drawn, 1)
    assert overall[7] == pytest.approx(1 / drawn) and overall[8] > 0.05 and overall[10] == 0.05
    assert overall[11] == "控制无效"
    assert book["抽查评价"]["H3"].number_format == "0.0%"
    page = report.to_html(monthly)
    assert "<h2>抽查评价</h2>" in page and "<td>控制无效</td>" in page and "<td>5.0%</td>" in page
    assert "<td>按规则纳入：客户不满意</td>" in page


def test_a_department_head_sees_the_sample_of_their_department_without_the_overall(october):
    inst, _ = october
    sample_october(inst)
    with inst.uow() as uow:
        monthly = report.monthly_report(uow, inst.users["head"], "2026-10", now=NOW)
        department = uow.session.scalar(select(Department.id).where(Department.code == "customer_service"))
        theirs = set(uow.session.scalars(select(Case.case_no).where(Case.responsible_department_id != department)))
    assert monthly.tables["抽查评价"].empty  # an unstratified plan has no stratum that is their department
    listed = set(monthly.tables["抽查样本"]["案件编号"])
    assert listed and not listed & theirs


# --- the command line, in a subprocess against the test database ----------------------------------


def cli(engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": owner_url_of(engine.url)}
    return subprocess.run([sys.executable, "-m", "services", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)


def test_report_command_writes_the_workbook(october, engine, tmp_path):
    out = tmp_path / "report.xlsx"
    done = cli(engine, "report", "--month", "2026-10", "--out", str(out))
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert book.sheetnames == SHEETS
    assert {r[0]: r[3] for r in sheet_rows(book, "总览")}["投诉量"] == 9
    html = tmp_path / "report.html"
    assert cli(engine, "report", "--month", "2026-10", "--out", str(html)).returncode == 0
    assert "2026年10月投诉处理合规报告" in html.read_text(encoding="utf-8")


def test_report_command_writes_the_report_in_english_when_asked(october, engine, tmp_path):
    """Issue 9 §6: the same figures, with sheets, headers and indicators in the reader's language."""
    out = tmp_path / "report.xlsx"
    done = cli(engine, "--lang", "en", "report", "--month", "2026-10", "--out", str(out))
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert book.sheetnames == ["Notes", "Overview", "By category", "By grade", "By department", "By channel",
                               "Overdue cases", "Escalated cases", "Supervision findings", "Sample evaluation",
                               "Sampled cases"]
    assert {r[0]: r[3] for r in sheet_rows(book, "Overview")}["Complaints"] == 9
    assert book["Overview"]["D3"].number_format == "0.0%"  # the timeliness rate, found in English too
    assert done.stdout.startswith("Complaint handling compliance report, 2026-10:")


def test_kpi_command_prints_json_or_a_table(october, engine):
    done = cli(engine, "kpi", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "department", "--json")
    assert done.returncode == 0, done.stderr
    rows = {r["group"]: r for r in json.loads(done.stdout)}
    assert (rows["customer_service"]["resolve_met"], rows["customer_service"]["resolve_due"]) == (4, 6)
    table = cli(engine, "kpi", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "grade")
    assert table.returncode == 0 and "general" in table.stdout and "timeliness_rate" in table.stdout
    bad = cli(engine, "kpi", "--from", "2026-10-01", "--to", "2026-10-31", "--by", "weather")
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1


def test_import_command_imports_or_lists_every_error(futures, engine, tmp_path):
    good, bad = tmp_path / "cases.xlsx", tmp_path / "bad.xlsx"
    good.write_bytes(xlsx(GOOD))
    bad.write_bytes(xlsx([{**GOOD[0], "customer_name": None, "channel": "信鸽"}]))
    refused = cli(engine, "import", str(bad), "--as", "clerk")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 2
    done = cli(engine, "import", str(good), "--as", "clerk")
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.split()) == 3 and all(n.startswith("TS-2026101") for n in done.stdout.split())
