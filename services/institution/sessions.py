"""Server-side sign-in sessions (issue 8 §2): opened after a good password, checked on every run, ended
on sign-out and whenever an admin change takes away the user's right to be signed in.

A session is named by the SHA-256 of a random token; the token lives only in the browser (cookie) and in
the tab's memory, so a copy of the database opens nothing. The cookie is set by an HTTP response, so the
page hands the browser a one-use ticket (60 s) that `exchange_ticket` swaps for the token: until then the
token is kept only sealed under the ticket, which the database never holds (only its hash).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from db.models import Setting, User
from db.session_models import UserSession
from services.institution import audit
from services.institution.auth import SessionUser, authenticate, session_user
from services.unit_of_work import UnitOfWork

ABSOLUTE_LIFETIME = timedelta(hours=12)  # issue 8 §2
TICKET_LIFETIME = timedelta(seconds=60)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most once a minute, not on every click
IDLE_SETTING = "session_idle_minutes"
IDLE_DEFAULT, IDLE_MIN, IDLE_MAX = 30, 5, 480  # minutes; issue 8 §2: 30 by default, admin-settable
_SEAL = b"complaints-ticket-seal:"
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Opened:
    token: str  # the browser's secret: goes into the cookie and the tab's memory, never into the database
    ticket: str  # one use within 60 s: GET /auth/session?ticket=… sets the cookie


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _xor_pad(hex_value: str, ticket: str) -> str:
    pad = hashlib.sha256(_SEAL + ticket.encode()).digest()
    return bytes(a ^ b for a, b in zip(bytes.fromhex(hex_value), pad, strict=True)).hex()


def idle_timeout(session: Session) -> timedelta:
    setting = session.get(Setting, IDLE_SETTING)
    return timedelta(minutes=int(setting.value) if setting else IDLE_DEFAULT)


def client_label(ip: str | None, user_agent: str | None) -> str:
    """Where a session was opened, without personal data: the address and the browser family."""
    agent = user_agent or ""
    family = next((name for key, name in (("Edg/", "Edge"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"),
                                          ("Safari/", "Safari")) if key in agent), "other")
    return f"{(ip or '-')[:64]} {family}"


def open_session(uow: UnitOfWork, user_id: int, client: str = "", now: datetime | None = None) -> Opened:
    """A new session for a user whose password was just checked, with its cookie ticket; flushed."""
    now = uow.at(now)
    token, ticket = secrets.token_hex(32), secrets.token_hex(32)
    uow.session.add(UserSession(id=digest(token), user_id=user_id, created_at=now, last_seen_at=now,
                                expires_at=now + ABSOLUTE_LIFETIME, client=client[:128],
                                ticket_hash=digest(ticket), ticket_expires_at=now + TICKET_LIFETIME,
                                ticket_sealed=_xor_pad(token, ticket)))
    uow.flush()
    return Opened(token, ticket)


def sign_in(uow: UnitOfWork, username: str, password: str, *, client_ip: str = "", client: str = "",
            now: datetime | None = None) -> Opened:
    """Check the password (services.institution.auth: throttled, audited) and open a session for the user."""
    user = authenticate(uow, username, password, client_ip, now)
    return open_session(uow, user.id, client, now)


def exchange_ticket(uow: UnitOfWork, ticket: str, now: datetime | None = None) -> str | None:
    """The token of the session this ticket was made for, once: the ticket is spent even when refused."""
    now = uow.at(now)
    if not _TOKEN.match(ticket or ""):
        return None
    row = uow.session.scalar(select(UserSession).where(UserSession.ticket_hash == digest(ticket))
                             .with_for_update())
    if row is None:
        return None
    sealed, expires = row.ticket_sealed, row.ticket_expires_at
    row.ticket_hash = row.ticket_expires_at = row.ticket_sealed = None
    uow.flush()
    if sealed is None or expires is None or expires <= now or row.ended_at is not None:
        return None
    token = _xor_pad(sealed, ticket)
    return token if digest(token) == row.id else None


def resume(uow: UnitOfWork, token: str | None, now: datetime | None = None) -> SessionUser | None:
    """The signed-in user of a session token, or None: unknown, ended, idle too long, past its 12 hours,
    or the user disabled or locked. Ends a session found idle or expired, so it never comes back."""
    now = uow.at(now)
    if not _TOKEN.match(token or ""):
        return None
    row = uow.session.get(UserSession, digest(token or ""))
    if row is None or row.ended_at is not None:
        return None
    user = uow.session.get(User, row.user_id)
    reason = ("expired" if now >= row.expires_at
              else "idle" if now - row.last_seen_at >= idle_timeout(uow.session)
              else "deactivated" if user is None or not user.active
              else "locked" if user.locked_until is not None and user.locked_until > now
              else None)
    if reason is not None:
        row.ended_at, row.end_reason = now, reason
        uow.flush()
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        uow.flush()
    return session_user(uow.session, row.user_id)


def end(uow: UnitOfWork, token: str | None, reason: str = "sign_out", now: datetime | None = None) -> None:
    """End one session (sign-out), audited; an unknown or already ended token is no error."""
    if not _TOKEN.match(token or ""):
        return
    now = uow.at(now)
    user_id = uow.session.scalar(update(UserSession).where(UserSession.id == digest(token or ""),
                                                           UserSession.ended_at.is_(None))
                                 .values(ended_at=now, end_reason=reason).returning(UserSession.user_id))
    if user_id is not None:
        audit.record(uow.session, user_id, "signed_out", at=now)
    uow.flush()


def end_all(uow: UnitOfWork, user_id: int, reason: str, now: datetime | None = None) -> int:
    """End every open session of a user, in the caller's transaction (it commits with the change that
    caused it); returns how many were ended."""
    ended = uow.session.execute(update(UserSession).where(UserSession.user_id == user_id,
                                                          UserSession.ended_at.is_(None))
                                .values(ended_at=uow.at(now), end_reason=reason))
    assert isinstance(ended, CursorResult)  # an UPDATE without RETURNING gives a cursor result
    return ended.rowcount
