"""The unit of work: one transaction, and the one door to what the institution configured and to time
(issue 9 §1, §3).

`uow.policy()` is the active pack as this institution runs it (the admin's edited copy, else the shipped
file), `uow.calendar()` the working calendar in the database, `uow.now()` an aware Asia/Shanghai instant
from the clock; each is read once per unit of work. Use cases only flush: whoever opened the unit of work
commits (`transaction()` for callers that commit when their block succeeds, and keep what a refusal asked
to keep).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.engine import default_engine, read_engine
from db.models import Setting
from services.errors import DomainError, InvalidInput
from services.rules import clock as clocks
from services.rules.calendar import CalendarDay, DayType, WorkingCalendar
from services.rules.clock import Clock, as_of
from services.rules.packs import load_policy, policy_from_data
from services.rules.policy import Policy

ACTIVE_PACK = "active_pack"  # settings key: the code of the institution's one active pack (RULES.md §4)
PACK_EDITS = "pack_edits"  # settings key: {pack code: the admin's edited copy of the pack data}
CALENDAR_REVISION = "calendar_revision"  # settings key: a new stamp on every calendar change (migration 0025)


class UnitOfWork:
    """One transaction: rolls back unless `commit()` was called (cosmicpython's pattern).

    clock: where `now()` comes from; None → the process's clock (`services.rules.clock.now`, which tests set).
    reading: a read-only transaction (issue 13 §5) — KPIs, reports, sampling preview, the board — on `engine`
    or, by default, the read engine (DATABASE_READ_URL's standby, else the primary); any write in it fails.
    """

    def __init__(self, engine: Engine | None = None, *, clock: Clock | None = None, reading: bool = False) -> None:
        self._bind = engine or (read_engine() if reading else default_engine())
        self._clock = clock
        self.reading = reading

    def __enter__(self) -> UnitOfWork:
        # a plain Session: a sessionmaker per unit of work made a Session subclass on every call (~0.1 ms)
        self.session = Session(bind=self._bind, expire_on_commit=False)
        if self.reading:  # the transaction's first statement: nothing in it may write, on any server
            self.session.execute(text("SET TRANSACTION READ ONLY"))
        self._now: datetime | None = None
        self._policies: dict[str, Policy] = {}
        self._calendar: WorkingCalendar | None = None
        self._settings: dict[str, Any] | None = None
        self.kept_when_refused = False
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()

    def keep_when_refused(self) -> None:
        """What is flushed so far must outlive the refusal about to be raised (a failed sign-in's audit row and
        failure count, issue 8 §3): `transaction()` commits it before passing the refusal on."""
        self.flush()
        self.kept_when_refused = True

    # --- time ------------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """The instant this unit of work runs at, read once (every "now" in one transaction agrees)."""
        if self._now is None:
            self._now = as_of((self._clock or clocks.now)())
        return self._now

    def at(self, at: datetime | None, field: str = "at") -> datetime:
        """An explicit event time in Shanghai (a naive one is refused), or `now()` when None."""
        return self.now() if at is None else as_of(at, field)

    # --- configuration ---------------------------------------------------------------------------------

    def policy(self, code: str | None = None) -> Policy:
        """The pack `code` (default: the active one) as this institution runs it: the admin's edited copy,
        else the shipped file (RULES.md §4). A case is judged by its own pack's code."""
        code = code or self.active_pack_code()
        if code is None:
            raise InvalidInput("error.settings.no_active_pack", field="pack")
        if code not in self._policies:
            edited = self._edited_pack_data(code)
            self._policies[code] = (_edited_policy(code, json.dumps(edited, sort_keys=True)) if edited
                                    else load_policy(code))
        return self._policies[code]

    def active_pack_code(self) -> str | None:
        code: str | None = self._configuration().get(ACTIVE_PACK)
        return code

    def _edited_pack_data(self, code: str) -> dict[str, Any] | None:
        """The admin's edited copy of pack `code`, if any."""
        edits: dict[str, Any] = self._configuration().get(PACK_EDITS) or {}
        return edits.get(code)

    def _configuration(self) -> dict[str, Any]:
        """The settings behind `policy()` and `calendar()`, read once per unit of work and in one statement: a
        view read them in three (issue 13 §4)."""
        if self._settings is None:
            self._settings = dict(self.session.execute(_CONFIGURATION_ROWS).tuples().all())
        return self._settings

    def calendar(self) -> WorkingCalendar:
        """The institution's working calendar (RULES.md §3), read once per unit of work: built from its rows only
        when their revision is new to this process."""
        if self._calendar is None:
            known = _calendars.get(self._configuration().get(CALENDAR_REVISION, ""))
            self._calendar = known if known is not None else self._read_calendar()
        return self._calendar

    def _read_calendar(self) -> WorkingCalendar:
        revision, rows = self.session.execute(_CALENDAR_ROWS).one()  # one statement: the stamp of these very rows
        data = json.loads(rows)
        calendar = WorkingCalendar((CalendarDay(date.fromisoformat(day), DayType(day_type), name)
                                    for day, day_type, name in data["days"]), data["years"])
        if revision is not None:
            if len(_calendars) >= _CALENDARS_KEPT:
                _calendars.clear()
            _calendars[revision] = calendar
        return calendar

    def configuration_changed(self) -> None:
        """An edit of the pack or the calendar in this unit of work: read them afresh from now on."""
        self._policies, self._calendar, self._settings = {}, None, None


def active_pack_code(session: Session) -> str | None:
    setting = session.get(Setting, ACTIVE_PACK)
    return setting.value if setting else None


_CONFIGURATION = (ACTIVE_PACK, PACK_EDITS, CALENDAR_REVISION)
# built once: a fresh select per unit of work was ~50 µs of a view (issue 13 §4)
_CONFIGURATION_ROWS = select(Setting.key, Setting.value).where(Setting.key.in_(_CONFIGURATION))

# The calendar's days and the years an admin marked complete (issue 10 §6) as one text, with the revision they
# carry, in one statement: one snapshot, and one row to fetch instead of ~800.
_CALENDAR_ROWS = text(
    "SELECT (SELECT value #>> '{}' FROM settings WHERE key = :revision), json_build_object("
    "'days', COALESCE(json_agg(json_build_array(day, day_type, name) ORDER BY day), '[]'::json), "
    "'years', (SELECT COALESCE(json_agg(year ORDER BY year), '[]'::json) FROM calendar_years WHERE complete)"
    ")::text FROM working_calendar").bindparams(revision=CALENDAR_REVISION)

# Calendars by revision: a view no longer reads and rebuilds the same ~800 days (issue 13 §1, §4). A revision
# names one content on every server, so nothing goes stale; a WorkingCalendar is never changed once built.
_calendars: dict[str, WorkingCalendar] = {}
_CALENDARS_KEPT = 8


@functools.lru_cache(maxsize=32)
def _edited_policy(code: str, data: str) -> Policy:
    return policy_from_data(json.loads(data), origin=f"{code}.toml (edited)")


@contextmanager
def transaction(engine: Engine | None = None, *, clock: Clock | None = None,
                reading: bool = False) -> Iterator[UnitOfWork]:
    """A unit of work that commits when its block ends without an exception (§3: the caller commits);
    `reading`: a read-only one (see UnitOfWork)."""
    with UnitOfWork(engine, clock=clock, reading=reading) as uow:
        try:
            yield uow
        except DomainError:
            if uow.kept_when_refused:
                uow.commit()
            raise
        uow.commit()
