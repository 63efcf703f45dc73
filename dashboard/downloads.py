"""Every file the app hands out goes through `download`: the click is recorded in the audit trail (issue 8 §7)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.session import acting_user_id, attempt
from services.institution import audit


def download(label: str, data: Any, file_name: str, *, what: str, ref: str | None = None,
             case_no: str | None = None, mime: str | None = None, key: str | None = None) -> None:
    """st.download_button whose click records `downloaded` (what: a code, ref: month/filters, case_no: the case)."""
    st.download_button(label, data, file_name=file_name, mime=mime, key=key, on_click=_record,
                       args=(what, file_name, ref, case_no))


def _record(what: str, file_name: str, ref: str | None, case_no: str | None) -> None:
    # on_click runs before the rerun, in the clicking user's session: the user is who downloaded.
    user_id = acting_user_id()
    if user_id is not None:
        attempt(audit.downloaded, user_id, what, file_name, ref=ref, case_no=case_no)
