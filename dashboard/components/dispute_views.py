"""检查异议's parts (RULES.md §8, issue 12 §5): statistics, filing a dispute, deciding one, the list."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.i18n import lang, t
from dashboard.session import attempt, uow
from services.export import neutralised
from services.supervision import disputes
from services.supervision.reviews import CHECKLIST

DECISIONS = ["accepted", "partly_accepted", "rejected"]


def _item(code: str) -> str:
    return next((c.label(lang()) for c in CHECKLIST if c.code == code), code)


def _percent(value: float | None) -> str:
    return tables.MISSING if value is None else f"{100 * value:.1f}%"


def statistics(user_id: int) -> None:
    done, stats = attempt(disputes.dispute_stats, user_id)
    if not done:
        return
    first, second, third, fourth = st.columns(4)
    first.metric(t("disputes.findings"), stats.findings)
    second.metric(t("disputes.rate"), _percent(stats.rate), help=t("disputes.rate_help"))
    third.metric(t("disputes.accept_rate"), _percent(stats.accept_rate), help=t("disputes.accept_rate_help"))
    fourth.metric(t("disputes.days_to_decide"),
                  tables.MISSING if stats.days_to_decide is None else stats.days_to_decide)


def file(user_id: int) -> None:
    """The department head's findings; one not yet disputed may be disputed once, with a reason."""
    st.subheader(t("disputes.file"))
    with uow() as work:
        rows = [f for f in disputes.findings(work, user_id) if f.dispute_id is None]
    if not rows:
        st.info(t("disputes.no_findings"))
        return
    by_key = {(f.review_id, f.item): f for f in rows}
    with st.form("dispute_file"):
        chosen = st.selectbox(t("disputes.finding"), list(by_key), key="df_finding", format_func=lambda k: (
            f"{by_key[k].case_no} · {_item(by_key[k].item)} · {by_key[k].note[:40]}"))
        reason = st.text_area(t("dispute.reason"), key="df_reason")
        if st.form_submit_button(t("disputes.submit")):
            attempt(disputes.file_dispute, user_id, chosen[0], chosen[1], reason, confirm=True)


def decide(user_id: int) -> None:
    """A supervisor's final decision on a pending dispute (not of a review they wrote: the service refuses)."""
    st.subheader(t("disputes.decide"))
    with uow() as work:
        pending = [d for d in disputes.disputes(work, user_id, pending_only=True) if d.reviewer_id != user_id]
    if not pending:
        st.info(t("disputes.none_pending"))
        return
    by_id = {d.id: d for d in pending}
    with st.form("dispute_decide"):
        chosen = st.selectbox(t("disputes.dispute"), list(by_id), key="dd_dispute", format_func=lambda i: (
            f"{by_id[i].case_no} · {_item(by_id[i].item)} · {by_id[i].filed_by}"))
        decision = st.radio(t("disputes.decision"), DECISIONS, horizontal=True, key="dd_decision",
                            format_func=lambda d: t(f"dispute.status.{d}"))
        score = st.number_input(t("disputes.new_score"), 0.0, 100.0, value=None, step=0.5, key="dd_score",
                                help=t("disputes.new_score_help"))
        reason = st.text_area(t("dispute.decision_reason"), key="dd_reason")
        if st.form_submit_button(t("disputes.submit_decision")):
            attempt(disputes.decide_dispute, user_id, chosen, decision, reason,
                    score if decision == "partly_accepted" else None, confirm=True)


def listing(user_id: int) -> None:
    st.subheader(t("disputes.all"))
    done, rows = attempt(disputes.disputes, user_id)
    if not done:
        return
    if not rows:
        st.info(t("disputes.none"))
        return
    # the reasons are people's text, inert in the toolbar's CSV download (issue 8 §5)
    filed, decided = tables.local_times(d.filed_at for d in rows), tables.local_times(d.decided_at for d in rows)
    st.dataframe(neutralised(pd.DataFrame([{
        "case": tables.case_link(d.case_no), "item": _item(d.item), "status": t(f"dispute.status.{d.status}"),
        "reason": d.reason, "filed_by": d.filed_by, "filed_at": filed[i], "reviewer": d.reviewer,
        "before": d.score_before, "after": d.score_after, "decision": d.decision_reason,
        "decided_at": decided[i]} for i, d in enumerate(rows)])), hide_index=True, placeholder=tables.MISSING,
        column_config={
            "case": tables.case_column(t("field.case_no")),
            "item": st.column_config.TextColumn(t("calibration.item")),
            "status": st.column_config.TextColumn(t("disputes.status")),
            "reason": st.column_config.TextColumn(t("dispute.reason"), width="large"),
            "filed_by": st.column_config.TextColumn(t("disputes.filed_by")),
            "filed_at": tables.when_column(t("disputes.filed_at")),
            "reviewer": st.column_config.TextColumn(t("quality.reviewer")),
            "before": st.column_config.NumberColumn(t("disputes.score_before")),
            "after": st.column_config.NumberColumn(t("disputes.score_after")),
            "decision": st.column_config.TextColumn(t("dispute.decision_reason"), width="large"),
            "decided_at": tables.when_column(t("disputes.decided_at"))})
