"""培训 views: entering practice, walking through a library case, practising on one's own copy."""

from __future__ import annotations

import streamlit as st

from dashboard.i18n import error, lang, t
from dashboard.navigation import link
from dashboard.session import TRAINING_USER, main_uow, practice_engine, uow
from dashboard.text import literal
from services.errors import DomainError
from services.institution.access import ACTION_ROLES
from services.institution.auth import SessionUser
from services.rules.citation import cite
from services.rules.transitions import ACTION_STATES
from services.training import practice as training
from services.training import walkthrough as walk


def enter(user: SessionUser) -> None:
    st.info(t("training.intro"))
    if st.button(t("training.enter"), type="primary"):
        try:
            with main_uow() as work:
                st.session_state[TRAINING_USER] = training.enter_training(work, user.id)
        except DomainError as exc:
            error(exc)
        else:
            st.rerun()
    if user.roles & ACTION_ROLES["train_others"] and st.button(t("training.reset")):
        try:
            with main_uow() as work:
                done = training.reset_training(user.id, work)
        except DomainError as exc:
            error(exc)
        else:
            st.success(t("training.reset_done", count=len(done.scenarios)))


def walkthrough(user: SessionUser) -> None:
    with uow() as work:
        scenarios = training.library(work, lang())
        documents = work.policy().documents
    by_code = {s.code: s for s in scenarios}
    chosen = by_code[st.selectbox(t("training.scenario"), list(by_code), key="tr_scenario",
                                  format_func=lambda c: by_code[c].title)]
    # the scenario's basis as the institution's document and article (issue 10 §3)
    st.caption(literal(f"{chosen.goal}（{cite(chosen.source, documents, lang())}）"))
    case_no = st.selectbox(t("field.case_no"), chosen.case_nos, key="tr_case")
    with uow() as work:
        steps = walk.walkthrough(work, user.id, case_no, lang())
    number = st.number_input(t("training.step", count=len(steps)), 1, len(steps), 1, key=f"tr_step_{case_no}")
    step = steps[int(number) - 1]
    st.subheader(literal(f"{step.number}. {step.event}"))
    states = [t(f"state.{s}") if s else "" for s in (step.from_state, step.to_state)]  # labels (issue 10 §2)
    st.write(literal(f"{step.at:%Y-%m-%d %H:%M} · {step.actor or '—'} · {states[0]} → {states[1]}"))
    for line in step.recorded:
        st.caption(literal(line))
    st.write(f"**{t('training.rules')}**")
    for line in step.rules:
        st.info(literal(line))
    st.write(f"**{t('training.next')}**")
    for line in step.next_step or [t("training.closed")]:
        st.success(literal(line))
    if st.button(t("training.practise_this"), key="tr_start"):
        _start(user.username, chosen.code)


def _start(username: str, scenario: str) -> None:
    try:
        case_no = training.start_practice(practice_engine(), username, scenario)
    except DomainError as exc:
        error(exc)
    else:
        st.session_state["tr_started"] = case_no
        st.rerun()


def practice(user: SessionUser) -> None:
    with uow() as work:
        mine = training.practice_cases(work, user.id)
    if started := st.session_state.pop("tr_started", None):
        st.success(t("training.started", case_no=started))
    if not mine:
        st.info(t("training.no_practice"))
        return
    for case in mine:
        link("case", literal(f"{case.case_no} · {case.scenario} · {t('state.' + case.state)}"), {"case": case.case_no})
    case_no = st.selectbox(t("training.judge_case"), [c.case_no for c in mine], key="tr_judge_case")
    action = st.selectbox(t("training.judge_action"), list(ACTION_STATES), key="tr_judge_action",
                          format_func=lambda a: t(f"action.{a}"))
    with uow() as work:
        verdict = walk.judge(work, user.id, case_no, action, lang=lang())
    for line in verdict:
        st.write("- " + literal(line))
