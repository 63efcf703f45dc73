"""The KPI page's JR/T 0169 statistics (RULES.md §7.4, issue 11 §6): a quarter's tables, the workbook and the
annual report's disclosure paragraph, for supervision, the executives and the admin."""

from __future__ import annotations

import io

import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import lang, t
from dashboard.session import attempt, in_training, now
from dashboard.text import literal
from services.supervision import statistics
from services.words import N_

TAB = N_("kpi.tab.statistics")  # the KPI page names its tabs kpi.tab.<name>


def _last_quarter() -> str:
    today = now().date()
    quarter = (today.month - 1) // 3  # the last finished one
    return f"{today.year - 1}Q4" if quarter == 0 else f"{today.year}Q{quarter}"


KEPT = "kpi_statistics"  # the last statistics built in this session: (whose), the tables, xlsx bytes, the paragraph


def show(user_id: int) -> None:
    """Built when asked and kept for the session until another quarter or language (issue 13 §4: a quarter's
    tables and the year's disclosure read every case of the year, seconds at 1M; a download click reruns)."""
    quarter = st.text_input(t("stats.quarter"), _last_quarter(), key="stats_quarter", persist_state="page").strip()
    whose = (user_id, in_training(), quarter, lang())
    kept = st.session_state.get(KEPT)
    if st.button(t("stats.build"), key="stats_build"):
        done, built = attempt(statistics.quarterly_statistics, user_id, quarter, lang=lang())
        if not done:
            return
        workbook = io.BytesIO()
        statistics.to_xlsx(built, workbook)
        year = int(quarter[:4])
        done, paragraph = attempt(statistics.annual_disclosure, user_id, year, lang=lang())
        kept = st.session_state[KEPT] = (whose, built, workbook.getvalue(), paragraph if done else None)
    if kept is None or kept[0] != whose:
        return
    _, built, xlsx, paragraph = kept
    st.subheader(built.title)
    download(t("stats.xlsx"), xlsx, f"statistics-{quarter}.xlsx", what="statistics_xlsx", ref=quarter)
    for name, table in list(built.tables.items())[1:]:  # the notes sheet is for the workbook
        st.caption(name)
        st.dataframe(table, hide_index=True)
    if paragraph is not None:
        st.subheader(t("stats.disclosure_title", year=int(quarter[:4])))
        st.markdown(literal(paragraph))
