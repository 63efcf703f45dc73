"""审计日志 (issue 8 §7): who did what, filtered and paged; the hash chain checked; exports recorded."""

import streamlit as st

from dashboard.components import audit_views
from dashboard.i18n import t
from dashboard.session import page_user

user = page_user("audit")
st.title(t("audit.title"))
chosen = audit_views.filters()
audit_views.trail(user.id, chosen)
audit_views.export(user.id, chosen)
st.divider()
audit_views.verification(user.id)
