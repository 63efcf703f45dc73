"""系统管理: users, departments, the pack's editable values, the working calendar."""

import streamlit as st

from dashboard.components import admin
from dashboard.i18n import t
from dashboard.session import page_user

user = page_user("admin")
st.title(t("admin.title"))
users, departments, pack, calendar, imports = st.tabs([t("admin.users"), t("admin.departments"), t("admin.pack"),
                                                       t("admin.calendar"), t("admin.import")])
with users:
    admin.users(user.id)
with departments:
    admin.departments(user.id)
with pack:
    admin.pack(user.id)
with calendar:
    admin.calendar(user.id)
with imports:
    admin.import_cases(user.id)
