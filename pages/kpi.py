"""考核: every KPI of RULES.md §5 with its cases, the trend against target, scorecards and reports."""

import streamlit as st

from dashboard.components import kpi_views, statistics_views
from dashboard.i18n import t
from dashboard.session import page_user, uow
from dashboard.tabs import open_tab
from services.institution.access import ACTION_ROLES

user = page_user("kpi")
st.title(t("kpi.title"))
with uow() as work:
    policy = work.policy()
first, last = kpi_views.period()
by = st.segmented_control(t("kpi.by"), ["department", "person", "category", "channel", "grade"], default="department",
                          format_func=lambda b: t(f"kpi.by.{b}"), key="kpi_by") or "department"
views = {
    "table": lambda: kpi_views.table(user.id, first, last, by),
    "trend": lambda: kpi_views.trend(user.id, first, last, by),
    "scorecard": lambda: kpi_views.scorecards(user.id, first, last),
    "before_after": lambda: kpi_views.before_after(user.id, policy),
    "report": lambda: kpi_views.monthly_report(user.id),
    "transfers": lambda: kpi_views.transfers(user.id, first, last),  # issue 11 §3: regulator transfers apart
}
if user.roles & ACTION_ROLES["view_statistics"]:  # JR/T 0169 statistics (issue 11 §6)
    views["statistics"] = lambda: statistics_views.show(user.id)
if "admin" in user.roles:
    views["weights"] = lambda: kpi_views.weights(user.id)
open_tab(views, {name: t(f"kpi.tab.{name}") for name in views}, key="kpi_tab")  # issue 13 §4: the open tab only
