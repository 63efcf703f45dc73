"""监督抽查's results (issue 12 §2–3): a drawn plan's cases with why each is in the sample, and the evaluation of
the reviewed sample per stratum and overall."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.components.supervision import _stratum
from dashboard.i18n import lang, t
from dashboard.session import uow
from dashboard.text import literal
from services.rules.policy import Policy
from services.supervision import evaluation, inclusion, sampling
from services.supervision.evaluation import PlanEvaluation, StratumEvaluation


def _percent(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 1)


def _row(policy: Policy, shown: PlanEvaluation, row: StratumEvaluation) -> dict[str, object]:
    conclusion = t(evaluation.CONCLUSION_NAMES[row.conclusion])
    return {
        "stratum": t("sampling.eval.overall") if row.stratum is None else _stratum(policy, row.stratum,
                                                                                    shown.stratify_by),
        "population": row.population, "drawn": row.drawn, "reviewed": row.reviewed, "deviations": row.deviations,
        "rate": _percent(row.rate), "upper": _percent(row.upper_bound),
        "conclusion": t("sampling.eval.provisional", conclusion=conclusion) if row.provisional else conclusion,
        "included": row.included, "included_deviations": row.included_deviations}


def _evaluation(policy: Policy, shown: PlanEvaluation) -> None:
    tolerable = (t("sampling.eval.no_tolerable") if shown.tolerable is None
                 else f"{100 * shown.tolerable:g}%")
    st.caption(t("sampling.eval.basis", confidence=f"{100 * shown.confidence:g}%", tolerable=tolerable))
    st.caption(t("sampling.eval.deviation_rule"))
    percent = st.column_config.NumberColumn
    st.dataframe(pd.DataFrame([_row(policy, shown, row) for row in [*shown.strata, shown.overall]]),
                 hide_index=True, placeholder=tables.MISSING, column_config={
                     "stratum": st.column_config.TextColumn(t("sampling.stratum")),
                     "population": st.column_config.NumberColumn(t("sampling.eval.population"),
                                                                 help=t("sampling.drawn_from_help")),
                     "drawn": st.column_config.NumberColumn(t("sampling.drawn")),
                     "reviewed": st.column_config.NumberColumn(t("sampling.done")),
                     "deviations": st.column_config.NumberColumn(t("sampling.eval.deviations")),
                     "rate": percent(t("sampling.eval.rate"), format="%.1f%%"),
                     "upper": percent(t("sampling.eval.upper"), format="%.1f%%"),
                     "conclusion": st.column_config.TextColumn(t("sampling.eval.conclusion")),
                     "included": st.column_config.NumberColumn(t("sampling.census")),
                     "included_deviations": st.column_config.NumberColumn(t("sampling.eval.included_deviations"))})
    overall = shown.overall
    if overall.method:
        st.caption(literal(t(evaluation.METHOD_NAMES[overall.method])))
    if overall.formula:
        st.caption(literal(overall.formula))


def show(user_id: int, policy: Policy) -> None:
    """Pick a drawn plan: its cases, why each is in the sample, and the evaluation so far."""
    with uow() as work:
        plans = evaluation.drawn_plans(work, user_id)
    if not plans:
        st.info(t("sampling.no_plans"))
        return
    by_id = {p.plan_id: p for p in plans}
    chosen = by_id[st.selectbox(t("sampling.results_plan"), list(by_id), key="sr_plan", format_func=lambda i: t(
        "sampling.plan_option", plan=i, start=by_id[i].period_from.isoformat(), end=by_id[i].period_to.isoformat(),
        method=t(f"sampling.sizing.{by_id[i].sizing}"), reviewed=by_id[i].reviewed, size=by_id[i].sample_size))]
    with uow() as work:
        shown = evaluation.evaluate_plan(work, user_id, chosen.plan_id)
        rows = sampling.sample_rows(work, user_id, chosen.plan_id)
    st.subheader(t("sampling.eval.title"))
    _evaluation(policy, shown)
    st.subheader(t("sampling.sample"))
    st.dataframe(pd.DataFrame([{
        "case": tables.case_link(r.case_no), "stratum": _stratum(policy, r.stratum, shown.stratify_by),
        "reason": inclusion.described(r.included_by, lang()), "reviewer": r.reviewer,
        "status": t("sampling.done") if r.reviewed else t("sampling.todo")} for r in rows]),
        hide_index=True, column_config={
            "case": tables.case_column(t("field.case_no")),
            "stratum": st.column_config.TextColumn(t("sampling.stratum")),
            "reason": st.column_config.TextColumn(t("sampling.reason")),
            "reviewer": st.column_config.TextColumn(t("sampling.reviewer")),
            "status": st.column_config.TextColumn(t("sampling.status"))})
