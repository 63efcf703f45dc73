"""检查异议: the reviewed department disputes a finding; a supervisor who did not write the review decides
(RULES.md §8, issue 12 §5)."""

import streamlit as st

from dashboard.components import dispute_views
from dashboard.i18n import t
from dashboard.session import page_user
from services.institution.access import ACTION_ROLES

user = page_user("disputes")
st.title(t("disputes.title"))
dispute_views.statistics(user.id)
if user.roles & ACTION_ROLES["dispute"]:
    dispute_views.file(user.id)
if user.roles & ACTION_ROLES["decide_dispute"]:
    dispute_views.decide(user.id)
dispute_views.listing(user.id)
