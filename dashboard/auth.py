"""Sign-in with streamlit-authenticator over the users table.

streamlit-authenticator keeps the re-authentication cookie (signed with a key generated at first
start and kept in the database); the password check, the failure count and the lock-out are the
service layer's (services.auth), so every replica sees the same count.
"""

from __future__ import annotations

import streamlit as st
import streamlit_authenticator as stauth

from dashboard.i18n import error, role_names, t
from dashboard.session import USER_KEY, main_uow, sign_out_state
from services.auth import SessionUser, authenticate, cookie_key, sign_in_credentials, user_by_username
from services.errors import DomainError
from services.setup import demo_credentials

COOKIE_NAME = "complaints_signin"
COOKIE_DAYS = 0.5  # one working day


def make_authenticator() -> stauth.Authenticate:
    """One per run at most: it renders streamlit-authenticator's cookie component."""
    with main_uow() as work:
        credentials, key = sign_in_credentials(work.session), cookie_key(work)
    return stauth.Authenticate(credentials, COOKIE_NAME, key, COOKIE_DAYS, auto_hash=False, login_sleep_time=0)


def signed_in_from_cookie(authenticator: stauth.Authenticate) -> SessionUser | None:
    """A returning browser with a valid cookie is signed in without the form."""
    authenticator.login(location="unrendered")
    username = st.session_state.get("username")
    if not (st.session_state.get("authentication_status") and username):
        return None
    with main_uow() as work:
        user = user_by_username(work.session, username)
    if user is not None:
        st.session_state[USER_KEY] = user.id
    return user


def sign_in_form(authenticator: stauth.Authenticate) -> None:
    if st.session_state.get("setup_result"):
        st.success(t("setup.done"))
    with main_uow() as work:
        demo = demo_credentials(work.session)
    if demo:  # issue 3 §4: shown only while the demo institution is loaded
        st.info(t("signin.demo", password=demo.password) + "  \n" +
                "  \n".join(f"`{u.username}` — {role_names(u.roles)}" for u in demo.users))
    with st.form("signin"):
        st.subheader(t("signin.title"))
        username = st.text_input(t("signin.username"), key="signin_username")
        password = st.text_input(t("signin.password"), type="password", key="signin_password")
        submitted = st.form_submit_button(t("signin.submit"), type="primary")
    if not submitted:
        return
    try:
        with main_uow() as work:
            user = authenticate(work, username, password)
    except DomainError as exc:
        error(exc)
        return
    st.session_state.update({USER_KEY: user.id, "username": user.username, "name": user.display_name,
                             "authentication_status": True, "logout": False})
    authenticator.cookie_controller.set_cookie()
    st.rerun()


def sign_out() -> None:
    make_authenticator().cookie_controller.delete_cookie()
    sign_out_state()
    st.rerun()
