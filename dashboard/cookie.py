"""The sign-in cookie (issue 8 §2): `<token>.<HMAC-SHA256(key, token)>`, HttpOnly, for this browser session.

The key comes from `COMPLAINTS_SECRET_KEY`, or from a file made at first start with 0600 permissions
(`<data dir>/secrets/cookie_key`); never from the database, so a database backup mints no cookie.
The signature only turns away forged and foreign cookies early: the session row decides who is signed in.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import logging
import os
import secrets
from pathlib import Path

from db.engine import data_dir

LOG = logging.getLogger("complaints.cookie")
NAME = "complaints_session"
KEY_ENV = "COMPLAINTS_SECRET_KEY"


def key_file() -> Path:
    return data_dir() / "secrets" / "cookie_key"


@functools.cache
def secret_key() -> bytes:
    configured = os.environ.get(KEY_ENV)
    if configured:
        return configured.encode()
    path = key_file()
    if os.environ.get("DATABASE_URL"):  # a shared database: maybe other machines, each with its own file
        LOG.warning("%s is not set: this server signs the sign-in cookie with its own key file (%s); app servers on "
                    "other machines sharing DATABASE_URL will not accept its cookies (issue 13 §5)", KEY_ENV, path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        # Written aside, then linked into place: a second process starting at the same moment either
        # finds no file or the whole key, and link() lets only the first key in.
        spare = path.with_name(f".cookie_key.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(spare, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_urlsafe(48).encode())
        try:
            os.link(spare, path)
        except FileExistsError:
            pass
        finally:
            spare.unlink()
    return path.read_bytes().strip()


def _signature(token: str) -> str:
    mac = hmac.new(secret_key(), token.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def seal(token: str) -> str:
    return f"{token}.{_signature(token)}"


def unseal(value: str | None) -> str | None:
    """The token of a cookie this server signed, or None for a missing, foreign or forged one."""
    if not isinstance(value, str):  # AppTest's context has no cookies
        return None
    token, _, signature = value.partition(".")
    if not token or not hmac.compare_digest(signature.encode(), _signature(token).encode()):
        return None
    return token


def safe_next(target: str | None) -> str:
    """Where the cookie routes may send the browser: only a path on this site ("/case?case=…"), never
    "//evil.example" or "https://…" (an open redirect would make our sign-in a phishing tool)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")) or any(
            ord(c) < 32 for c in target):
        return "/"
    return target
