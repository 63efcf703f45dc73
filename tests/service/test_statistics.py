"""JR/T 0169 statistics (RULES.md §7.4, issue 11 §6) on hand-made bank cases whose figures are worked out here.

    case  received (Shanghai)  codes          source      answered          statutory  notes
    s1    07-06 10:00          A1 B01 C01     own         07-08 10:00 (2 d) met
    s2    08-03 10:00          A3 B03 C11     nfra_12378  08-07 10:00 (4 d) met_late   extended
    s3    09-10 10:00          A3 B03 C11     pboc_12363  —                 —          re-complaint of s1
    s5    09-30 23:30          —              own         —                 —          last minute of Q3
    s4    10-02 10:00          A1 B03 C01     own         —                 —          Q4: not in 2026Q3

2026Q3 (s1, s2, s3, s5): 4 cases; on time 1 of 2 decided = 50.0 %; average days (2 + 4) / 2 = 3.0;
extension rate 1/4 = 25.0 %; repeat rate 1/4 = 25.0 %. By source: own 2 (s1, s5: on time 100.0 %),
NFRA 1, PBOC 1, transfers 2 (on time 0.0 %). Year 2026: 5 cases, categories card 3 (s2, s3, s4), deposit 1, loan 1.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db.engine import owner_url_of
from db.models import Case, CaseDeadline, Extension
from services.casework import cases
from services.errors import InvalidInput, NotPermitted
from services.supervision import statistics
from tests.service.conftest import Institution, at, make_institution

ROOT = Path(__file__).resolve().parents[2]
COLUMNS = ["业务办理渠道（A）", "业务类别（B）", "投诉原因（C）", "投诉量", "法定时限内处理率", "平均处理天数",
           "延期率", "重复投诉率"]


def _statutory(uow, case: Case, status: str, met_at) -> None:
    """The statutory_decision row as the core's clock leaves it (created at intake once it lands)."""
    row = uow.session.scalar(select(CaseDeadline).where(CaseDeadline.case_id == case.id,
                                                        CaseDeadline.milestone == "statutory_decision"))
    if row is None:
        due = case.received_at + timedelta(days=15)
        row = CaseDeadline(case_id=case.id, milestone="statutory_decision", starts_at=case.received_at, due_at=due,
                           original_due_at=due, period="15 calendar_days", source="CBIRC order 2020 no. 3")
        uow.session.add(row)
    row.status, row.met_at = status, met_at


def build(engine) -> tuple[Institution, dict[str, str]]:
    inst = make_institution(engine, "bank")
    plan = {  # name: received, channel, category, codes, source, answered, statutory
        "s1": ("2026-07-06 10:00", "walk_in", "deposit", ("A1", "B01", "C01"), "own", "2026-07-08 10:00", "met"),
        "s2": ("2026-08-03 10:00", "phone", "card", ("A3", "B03", "C11"), "nfra_12378", "2026-08-07 10:00",
               "met_late"),
        "s3": ("2026-09-10 10:00", "phone", "card", ("A3", "B03", "C11"), "pboc_12363", None, None),
        "s5": ("2026-09-30 23:30", "phone", "loan", (None, None, None), "own", None, None),
        "s4": ("2026-10-02 10:00", "walk_in", "card", ("A1", "B03", "C01"), "own", None, None),
    }
    numbers = {}
    for name, (received, channel, category, codes, source, answered, statutory) in plan.items():
        ref = inst.intake(received_at=at(received), channel=channel, category=category,
                          customer_phone=f"1380013800{len(numbers)}")
        numbers[name] = ref.case_no
        with inst.uow() as uow:
            case = cases.case_by_number(uow, ref.case_no)
            case.jrt_channel, case.jrt_business, case.jrt_cause = codes
            case.source = source
            case.feedback_at = at(answered) if answered else None
            if statutory:
                _statutory(uow, case, statutory, case.feedback_at)
            if name == "s2":
                uow.session.add(Extension(case_id=case.id, milestone="resolve", old_due_at=at("2026-08-18 00:00"),
                                          new_due_at=at("2026-09-02 00:00"), reason="情况复杂",
                                          customer_informed_at=at("2026-08-05 10:00"), customer_informed_method="电话",
                                          requested_by_id=inst.users["handler"]))
            if name == "s3":
                case.parent_case_id = uow.session.scalar(select(Case.id).where(Case.case_no == numbers["s1"]))
    return inst, numbers


@pytest.fixture
def q3(engine) -> Institution:
    return build(engine)[0]


def rows(frame: pd.DataFrame) -> list[list]:
    return frame.astype(object).values.tolist()


def test_counts_per_classification_with_the_rates_of_the_quarter(q3):
    with q3.uow() as uow:
        built = statistics.quarterly_statistics(uow, q3.users["supervisor"], "2026Q3")
    table = built.tables["渠道×业务×原因"]
    assert list(table.columns) == COLUMNS
    assert rows(table) == [
        ["A1 营业现场", "B01 人民币储蓄（存款）", "C01 服务态度及服务质量", 1, "100.0%", 2.0, "0.0%", "0.0%"],
        ["A3 电子渠道（网银、电话、移动客户端、网络公众平台、短信等）", "B03 银行卡", "C11 定价收费", 2, "0.0%", 4.0,
         "50.0%", "50.0%"],
        ["未分类", "未分类", "未分类", 1, "—", "—", "0.0%", "0.0%"],
        ["合计", "", "", 4, "50.0%", 3.0, "25.0%", "25.0%"]]
    by_cause = built.tables["按投诉原因"]
    assert rows(by_cause)[:2] == [["C01 服务态度及服务质量", 1, "100.0%", 2.0, "0.0%", "0.0%"],
                                  ["C11 定价收费", 2, "0.0%", 4.0, "50.0%", "50.0%"]]


