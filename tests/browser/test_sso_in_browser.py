"""Sign-in through the institution's identity provider in a real browser (issue 8 §3): Streamlit's st.login
against a local OpenID provider (oidc-provider-mock, in this process), the app served with `[auth]` from a
secrets file outside the repository, exactly as an operator would pass it."""

from __future__ import annotations

import json
import os
import threading
import urllib.request
import warnings
from collections.abc import Iterator

import pytest

from db.engine import make_engine, migrate
from services.administration import admin
from tests.browser.conftest import Server, serve
from tests.browser.test_sessions_in_browser import sign_out_here, signed_in_as, signed_out
from tests.service.conftest import Institution, make_institution

# the mock provider calls authlib APIs authlib itself marks deprecated: its noise, not ours
pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
CLERK = "clerk@bank.example"
IDENTITIES = {"u-clerk": {"email": CLERK.upper(), "email_verified": True, "name": "Clerk at the provider"},
              "u-stranger": {"email": "stranger@bank.example", "email_verified": True, "name": "Stranger"}}
SSO_BUTTON = "使用机构统一身份登录"
REFUSED = "未能通过机构统一身份登录"


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """oidc-provider-mock on a free 127.0.0.1 port; it serves plain HTTP only with authlib's test switch."""
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # read per request by the provider, never passed to the app
    import werkzeug.serving

    with warnings.catch_warnings():  # it imports authlib modules authlib itself marks deprecated
        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

    idp = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=idp.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{idp.server_port}"
    for sub, claims in IDENTITIES.items():
        request = urllib.request.Request(f"{url}/users/{sub}", data=json.dumps(claims).encode(), method="PUT",
                                         headers={"Content-Type": "application/json"})
        assert urllib.request.urlopen(request).status == 204
    try:
        yield url
    finally:
        idp.shutdown()
        os.environ.pop("AUTHLIB_INSECURE_TRANSPORT", None)


@pytest.fixture(scope="module")
def sso_server(provider, tmp_path_factory) -> Iterator[Server]:
    secrets = tmp_path_factory.mktemp("secrets") / "secrets.toml"  # outside the repository, as in production
    secrets.write_text(f"""[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{os.urandom(16).hex()}"
[auth.institution]
client_id = "complaints"
client_secret = "{os.urandom(16).hex()}"
server_metadata_url = "{provider}/.well-known/openid-configuration"
""")
    with serve("--secrets.files", str(secrets)) as running:
        yield running


@pytest.fixture(scope="module")
def inst(sso_server) -> Institution:
    engine = make_engine(sso_server.database_url())
    migrate(engine)
    inst = make_institution(engine, "securities")
    with inst.uow() as uow:  # what an admin does in 系统管理 → 用户
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], sso_login=CLERK)
    return inst


def through_the_provider(page, sub: str) -> None:
    """Click the institution's button, be the given subject on the provider's page, come back to the app."""
    page.get_by_role("button", name=SSO_BUTTON).click()
    page.wait_for_url("**/oauth2/authorize?**")
    page.fill('input[name="sub"][type="text"]', sub)
    page.get_by_role("button", name="Authorize", exact=True).click()


def identity_cookies(context) -> list[str]:
    return [c["name"] for c in context.cookies() if c["name"].startswith("_streamlit_user")]


def test_the_linked_user_signs_in_through_the_provider_and_signing_out_does_not_bring_them_back(
        sso_server, inst, context):
    page = context.new_page()
    page.goto(sso_server.url)
    for _ in range(2):  # a second time in the same browser, after signing out
        through_the_provider(page, "u-clerk")
        page.get_by_role("heading", name="工作台").wait_for()
        signed_in_as(page, "Clerk")  # our user, with our roles, not the provider's name
        page.wait_for_url(lambda url: "/auth/session" not in url and "oauth2" not in url)
        assert identity_cookies(context) == []  # only our session remains
        page.reload()
        signed_in_as(page, "Clerk")
        sign_out_here(page)
        page.reload()  # signed out, and no identity left to sign in again silently
        signed_out(page)
        page.get_by_role("button", name=SSO_BUTTON).wait_for()
        assert page.get_by_role("heading", name="工作台").count() == 0


def test_an_identity_linked_to_no_user_is_refused_and_gets_no_session(sso_server, inst, context):
    page = context.new_page()
    page.goto(sso_server.url)
    through_the_provider(page, "u-stranger")
    page.get_by_text(REFUSED).wait_for()
    assert page.get_by_role("button", name="退出登录").count() == 0
    assert "complaints_session" not in [c["name"] for c in context.cookies()]
    with page.expect_navigation(url=lambda url: "/auth/signout" not in url):
        page.get_by_role("button", name="返回登录").click()  # the identity is forgotten, not kept for 30 days
    page.get_by_role("button", name=SSO_BUTTON).wait_for()
    assert identity_cookies(context) == [] and page.get_by_text(REFUSED).count() == 0
