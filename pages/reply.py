"""监管转办回复: the reply package of a regulator's transfer (issue 11 §3, RULES.md §7.3), printable and as xlsx."""

import streamlit as st

from dashboard.downloads import download
from dashboard.i18n import error, lang, t
from dashboard.session import page_user, uow
from services.casework.transfers import reply_package, to_html, to_xlsx
from services.errors import DomainError

user = page_user("reply")
case_no = st.query_params.get("case", "")
st.title(t("reply.page_title"))
try:
    with uow() as work:
        package = reply_package(work, user.id, case_no)
except DomainError as exc:
    error(exc)
    st.stop()
page = to_html(package, lang())
download(t("print.download"), page, f"{case_no}-reply.html", what="reply_package", case_no=case_no,
         mime="text/html")
download(t("reply.download_xlsx"), to_xlsx(package, lang()), f"{case_no}-reply.xlsx", what="reply_package_xlsx",
         case_no=case_no, mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
st.html(page)
