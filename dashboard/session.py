"""UI plumbing: the engine, a unit of work per call, and the signed-in user of this run."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard.i18n import error, t
from db.engine import UnitOfWork, app_engine, training_engine
from services.access import load_actor, require_page
from services.auth import SessionUser, session_user
from services.errors import DomainError, NotPermitted

USER_KEY = "user_id"
TRAINING_USER = "training_user_id"  # set while the user practises: every page then works on the training database


@st.cache_resource
def _engine(url: str | None) -> Engine:
    return app_engine(url)  # DATABASE_URL is the owner's; the app connects as its own role (issue 8 §6)


@st.cache_resource
def _training_engine(url: str | None) -> Engine:
    return training_engine(url)


def practice_engine() -> Engine:
    return _training_engine(os.environ.get("DATABASE_URL"))


def in_training() -> bool:
    return TRAINING_USER in st.session_state


def main_uow() -> UnitOfWork:
    """The institution's real database, whatever mode the session is in."""
    return UnitOfWork(_engine(os.environ.get("DATABASE_URL")))


def uow() -> UnitOfWork:
    """The database this session works on: the training one while practising (issue 5 §4)."""
    if in_training():
        return UnitOfWork(practice_engine())
    return main_uow()


def acting_user_id() -> int | None:
    """Who acts: the signed-in user, or their mirror in the training database while practising."""
    return st.session_state.get(TRAINING_USER) or st.session_state.get(USER_KEY)


def current_user() -> SessionUser | None:
    """Re-read from the database on every run: a disabled user or changed role applies at once."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    with main_uow() as work:
        try:
            user = session_user(work.session, user_id)
        except NotPermitted:
            sign_out_state()
            return None
    if in_training():
        with uow() as work:
            return session_user(work.session, st.session_state[TRAINING_USER])
    return user


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


def attempt(call: Callable[..., Any], *args: Any, confirm: bool = False, **kwargs: Any) -> tuple[bool, Any]:
    """Run one service call in its own unit of work; a domain error is shown in place, not raised.

    Returns (succeeded, result); with `confirm`, a success says "saved".
    """
    try:
        with uow() as work:
            result = call(work, *args, **kwargs)
    except DomainError as exc:
        error(exc)
        return False, None
    if confirm:
        st.success(t("common.saved"))
    return True, result
