"""The identity provider's button and the admin's 统一身份账号 field, through the real pages (issue 8 §3);
the whole trip through a provider is the browser test's (tests/browser/test_sso_in_browser.py)."""

from __future__ import annotations

from sqlalchemy import select

from db.models import User
from services.unit_of_work import transaction
from tests.app.test_setup_and_admin import admin_page
from tests.app.test_shell import submit

SSO_BUTTON = "使用机构统一身份登录"
FIELD = "统一身份账号（电子邮箱，留空则不可用统一身份登录）"


def labels(at) -> list[str]:
    return [b.label for b in at.button]


def test_without_an_auth_section_the_sign_in_page_offers_only_the_password(institution, app):
    at = app()
    assert not at.exception and at.text_input(key="signin_username")
    assert SSO_BUTTON not in labels(at)


AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "x" * 32,
        "client_kwargs": {"prompt": "login"},  # shared settings: a table, but no provider
        "institution": {"client_id": "c", "client_secret": "s",
                        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}}


def test_with_an_auth_section_the_button_goes_to_the_one_configured_provider(institution, app, monkeypatch):
    asked = []
    monkeypatch.setattr("streamlit.login", asked.append)  # the real trip is the browser test's
    at = app()
    at.secrets["auth"] = AUTH
    at = at.run()
    assert not at.exception and SSO_BUTTON in labels(at) and at.text_input(key="signin_username")
    next(b for b in at.button if b.label == SSO_BUTTON).click().run()
    assert asked == ["institution"]


def test_admin_links_a_user_to_an_institutional_sign_in_and_a_malformed_one_is_refused_in_place(institution, app):
    at = admin_page(app, institution)
    at.selectbox(key="edit_pick").set_value("clerk")
    at = at.run()
    next(i for i in at.text_input if i.label == FIELD).input("not an e-mail")
    assert "电子邮箱" in submit(at, "edit_user").error[0].value
    next(i for i in at.text_input if i.label == FIELD).input("Clerk@Bank.example")
    assert submit(at, "edit_user").success[0].value == "已保存。"
    with transaction(institution.engine) as uow:
        assert uow.session.scalar(select(User.sso_login).where(User.username == "clerk")) == "clerk@bank.example"
