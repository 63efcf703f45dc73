"""Signing in (issue 8 §3): one bcrypt check on every attempt, the same reply for every kind of failure,
and growing delays per account and per client instead of a lock-out an attacker could trigger.

A failure is counted under 'account:<typed username>' whether or not such a user exists, and under
'client:<address>'; the counts live in PostgreSQL so every app replica sees them.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.models import Department, User
from db.session_models import SignInThrottle
from services.errors import InvalidInput, NotPermitted
from services.institution import audit
from services.unit_of_work import UnitOfWork

ACCOUNT_FREE, ACCOUNT_CAP = 5, timedelta(minutes=5)  # per account: 5 free tries, then 1 s, 2 s, 4 s … ≤ 5 min
CLIENT_FREE, CLIENT_CAP = 20, timedelta(minutes=15)  # per client address: 20 free tries, then … ≤ 15 min
FORGET_AFTER = timedelta(hours=1)  # a count left alone this long starts again from zero
MAX_BYTES = 72  # bcrypt's limit: longer input can never match a stored hash


@dataclass(frozen=True)
class SessionUser:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    department_code: str | None
    department_name: str | None


def bad_credentials() -> InvalidInput:
    return InvalidInput("error.signin.wrong_credentials", field="password")


def throttled(wait: timedelta) -> NotPermitted:
    seconds = max(1, int(wait.total_seconds() + 0.999))
    return NotPermitted("error.signin.throttled", field="password", seconds=seconds)


def account_key(username: str) -> str:
    return f"account:{username.strip().lower()[:190]}"


@functools.cache
def _dummy_hash() -> str:
    """A hash at the users' cost, checked for unknown names so that they take as long as known ones."""
    rounds = int(os.environ.get("COMPLAINTS_BCRYPT_ROUNDS", "12"))
    return bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(rounds)).decode()


def password_matches(password: str, password_hash: str) -> bool:
    """bcrypt's check that never raises: too long (bcrypt 5 refuses > 72 bytes) or a broken hash is a miss."""
    raw = password.encode()
    try:
        return bcrypt.checkpw(raw[:MAX_BYTES], password_hash.encode()) and len(raw) <= MAX_BYTES
    except ValueError:
        return False


def authenticate(uow: UnitOfWork, username: str, password: str, client_ip: str = "",
                 now: datetime | None = None) -> SessionUser:
    """The user, when the password is right and neither the account nor the client is waiting out a delay.

    Unknown user, wrong password, disabled and admin-locked account get the same reply after the same
    work (issue 8 §3); every attempt is audited with the typed name, never the password.
    """
    now = uow.at(now)
    typed = username.strip()[:64]
    keys = [account_key(typed), f"client:{client_ip[:64]}"]
    counts = {row.key: row for row in uow.session.scalars(
        select(SignInThrottle).where(SignInThrottle.key.in_(keys)).order_by(SignInThrottle.key).with_for_update())}
    user = uow.session.scalar(select(User).where(User.username == typed))
    right = password_matches(password, user.password_hash if user else _dummy_hash())
    blocked = max((c.blocked_until for c in counts.values() if c.blocked_until and c.blocked_until > now),
                  default=None)
    if blocked is not None:
        audit.record(uow.session, user.id if user else None, "sign_in_failed", username=typed, reason="throttled")
        uow.keep_when_refused()
        raise throttled(blocked - now)
    usable = user is not None and user.active and not (user.locked_until and user.locked_until > now)
    if not (right and usable):
        _count_failure(uow.session, keys, now)
        reason = "wrong_password" if user is None or not right else "disabled" if not user.active else "locked"
        audit.record(uow.session, user.id if user else None, "sign_in_failed", username=typed,
               reason="unknown_user" if user is None else reason)
        uow.keep_when_refused()
        raise bad_credentials()
    assert user is not None
    uow.session.execute(delete(SignInThrottle).where(SignInThrottle.key == keys[0]))
    audit.record(uow.session, user.id, "signed_in", client_ip=client_ip[:64])
    uow.flush()
    return session_user(uow.session, user.id)


def _count_failure(session: Session, keys: list[str], now: datetime) -> None:
    # Counts long forgotten go, so guessed names sprayed at the form do not pile up.
    session.execute(delete(SignInThrottle).where(SignInThrottle.last_failure_at < now - FORGET_AFTER * 24))
    for key in keys:
        session.execute(insert(SignInThrottle).values(key=key, failures=0).on_conflict_do_nothing())
        row = session.scalar(select(SignInThrottle).where(SignInThrottle.key == key).with_for_update())
        assert row is not None
        if row.last_failure_at is not None and now - row.last_failure_at >= FORGET_AFTER:
            row.failures = 0
        row.failures, row.last_failure_at = row.failures + 1, now
        free, cap = (ACCOUNT_FREE, ACCOUNT_CAP) if key.startswith("account:") else (CLIENT_FREE, CLIENT_CAP)
        if row.failures >= free:
            row.blocked_until = now + min(timedelta(seconds=2 ** min(row.failures - free, 20)), cap)
    session.flush()


def clear_throttle(session: Session, username: str) -> None:
    """An admin's unlock: the account may be tried again at once (the client's count stays)."""
    session.execute(delete(SignInThrottle).where(SignInThrottle.key == account_key(username)))


def session_user(session: Session, user_id: int) -> SessionUser:
    """The user as the database says now: a disabled account or changed role applies at the next click."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotPermitted("error.signin.account_disabled")
    department = session.get(Department, user.department_id) if user.department_id else None
    return SessionUser(user.id, user.username, user.display_name, frozenset(user.roles),
                       department.code if department else None, department.name if department else None)