def test_own_channels_and_regulator_transfers_are_counted_apart(q3):
    with q3.uow() as uow:
        built = statistics.quarterly_statistics(uow, q3.users["supervisor"], "2026Q3")
    assert rows(built.tables["按来源"]) == [
        ["本机构渠道", 2, "100.0%", 2.0, "0.0%", "0.0%"],
        ["金融监管总局 12378 转办", 1, "0.0%", 4.0, "100.0%", "0.0%"],
        ["人民银行 12363 转办", 1, "—", "—", "0.0%", "100.0%"],
        ["监管转办合计", 2, "0.0%", 4.0, "50.0%", "50.0%"],
        ["合计", 4, "50.0%", 3.0, "25.0%", "25.0%"]]


def test_an_empty_quarter_shows_dashes_not_zeros(q3):
    with q3.uow() as uow:
        built = statistics.quarterly_statistics(uow, q3.users["supervisor"], "2026Q1", lang="en")
    assert rows(built.tables["Channel x business x cause"]) == [["Total", "", "", 0, "—", "—", "—", "—"]]


def test_the_annual_disclosure_in_chinese_and_english(q3):
    with q3.uow() as uow:
        zh = statistics.annual_disclosure(uow, q3.users["supervisor"], 2026)
        en = statistics.annual_disclosure(uow, q3.users["supervisor"], 2026, lang="en")
    assert zh.startswith("2026 年，本机构共受理客户投诉 5 件，其中监管部门转办 2 件。"
                         "投诉主要集中在银行卡（3 件，占 60.0%）、")
    assert "已答复客户 2 件，平均处理时长 3.0 天。在法定时限内作出处理决定的比例为 50.0%。" in zh
    assert en.startswith("In 2026 we received 5 customer complaints, 2 of them transferred by regulators. "
                         "They mainly concerned Bank card (3, 60.0%), ")
    assert en.endswith("on average 3.0 days after receipt. 50.0% of the decisions were made within the statutory "
                       "time limit.")


@pytest.mark.parametrize("quarter", ["2026Q5", "2026-07", "26Q3", "Q3", ""])
def test_a_bad_quarter_is_refused(quarter):
    with pytest.raises(InvalidInput) as refused:
        statistics.quarter_bounds(quarter)
    assert refused.value.field == "quarter"


def test_quarters_have_their_days():
    assert [statistics.quarter_bounds(f"2026Q{n}") for n in (1, 4)] == [
        (pd.Timestamp("2026-01-01").date(), pd.Timestamp("2026-03-31").date()),
        (pd.Timestamp("2026-10-01").date(), pd.Timestamp("2026-12-31").date())]


def test_only_supervision_executives_and_the_admin_read_the_statistics(q3):
    with pytest.raises(NotPermitted), q3.uow() as uow:
        statistics.quarterly_statistics(uow, q3.users["head"], "2026Q3")
    with q3.uow() as uow:
        assert statistics.quarterly_statistics(uow, q3.users["admin"], "2026Q3").tables


def test_the_workbook_has_the_three_dimensions_and_no_formulas(q3):
    with q3.uow() as uow:
        built = statistics.quarterly_statistics(uow, q3.users["supervisor"], "2026Q3")
    out = io.BytesIO()
    statistics.to_xlsx(built, out)
    book = load_workbook(io.BytesIO(out.getvalue()))
    assert book.sheetnames == ["说明", "渠道×业务×原因", "按来源", "按渠道", "按业务类别", "按投诉原因"]
    assert [c.value for c in book["渠道×业务×原因"][1]] == COLUMNS
    assert not any(isinstance(c.value, str) and c.value.startswith("=") for r in book["渠道×业务×原因"].iter_rows()
                   for c in r)


# --- the command line, in a subprocess against the test database ----------------------------------


def cli(engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": owner_url_of(engine.url)}
    return subprocess.run([sys.executable, "-m", "services", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=120, check=False)


def test_stats_command_writes_the_workbook(q3, engine, tmp_path):
    out = tmp_path / "stats.xlsx"
    done = cli(engine, "stats", "--quarter", "2026Q3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    book = load_workbook(out)
    assert [c.value for c in book["渠道×业务×原因"][1]][:3] == COLUMNS[:3]
    assert [c.value for c in book["按来源"][6]][:2] == ["合计", 4]
    assert "2026Q3" in done.stdout


def test_stats_command_refuses_a_bad_quarter_in_one_line(engine, tmp_path):
    done = cli(engine, "stats", "--quarter", "2026Q5", "--out", str(tmp_path / "x.xlsx"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: quarter: ")
    assert "2026Q5" in done.stderr and not (tmp_path / "x.xlsx").exists()
