"""The monthly compliance report (RULES.md §6; seed 000 art. 11, 003 §7, §9): counts and rates by
category, grade, department and channel, overdue and escalated cases, and supervision findings.

Every figure comes from `services.supervision.kpi` for the month, so it can be reproduced from the listed cases.
Tables carry column names in the reader's language (Chinese by default; issue 9 §6); `to_xlsx` writes one
sheet per table, `to_html` a printable page.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO, TypedDict

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from services import export
from services.casework.case_view import escalation_reason
from services.errors import InvalidInput
from services.rules.calendar import SHANGHAI, end_of_day, format_deadline, start_of_day
from services.rules.citation import cite
from services.rules.policy import Policy
from services.supervision import sample_report, transfer_stats
from services.supervision.kpi import RATES, SYSTEM, Scope, case_frame, code_labels, kpi_frames, scope_for
from services.unit_of_work import UnitOfWork
from services.words import LOCALES
from services.words import text as word

BREAKDOWNS = ("category", "grade", "department", "channel")
# (numerator column, denominator column, value column) — RULES.md §5; named `kpi.column.*`, how counted `report.how.*`
OVERVIEW = (
    (None, None, "volume"), ("resolve_met", "resolve_due", "timeliness_rate"),
    ("resolved_within_first_deadline", "resolve_due", "first_deadline_rate"),
    ("first_contact_met", "first_contact_due", "first_contact_rate"), ("satisfied", "rated", "satisfaction_rate"),
    ("repeat_complaints", "volume", "repeat_rate"), (None, None, "resolved"), (None, "resolved", "avg_handling_hours"),
    (None, "resolved", "p90_handling_hours"), (None, None, "overdue_backlog"), (None, None, "extensions"),
    (None, None, "escalations"), (None, None, "compensation_claimed"), (None, None, "compensation_paid"),
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
        raise InvalidInput("error.report.bad_month", field="month", month=month) from None
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
    start, end = start_of_day(first), end_of_day(last)
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


def monthly_report(uow: UnitOfWork, actor_id: int, month: str, now: datetime | None = None,
                   lang: str = "zh") -> Report:
    """The report as the user may see it: a department head gets their department's."""
    return build_report(uow, scope_for(uow.session, actor_id), month, now, lang)


def system_report(uow: UnitOfWork, month: str, now: datetime | None = None, lang: str = "zh") -> Report:
    """The whole institution's report for the command line, which runs as the system, not as a user."""
    return build_report(uow, SYSTEM, month, now, lang)


class _Period(TypedDict):
    """The month every figure of the report is counted over (passed on as keywords)."""

    date_from: date
    date_to: date
    now: datetime | None


