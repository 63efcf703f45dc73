"""Regulator transfers counted separately (issue 11 §3, RULES.md §7.3): received in a period by source — the
institution's own channels and each regulator — with how many were decided and replied to; and the source of
each case a list shows, for its 监管转办 mark.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select, text

from db.models import SOURCES, Case
from services.institution.access import case_scope, load_actor, require_role
from services.supervision.kpi import Scope, scope_for, window
from services.unit_of_work import UnitOfWork
from services.words import N_
from services.words import text as word

COLUMNS = ("source", "received", "decided", "replied")
COLUMN_KEYS = (N_("transfers.column.source"), N_("transfers.column.received"), N_("transfers.column.decided"),
               N_("transfers.column.replied"))  # built at run time: shown to the catalogue tool here
_BY_SOURCE = text(
    "SELECT c.source, count(*) AS received, count(*) FILTER (WHERE c.resolved_at IS NOT NULL) AS decided, "
    "count(*) FILTER (WHERE EXISTS (SELECT 1 FROM case_events e WHERE e.case_id = c.id "
    "AND e.event_type = 'regulator_reply')) AS replied "
    "FROM cases c WHERE c.received_at >= :start AND c.received_at < :end "
    "AND (CAST(:department AS bigint) IS NULL OR c.responsible_department_id = :department) "
    "AND (CAST(:category AS text) IS NULL OR c.category = :category) GROUP BY c.source")


def by_source(uow: UnitOfWork, scope: Scope, date_from: date, date_to: date,
              now: datetime | None = None) -> pd.DataFrame:
    """One row per source (every source, zeros included, in the schema's order): the complaints received in the
    period, those decided, those whose reply to the regulator is recorded (own channels: no reply owed)."""
    period = window(date_from, date_to, uow.at(now, "now"))
    found = {r.source: r for r in uow.session.execute(_BY_SOURCE, {
        "start": period["start"], "end": period["end"], "department": scope.department_id,
        "category": scope.category})}
    rows = [(s, *((found[s].received, found[s].decided, found[s].replied) if s in found else (0, 0, 0)))
            for s in SOURCES]
    return pd.DataFrame(rows, columns=list(COLUMNS))


def transfers_by_source(uow: UnitOfWork, actor_id: int, *, date_from: date, date_to: date,
                        now: datetime | None = None) -> pd.DataFrame:
    """`by_source` for what the user may see of the KPIs: a department head their department (issue 5 §2)."""
    return by_source(uow, scope_for(uow.session, actor_id), date_from, date_to, now)


def case_sources(uow: UnitOfWork, actor_id: int, case_nos: Iterable[str]) -> dict[str, tuple[str, str | None]]:
    """Source and major cause of each listed case the user may see (a list's marks)."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "view_case")
    wanted = list(dict.fromkeys(case_nos))
    if not wanted:
        return {}
    rows = uow.session.execute(select(Case.case_no, Case.source, Case.major_cause).where(
        Case.case_no.in_(wanted), case_scope(actor)))
    return {r.case_no: (r.source, r.major_cause) for r in rows}


def labelled(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """`by_source` for a reader of `lang`: sources by their labels, headers from the catalogue."""
    shown = frame.assign(source=[word(f"source.{s}", lang) for s in frame["source"]])
    return shown.rename(columns=lambda c: word(f"transfers.column.{c}", lang))
