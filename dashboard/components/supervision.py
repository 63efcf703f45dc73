"""监督抽查's three parts: plan and draw, review an assigned case, follow rectification actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.components.transfer_panel import transfer_mark
from dashboard.i18n import choosing, code, lang, t
from dashboard.session import attempt, now, uow
from dashboard.text import literal
from services import words
from services.export import neutralised
from services.institution.directory import handlers_by_department
from services.rules.policy import Policy
from services.supervision import inclusion, reviews, sampling, transfer_stats


def _stratum(policy: Policy, stratum: str, by: tuple[str, ...] = sampling.SamplingPlanInput.stratify_by) -> str:
    """A stratum ("outlet/general") by its labels (营业网点 · 一般), issue 10 §2; "all" when unstratified."""
    if stratum == "all":
        return t("sampling.stratum_all")
    return " · ".join(code(policy, kind, part) for kind, part in zip(by, stratum.split("/"), strict=False))


def _sizing(left: Any, right: Any) -> dict[str, Any]:
    """The plan's sizing method and its parameters (issue 12 §1: besides rate and margin, the auditor's)."""
    methods = {"rate": t("sampling.sizing.rate"), "margin": t("sampling.sizing.margin"),
               "attribute": t("sampling.sizing.attribute"), "aql": t("sampling.sizing.aql")}
    method = st.radio(t("sampling.sizing"), list(methods), format_func=methods.__getitem__, horizontal=True,
                      key="sp_sizing")
    if method == "rate":
        return {"rate": left.number_input(t("sampling.rate"), 0.01, 1.0, 0.1, 0.01, key="sp_rate"),
                "evaluation_tolerable": _evaluation_tolerable(right)}
    if method == "aql":
        st.caption(t("sampling.aql_help"))
        return {"rate": None, "aql": True, "evaluation_tolerable": _evaluation_tolerable(right)}
    confidence = left.select_slider(t("sampling.confidence"), [0.9, 0.95, 0.99], value=0.95, key="sp_conf")
    if method == "margin":
        return {"rate": None, "confidence": confidence,
                "margin": right.number_input(t("sampling.margin"), 0.01, 0.5, 0.05, 0.01, key="sp_margin"),
                "evaluation_tolerable": _evaluation_tolerable(right)}
    tolerable = right.number_input(t("sampling.tolerable"), 0.01, 0.5, 0.05, 0.01, key="sp_tolerable",
                                   help=t("sampling.tolerable_help"))
    accepted = left.number_input(t("sampling.accepted"), 0, 50, 0, key="sp_accepted", help=t("sampling.accepted_help"))
    return {"rate": None, "confidence": confidence, "tolerable": tolerable, "accepted": int(accepted)}


def _evaluation_tolerable(column: Any) -> float | None:
    """Issue 12 §3: a plan not sized by a tolerable rate may name one to be evaluated against; empty: none."""
    return column.number_input(t("sampling.evaluation_tolerable"), 0.01, 0.5, None, 0.01, key="sp_eval_tolerable",
                               help=t("sampling.evaluation_tolerable_help"))


def _risk_rules() -> tuple[bool, tuple[str, ...]]:
    """Issue 12 §2: major/L1 and the risk rules whose cases are always in the sample."""
    st.caption(t("sampling.rules"))
    columns = st.columns(len(sampling.RISK_RULES) + 1)
    census = columns[0].checkbox(t("sampling.all_major"), value=True, key="sp_census")
    chosen = tuple(rule for rule, column in zip(sampling.RISK_RULES, columns[1:], strict=True)
                   if column.checkbox(t(inclusion.RULE_NAMES[rule]), key=f"sp_rule_{rule}",
                                      help=t(inclusion.RULE_HELP[rule])))
    return census, chosen


def _size(summary: sampling.PlanSummary) -> None:
    """Before drawing (issue 12 §1): the size, its method and formula, and the population it is drawn from."""
    size = summary.size
    methods = {"rate": t("sampling.method.rate"), "confidence_margin": t("sampling.method.confidence_margin"),
               "attribute_hypergeometric": t("sampling.method.attribute_hypergeometric"),
               "attribute_binomial": t("sampling.method.attribute_binomial"),
               "iso2859_1_level_ii": t("sampling.method.iso2859_1_level_ii")}
    first, second, third = st.columns(3)
    first.metric(t("sampling.planned_size"), size.n)
    second.metric(t("sampling.drawn_from"), size.population if size.population is not None else tables.MISSING,
                  help=t("sampling.drawn_from_help"))
    third.metric(t("sampling.population_total"), summary.population)
    st.caption(literal(methods.get(size.method, size.method)))
    st.caption(literal(size.formula))
    if summary.drawn < size.n:  # a stratum's maximum (or its few cases) keeps the draw below the size
        st.warning(t("sampling.below_size", drawn=summary.drawn, n=size.n))


def plan(user_id: int, policy: Policy) -> None:
    today = now().date()
    first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    left, right = st.columns(2)
    period = left.date_input(t("sampling.period"), (first, today.replace(day=1) - timedelta(days=1)), key="sp_period")
    seed = right.text_input(t("sampling.seed"), key="sp_seed")
    departments = left.multiselect(t("field.department"), list(policy.departments), key="sp_departments",
                                   format_func=lambda d: code(policy, "department", d), **choosing())
    grades = right.multiselect(t("field.grade"), list(dict.fromkeys(g.code for g in policy.grades)), key="sp_grades",
                               format_func=lambda g: code(policy, "grade", g), **choosing())
    sizing = _sizing(left, right)
    low = left.number_input(t("sampling.min"), 0, 1000, 1, key="sp_min")
    high = right.number_input(t("sampling.max"), 0, 100000, 0, key="sp_max", help=t("sampling.max_help"))
    census, include = _risk_rules()
    if not isinstance(period, tuple) or len(period) != 2:
        st.stop()
    chosen = sampling.SamplingPlanInput(period_from=period[0], period_to=period[1], departments=tuple(departments),
                                        grades=tuple(grades), **sizing,
                                        min_per_stratum=int(low), max_per_stratum=int(high) or None,
                                        include_all_major=census, include=include, seed=seed or None)
    done, summary = attempt(sampling.plan_summary, user_id, chosen, reading=True)  # the preview (issue 13 §5)
    if not done:
        return
    _size(summary)
    if summary.by_rule:  # how many cases each rule takes in full (a case may fall under several)
        counts = [t("sampling.rule_count", rule=t(inclusion.RULE_NAMES[rule]), n=n)
                  for rule, n in summary.by_rule.items()]
        st.caption(t("sampling.by_rule", rules=words.joined(counts, lang())))
    strata = summary.strata
    # issue 10 §2: how much of each stratum the sample takes, as a bar in percent with one decimal
    st.dataframe(pd.DataFrame([{t("sampling.stratum"): _stratum(policy, s.stratum),
                                t("sampling.population"): s.population, t("sampling.census"): s.all_major,
                                t("sampling.drawn"): s.drawn,
                                t("sampling.share"): round(100 * s.sample / s.population, 1) if s.population else None}
                               for s in strata]),
                 hide_index=True, placeholder=tables.MISSING, column_config={t("sampling.share"): (
                     st.column_config.ProgressColumn(format="%.1f%%", min_value=0, max_value=100))})
    if st.button(t("sampling.draw"), type="primary"):
        done, plan_id = attempt(sampling.draw, user_id, chosen)
        if done:
            st.success(t("sampling.drawn_ok", plan=plan_id))


def review(user_id: int, policy: Policy) -> None:
    with uow() as work:
        items = sampling.my_review_items(work, user_id)
        marks = transfer_stats.case_sources(work, user_id, [i.case_no for i in items])  # issue 11 §3
    if not items:
        st.info(t("sampling.no_items"))
        return
    # the reviewer's sampled cases as a table (issue 10 §2): each links to its case; those to review first
    st.dataframe(pd.DataFrame([{
        "case": tables.case_link(i.case_no), "stratum": _stratum(policy, i.stratum),
        "reason": inclusion.described(i.included_by, lang()),
        "status": t("sampling.done") if i.reviewed else t("sampling.todo"),
        "transfer": transfer_mark(marks.get(i.case_no, ("own", None))[0])} for i in items]),
        hide_index=True, column_config={
            "transfer": st.column_config.TextColumn(t("field.transfer_mark")),
            "case": tables.case_column(t("field.case_no")),
            "stratum": st.column_config.TextColumn(t("sampling.stratum")),
            "reason": st.column_config.TextColumn(t("sampling.reason")),
            "status": st.column_config.TextColumn(t("sampling.status"))})
    by_id = {i.item_id: i for i in items}
    item = by_id[st.selectbox(t("sampling.item"), list(by_id), key="rv_item", format_func=lambda i: (
        f"{by_id[i].case_no} · {_stratum(policy, by_id[i].stratum)} · "
        f"{t('sampling.done' if by_id[i].reviewed else 'sampling.todo')}"))]
    with uow() as work:
        suggested = {s.item: s for s in reviews.suggestions(work, user_id, item.item_id)}
        owners = [(dept, uid, name) for dept, people in handlers_by_department(work.session).items()
                  for uid, name in people]
    with st.form(f"review_{item.item_id}"):
        answers = {}
        for check in reviews.CHECKLIST:
            hint = suggested.get(check.code)
            left, right = st.columns([1, 2])
            weight = f"（{check.weight}）" if lang() == "zh" else f" ({check.weight})"  # no full-width in English
            result = left.radio(literal(check.label(lang()) + weight), ["pass", "fail", "na"],
                                horizontal=True, index=["pass", "fail", "na"].index(hint.result) if hint else 0,
                                format_func=lambda r: t(f"review.{r}"), key=f"rv_{item.item_id}_{check.code}")
            note = right.text_input(t("review.note"), value=hint.text(lang()) if hint else "",
                                    key=f"rv_{item.item_id}_{check.code}_note")
            answers[check.code] = (result, note)
        finding = st.text_area(t("review.finding"), key=f"rv_{item.item_id}_finding")
        owner = st.selectbox(t("review.owner"), owners, key=f"rv_{item.item_id}_owner",
                             format_func=lambda o: f"{code(policy, 'department', o[0])} · {o[2]}")
        due = st.date_input(t("review.due"), now().date() + timedelta(days=14), key=f"rv_{item.item_id}_due")
        if st.form_submit_button(t("review.submit")):
            findings = [reviews.FindingInput(finding, owner[0], owner[1], due)] if finding.strip() and owner else []
            attempt(reviews.submit_review, user_id, item.item_id, answers, findings, confirm=True)
    supervision_visit(user_id, item.item_id)


def supervision_visit(user_id: int, item_id: int) -> None:
    """The reviewer's own call to the customer (seed 003 §6: 回访客户)."""
    with st.form(f"visit_{item_id}"):
        st.caption(t("review.visit"))
        method = st.text_input(t("form.method"), key=f"sv_{item_id}_method")
        satisfaction = st.select_slider(t("form.satisfaction"), [1, 2, 3, 4, 5], value=4, key=f"sv_{item_id}_sat",
                                        format_func=lambda v: t(f"satisfaction.{v}"))
        note = st.text_area(t("form.note"), key=f"sv_{item_id}_note")
        if st.form_submit_button(t("review.visit_save")):
            attempt(reviews.record_supervision_visit, user_id, item_id, method=method, satisfaction=satisfaction,
                    note=note, confirm=True)


