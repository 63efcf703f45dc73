"""AppTest against the real app and a fresh database: the entrypoint, signed in as a given user."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from services.institution.sessions import open_session
from services.unit_of_work import transaction
from tests.service.conftest import Institution, make_institution

ENTRYPOINT = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _today(clock):
    """Every test here runs at tests.conftest.TODAY, never at the wall clock's date (issue 9 §9)."""
    return clock


@pytest.fixture
def app_env(engine, owner_engine, admin_engine, monkeypatch):
    """Point the app at this test's database (the owner's URL, as deployed); the engine cache is keyed by it."""
    monkeypatch.setenv("DATABASE_URL", owner_engine.url.render_as_string(hide_password=False))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield engine
    st.cache_resource.clear()
    training = f"{engine.url.database}_training"  # the training database a test may have opened
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{training}" WITH (FORCE)'))


@pytest.fixture
def institution(app_env) -> Institution:
    return make_institution(app_env, "securities")


@pytest.fixture
def app(app_env) -> Callable[..., AppTest]:
    """The app, signed in as `user_id` through a real session (AppTest cannot carry a cookie, so the
    session's token goes where the sign-in form puts it: the tab's session state)."""
    def start(user_id: int | None = None, lang: str = "zh") -> AppTest:
        at = AppTest.from_file(ENTRYPOINT, default_timeout=60)
        at.session_state["lang"] = lang
        if user_id is not None:
            with transaction(app_env) as uow:
                at.session_state["session_token"] = open_session(uow, user_id).token
        return at.run()
    return start
