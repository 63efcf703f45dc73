"""监督抽查: plan and draw a reproducible sample, review it, follow findings to closure (RULES.md §6)."""

import streamlit as st

from dashboard.components import calibration_views, sample_results, supervision
from dashboard.i18n import t
from dashboard.session import page_user, uow

user = page_user("sampling")
st.title(t("sampling.title"))
with uow() as work:
    policy = work.policy()
plan, results, review, actions, calibrate, graders = st.tabs([
    t("sampling.plan"), t("sampling.results"), t("sampling.review"), t("sampling.actions"), t("sampling.calibration"),
    t("sampling.quality")])
with plan:
    supervision.plan(user.id, policy)
with results:
    sample_results.show(user.id, policy)
with review:
    supervision.review(user.id, policy)
with actions:
    supervision.actions(user.id)
with calibrate:  # issue 12 §4
    calibration_views.calibration_tab(user.id)
with graders:  # issue 12 §6
    calibration_views.quality_tab(user.id)
