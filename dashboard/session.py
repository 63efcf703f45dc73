"""UI plumbing: the engine, a unit of work per call (committed here when its block succeeds: the services only
flush, issue 9 §3), and the signed-in user of this run.

Who is signed in (issue 8 §2), decided afresh on every run: the session token this tab holds (set at
sign-in), else the one in the browser's `complaints_session` cookie (sent with the page's websocket
handshake); `services.institution.sessions.resume` then says whose session it is, if it is still open.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from dashboard import cookie
from dashboard.i18n import error, t
from db.engine import app_engine, read_engine, training_engine
from services.errors import DomainError, NotPermitted
from services.institution import sessions
from services.institution.access import load_actor, require_page
from services.institution.auth import SessionUser, session_user
from services.unit_of_work import UnitOfWork, transaction

USER_KEY = "user_id"  # the signed-in user of this run, as resumed from the session (read by the pages)
TOKEN_KEY = "session_token"  # this tab's session token, from sign-in until sign-out
NAVIGATE = "navigate_to"  # a same-site URL the browser is sent to on the next run (cookie routes)
TRAINING_USER = "training_user_id"  # set while the user practises: every page then works on the training database


@st.cache_resource(show_spinner=False)  # its default "Running …" is English (issue 10 §3)
def _engine(url: str | None) -> Engine:
    return app_engine(url)  # DATABASE_URL is the owner's; the app connects as its own role (issue 8 §6)


@st.cache_resource(show_spinner=False)  # its default "Running …" is English (issue 10 §3)
def _training_engine(url: str | None) -> Engine:
    return training_engine(url)


@st.cache_resource(show_spinner=False)  # its default "Running …" is English (issue 10 §3)
def _read_engine(url: str | None, standby: str | None) -> Engine:
    return read_engine(url, standby)


def practice_engine() -> Engine:
    return _training_engine(os.environ.get("DATABASE_URL"))


def in_training() -> bool:
    return TRAINING_USER in st.session_state


def main_uow() -> AbstractContextManager[UnitOfWork]:
    """A transaction on the institution's real database, whatever mode the session is in; committed when the
    block ends without an exception."""
    return transaction(_engine(os.environ.get("DATABASE_URL")))


def uow(*, reading: bool = False) -> AbstractContextManager[UnitOfWork]:
    """A transaction on the database this session works on (the training one while practising, issue 5 §4);
    committed when the block ends without an exception.

    reading: a read-only transaction for the reads that may lag a moment (KPIs, report, sampling preview,
    board: issue 13 §5), on DATABASE_READ_URL's standby when set; practice reads its own database."""
    if in_training():
        return transaction(practice_engine(), reading=reading)
    if reading:
        return transaction(_read_engine(os.environ.get("DATABASE_URL"), os.environ.get("DATABASE_READ_URL")),
                           reading=True)
    return main_uow()


def now() -> datetime:
    """This run's instant, through the unit of work's clock (issue 9 §1): the default dates of forms."""
    with uow() as work:
        return work.now()


def acting_user_id() -> int | None:
    """Who acts: the signed-in user, or their mirror in the training database while practising."""
    return st.session_state.get(TRAINING_USER) or st.session_state.get(USER_KEY)


def _session_token() -> str | None:
    return st.session_state.get(TOKEN_KEY) or cookie.unseal(st.context.cookies.get(cookie.NAME))


def current_user() -> SessionUser | None:
    """Re-read on every run from the session: an ended session, a disabled user or a changed role applies
    at once. A stale, foreign or forged cookie is simply no user."""
    token = _session_token()
    with main_uow() as work:
        user = sessions.resume(work, token) if token else None
        if user is None and st.session_state.get(TOKEN_KEY):  # this tab's session ended: try the cookie
            st.session_state.pop(TOKEN_KEY)
            token = _session_token()
            user = sessions.resume(work, token) if token else None
    if user is None:
        if USER_KEY in st.session_state:
            sign_out_state()
        return None
    if st.session_state.get(USER_KEY) not in (None, user.id):  # another user now (the cookie changed):
        token = st.session_state.get(TOKEN_KEY)  # nothing of the previous one's session carries over
        sign_out_state()
        if token:
            st.session_state[TOKEN_KEY] = token
    st.session_state[USER_KEY] = user.id
    if in_training():
        with uow() as work:
            return session_user(work.session, st.session_state[TRAINING_USER])
    return user


def sign_out() -> None:
    """End this tab's session now, forget everything, and have the browser clear its cookie."""
    with main_uow() as work:
        sessions.end(work, _session_token(), "sign_out")
    sign_out_state()
    st.session_state[NAVIGATE] = "/auth/signout"
    st.rerun()


def navigate_if_asked() -> None:
    """Send the browser to the URL asked for on the last run (sets or clears the HttpOnly cookie); the
    link is there for a browser that runs no script."""
    target = st.session_state.pop(NAVIGATE, None)
    if target is None:
        return
    script = json.dumps(target).replace("<", "\\u003c")
    st.html(f"<script>window.location.replace({script});</script>"
            f"<a href='{_attribute(target)}' target='_self'>{_attribute(t('signin.continue'))}</a>",
            unsafe_allow_javascript=True)


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&quot;").replace("<", "&lt;")


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
    """Clear everything this session knew, keeping only the language."""
    lang = st.session_state.get("lang", "zh")
    st.session_state.clear()
    st.session_state["lang"] = lang


def attempt(call: Callable[..., Any], *args: Any, confirm: bool = False, reading: bool = False,
            **kwargs: Any) -> tuple[bool, Any]:
    """Run one service call in its own unit of work; a domain error is shown in place, not raised.

    Returns (succeeded, result); with `confirm`, a success says "saved"; with `reading`, a read-only unit of
    work on the read engine (see `uow`).
    """
    try:
        with uow(reading=reading) as work:
            result = call(work, *args, **kwargs)
    except DomainError as exc:
        error(exc)
        return False, None
    if confirm:
        st.success(t("common.saved"))
    return True, result
