"""The monthly compliance report (RULES.md §6; seed 000 art. 11, 003 §7, §9): counts and rates by
category, grade, department and channel, overdue and escalated cases, and supervision findings.

Every figure comes from `services.supervision.kpi` for the month, so it can be reproduced from the listed cases.
Tables carry Chinese column names; `to_xlsx` writes one sheet per table, `to_html` a printable page.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from services import export
from services.errors import InvalidInput
from services.rules.calendar import SHANGHAI, format_deadline
from services.supervision.kpi import COLUMNS_ZH, RATES, SYSTEM, Scope, case_frame, code_labels, kpi_frame, scope_for
from services.unit_of_work import UnitOfWork

BREAKDOWNS = {"按类别": "category", "按等级": "grade", "按部门": "department", "按渠道": "channel"}
STATES_ZH = {"registered": "已登记", "forwarded": "已转办", "in_progress": "处理中", "resolved": "已办结",
             "feedback_given": "已反馈", "return_visit": "已回访", "archived": "已归档", "withdrawn": "已撤诉"}
CASE_COLUMNS_ZH = {"case_no": "案件编号", "department": "责任部门", "assignee": "处理人", "category": "类别",
                   "grade": "等级", "state": "状态", "received_at": "受理时间", "due_at": "办结期限",
                   "event_at": "上报时间", "to_role": "上报对象", "reason": "上报原因"}
# (indicator, numerator column, denominator column, value column, how it is counted) — RULES.md §5
OVERVIEW = (
    ("投诉量", None, None, "volume", "本月受理的案件"),
    ("处理及时率", "resolve_met", "resolve_due", "timeliness_rate",
     "本月到期的办结期限中按期完成的比例；到期仍未办结的计为不及时"),
    ("首个期限内办结率", "resolved_within_first_deadline", "resolve_due", "first_deadline_rate",
     "同上，以延期前的原始期限计"),
    ("首次联系及时率", "first_contact_met", "first_contact_due", "first_contact_rate",
     "本月到期的首次联系（回复）期限中按期完成的比例"),
    ("满意率", "satisfied", "rated", "satisfaction_rate", "本月反馈的案件中“满意”和“非常满意”的比例"),
    ("重复投诉率", "repeat_complaints", "volume", "repeat_rate", "本月受理的案件中再投诉的比例"),
    ("办结数", None, None, "resolved", "本月办结的案件"),
    ("平均处理时长（小时）", None, "resolved", "avg_handling_hours", "本月办结案件自受理至办结的平均小时数"),
    ("90%处理时长（小时）", None, "resolved", "p90_handling_hours", "本月办结案件处理时长的第 90 百分位数"),
    ("逾期未办结数", None, None, "overdue_backlog", "月末（24:00）已过办结期限仍未办结的案件"),
    ("延期次数", None, None, "extensions", "本月批准的延期"),
    ("升级次数", None, None, "escalations", "本月的上报（含受理时按规则自动上报）"),
    ("索赔金额（元）", None, None, "compensation_claimed", "本月受理案件的索赔金额合计"),
    ("赔付金额（元）", None, None, "compensation_paid", "本月受理案件的赔付金额合计"),
)


@dataclass(frozen=True)
class Finding:
    """A rectification action raised by a supervision review (RULES.md §6)."""

    action_id: int
    review_id: int
    finding: str
    owner_department: str
    due_date: date
    status: str
    closed_at: datetime | None
    overdue: bool


@dataclass(frozen=True)
class Report:
    month: str
    title: str
    scope: str
    generated_at: datetime
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # sheet name → table, in order


def month_bounds(month: str) -> tuple[date, date]:
    """First and last day of "YYYY-MM"."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except (TypeError, ValueError):
        raise InvalidInput(f"月份应为 YYYY-MM：{month}", f"expected a month as YYYY-MM: {month}",
                           field="month") from None
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first, following - timedelta(days=1)


