"""The KPI page's JR/T 0169 statistics (RULES.md §7.4, issue 11 §6): a quarter's tables, the workbook and the
annual report's disclosure paragraph, for supervision, the executives and the admin."""

from __future__ import annotations

import io

import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import lang, t
from dashboard.session import attempt, now
from dashboard.text import literal
from services.supervision import statistics
from services.words import N_

TAB = N_("kpi.tab.statistics")  # the KPI page names its tabs kpi.tab.<name>


def _last_quarter() -> str:
    today = now().date()
    quarter = (today.month - 1) // 3  # the last finished one
    return f"{today.year - 1}Q4" if quarter == 0 else f"{today.year}Q{quarter}"


def show(user_id: int) -> None:
    quarter = st.text_input(t("stats.quarter"), _last_quarter(), key="stats_quarter", persist_state="page").strip()
    done, built = attempt(statistics.quarterly_statistics, user_id, quarter, lang=lang())
    if not done:
        return
    st.subheader(built.title)
    workbook = io.BytesIO()
    statistics.to_xlsx(built, workbook)
    download(t("stats.xlsx"), workbook.getvalue(), f"statistics-{quarter}.xlsx", what="statistics_xlsx",
             ref=quarter)
    for name, table in list(built.tables.items())[1:]:  # the notes sheet is for the workbook
        st.caption(name)
        st.dataframe(table, hide_index=True)
    year = int(quarter[:4])
    done, paragraph = attempt(statistics.annual_disclosure, user_id, year, lang=lang())
    if done:
        st.subheader(t("stats.disclosure_title", year=year))
        st.markdown(literal(paragraph))
