"""The sign-in cookie and the cookie routes' redirect target (issue 8 §2)."""

from __future__ import annotations

import stat

import pytest

from dashboard import cookie


@pytest.fixture
def key_dir(tmp_path, monkeypatch):
    monkeypatch.delenv(cookie.KEY_ENV, raising=False)
    monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(tmp_path))
    cookie.secret_key.cache_clear()
    yield tmp_path
    cookie.secret_key.cache_clear()


def test_the_key_file_is_made_once_readable_by_the_owner_only(key_dir):
    first = cookie.secret_key()
    path = key_dir / "secrets" / "cookie_key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    cookie.secret_key.cache_clear()
    assert cookie.secret_key() == first and len(first) >= 40


def test_a_cookie_signed_with_another_key_or_altered_is_refused(key_dir, monkeypatch):
    token = "ab" * 32
    sealed = cookie.seal(token)
    assert cookie.unseal(sealed) == token
    assert cookie.unseal(sealed[:-2] + "xx") is None
    assert cookie.unseal(("cd" * 32) + sealed[64:]) is None
    assert cookie.unseal(token) is None and cookie.unseal("") is None and cookie.unseal(None) is None
    monkeypatch.setenv(cookie.KEY_ENV, "another institution's key")
    cookie.secret_key.cache_clear()
    assert cookie.unseal(sealed) is None  # a foreign cookie


@pytest.mark.parametrize(("asked", "goes_to"), [
    ("/case?case=TS-20261102-000001", "/case?case=TS-20261102-000001"),
    ("/", "/"), (None, "/"), ("", "/"),
    ("//evil.example/x", "/"), ("https://evil.example", "/"), ("/\\evil.example", "/"), ("/x\r\nSet-Cookie: a=b", "/"),
])
def test_after_the_cookie_the_browser_goes_only_to_a_path_on_this_site(asked, goes_to):
    assert cookie.safe_next(asked) == goes_to


def test_a_server_on_a_shared_database_without_the_shared_key_says_so(key_dir, monkeypatch, caplog):
    """Issue 13 §5: servers on other machines sharing DATABASE_URL each make their own key file and would refuse
    each other's cookies: the server says which setting to give them all."""
    cookie.secret_key()
    assert not caplog.records  # one machine, its own database: the key file is all it needs
    cookie.secret_key.cache_clear()
    monkeypatch.setenv("DATABASE_URL", "postgresql://owner@db.internal/complaints")
    cookie.secret_key()
    assert [r.levelname for r in caplog.records] == ["WARNING"] and cookie.KEY_ENV in caplog.text
    caplog.clear()
    cookie.secret_key.cache_clear()
    monkeypatch.setenv(cookie.KEY_ENV, "the institution's one key")
    assert cookie.secret_key() == b"the institution's one key" and not caplog.records
