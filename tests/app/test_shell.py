"""The shell: sign-in, navigation per role, language switch, first-run set-up."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from streamlit.util import calc_hash

from db.models import User
from services import words
from services.unit_of_work import transaction


def sign_in(at, username: str, password: str):
    at.text_input(key="signin_username").input(username)
    at.text_input(key="signin_password").input(password)
    return submit(at, "signin")


def submit(at, form: str):
    return next(b for b in at.button if b.form_id == form).click().run()


def test_a_fresh_database_opens_the_set_up_page(app_env, app):
    at = app()
    assert not at.exception
    assert at.title[0].value == "初始设置"


def test_the_right_password_signs_in_and_shows_the_home_page(institution, app):
    at = sign_in(app(), "clerk", "kite-harbour9")
    assert not at.exception
    assert at.session_state["user_id"] == institution.users["clerk"]
    assert at.title[0].value == "工作台"


def test_a_wrong_password_is_refused_in_chinese(institution, app):
    at = sign_in(app(), "clerk", "wrong-password")
    assert "user_id" not in at.session_state
    assert at.error[0].value == "用户名或密码错误。"


def test_unknown_user_and_wrong_password_get_the_same_reply(institution, app):
    unknown = sign_in(app(), "nobody", "wrong-password").error[0].value
    wrong = sign_in(app(), "clerk", "wrong-password").error[0].value
    assert unknown == wrong == "用户名或密码错误。"


def test_after_five_wrong_passwords_the_form_asks_to_wait_even_for_the_right_one(institution, app):
    at = app()
    for _ in range(5):
        at = sign_in(at, "clerk", "wrong-password")
    at = sign_in(at, "clerk", "kite-harbour9")
    assert "user_id" not in at.session_state
    assert "秒后再试" in at.error[0].value


WORK = {"home", "case", "print", "letter", "reply"}  # every staff role; reached by links with ?case=


@pytest.mark.parametrize("who, pages", [
    ("clerk", WORK | {"intake", "queue"}),
    ("handler", WORK | {"intake", "queue"}),
    ("head", WORK | {"intake", "queue", "escalation", "disputes", "kpi"}),  # disputes: issue 12 §5
    ("supervisor", WORK | {"escalation", "sampling", "disputes", "kpi", "training", "audit"}),
    ("admin", WORK | {"kpi", "training", "admin", "audit"}),
    ("trainee", {"home", "training"}),
])
def test_each_role_sees_exactly_its_pages(institution, app, who, pages):
    at = app(institution.users[who])
    assert not at.exception
    assert set(at.session_state["nav_pages"]) == pages


@pytest.mark.parametrize("who, page, lang", [("clerk", "kpi", "zh"), ("clerk", "admin", "en"),
                                             ("trainee", "queue", "zh")])
def test_a_page_outside_the_role_opened_by_its_url_says_so_in_the_catalogues_words(institution, app, who, page,
                                                                                     lang):
    """Issue 10 §3: not Streamlit's English "Page not found" over the home page, but the page's own URL saying, in
    the reader's language, that it is not available to this role; nothing of the page runs."""
    at = app(institution.users[who], lang=lang)
    at._page_hash = calc_hash(page)  # as a browser asks for /<page>: st.Page's hash is that of its URL path
    at = at.run()
    assert not at.exception
    expected = words.text("nav.not_allowed", lang, page=words.text(f"nav.{page}", lang))
    assert [w.value for w in at.warning] == [expected]
    assert [t.value for t in at.title] == [words.text(f"nav.{page}", lang)]
    assert not at.dataframe and not at.get("form")  # none of the page's content
    assert page not in at.session_state["nav_pages"]  # nor a link to it


def test_a_disabled_user_is_signed_out_at_the_next_click(institution, app):
    at = app(institution.users["clerk"])
    assert at.title[0].value == "工作台"
    with transaction(institution.engine) as uow:
        uow.session.execute(update(User).where(User.username == "clerk").values(active=False))
    at = at.run()
    assert "user_id" not in at.session_state
    assert at.text_input(key="signin_username")


def test_a_changed_role_changes_the_menu_at_the_next_click(institution, app):
    at = app(institution.users["clerk"])
    assert "admin" not in at.session_state["nav_pages"]
    with transaction(institution.engine) as uow:
        uow.session.execute(update(User).where(User.username == "clerk").values(roles=["intake", "admin"]))
    assert "admin" in at.run().session_state["nav_pages"]


def test_english_is_one_click_away(institution, app):
    at = app(institution.users["clerk"])
    at = at.sidebar.get("button_group")[0].set_value("en").run()
    assert at.title[0].value == "Home"
    assert at.sidebar.button[0].label == "Sign out"


def test_sign_out_clears_the_session(institution, app):
    at = app(institution.users["clerk"])
    at = at.sidebar.button[0].click().run()
    assert "user_id" not in at.session_state
    with transaction(institution.engine) as uow:
        assert uow.session.scalar(select(User.active).where(User.username == "clerk"))
