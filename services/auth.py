"""Signing in: password check with lock-out, the signed-in user re-read on every run, the cookie key."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import AuditEvent, Department, Setting, User
from services.calendar import SHANGHAI
from services.errors import InvalidInput, NotPermitted

MAX_FAILED_LOGINS = 5  # issue 3: five wrong passwords in a row lock the account …
LOCK_FOR = timedelta(minutes=15)  # … for fifteen minutes, unless an admin unlocks it
COOKIE_KEY = "cookie_key"


@dataclass(frozen=True)
class SessionUser:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    department_code: str | None
    department_name: str | None


def _bad_credentials() -> InvalidInput:
    return InvalidInput("用户名或密码错误。", "Wrong username or password.", field="password")


def _locked(until: datetime) -> NotPermitted:
    local = until.astimezone(SHANGHAI)
    return NotPermitted(f"连续 {MAX_FAILED_LOGINS} 次密码错误，账号已锁定至 {local:%H:%M}，或请管理员解锁。",
                        f"Locked after {MAX_FAILED_LOGINS} wrong passwords until {local:%H:%M}, "
                        "or until an administrator unlocks it.", field="username")


def authenticate(uow: UnitOfWork, username: str, password: str, now: datetime | None = None) -> SessionUser:
    """Check the password; count failures in the database so every replica sees them."""
    now = now or datetime.now(SHANGHAI)
    user = uow.session.scalar(select(User).where(User.username == username.strip()).with_for_update())
    if user is None or not user.active:
        raise _bad_credentials()
    if user.locked_until and user.locked_until > now:
        raise _locked(user.locked_until)
    if not bcrypt.checkpw(password.encode(), user.password_hash.encode()):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCK_FOR, 0
            uow.session.add(AuditEvent(actor_id=user.id, action="account_locked",
                                       detail={"until": user.locked_until.isoformat()}))
            uow.commit()
            raise _locked(user.locked_until)
        uow.commit()
        raise _bad_credentials()
    user.failed_logins, user.locked_until = 0, None
    uow.session.add(AuditEvent(actor_id=user.id, action="signed_in"))
    uow.commit()
    return session_user(uow.session, user.id)


def session_user(session: Session, user_id: int) -> SessionUser:
    """The user as the database says now: a disabled account or changed role applies at the next click."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotPermitted("该账号已停用，请重新登录。", "This account is disabled; sign in again.")
    department = session.get(Department, user.department_id) if user.department_id else None
    return SessionUser(user.id, user.username, user.display_name, frozenset(user.roles),
                       department.code if department else None, department.name if department else None)


def user_by_username(session: Session, username: str) -> SessionUser | None:
    user_id = session.scalar(select(User.id).where(User.username == username, User.active.is_(True)))
    return session_user(session, user_id) if user_id else None


def sign_in_credentials(session: Session) -> dict[str, dict[str, dict[str, object]]]:
    """Active users' bcrypt hashes in streamlit-authenticator's credentials shape."""
    users = session.scalars(select(User).where(User.active.is_(True))).all()
    return {"usernames": {u.username: {"name": u.display_name, "password": u.password_hash, "email": None,
                                       "roles": list(u.roles)} for u in users}}


def cookie_key(uow: UnitOfWork) -> str:
    """The sign-in cookie's secret: generated at first start, kept in the database, never in the repo.

    Kept in PostgreSQL so every app replica behind the load balancer signs cookies alike;
    ON CONFLICT lets two replicas starting together agree on the first one's key.
    """
    uow.session.execute(insert(Setting).values(key=COOKIE_KEY, value=secrets.token_urlsafe(48))
                        .on_conflict_do_nothing())
    uow.commit()
    return str(uow.session.scalar(select(Setting.value).where(Setting.key == COOKIE_KEY)))
