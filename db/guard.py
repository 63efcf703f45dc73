"""The last check before PostgreSQL (issue 8 §5): nothing a service forgot to validate may reach the
database as an error, whose message would quote the customer's data on screen and in the log.

Before every flush, each new or changed row's text is checked against its column: the length of
String(n) (and of ARRAY(String(n)) items), `info["max_chars"]` on Text, and NUL characters in any
text or JSONB value, which PostgreSQL refuses. A violation is an `InvalidInput` naming the field and
never quoting the value. Services check the same limits first with better words (services.rules.validation).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.types import ARRAY

from services.errors import InvalidInput


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


def _limit(column: Any) -> int | None:
    kind = column.type.item_type if isinstance(column.type, ARRAY) else column.type
    if "max_chars" in column.info:
        return int(column.info["max_chars"])
    return kind.length if isinstance(kind, String) else None


def _too_long(value: Any, limit: int) -> bool:
    if isinstance(value, str):
        return len(value) > limit
    return isinstance(value, list | tuple) and any(isinstance(v, str) and len(v) > limit for v in value)


def check(obj: Any, changed_only: bool) -> None:
    """Refuse a row whose text would not fit its column or carries a NUL character."""
    state = inspect(obj)
    for attr in state.mapper.column_attrs:
        if changed_only and not state.attrs[attr.key].history.has_changes():
            continue
        value = state.attrs[attr.key].loaded_value
        if value is None or not isinstance(value, str | list | tuple | dict):
            continue
        if _has_nul(value):
            raise InvalidInput("error.input.nul_anywhere", field=attr.key)
        limit = _limit(attr.columns[0])
        if limit is not None and _too_long(value, limit):
            raise InvalidInput("error.input.too_long_here", field=attr.key, limit=limit)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for obj in session.new:
        check(obj, changed_only=False)
    for obj in session.dirty:
        check(obj, changed_only=True)
