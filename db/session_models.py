"""Server-side sign-in sessions and the sign-in throttle (issue 8 §2–3).

Same metadata as `db.models`; the tables are created by migration 0007. A session row is named by the
SHA-256 of its random token: the token lives only in the browser's cookie, so a database copy opens nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, _in, created_at

END_REASONS = ("sign_out", "password_reset", "locked", "role_changed", "deactivated", "idle", "expired",
               "demo_disabled", "identity_changed")


class UserSession(Base):
    __tablename__ = "user_sessions"
    __table_args__ = (
        CheckConstraint("end_reason IS NULL OR " + _in("end_reason", END_REASONS), name="end_reason_known"),
        CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name="ended_with_reason"),
        Index("ix_user_sessions_user_id_open", "user_id", postgresql_where="ended_at IS NULL"),
        Index("ix_user_sessions_ticket_hash", "ticket_hash", unique=True),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 hex of the token
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    end_reason: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str] = mapped_column(String(128), default="", server_default="")
    ticket_hash: Mapped[str | None] = mapped_column(String(64))  # sha256 hex of the one-use cookie hand-off
    ticket_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ticket_sealed: Mapped[str | None] = mapped_column(String(64))  # the token XOR a pad derived from the ticket


class SignInThrottle(Base):
    """Failures per 'account:<typed username>' (whether it exists or not) and per 'client:<ip>'."""

    __tablename__ = "sign_in_throttle"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_nonneg"),
                      Index("ix_sign_in_throttle_last_failure_at", "last_failure_at"))

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    blocked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
