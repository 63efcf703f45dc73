"""UI plumbing: the engine, a unit of work per call, and the signed-in user of this run."""

from __future__ import annotations

import os

import streamlit as st
from sqlalchemy import Engine

from dashboard.i18n import t
from db.engine import UnitOfWork, default_engine, make_engine, migrate
from services.access import load_actor, require_page
from services.auth import SessionUser, session_user
from services.errors import NotPermitted

USER_KEY = "user_id"


@st.cache_resource
def _engine(url: str | None) -> Engine:
    if url is None:
        return default_engine()
    engine = make_engine(url)
    migrate(engine)
    return engine


def uow() -> UnitOfWork:
    return UnitOfWork(_engine(os.environ.get("DATABASE_URL")))


def current_user() -> SessionUser | None:
    """Re-read from the database on every run: a disabled user or changed role applies at once."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    with uow() as work:
        try:
            return session_user(work.session, user_id)
        except NotPermitted:
            sign_out_state()
            return None


def page_user(page: str) -> SessionUser:
    """The signed-in user, refused (and the page stopped) unless the service layer allows the page."""
    user = current_user()
    if user is None:
        st.stop()
    with uow() as work:
        try:
            require_page(load_actor(work.session, user.id), page)
        except NotPermitted:
            st.error(t("common.not_permitted"))
            st.stop()
    return user


def sign_out_state() -> None:
    """Clear everything this session knew, keeping only the language and the sign-out mark."""
    lang = st.session_state.get("lang", "zh")
    st.session_state.clear()
    st.session_state["lang"] = lang
    st.session_state["logout"] = True  # streamlit-authenticator: ignore the cookie until signed in again