def actions(user_id: int) -> None:
    with uow() as work:
        rows = reviews.open_actions(work, user_id, None)
        policy = work.policy()
    if not rows:
        st.info(t("sampling.no_actions"))
        return
    # issue 10 §2: the case as a link, the department by its label, the due day formatted; the finding is the
    # reviewer's text, inert in the toolbar's CSV download (issue 8 §5)
    st.dataframe(neutralised(pd.DataFrame([{
        "case": tables.case_link(a.case_no), "finding": a.finding,
        "department": code(policy, "department", a.owner_department), "owner": a.owner, "due": a.due_date,
        "overdue": a.overdue} for a in rows])), hide_index=True, column_config={
            "case": tables.case_column(t("field.case_no")),
            "finding": st.column_config.TextColumn(t("board.finding"), width="large"),
            "department": st.column_config.TextColumn(t("field.department")),
            "owner": st.column_config.TextColumn(t("field.assignee")),
            "due": tables.day_column(t("field.due")),
            "overdue": st.column_config.CheckboxColumn(t("sla.overdue"))})
    with st.form("close_action"):
        by_id = {a.id: a for a in rows}
        chosen = st.selectbox(t("review.action"), list(by_id), format_func=lambda i: f"{by_id[i].case_no} · "
                              f"{by_id[i].finding[:30]}", key="ca_action")
        evidence = st.text_area(t("review.evidence"), key="ca_evidence")
        if st.form_submit_button(t("review.close")):
            attempt(reviews.close_action, user_id, chosen, evidence, confirm=True)
