"""考核: every KPI of RULES.md §5 with its cases, the trend against target, scorecards and reports."""

import streamlit as st

from dashboard.components import kpi_views, statistics_views
from dashboard.i18n import t
from dashboard.session import page_user, uow
from services.institution.access import ACTION_ROLES

user = page_user("kpi")
st.title(t("kpi.title"))
with uow() as work:
    policy = work.policy()
first, last = kpi_views.period()
by = st.segmented_control(t("kpi.by"), ["department", "person", "category", "channel", "grade"], default="department",
                          format_func=lambda b: t(f"kpi.by.{b}"), key="kpi_by") or "department"
names = ["table", "trend", "scorecard", "before_after", "report"]
names += ["statistics"] if user.roles & ACTION_ROLES["view_statistics"] else []  # JR/T 0169 statistics (issue 11 §6)
names += ["weights"] if "admin" in user.roles else []
tabs = dict(zip(names, st.tabs([t(f"kpi.tab.{n}") for n in names]), strict=True))
with tabs["table"]:
    kpi_views.table(user.id, first, last, by)
with tabs["trend"]:
    kpi_views.trend(user.id, first, last, by)
with tabs["scorecard"]:
    kpi_views.scorecards(user.id, first, last)
with tabs["before_after"]:
    kpi_views.before_after(user.id, policy)
with tabs["report"]:
    kpi_views.monthly_report(user.id)
if "statistics" in tabs:
    with tabs["statistics"]:
        statistics_views.show(user.id)
if "weights" in tabs:
    with tabs["weights"]:
        kpi_views.weights(user.id)