def findings_for_month(session: Session, month: str, department_id: int | None = None, *,
                       now: datetime) -> list[Finding]:
    """Rectification actions followed in the month: due by its end and not closed before it began,
    or closed during it; overdue when still open after its due date at the month's end (or now).
    The narrow seam to supervision: plain SQL, and no findings (empty list) while the
    `rectification_actions` table does not exist."""
    if session.scalar(text("SELECT to_regclass('rectification_actions')")) is None:
        return []
    first, last = month_bounds(month)
    start = datetime.combine(first, datetime.min.time(), SHANGHAI)
    end = datetime.combine(last + timedelta(days=1), datetime.min.time(), SHANGHAI)
    as_of = min(now, end).astimezone(SHANGHAI)
    scoped = "" if department_id is None else " AND a.owner_department_id = :department"
    rows = session.execute(text(
        "SELECT a.id, a.review_id, a.finding, d.name, a.due_date, a.status, a.closed_at, "
        "COALESCE((a.closed_at AT TIME ZONE 'Asia/Shanghai')::date > a.due_date, "
        "a.due_date < CAST(:as_of AS timestamptz) AT TIME ZONE 'Asia/Shanghai') "
        "FROM rectification_actions a JOIN departments d ON d.id = a.owner_department_id "
        "WHERE (a.closed_at IS NULL OR a.closed_at >= :start) AND (a.due_date <= :last OR a.closed_at < :end)"
        f"{scoped} ORDER BY a.due_date, a.id"),
        {"start": start, "end": end, "last": last, "as_of": as_of, "department": department_id})
    return [Finding(*row) for row in rows]


def monthly_report(uow: UnitOfWork, actor_id: int, month: str, now: datetime | None = None) -> Report:
    """The report as the user may see it: a department head gets their department's."""
    return build_report(uow, scope_for(uow.session, actor_id), month, now)


def system_report(uow: UnitOfWork, month: str, now: datetime | None = None) -> Report:
    """The whole institution's report for the command line, which runs as the system, not as a user."""
    return build_report(uow, SYSTEM, month, now)


def build_report(uow: UnitOfWork, scope: Scope, month: str, now: datetime | None = None) -> Report:
    first, last = month_bounds(month)
    session, generated, now = uow.session, uow.now(), uow.at(now, "now")
    period = {"date_from": first, "date_to": last, "now": now}
    departments = dict(session.execute(text("SELECT code, name FROM departments")).tuples().all())
    scope_name = "全机构" if scope.department_id is None else session.scalar(
        text("SELECT name FROM departments WHERE id = :id"), {"id": scope.department_id})
    findings = findings_for_month(session, month, scope.department_id, now=now)
    totals = kpi_frame(uow, scope, by="all", **period)
    tables = {"总览": _overview(totals, findings)}
    for sheet, by in BREAKDOWNS.items():
        tables[sheet] = _breakdown(kpi_frame(uow, scope, by=by, **period))
    overdue = case_frame(uow, scope, kpi="overdue_backlog", by="all", group=None, **period)
    escalated = case_frame(uow, scope, kpi="escalations", by="all", group=None, **period)
    tables["逾期案件"] = _cases(uow, overdue, departments, ("case_no", "department", "assignee", "category",
                                                            "grade", "state", "received_at", "due_at"))
    tables["升级案件"] = _cases(uow, escalated, departments, ("case_no", "department", "category", "grade",
                                                              "state", "event_at", "to_role", "reason"))
    tables["监督发现"] = pd.DataFrame(
        [(f.action_id, f.finding, f.owner_department, f.due_date.isoformat(), "已关闭" if f.closed_at else "整改中",
          _local(f.closed_at), "是" if f.overdue else "否") for f in findings],
        columns=["整改编号", "发现问题", "责任部门", "整改期限", "状态", "关闭时间", "是否逾期"])
    year, number = first.year, first.month
    return Report(month, f"{year}年{number}月投诉处理合规报告", scope_name, generated,
                  {"说明": _cover(month, scope_name, generated, now), **tables})


def _cover(month: str, scope: str, generated: datetime, now: datetime | None) -> pd.DataFrame:
    as_of = format_deadline(min(now or generated, datetime.combine(month_bounds(month)[1] + timedelta(days=1),
                                                                   datetime.min.time(), SHANGHAI)))
    lines = [("报告月份", month), ("范围", scope), ("生成时间", _local(generated)), ("统计截止", as_of),
             ("依据", "RULES.md §5、§6；seed 000 第十一条、seed 003 第七、九条"),
             ("口径", "各项指标的分子、分母及对应案件均可在系统“考核”页逐项查询复核")]
    lines += [(name, how) for name, *_, how in OVERVIEW]
    return pd.DataFrame(lines, columns=["项目", "内容"])


