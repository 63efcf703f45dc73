"""The sign-in page: a form over services.sessions.sign_in, then the browser fetches its cookie.

A signed-out visitor sees this page at whatever URL they asked for (app.py registers it under every page's
path), and after signing in lands on that page with its query (issue 8 §2). Nothing here names an account:
the demo's users and password are shown only to the admin who loaded them, in that browser session.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import streamlit as st

from dashboard.i18n import error, role_names, t
from dashboard.session import NAVIGATE, TOKEN_KEY, main_uow
from services.errors import DomainError
from services.sessions import Opened, client_label, sign_in

SETUP_RESULT = "setup_result"  # set by pages/setup.py in the browser session that did set-up


def _setup_result() -> None:
    result = st.session_state.get(SETUP_RESULT)
    if not result:
        return
    st.success(t("setup.done"))
    if result.demo:  # issue 8 §4: only the admin who loaded the demo ever sees its password
        st.info(t("signin.demo", password=result.demo.password) + "  \n" +
                "  \n".join(f"`{u.username}` — {role_names(u.roles)}" for u in result.demo.users))


def requested_path(url_path: str) -> str:
    """The page and query the visitor asked for, to return to after signing in."""
    query = urlencode(st.query_params.to_dict())
    path = "/" if url_path == "home" else f"/{url_path}"  # the default page lives at the root
    return path + (f"?{query}" if query else "")


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None  # AppTest's context answers with mocks


def sign_in_form(url_path: str) -> None:
    _setup_result()
    with st.form("signin"):
        st.subheader(t("signin.title"))
        username = st.text_input(t("signin.username"), key="signin_username")
        password = st.text_input(t("signin.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin.submit"), type="primary")
    if not submitted:
        return
    ip = _text(st.context.ip_address)
    client = client_label(ip, _text(st.context.headers.get("User-Agent")))
    try:
        with main_uow() as work:
            opened = sign_in(work, username, password, client_ip=ip or "local", client=client)
    except DomainError as exc:
        error(exc)
        return
    hand_over(opened, url_path)


def hand_over(opened: Opened, url_path: str) -> None:
    """After any successful sign-in (the password form here; an identity provider's sign-in can open its
    session with services.sessions.open_session and end the same way): this tab is signed in at once, and
    the browser fetches its cookie and comes back to the page it asked for."""
    st.session_state[TOKEN_KEY] = opened.token
    st.session_state[NAVIGATE] = (f"/auth/session?ticket={opened.ticket}"
                                  f"&next={quote(requested_path(url_path), safe='')}")
    st.rerun()
