"""Entrypoint: sign in → the signed-in user's pages, by role → st.navigation(...).run().

Served through dashboard/server.py (`make run`), which adds the routes that set and clear the sign-in cookie.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import errors  # noqa: E402
from dashboard.auth import sign_in_form  # noqa: E402
from dashboard.i18n import joined, language_switch, role_names, t  # noqa: E402
from dashboard.navigation import PAGES_DIR, SECTIONS, navigation  # noqa: E402
from dashboard.session import TRAINING_USER, current_user, in_training, main_uow, navigate_if_asked, sign_out  # noqa: E402
from dashboard.text import literal  # noqa: E402
from services.administration.admin import calendar_gaps  # noqa: E402
from services.administration.setup import needs_setup  # noqa: E402
from services.institution.access import pages_for  # noqa: E402


def main() -> None:
    try:
        run()
    except Exception as exc:  # st.stop/st.rerun are BaseExceptions and pass; the rest: no details, no PII (§5)
        errors.show_unexpected(exc)


def run() -> None:
    st.set_page_config(page_title=t("app.title"), layout="wide")
    language_switch()
    navigate_if_asked()
    with main_uow() as work:
        first_run = needs_setup(work.session)
    if first_run:
        st.navigation([st.Page(PAGES_DIR / "setup.py", title=t("nav.setup"), url_path="setup")]).run()
        return
    user = current_user()
    if user is None:
        signin_everywhere()
        return
    st.sidebar.caption(t("user.signed_in_as", name=literal(user.display_name), roles=role_names(user.roles)))
    if "admin" in user.roles:  # issue 3 §5: warn admins while the next 60 days reach a year without data
        with main_uow() as work:
            gaps = calendar_gaps(work)
        if gaps:
            st.warning(t("home.calendar_gap", years=joined(gaps)))
    if in_training():  # issue 5 §4: practice never touches real cases, and says so on every page
        st.sidebar.warning(t("training.banner"))
        if st.sidebar.button(t("training.exit")):
            st.session_state.pop(TRAINING_USER)
            st.rerun()
    if st.sidebar.button(t("user.sign_out")):
        sign_out()
    navigation(pages_for(user.roles)).run()


def signin_everywhere() -> None:
    """The sign-in form at every page's URL, so a deep link keeps its path and query through sign-in."""
    names = [name for names in SECTIONS.values() for name in names]

    def page(name: str) -> st.Page:
        return st.Page(lambda: sign_in_form(name), title=t("nav.signin"), url_path=name, default=name == "home")

    st.navigation([page(name) for name in names], position="hidden").run()


errors.install()  # idempotent: Streamlit's own exception log would carry messages
main()
