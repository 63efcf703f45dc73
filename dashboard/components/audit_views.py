"""审计日志 views (issue 8 §7): filters, the paged trail, the chain check and the exports.

User text (names, details) is shown in table cells only, never as Markdown.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import t
from dashboard.session import attempt, now
from services.institution import audit

PAGE_SIZE = 50


def filters() -> dict[str, Any]:
    """The filters as keyword arguments of audit.search / audit.export_frame."""
    today = now().date()
    left, middle, right, last = st.columns([2, 1, 1, 1])
    chosen = left.date_input(t("audit.dates"), (today - timedelta(days=30), today), key="audit_dates")
    dates = chosen if isinstance(chosen, tuple) and len(chosen) == 2 else (None, None)
    username = middle.text_input(t("audit.user"), key="audit_user")
    action = right.selectbox(t("audit.action"), ["", *audit.ACTIONS], key="audit_action",
                             format_func=lambda a: t(f"audit.action.{a}") if a else t("audit.any"))
    case_no = last.text_input(t("audit.case_no"), key="audit_case")
    return {"date_from": dates[0], "date_to": dates[1], "username": username or None, "action": action or None,
            "case_no": case_no or None}


def _shown(table: pd.DataFrame) -> pd.DataFrame:
    """Action codes as words and column names from the catalogue."""
    table = table.assign(action=table["action"].map(lambda a: t(f"audit.action.{a}") if a in audit.ACTIONS else a))
    return table.rename(columns=lambda c: t(f"audit.col.{c}"))


def trail(user_id: int, chosen: dict[str, Any]) -> None:
    page = int(st.session_state.get("audit_page", 1))
    done, found = attempt(audit.search, user_id, **chosen, page=page, page_size=PAGE_SIZE)
    if not done:
        return
    pages = max(1, -(-found.total // PAGE_SIZE))
    if page > pages:  # the filters narrowed under the page the user was on
        st.session_state["audit_page"] = pages
        done, found = attempt(audit.search, user_id, **chosen, page=pages, page_size=PAGE_SIZE)
    st.caption(t("audit.count", total=found.total, page=found.page, pages=pages))
    st.dataframe(_shown(audit.frame(found.rows)), hide_index=True)
    if pages > 1:
        st.number_input(t("audit.page"), 1, pages, key="audit_page")


def export(user_id: int, chosen: dict[str, Any]) -> None:
    """Built only when asked (a large trail is slow to write); each download is itself audited."""
    if not st.toggle(t("audit.export"), key="audit_export"):
        return
    done, table = attempt(audit.export_frame, user_id, **chosen)
    if not done:
        return
    table, ref = _shown(table), json.dumps(chosen, default=str, ensure_ascii=False, sort_keys=True)
    left, right = st.columns(2)
    with left:
        download(t("audit.xlsx"), audit.to_xlsx(table), "audit.xlsx", what="audit_xlsx", ref=ref, key="audit_xlsx")
    with right:
        download(t("audit.csv"), audit.to_csv(table), "audit.csv", what="audit_csv", ref=ref, mime="text/csv",
                 key="audit_csv")


def verification(user_id: int) -> None:
    if not st.button(t("audit.verify"), key="audit_verify"):
        return
    done, result = attempt(audit.check_chain, user_id)
    if not done:
        return
    if result.intact:
        st.success(t("audit.intact", rows=result.rows, seq=result.head_seq, head=result.head_hash))
    else:
        st.error(t("audit.broken", seq=result.bad_seq, problem=t(f"audit.problem.{result.problem}")))
