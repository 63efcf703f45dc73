"""The sign-in page: a form over services.institution.sessions.sign_in, then the browser fetches its cookie.

A signed-out visitor sees this page at whatever URL they asked for (app.py registers it under every page's
path), and after signing in lands on that page with its query (issue 8 §2). Nothing here names an account:
the demo's users and password are shown only to the admin who loaded them, in that browser session.
"""

from __future__ import annotations

import os
from urllib.parse import quote, urlencode

import streamlit as st

from dashboard.i18n import error, role_names, t
from dashboard.session import NAVIGATE, TOKEN_KEY, main_uow
from services.errors import DomainError
from services.institution.identity import sign_in_with_identity
from services.institution.sessions import Opened, client_label, sign_in

SETUP_RESULT = "setup_result"  # set by pages/setup.py in the browser session that did set-up
SSO_PROVIDER_ENV = "COMPLAINTS_SSO_PROVIDER"  # which [auth.<name>] st.login uses; default: the only one
SSO_REFUSED = "sso_refused"  # (identity, refusal) already answered in this browser session


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


def _client() -> tuple[str, str]:
    ip = _text(st.context.ip_address)
    return ip or "local", client_label(ip, _text(st.context.headers.get("User-Agent")))


def sso_configured() -> bool:
    """Sign-in through the institution's identity provider is offered only when `[auth]` is configured."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises rather than answer "no"
        return False


def _sso_provider() -> str | None:
    named = os.environ.get(SSO_PROVIDER_ENV)
    if named:
        return named
    sections = [name for name, value in st.secrets["auth"].items() if hasattr(value, "keys") and "client_id" in value]
    return sections[0] if len(sections) == 1 else None  # None: the provider keys sit in [auth] itself


def _identity_sign_in(url_path: str) -> None:
    """The button to the identity provider; back from it, the identity's user gets our session (issue 8 §3).

    Each identity is answered once per browser session, so a refusal is not re-audited on every click; the
    way back (/auth/signout) also deletes Streamlit's identity cookie."""
    if st.user.get("is_logged_in") is not True:  # AppTest's st.user has no is_logged_in at all
        if st.button(t("signin.sso")):
            st.login(_sso_provider())
        return
    claims = st.user.to_dict()
    seen = (claims.get("sub"), claims.get("iat"))
    answered = st.session_state.get(SSO_REFUSED)
    if answered is None or answered[0] != seen:
        ip, client = _client()
        try:
            with main_uow() as work:
                opened = sign_in_with_identity(work, claims, client_ip=ip, client=client)
        except DomainError as exc:
            answered = st.session_state[SSO_REFUSED] = (seen, exc)
        else:
            hand_over(opened, url_path)
    error(answered[1])
    if st.button(t("signin.sso_other")):
        st.session_state[NAVIGATE] = "/auth/signout"
        st.rerun()


def sign_in_form(url_path: str) -> None:
    _setup_result()
    if sso_configured():
        _identity_sign_in(url_path)
    with st.form("signin"):
        st.subheader(t("signin.title"))
        username = st.text_input(t("signin.username"), key="signin_username")
        password = st.text_input(t("signin.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin.submit"), type="primary")
    if not submitted:
        return
    ip, client = _client()
    try:
        with main_uow() as work:
            opened = sign_in(work, username, password, client_ip=ip, client=client)
    except DomainError as exc:
        error(exc)
        return
    hand_over(opened, url_path)


def hand_over(opened: Opened, url_path: str) -> None:
    """After any successful sign-in (the password form here; an identity provider's sign-in can open its
    session with services.institution.sessions.open_session and end the same way): this tab is signed in at once, and
    the browser fetches its cookie and comes back to the page it asked for."""
    st.session_state[TOKEN_KEY] = opened.token
    st.session_state[NAVIGATE] = (f"/auth/session?ticket={opened.ticket}"
                                  f"&next={quote(requested_path(url_path), safe='')}")
    st.rerun()
