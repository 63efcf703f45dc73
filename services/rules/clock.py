"""The one notion of "now": an aware instant in Asia/Shanghai (RULES.md §3)."""

from __future__ import annotations

from datetime import datetime

from services.errors import InvalidInput
from services.rules.calendar import SHANGHAI


def as_of(at: datetime | None, field: str = "at") -> datetime:
    """`at` in Shanghai, or now when None; a naive time is refused (it would be read in the wrong zone)."""
    if at is None:
        return datetime.now(SHANGHAI)
    if at.tzinfo is None:
        raise InvalidInput("error.time.zone_missing", field=field)
    return at.astimezone(SHANGHAI)
