"""The audit trail (issue 8 §7): who signed in, viewed, revealed, printed, downloaded or changed what.

`record` is the one way to write an audit row; the database chains each row to the previous one
(migration 0009) and `verify` proves the chain. Admins and supervisors read it with `search` and take
it away with `to_xlsx` / `to_csv` (formula-safe, issue 8 §5).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.orm import Session

from db.models import AuditEvent, Case, User
from services.errors import InvalidInput
from services.export import neutralised
from services.institution.access import load_actor, require_role
from services.rules import clock
from services.rules.calendar import SHANGHAI, end_of_day, start_of_day
from services.rules.clock import as_of
from services.unit_of_work import UnitOfWork

# The codes written today (the page's action filter and the catalogue's labels follow this list).
ACTIONS = (
    "signed_in", "sign_in_failed", "signed_out", "account_locked",
    "case_viewed", "pii_revealed", "case_printed", "downloaded",
    "first_run_setup", "demo_forgotten", "pack_activated", "user_created", "user_updated", "password_reset",
    "account_unlocked", "department_saved", "pack_value_changed", "calendar_day_set", "kpi_weights_set",
    "cases_imported", "training_reset", "sample_drawn", "rectification_closed",
    "idle_timeout_changed", "calendar_year_marked",
    "calibration_created", "calibration_closed", "calibration_baseline", "dispute_filed", "dispute_decided",
)
VIEW_WINDOW = timedelta(minutes=10)  # one view/print row per user and case per window: the page reruns per click
CHAIN_LOCK = 0x6175646974  # the advisory lock key of migration 0009's trigger
GENESIS = "0" * 64
EXPORT_LIMIT = 20_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record(session: Session, actor_id: int | None, action: str, *, case_id: int | None = None,
           at: datetime | None = None, **detail: Any) -> None:
    """Add an audit row to the caller's transaction (it commits with the change it describes)."""
    # The row's time comes from the process clock like every "now" (issue 9 §1), not the database's.
    session.add(AuditEvent(actor_id=actor_id, action=action, case_id=case_id, detail=detail,
                           at=clock.now() if at is None else as_of(at)))


def record_once(uow: UnitOfWork, actor_id: int, action: str, case_id: int, at: datetime | None = None) -> bool:
    """Record a view or print of a case unless this user's last one is under VIEW_WINDOW old; flushed.

    Checked again under the chain's lock, so two reruns at the same instant still write one row.
    """
    when = uow.at(at)
    recent = select(AuditEvent.id).where(AuditEvent.case_id == case_id, AuditEvent.actor_id == actor_id,
                                         AuditEvent.action == action, AuditEvent.at > when - VIEW_WINDOW).limit(1)
    if uow.session.scalar(recent) is not None:
        return False
    uow.session.execute(select(func.pg_advisory_xact_lock(CHAIN_LOCK)))
    fresh = uow.session.scalar(recent) is None  # a new statement sees what committed while we waited
    if fresh:
        record(uow.session, actor_id, action, case_id=case_id, at=when)
    uow.flush()
    return fresh


def downloaded(uow: UnitOfWork, actor_id: int, what: str, file_name: str, *, ref: str | None = None,
               case_no: str | None = None) -> None:
    """A file left the system through a download button (what: a code such as `handling_form`); flushed."""
    actor = load_actor(uow.session, actor_id)
    case_id = uow.session.scalar(select(Case.id).where(Case.case_no == case_no)) if case_no else None
    record(uow.session, actor.id, "downloaded", case_id=case_id, what=what, file=file_name, ref=ref,
           case_no=case_no)
    uow.flush()


# --- proof --------------------------------------------------------------------------------------------

PROBLEMS = ("edited", "broken_link", "gap", "truncated", "rewritten")  # what `verify` can find


@dataclass(frozen=True)
class Verification:
    rows: int  # rows checked
    head_seq: int  # 0: empty trail
    head_hash: str  # write it down elsewhere: a later verify against it also catches a cut or recomputed tail
    bad_seq: int | None = None  # the first row that fails
    problem: str | None = None  # one of PROBLEMS

    @property
    def intact(self) -> bool:
        return self.problem is None


def row_hash(prev_hash: str, seq: int, at: datetime, actor_id: int | None, action: str, case_id: int | None,
             detail_text: str) -> str:
    """The same digest as migration 0009's audit_row_hash, computed here so a changed SQL function hides nothing."""
    micros = (at - _EPOCH) // timedelta(microseconds=1)
    joined = "|".join([prev_hash, str(seq), str(micros), "" if actor_id is None else str(actor_id), action,
                       "" if case_id is None else str(case_id), detail_text])
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