def build_report(uow: UnitOfWork, scope: Scope, month: str, now: datetime | None = None,
                 lang: str = "zh") -> Report:
    first, last = month_bounds(month)
    session, generated, now = uow.session, uow.now(), uow.at(now, "now")
    period = _Period(date_from=first, date_to=last, now=now)
    departments = dict(session.execute(text("SELECT code, name FROM departments")).tuples().all())
    if lang != "zh":  # the directory's names are Chinese: a pack department goes by its pack label
        label = code_labels(uow, lang)
        departments = {c: name if label("department", c) == c else label("department", c)
                       for c, name in departments.items()}
    scope_name = word("report.whole_institution", lang) if scope.department_id is None else session.scalar(
        text("SELECT name FROM departments WHERE id = :id"), {"id": scope.department_id})
    findings = findings_for_month(session, month, scope.department_id, now=now)
    frames = kpi_frames(uow, scope, bys=("all", *BREAKDOWNS), **period, lang=lang)  # one read (issue 13 §2)
    tables = {word("report.sheet.overview", lang): _overview(frames["all"], findings, lang)}
    for by in BREAKDOWNS:
        tables[word(f"report.sheet.{by}", lang)] = _breakdown(frames[by], lang)
    overdue = case_frame(uow, scope, kpi="overdue_backlog", by="all", group=None, **period)
    escalated = case_frame(uow, scope, kpi="escalations", by="all", group=None, **period)
    tables[word("report.sheet.overdue", lang)] = _cases(uow, overdue, departments, (
        "case_no", "department", "assignee", "category", "grade", "state", "received_at", "due_at"), lang)
    tables[word("report.sheet.escalated", lang)] = _cases(uow, escalated, departments, (
        "case_no", "department", "category", "grade", "state", "event_at", "to_role", "reason"), lang)
    # regulator transfers counted separately, by source (issue 11 §3, RULES.md §7.3)
    tables[word("report.sheet.transfers", lang)] = transfer_stats.labelled(
        transfer_stats.by_source(uow, scope, first, last, now), lang)
    tables[word("report.sheet.findings", lang)] = pd.DataFrame(
        [(f.action_id, f.finding, f.owner_department, f.due_date.isoformat(),
          word("report.finding.closed" if f.closed_at else "report.finding.open", lang), _local(f.closed_at),
          word("report.yes" if f.overdue else "report.no", lang)) for f in findings],
        columns=[word(f"report.finding.{c}", lang) for c in ("action_id", "finding", "owner", "due_date", "status",
                                                             "closed_at", "overdue")])
    tables |= sample_report.sample_tables(uow, scope, first, last, lang)  # RULES.md §8: by rule or drawn; evaluation
    return Report(month, word("report.title", lang, year=first.year, month=first.month), scope_name, generated,
                  {word("report.sheet.cover", lang): _cover(month, scope_name, generated, now, lang,
                                                            uow.policy()), **tables})


def _cover(month: str, scope: str, generated: datetime, now: datetime | None, lang: str,
           policy: Policy) -> pd.DataFrame:
    # the institution's own document, not our RULES.md or seed numbers (issue 10 §3)
    basis = word("report.cover.basis_text", lang, document=cite(policy.source, policy.documents, lang))
    as_of = format_deadline(min(now or generated, end_of_day(month_bounds(month)[1])))
    lines = [("month", month), ("scope", scope), ("generated", _local(generated)), ("as_of", as_of),
             ("basis", basis), ("method", word("report.cover.method_text", lang)),
             ("sample", word(sample_report.COVER_TEXT, lang))]
    rows = [(word(f"report.cover.{item}", lang), value) for item, value in lines]
    rows += [(word(f"kpi.column.{column}", lang), word(f"report.how.{column}", lang)) for *_, column in OVERVIEW]
    return pd.DataFrame(rows, columns=[word("report.cover.item", lang), word("report.cover.content", lang)])


def _overview(totals: pd.DataFrame, findings: list[Finding], lang: str) -> pd.DataFrame:
    figures: dict[Hashable, Any] = totals.iloc[0].to_dict()
    rows = [(word(f"kpi.column.{column}", lang), figures[num] if num else None, figures[den] if den else None,
             _rounded(column, figures[column])) for num, den, column in OVERVIEW]
    rows += [(word("report.findings", lang), None, None, len(findings)),
             (word("report.findings_overdue", lang), None, None,
              sum(f.overdue and f.closed_at is None for f in findings))]
    return pd.DataFrame(rows, columns=[word(k, lang) for k in ("report.indicator", "kpi.column.numerator",
                                                                "kpi.column.denominator", "report.value")],
                        dtype=object)


def _rounded(column: str, value: Any) -> Any:
    if value is None or pd.isna(value):
        return None
    if column in RATES:
        return round(float(value), 4)
    return round(float(value), 1) if column.endswith("hours") else value


