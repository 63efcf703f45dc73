"""Sign-in through the institution's identity provider (issue 8 §3): Streamlit's `st.login` proves who the
browser is; this maps that identity to one of our users, who then gets a session like any password user.

The link is `users.sso_login`, the provider's verified e-mail, set by an admin. Only the claims reach this
module (the page passes `st.user.to_dict()`): roles and scope still come from our users table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from db.models import User
from services.errors import InvalidInput, NotPermitted
from services.institution import audit
from services.institution.sessions import Opened, open_session
from services.unit_of_work import UnitOfWork

# Streamlit keeps the identity in a 30-day cookie; only one fresh from the provider opens a session, so a
# lingering cookie never signs anyone in again after sign-out or after a session's 12 hours.
FRESH_FOR = timedelta(minutes=5)
CLOCK_SKEW = timedelta(minutes=1)
_EMAIL = re.compile(r"^[^@\s\x00]{1,64}@[^@\s\x00]{1,189}$")


def refused() -> NotPermitted:
    """One reply for every refusal: it says what to do, not which check failed."""
    return NotPermitted("error.signin.sso_failed", field="sso")


def sso_login(value: str | None) -> str | None:
    """An admin's entry for a user's 统一身份账号: an e-mail (compared case-insensitively), or empty for none."""
    text = (value or "").strip().lower()
    if not text:
        return None
    if len(text) > 254 or not _EMAIL.match(text):
        raise InvalidInput("error.user.bad_sso_login", field="sso_login")
    return text


def _issued_at(claims: Mapping[str, Any]) -> datetime | None:
    # iat is when the provider issued this token, i.e. when Streamlit's callback got it; auth_time may be
    # hours older under the provider's own single sign-on, so it is only the fallback.
    stamp = claims.get("iat", claims.get("auth_time"))
    if isinstance(stamp, bool) or not isinstance(stamp, int | float):
        return None
    return datetime.fromtimestamp(stamp, UTC)


def sign_in_with_identity(uow: UnitOfWork, claims: Mapping[str, Any], *, client_ip: str = "", client: str = "",
                          now: datetime | None = None) -> Opened:
    """A session for the active, unlocked user whose 统一身份账号 is the identity's verified e-mail; flushed.

    Refused alike (and audited with the reason) when the e-mail is missing or unverified, the identity is
    older than five minutes, or no usable user carries it.
    """
    now = uow.at(now)
    email = claims.get("email")
    login = email.strip().lower()[:254] if isinstance(email, str) else ""
    issued = _issued_at(claims)
    user = uow.session.scalar(select(User).where(func.lower(User.sso_login) == login)) if login else None
    reason = ("no_email" if not login
              else "unverified" if claims.get("email_verified", True) is not True
              else "stale" if issued is None or not now - FRESH_FOR <= issued <= now + CLOCK_SKEW
              else "unknown_identity" if user is None
              else "disabled" if not user.active
              else "locked" if user.locked_until is not None and user.locked_until > now
              else None)
    if reason is not None:
        audit.record(uow.session, user.id if user else None, "sign_in_failed", method="sso", sso_login=login,
                     reason=reason, at=now)
        uow.keep_when_refused()
        raise refused()
    assert user is not None
    audit.record(uow.session, user.id, "signed_in", method="sso", client_ip=client_ip[:64], at=now)
    return open_session(uow, user.id, client, now)  # the audit row goes with the session