def verify(session: Session, head: tuple[int, str] | None = None) -> Verification:
    """Recompute the chain in seq order; stop at the first row that is edited, unlinked or missing.

    head: a (seq, hash) written down earlier; the row at that seq must still exist and carry that hash.
    """
    rows = session.execute(text("SELECT seq, prev_hash, row_hash, at, actor_id, action, case_id, detail::text "
                                "FROM audit_events ORDER BY seq").execution_options(yield_per=2000))
    checked, last_seq, last_hash = 0, 0, GENESIS
    for seq, prev, stored, at, actor_id, action, case_id, detail in rows:
        problem = ("gap" if seq != last_seq + 1 else "broken_link" if prev != last_hash
                   else "edited" if row_hash(prev, seq, at, actor_id, action, case_id, detail) != stored
                   else "rewritten" if head and seq == head[0] and stored != head[1] else None)
        if problem:
            rows.close()
            return Verification(checked, last_seq, last_hash, last_seq + 1 if problem == "gap" else seq, problem)
        checked, last_seq, last_hash = checked + 1, seq, stored
    if head and last_seq < head[0]:
        return Verification(checked, last_seq, last_hash, last_seq + 1, "truncated")
    return Verification(checked, last_seq, last_hash)


def check_chain(uow: UnitOfWork, actor_id: int) -> Verification:
    """`verify` for the audit page: admins and supervisors only."""
    require_role(load_actor(uow.session, actor_id), "view_audit")
    return verify(uow.session)


# --- reading ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AuditRow:
    seq: int
    at: datetime
    username: str | None  # None: the system
    display_name: str | None
    action: str
    case_no: str | None
    detail: dict[str, Any]


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditRow]
    total: int
    page: int
    page_size: int


def _filtered(uow: UnitOfWork, actor_id: int, date_from: date | None, date_to: date | None, username: str | None,
              action: str | None, case_no: str | None) -> Select[Any]:
    """The filtered trail, newest first, for an admin or supervisor only."""
    require_role(load_actor(uow.session, actor_id), "view_audit")
    if date_from and date_to and date_to < date_from:
        raise InvalidInput("error.period.end_before_start", field="date_to")
    query = (select(AuditEvent, User.username, User.display_name, Case.case_no)
             .outerjoin(User, User.id == AuditEvent.actor_id).outerjoin(Case, Case.id == AuditEvent.case_id))
    if date_from:  # whole days in Shanghai (RULES.md §3)
        query = query.where(AuditEvent.at >= start_of_day(date_from))
    if date_to:
        query = query.where(AuditEvent.at < end_of_day(date_to))
    if username and username.strip():
        like = "%" + username.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.username.ilike(like), User.display_name.ilike(like)))
    if action:
        query = query.where(AuditEvent.action == action)
    if case_no and case_no.strip():
        query = query.where(Case.case_no == case_no.strip())
    return query.order_by(AuditEvent.seq.desc())


def _rows(uow: UnitOfWork, query: Select[Any]) -> list[AuditRow]:
    return [AuditRow(e.seq, e.at, username, name, e.action, case_no, dict(e.detail or {}))
            for e, username, name, case_no in uow.session.execute(query)]


def search(uow: UnitOfWork, actor_id: int, *, date_from: date | None = None, date_to: date | None = None,
           username: str | None = None, action: str | None = None, case_no: str | None = None, page: int = 1,
           page_size: int = 50) -> AuditPage:
    """One page of the trail matching the filters (user: part of a username or name), newest first."""
    query = _filtered(uow, actor_id, date_from, date_to, username, action, case_no)
    total = uow.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page, page_size = max(1, page), min(max(1, page_size), 500)
    return AuditPage(_rows(uow, query.limit(page_size).offset((page - 1) * page_size)), total, page, page_size)


def export_frame(uow: UnitOfWork, actor_id: int, *, date_from: date | None = None, date_to: date | None = None,
                 username: str | None = None, action: str | None = None, case_no: str | None = None) -> pd.DataFrame:
    """Every row matching the filters, as a table with code column names; refused above EXPORT_LIMIT rows."""
    query = _filtered(uow, actor_id, date_from, date_to, username, action, case_no)
    rows = _rows(uow, query.limit(EXPORT_LIMIT + 1))
    if len(rows) > EXPORT_LIMIT:
        raise InvalidInput("error.audit.export_too_large", field="date_from", limit=EXPORT_LIMIT)
    return frame(rows)


def frame(rows: list[AuditRow]) -> pd.DataFrame:
    """Rows as a table (Shanghai times, detail as JSON text), for the page and the exports."""
    columns = ["seq", "at", "username", "display_name", "action", "case_no", "detail"]
    return pd.DataFrame([{"seq": r.seq, "at": f"{r.at.astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S}",
                          "username": r.username, "display_name": r.display_name, "action": r.action,
                          "case_no": r.case_no, "detail": json.dumps(r.detail, ensure_ascii=False, sort_keys=True)}
                         for r in rows], columns=columns)


def to_xlsx(table: pd.DataFrame) -> bytes:
    out = io.BytesIO()
    neutralised(table).to_excel(out, index=False, sheet_name="audit")
    return out.getvalue()


def to_csv(table: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel opens the Chinese text correctly; every field quoted."""
    return neutralised(table).to_csv(index=False, quoting=csv.QUOTE_ALL).encode("utf-8-sig")
