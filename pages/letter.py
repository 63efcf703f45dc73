"""投诉处理决定告知书: the printable decision letter of a decided case (RULES.md §7.2, order 3 art. 19)."""

import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import error, lang, t
from dashboard.session import page_user, uow
from services.casework.decision_letter import decision_letter, to_html
from services.errors import DomainError

user = page_user("letter")
case_no = st.query_params.get("case", "")
st.title(t("letter.page_title"))
try:
    with uow() as work:
        page = to_html(decision_letter(work, user.id, case_no), lang())
except DomainError as exc:
    error(exc)
    st.stop()
download(t("print.download"), page, f"{case_no}-letter.html", what="decision_letter", case_no=case_no,
         mime="text/html")
st.html(page)
