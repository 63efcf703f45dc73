"""Sessions in a real browser (issue 8 §2 "done when"): reloads, new tabs, case links, sign-out on a shared
counter PC, deep links while signed out, and copied cookies that must open nothing."""

from __future__ import annotations

import re

import pytest

from db.engine import make_engine, migrate
from services.administration import admin
from services.unit_of_work import transaction
from tests.service.conftest import Institution, make_institution

pytestmark = pytest.mark.browser
PASSWORD = "kite-harbour9"  # make_institution's users


@pytest.fixture(scope="module")
def inst(server) -> Institution:
    engine = make_engine(server.database_url())
    migrate(engine)
    return make_institution(engine, "securities")


@pytest.fixture(scope="module")
def case_no(inst) -> str:
    return inst.intake().case_no


def sign_in_here(page, username: str, password: str = PASSWORD) -> None:
    """Fill the sign-in form the page shows (whatever its URL), and wait out the trip that sets the cookie
    (/auth/session → the page asked for), so the next step acts on the page the user lands on."""
    page.get_by_label("用户名", exact=True).fill(username)
    page.get_by_label("密码", exact=True).fill(password)
    with page.expect_navigation(url=lambda url: "/auth/session" not in url):
        page.get_by_role("button", name="登录", exact=True).click()


def sign_out_here(page) -> None:
    """Click 退出登录 and wait out the trip that clears the cookie (/auth/signout → the start page)."""
    with page.expect_navigation(url=lambda url: "/auth/signout" not in url):
        page.get_by_role("button", name="退出登录").click()
    signed_out(page)


def signed_in_as(page, name: str) -> None:
    page.get_by_text(re.compile(rf"^{name}（")).wait_for()


def signed_out(page) -> None:
    page.get_by_label("用户名", exact=True).wait_for()
    assert page.get_by_role("button", name="退出登录").count() == 0


def test_reload_new_tab_case_link_sign_out_and_next_user_ten_times_in_a_row(server, context, inst, case_no):
    page = context.new_page()
    page.goto(server.url)
    for _ in range(10):
        sign_in_here(page, "clerk")
        page.get_by_role("heading", name="工作台").wait_for()
        page.reload()
        signed_in_as(page, "Clerk")
        tab = context.new_page()  # a case link opened in a new tab: still signed in, on that case
        tab.goto(f"{server.url}/case?case={case_no}")
        tab.get_by_role("heading", name=f"案件 {case_no}").wait_for()
        signed_in_as(tab, "Clerk")
        tab.close()
        sign_out_here(page)
        page.reload()  # the next person at the counter: still signed out
        signed_out(page)
        sign_in_here(page, "handler")
        signed_in_as(page, "Handler")
        page.reload()
        signed_in_as(page, "Handler")  # never the previous user
        sign_out_here(page)


def test_a_deep_link_while_signed_out_lands_on_that_case_after_sign_in(server, context, case_no):
    page = context.new_page()
    page.goto(f"{server.url}/case?case={case_no}")
    signed_out(page)
    assert f"case={case_no}" in page.url
    sign_in_here(page, "clerk")
    page.get_by_role("heading", name=f"案件 {case_no}").wait_for()
    assert f"/case?case={case_no}" in page.url


def copied_cookies(server, context, username: str) -> list[dict]:
    page = context.new_page()
    page.goto(server.url)
    sign_in_here(page, username)
    signed_in_as(page, username.title())
    page.reload()
    signed_in_as(page, username.title())  # the cookie is there and works
    cookies = [c for c in context.cookies() if c["name"] == "complaints_session"]
    assert cookies and cookies[0]["httpOnly"]
    return cookies


def replay(server, browser, cookies: list[dict]):
    thief = browser.new_context(locale="zh-CN")
    thief.add_cookies(cookies)
    page = thief.new_page()
    page.goto(server.url)
    signed_out(page)
    thief.close()


def test_a_replayed_cookie_after_sign_out_gets_the_sign_in_form(server, browser, context, inst):
    cookies = copied_cookies(server, context, "head")
    page = context.pages[-1]
    sign_out_here(page)
    assert not [c for c in context.cookies() if c["name"] == "complaints_session"]  # the cookie is cleared
    replay(server, browser, cookies)


@pytest.mark.parametrize(("username", "change"), [
    ("outsider", lambda uow, by, who: admin.reset_password(uow, by, who, "fresh-kite-harbour7")),
    ("supervisor", lambda uow, by, who: admin.update_user(uow, by, who, active=False)),
])
def test_a_replayed_cookie_after_password_reset_or_deactivation_gets_the_sign_in_form(
        server, browser, context, inst, username, change):
    cookies = copied_cookies(server, context, username)
    with transaction(inst.engine) as uow:
        change(uow, inst.users["admin"], inst.users[username])
    replay(server, browser, cookies)
    page = context.pages[-1]
    page.reload()  # the user's own browser too
    signed_out(page)


def test_the_anonymous_sign_in_page_names_no_account(server, context, inst):
    page = context.new_page()
    page.goto(server.url)
    signed_out(page)
    shown = page.locator("body").inner_text()
    assert not any(name in shown for name in inst.users) and PASSWORD not in shown
