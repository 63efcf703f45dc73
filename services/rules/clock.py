"""The one notion of "now": an aware instant in Asia/Shanghai (RULES.md §3).

The process has one clock; the unit of work reads it once (`uow.now()`). Tests set it with `set_clock`
so that no outcome depends on today's date (issue 9 §9).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.errors import InvalidInput
from services.rules.calendar import SHANGHAI

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(SHANGHAI)


_clock: Clock = system_clock


def set_clock(clock: Clock) -> Clock:
    """Make `clock` the process's clock; returns the previous one (to restore it)."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def now() -> datetime:
    """The process clock's instant, in Shanghai."""
    return as_of(_clock())


def as_of(at: datetime, field: str = "at") -> datetime:
    """`at` in Shanghai; a naive time is refused (it would be read in the wrong zone). A default "now" is the
    unit of work's (`uow.at(at)`)."""
    if at.tzinfo is None:
        raise InvalidInput("error.time.zone_missing", field=field)
    return at.astimezone(SHANGHAI)