def _overview(totals: pd.DataFrame, findings: list[Finding]) -> pd.DataFrame:
    figures: dict[str, Any] = totals.iloc[0].to_dict()
    rows = [(name, figures[num] if num else None, figures[den] if den else None, _rounded(column, figures[column]))
            for name, num, den, column, _ in OVERVIEW]
    rows += [("监督发现（整改事项）", None, None, len(findings)),
             ("其中逾期未整改", None, None, sum(f.overdue and f.closed_at is None for f in findings))]
    return pd.DataFrame(rows, columns=["指标", "分子", "分母", "数值"], dtype=object)


def _rounded(column: str, value: Any) -> Any:
    if value is None or pd.isna(value):
        return None
    if column in RATES:
        return round(float(value), 4)
    return round(float(value), 1) if column.endswith("hours") else value


def _breakdown(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        frame[column] = [_rounded(column, v) for v in frame[column]]
    return frame.rename(columns={"group": "代码", "label": "名称", **COLUMNS_ZH})


def _cases(uow: UnitOfWork, frame: pd.DataFrame, departments: dict[str, str],
           columns: tuple[str, ...]) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns)).copy()
    code = code_labels(uow)
    labels = {"department": lambda v: departments.get(v, v), "state": lambda v: STATES_ZH.get(v, v),
              "category": lambda v: code("category", v), "grade": lambda v: code("grade", v),
              "to_role": lambda v: code("role", v), "reason": _escalation_reason,
              "received_at": _local, "event_at": _local,
              "due_at": lambda v: None if pd.isna(v) else format_deadline(v.to_pydatetime())}
    for column, label in labels.items():
        if column in frame:
            frame[column] = [label(v) for v in frame[column]]
    return frame.rename(columns=CASE_COLUMNS_ZH)


def _escalation_reason(reason: str | None) -> str | None:
    """An automatic escalation records the whole assessment; keep its escalation lines."""
    lines = [line for line in (reason or "").split("; ") if line.startswith("上报")]
    return "；".join(lines) if lines else reason


def _local(at: Any) -> str | None:
    if at is None or pd.isna(at):
        return None
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _is_rate(header: str) -> bool:
    return header.endswith("率")


def to_xlsx(report: Report, path_or_buffer: str | IO[bytes]) -> None:
    """One sheet per table, Chinese sheet names; rates formatted as percentages; text never a formula."""
    export.write_xlsx(report.tables, path_or_buffer, _style)


def _style(sheet: Any, table: pd.DataFrame) -> None:
    for index, header in enumerate(table.columns, start=1):
        width = max([len(str(header))] + [len(str(v)) for v in table[header].head(200)])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(60, 4 + 1.6 * width)
        rates = [True] * len(table) if _is_rate(str(header)) else (
            [_is_rate(str(i)) for i in table.iloc[:, 0]] if header == "数值" else [])
        for row, is_rate in enumerate(rates, start=2):
            if is_rate:
                sheet.cell(row=row, column=index).number_format = "0.0%"


def _cell(header: str, value: Any, indicator: str = "") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and (_is_rate(header) or (header == "数值" and _is_rate(indicator))):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def to_html(report: Report) -> str:
    """A printable page: every table in order, rates as percentages."""
    parts = [f"<h1>{html.escape(report.title)}</h1>",
             f"<p class='meta'>范围：{html.escape(report.scope)} · 生成时间：{_local(report.generated_at)}</p>"]
    for name, table in report.tables.items():
        parts.append(f"<section><h2>{html.escape(name)}</h2>")
        if table.empty:
            parts.append("<p>（无）</p></section>")
            continue
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in table.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(str(c), v, str(row[0])))}</td>"
                             for c, v in zip(table.columns, row, strict=True)) + "</tr>"
            for row in table.itertuples(index=False))
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></section>")
    style = ("@page { size: A4 landscape; margin: 12mm; } body { font-family: 'SimSun', 'Noto Serif CJK SC', serif; "
             "font-size: 9pt; } h1 { text-align: center; font-size: 15pt; } .meta { text-align: center; } "
             "table { border-collapse: collapse; width: 100%; margin-bottom: 4mm; } "
             "th, td { border: 1px solid #000; padding: 1mm 1.5mm; text-align: left; vertical-align: top; } "
             "th { background: #f2f2f2; } section { break-inside: avoid-page; }")
    return (f"<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'><title>{html.escape(report.title)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
