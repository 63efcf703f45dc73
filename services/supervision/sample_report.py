"""The monthly report's supervision sample (RULES.md §8, issue 12 §2–3): which cases were included by rule and which
were drawn, and the evaluation of each plan whose period meets the month.

A department's report (a head's) lists its department's sampled cases and the evaluation of the strata that are its
department (plans stratified by department); the overall row concerns the whole institution and is left out.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from sqlalchemy import func, select

from db.models import Case, Department
from db.supervision_models import Review, SampleItem
from services.supervision import inclusion
from services.supervision.evaluation import (
    CONCLUSION_NAMES,
    METHOD_NAMES,
    PASS_SCORE,
    PlanEvaluation,
    StratumEvaluation,
    evaluations,
    plans_overlapping,
)
from services.supervision.kpi import Scope, code_labels
from services.unit_of_work import UnitOfWork
from services.words import N_
from services.words import text as word

COVER_ITEM, COVER_TEXT = N_("report.cover.sample"), N_("report.cover.sample_text")  # the cover says how they count
# headers holding a rate in [0, 1]: the workbook formats them as percentages, the printable page too
RATE_COLUMNS = ("rate", "upper", "confidence", "tolerable")
EVALUATION_COLUMNS = ("plan", "period", "stratum", "population", "drawn", "reviewed", "deviations", *RATE_COLUMNS,
                      "conclusion", "method", "included", "included_deviations")
SAMPLE_COLUMNS = ("plan", "case_no", "stratum", "included_by", "reviewed", "deviation")
HEADERS = {"plan": N_("report.sample.plan"), "period": N_("report.sample.period"),
           "stratum": N_("report.sample.stratum"), "population": N_("report.sample.population"),
           "drawn": N_("report.sample.drawn"), "reviewed": N_("report.sample.reviewed"),
           "deviations": N_("report.sample.deviations"), "rate": N_("report.sample.rate"),
           "upper": N_("report.sample.upper"), "confidence": N_("report.sample.confidence"),
           "tolerable": N_("report.sample.tolerable"), "conclusion": N_("report.sample.conclusion"),
           "method": N_("report.sample.method"), "included": N_("report.sample.included"),
           "included_deviations": N_("report.sample.included_deviations"), "case_no": N_("report.sample.case_no"),
           "included_by": N_("report.sample.included_by"), "deviation": N_("report.sample.deviation")}


def _stratum(uow: UnitOfWork, lang: str, by: tuple[str, ...], stratum: str | None) -> str:
    if stratum is None:
        return word("sampling.eval.overall", lang)
    if stratum == "all":
        return word("sampling.stratum_all", lang)
    label = code_labels(uow, lang)
    return " · ".join(label(kind, part) for kind, part in zip(by, stratum.split("/"), strict=False))


def _own(plan: PlanEvaluation, row: StratumEvaluation, department: str | None) -> bool:
    """Whether a department's report shows this row: its own department's strata only."""
    if department is None:
        return True
    if row.stratum is None or "department" not in plan.stratify_by:
        return False
    return row.stratum.split("/")[plan.stratify_by.index("department")] == department


def _evaluation_rows(uow: UnitOfWork, plans: list[PlanEvaluation], department: str | None,
                     lang: str) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for plan in plans:
        period = f"{plan.period_from.isoformat()} – {plan.period_to.isoformat()}"
        for row in [*plan.strata, plan.overall]:
            if not _own(plan, row, department):
                continue
            conclusion = word(CONCLUSION_NAMES[row.conclusion], lang)
            if row.provisional:
                conclusion = word("sampling.eval.provisional", lang, conclusion=conclusion)
            rows.append((plan.plan_id, period, _stratum(uow, lang, plan.stratify_by, row.stratum), row.population,
                         row.drawn, row.reviewed, row.deviations, row.rate, row.upper_bound, plan.confidence,
                         plan.tolerable, conclusion, word(METHOD_NAMES[row.method], lang) if row.method else None,
                         row.included, row.included_deviations))
    return rows


def _sample_rows(uow: UnitOfWork, plans: list[PlanEvaluation], department_id: int | None,
                 lang: str) -> list[tuple[object, ...]]:
    by = {plan.plan_id: plan.stratify_by for plan in plans}
    stmt = (select(SampleItem.plan_id, Case.case_no, SampleItem.stratum, SampleItem.included_by,
                   Review.id.is_not(None), func.coalesce(Review.score < PASS_SCORE, False))
            .join(Case, Case.id == SampleItem.case_id).outerjoin(Review, Review.sample_item_id == SampleItem.id)
            .where(SampleItem.plan_id.in_(list(by))).order_by(SampleItem.plan_id, SampleItem.stratum, Case.case_no))
    if department_id is not None:
        stmt = stmt.where(Case.responsible_department_id == department_id)
    yes, no = word("report.yes", lang), word("report.no", lang)
    return [(plan_id, case_no, _stratum(uow, lang, by[plan_id], stratum), inclusion.described(rules, lang),
             yes if reviewed else no, (yes if deviation else no) if reviewed else None)
            for plan_id, case_no, stratum, rules, reviewed, deviation in uow.session.execute(stmt)]


def sample_tables(uow: UnitOfWork, scope: Scope, first: date, last: date, lang: str) -> dict[str, pd.DataFrame]:
    """Two sheets: the evaluation of each plan meeting the month, and its sampled cases with why each is in."""
    plans = evaluations(uow.session, plans_overlapping(uow.session, first, last))
    department = None if scope.department_id is None else uow.session.scalar(
        select(Department.code).where(Department.id == scope.department_id))
    return {
        word(N_("report.sheet.sample_evaluation"), lang): pd.DataFrame(
            _evaluation_rows(uow, plans, department, lang),
            columns=[word(HEADERS[c], lang) for c in EVALUATION_COLUMNS], dtype=object),
        word(N_("report.sheet.sample"), lang): pd.DataFrame(
            _sample_rows(uow, plans, scope.department_id, lang),
            columns=[word(HEADERS[c], lang) for c in SAMPLE_COLUMNS], dtype=object),
    }