def _breakdown(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    frame = frame.copy()
    for column in frame.columns:
        frame[column] = [_rounded(column, v) for v in frame[column]]
    return frame.rename(columns=lambda c: word("report.code" if c == "group" else f"kpi.column.{c}", lang))


def _cases(uow: UnitOfWork, frame: pd.DataFrame, departments: dict[str, str],
           columns: tuple[str, ...], lang: str) -> pd.DataFrame:
    code = code_labels(uow, lang)
    if "reason" in columns:  # an automatic escalation is named from its rule in the reader's language
        frame = frame.assign(reason=[
            escalation_reason(code, rule if isinstance(rule, str) else None, _escalation_reason(reason) or "", lang)
            for rule, reason in zip(frame["rule_key"], frame["reason"], strict=True)])
    frame = frame.reindex(columns=list(columns)).copy()
    labels: dict[str, Callable[[Any], Any]]  # a cell as the report shows it
    labels = {"department": lambda v: departments.get(v, v), "state": lambda v: word(f"state.{v}", lang),
              "category": lambda v: code("category", v), "grade": lambda v: code("grade", v),
              "to_role": lambda v: code("role", v),
              "received_at": _local, "event_at": _local,
              "due_at": lambda v: None if pd.isna(v) else format_deadline(v.to_pydatetime())}
    for column, label in labels.items():
        if column in frame:
            frame[column] = [label(v) for v in frame[column]]
    return frame.rename(columns=lambda c: word(f"report.case.{c}", lang))


def _escalation_reason(reason: str | None) -> str | None:
    """An automatic escalation records the whole assessment; keep its escalation lines."""
    lines = [line for line in (reason or "").split("; ") if line.startswith("上报")]
    return "；".join(lines) if lines else reason


def _local(at: Any) -> str | None:
    if at is None or pd.isna(at):
        return None
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"


def _is_rate(header: str) -> bool:
    """A rate's column (or overview row), in either language."""
    return header in {word(f"kpi.column.{column}", lang) for column in RATES for lang in LOCALES} | {
        word(sample_report.HEADERS[column], lang) for column in sample_report.RATE_COLUMNS for lang in LOCALES}


def _is_value(header: str) -> bool:
    return header in {word("report.value", lang) for lang in LOCALES}


def to_xlsx(report: Report, path_or_buffer: str | BinaryIO) -> None:
    """One sheet per table, Chinese sheet names; rates formatted as percentages; text never a formula."""
    export.write_xlsx(report.tables, path_or_buffer, _style)


def _style(sheet: Any, table: pd.DataFrame) -> None:
    for index, header in enumerate(table.columns, start=1):
        width = max([len(str(header))] + [len(str(v)) for v in table[header].head(200)])
        sheet.column_dimensions[sheet.cell(row=1, column=index).column_letter].width = min(60, 4 + 1.6 * width)
        rates = [True] * len(table) if _is_rate(str(header)) else (
            [_is_rate(str(i)) for i in table.iloc[:, 0]] if _is_value(str(header)) else [])
        for row, is_rate in enumerate(rates, start=2):
            if is_rate:
                sheet.cell(row=row, column=index).number_format = "0.0%"


def _cell(header: str, value: Any, indicator: str = "") -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, float) and (_is_rate(header) or (_is_value(header) and _is_rate(indicator))):
        return f"{value:.1%}"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def to_html(report: Report, lang: str = "zh") -> str:
    """A printable page: every table in order, rates as percentages."""
    meta = word("report.meta", lang, scope=report.scope, at=_local(report.generated_at))
    parts = [f"<h1>{html.escape(report.title)}</h1>", f"<p class='meta'>{html.escape(meta)}</p>"]
    code = word("report.code", lang)
    for name, table in report.tables.items():
        # a reader goes by the label beside it; the workbook keeps the code column (issue 10 §7)
        table = table.drop(columns=[code]) if code in table.columns else table
        parts.append(f"<section><h2>{html.escape(name)}</h2>")
        if table.empty:
            parts.append(f"<p>{html.escape(word('report.none', lang))}</p></section>")
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
    return (f"<!doctype html><html lang='{'zh-CN' if lang == 'zh' else 'en'}'><head><meta charset='utf-8'>"
            f"<title>{html.escape(report.title)}"
            f"</title><style>{style}</style></head><body>{''.join(parts)}</body></html>")
