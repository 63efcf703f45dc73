"""工作台: what needs me today, as counts that link onward."""

import streamlit as st

from dashboard.i18n import t
from dashboard.navigation import link
from dashboard.session import page_user, uow
from dashboard.text import literal
from services.casework.home import todays_work

user = page_user("home")
st.title(t("home.title"))
with uow() as work:
    counts = todays_work(work, user.id)
st.write(t("home.greeting", name=literal(user.display_name)))
if not counts:
    st.info(t("home.nothing"))
for column, item in zip(st.columns(max(len(counts), 1)), counts, strict=False):
    column.metric(t(f"home.{item.key}"), item.count)
    link(item.page, query=item.query, container=column)
