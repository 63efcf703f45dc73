"""监督抽查's calibration and reviewer-quality tabs (RULES.md §8, issue 12 §4, §6)."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.i18n import choosing, lang, t
from dashboard.session import attempt
from dashboard.text import literal
from services.export import neutralised
from services.supervision import calibration, quality
from services.supervision.reviews import CHECKLIST

RESULTS = ["pass", "fail", "na"]


def _item(code: str) -> str:
    return t("calibration.overall") if code == "overall" else next(c.label(lang()) for c in CHECKLIST if c.code == code)


def _create(user_id: int) -> None:
    """A supervisor picks closed cases (by number) and two or more reviewers."""
    done, people = attempt(calibration.reviewers, user_id)
    if not done:
        return
    names = dict(people)
    with st.form("cal_new"):
        title = st.text_input(t("calibration.name"), key="cal_title")
        numbers = st.text_area(t("calibration.cases"), key="cal_cases", help=t("calibration.cases_help"))
        chosen = st.multiselect(t("calibration.reviewers"), list(names), format_func=names.__getitem__,
                                key="cal_reviewers", **choosing())
        if st.form_submit_button(t("calibration.create")):
            done, created = attempt(calibration.create_session, user_id, title,
                                    [n for n in re.split(r"[\s,，、;；]+", numbers) if n], chosen)
            if done:
                st.success(t("calibration.created", session=created))


def _hand_in(user_id: int, view: calibration.SessionView) -> None:
    """The reviewer's own blind checklist for each case still to review."""
    todo = [(cid, no) for cid, no in view.cases if cid not in view.mine]
    if not todo:
        st.info(t("calibration.all_handed_in"))
        return
    by_id = dict(todo)
    case_id = st.selectbox(t("calibration.case"), list(by_id), format_func=by_id.__getitem__,
                           key=f"cal_{view.id}_case")
    with st.form(f"cal_{view.id}_{case_id}"):
        answers = {}
        for check in CHECKLIST:
            left, right = st.columns([1, 2])
            weight = f"（{check.weight}）" if lang() == "zh" else f" ({check.weight})"
            result = left.radio(literal(check.label(lang()) + weight), RESULTS, horizontal=True,
                                format_func=lambda r: t(f"review.{r}"), key=f"cal_{view.id}_{case_id}_{check.code}")
            note = right.text_input(t("review.note"), key=f"cal_{view.id}_{case_id}_{check.code}_note")
            answers[check.code] = (result, note)
        if st.form_submit_button(t("review.submit")):
            attempt(calibration.submit_calibration_review, user_id, view.id, case_id, answers, confirm=True)


def _progress(view: calibration.SessionView) -> None:
    """Who has handed in which case: progress only, never an answer while the session is open."""
    st.dataframe(pd.DataFrame([{t("field.case_no"): no, **{
        name: t("sampling.done") if (cid, rid) in view.submitted else t("sampling.todo")
        for rid, name in view.reviewers}} for cid, no in view.cases]), hide_index=True)


def _agreement(view: calibration.SessionView) -> None:
    st.subheader(t("calibration.agreement"))
    methods = {"cohen_kappa": t("calibration.method.cohen_kappa"), "fleiss_kappa": t("calibration.method.fleiss_kappa")}
    st.dataframe(pd.DataFrame([{
        t("calibration.item"): _item(a.item), t("calibration.method"): methods[a.agreement.method],
        t("calibration.kappa"): None if a.agreement.kappa is None else round(a.agreement.kappa, 3),
        t("calibration.band"): t(f"calibration.band.{a.agreement.band}") if a.agreement.band else
        t("calibration.band.undefined"),
        t("calibration.observed"): round(a.agreement.observed, 3),
        t("calibration.expected"): round(a.agreement.expected, 3)} for a in view.agreement]),
        hide_index=True, placeholder=tables.MISSING)
    if view.agreement:
        st.caption(literal(view.agreement[-1].agreement.formula))
    st.subheader(t("calibration.disagreements"))
    if not view.disagreements:
        st.info(t("calibration.no_disagreements"))
        return
    names = dict(view.reviewers)
    # side by side: one column per reviewer; notes are the reviewers' text, inert in the CSV download
    st.dataframe(neutralised(pd.DataFrame([{
        t("field.case_no"): d.case_no, t("calibration.item"): _item(d.item),
        **{names[rid]: " · ".join([t(f"review.{result}"), *([note] if note else [])])
           for rid, (result, note) in d.answers.items()}}
        for d in view.disagreements])), hide_index=True)


def _baseline(user_id: int, view: calibration.SessionView) -> None:
    """The organiser names one review of a case its baseline."""
    names, cases = dict(view.reviewers), dict(view.cases)
    current = {c.case_id: names[c.reviewer_id] for c in view.reviews if c.baseline}
    st.dataframe(pd.DataFrame([{t("field.case_no"): no, t("calibration.baseline"): current.get(cid)}
                               for cid, no in view.cases]), hide_index=True, placeholder=tables.MISSING)
    with st.form(f"cal_{view.id}_baseline"):
        cells = {c.id: c for c in view.reviews}
        chosen = st.selectbox(t("calibration.baseline_review"), list(cells), key=f"cal_{view.id}_base",
                              format_func=lambda i: f"{cases[cells[i].case_id]} · {names[cells[i].reviewer_id]}")
        if st.form_submit_button(t("calibration.name_baseline")):
            attempt(calibration.set_baseline, user_id, chosen, confirm=True)


def calibration_tab(user_id: int) -> None:
    with st.expander(t("calibration.new")):
        _create(user_id)
    done, rows = attempt(calibration.sessions, user_id)
    if not done:
        return
    if not rows:
        st.info(t("calibration.none"))
        return
    by_id = {r.id: r for r in rows}
    chosen = st.selectbox(t("calibration.session"), list(by_id), key="cal_session", format_func=lambda i: (
        f"{by_id[i].title} · {by_id[i].organiser} · "
        f"{t('calibration.closed') if by_id[i].closed else t('calibration.open')}"))
    done, view = attempt(calibration.session_view, user_id, chosen)
    if not done:
        return
    _progress(view)
    organiser = view.organiser_id == user_id
    if not view.closed:
        st.caption(t("calibration.blind"))
        if user_id in dict(view.reviewers):
            _hand_in(user_id, view)
        closing = organiser and st.button(t("calibration.close"), key=f"cal_{view.id}_close")
        if closing and attempt(calibration.close_session, user_id, view.id)[0]:
            st.rerun()
        return
    _agreement(view)
    if organiser:
        _baseline(user_id, view)


def quality_tab(user_id: int) -> None:
    done, rows = attempt(quality.reviewer_quality, user_id)
    if not done:
        return
    st.dataframe(pd.DataFrame([{
        t("quality.reviewer"): q.reviewer, t("quality.reviews"): q.reviews, t("quality.average_score"): q.average_score,
        t("quality.disputes_lost"): q.disputes_lost,
        t("quality.baseline_agreement"): None if q.baseline_agreement is None else round(100 * q.baseline_agreement, 1),
        t("quality.baseline_items"): q.baseline_items} for q in rows]), hide_index=True, placeholder=tables.MISSING,
        column_config={t("quality.baseline_agreement"): st.column_config.NumberColumn(format="%.1f%%")})
    st.caption(t("quality.help"))
