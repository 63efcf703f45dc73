"""客户投诉处理单: the printable handling form of a case (seed 000 attachment 1, seed 001 art. 26)."""

import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import error, lang, t
from dashboard.session import page_user, uow
from services.casework.handling_form import handling_form, to_html
from services.errors import DomainError

user = page_user("print")
case_no = st.query_params.get("case", "")
st.title(t("print.title"))
try:
    with uow() as work:
        page = to_html(handling_form(work, user.id, case_no), lang())
except DomainError as exc:
    error(exc)
    st.stop()
download(t("print.download"), page, f"{case_no}.html", what="handling_form", case_no=case_no, mime="text/html")
st.html(page)
