"""The audit trail (issue 8 §7): who did what outside a case's own timeline, append-only.

`record` is the one way to write an audit row; the database chains each row to the previous one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from db.models import AuditEvent


def record(session: Session, actor_id: int | None, action: str, **detail: Any) -> None:
    """Add an audit row to the caller's transaction (it commits with the change it describes)."""
    session.add(AuditEvent(actor_id=actor_id, action=action, detail=detail))
