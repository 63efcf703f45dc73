"""SQLAlchemy 2.0 typed models. Codes are checked strings; every constraint is named."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("intake", "handler", "dept_head", "supervisor", "executive", "admin", "trainee")
STATES = (
    "registered", "forwarded", "in_progress", "resolved",
    "feedback_given", "return_visit", "archived", "withdrawn",
)
OUTCOMES = ("resolved", "resolved_at_intake", "invalid", "withdrawn")
GRADES = ("general", "large", "major", "invalid", "L1", "L2", "L3")
MILESTONES = (
    "forward", "first_contact", "first_reply", "feedback",
    "resolve", "resolve_target", "return_visit", "report_hq",
    "statutory_decision", "review_decision",  # the statutory layer, RULES.md §7.1, §7.2 (migration 0016)
)
EVENT_TYPES = (
    "intake", "forward", "first_contact", "resolve", "resolve_at_intake", "invalid",
    "feedback", "return_visit", "archive", "withdraw", "re_complaint", "extension",
    "escalation", "escalation_ack", "report_hq", "deadlines_recomputed", "reveal_pii", "note",
    "reassign",  # issue 10 §5 (migration 0015)
    # the statutory layer, RULES.md §7 (migration 0016)
    "clock_paused", "clock_resumed", "clock_restarted", "repeat_merged", "extension_requested",
    "extension_decided", "classified", "review_requested", "recusal_override", "regulator_reply",
    "major_declared",
)
# Where a complaint came from (RULES.md §7.3): the institution's own channels or a regulator's transfer.
SOURCES = ("own", "nfra_12378", "pboc_12363", "csrc_12386", "petition", "other_regulator")
PAUSE_KINDS = ("appraisal", "testing", "assessment", "mediation")  # time not counted (order 3 arts. 18, 23)
MAJOR_CAUSES = ("disaster", "accident", "public_health", "group_in_person", "regulator_designated")  # art. 29
DEADLINE_STATUSES = ("open", "met", "met_late", "waived", "paused")  # paused: RULES.md §7.1


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# A case still being handled (services.rules.transitions.OPEN_STATES): the partial indexes' predicate (issue 13 §1).
OPEN_CASE = _in("state", STATES[:6])
# The grades the board shows while open (services.casework.escalation.MAJOR_GRADES), and order 3 art. 29's major
# complaints: the board's candidates (issue 13 §1).
OPEN_MAJOR_CASE = f"{OPEN_CASE} AND ({_in('grade', ('major', 'L1'))} OR major_cause IS NOT NULL)"


def _array_within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} <@ ARRAY[{', '.join(repr(v) for v in values)}]::varchar[]"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_at: Mapped[datetime] = created_at()


class User(Base):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint(_array_within("roles", ROLES), name="roles_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128))
    password_hash: Mapped[str] = mapped_column(String(128))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(32)))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    # an executive's title: the pack role they are (e.g. president), which ranks what they answer (issue 10 §2)
    pack_role: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # the identity provider's verified e-mail that signs this user in (issue 8 §3); set by an admin
    sso_login: Mapped[str | None] = mapped_column(String(254), unique=True)
    created_at: Mapped[datetime] = created_at()


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    id_number: Mapped[str | None] = mapped_column(String(32))
    account_no: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = created_at()

    __table_args__ = (Index("ix_customers_phone", "phone"), Index("ix_customers_id_number", "id_number"))


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        # TS- real cases, PX- training cases (issue 10 §6): a practice number never repeats a real one.
        CheckConstraint(r"case_no ~ '^(TS|PX)-[0-9]{8}-[0-9]{6}$'", name="case_no_format"),
        CheckConstraint(_in("state", STATES), name="state_known"),
        CheckConstraint(_in("grade", GRADES), name="grade_known"),
        CheckConstraint("outcome IS NULL OR " + _in("outcome", OUTCOMES), name="outcome_known"),
        CheckConstraint("handling_level IS NULL OR handling_level IN ('branch', 'hq', 'company')",
                        name="handling_level_known"),
        CheckConstraint("compensation_claimed >= 0", name="claimed_nonneg"),
        CheckConstraint("compensation_paid >= 0", name="paid_nonneg"),
        CheckConstraint("satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_scale"),
        CheckConstraint("version >= 1", name="version_positive"),
        CheckConstraint(_in("source", SOURCES), name="source_known"),
        CheckConstraint("paused_days >= 0", name="paused_days_nonneg"),
        CheckConstraint("major_cause IS NULL OR " + _in("major_cause", MAJOR_CAUSES), name="major_cause_known"),
        Index("ix_cases_state_department", "state", "responsible_department_id"),
        Index("ix_cases_assignee_state", "assignee_id", "state"),
        Index("ix_cases_first_responder", "first_responder_id"),
        # issue 13 §2: the KPI families by department count from their anchor's index alone (migration 0027)
        Index("ix_cases_received_at", "received_at", postgresql_include=[
            "responsible_department_id", "parent_case_id", "compensation_claimed", "compensation_paid"]),
        Index("ix_cases_customer", "customer_id"),
        Index("ix_cases_resolved_at", "resolved_at", postgresql_include=["responsible_department_id", "received_at"]),
        Index("ix_cases_feedback_at", "feedback_at", postgresql_include=["responsible_department_id", "satisfaction"]),
        Index("ix_cases_id_department", "id", postgresql_include=["responsible_department_id"]),
        Index("ix_cases_closed_at", "closed_at", "id"),  # issue 13 §2: the KPI backlog's cases closed since a period
        Index("ix_cases_parent_case", "parent_case_id", postgresql_where="parent_case_id IS NOT NULL"),
        Index("ix_cases_reviewed_case", "reviewed_case_id", postgresql_where="reviewed_case_id IS NOT NULL"),
        # issue 13 §1: the queues and the board page open cases by their stored nearest deadline
        Index("ix_cases_open_assignee_due", "assignee_id", "next_due_at", "received_at", "id",
              postgresql_where=OPEN_CASE),
        Index("ix_cases_open_department_due", "responsible_department_id", "next_due_at", "received_at", "id",
              postgresql_include=["first_responder_id", "assignee_id"],  # the scope: a head's count reads the index
              postgresql_where=OPEN_CASE),
        # a clerk's open cases by state: the home tiles, not the clerk's every case of ten years
        Index("ix_cases_open_first_responder", "first_responder_id", "state", postgresql_where=OPEN_CASE),
        # every case with an open deadline, closed ones owing a report too: overdue filters of any state
        Index("ix_cases_next_due", "next_due_at", postgresql_where="next_due_at IS NOT NULL"),
        # issue 13 §1–2: the board's open major cases, the sweep's open cases the pack's rules escalate
        Index("ix_cases_open_major", "id", postgresql_where=OPEN_MAJOR_CASE),
        Index("ix_cases_open_escalate_to", "id",
              postgresql_where=f"{OPEN_CASE} AND (assessment -> 'escalate_to') <> '[]'::jsonb"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_no: Mapped[str] = mapped_column(String(20), unique=True)
    pack: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(64))
    grade: Mapped[str] = mapped_column(String(16))
    handling_level: Mapped[str | None] = mapped_column(String(16))
    cause: Mapped[str] = mapped_column(String(32))  # the pack's code (issue 9 §4); intake always gives one
    flags: Mapped[list[str]] = mapped_column(ARRAY(String(32)), default=list, server_default="{}")
    state: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str | None] = mapped_column(String(32))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content: Mapped[str] = mapped_column(Text, info={"max_chars": 20000})  # issue 8 §5, enforced by db.guard
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    first_responder_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    responsible_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    parent_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    compensation_claimed: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0)
    compensation_paid: Mapped[Decimal] = mapped_column(Numeric(14, 2), default=0, server_default="0")
    handling_form: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    fact_finding: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    measures: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    accountability: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    signed_confirmation: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    satisfaction: Mapped[int | None] = mapped_column(Integer)
    forwarded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    first_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    feedback_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    return_visit_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    assessment: Mapped[dict[str, Any]] = mapped_column(JSONB)
    intake_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # one case per submitted form
    # --- the statutory layer (RULES.md §7, migration 0016) ---
    source: Mapped[str] = mapped_column(String(24), default="own", server_default="own")  # §7.3
    regulator_ref: Mapped[str | None] = mapped_column(String(64))  # the regulator's reference number
    transferred_on: Mapped[date | None] = mapped_column(Date)  # the day the regulator transferred it
    channel_note: Mapped[str | None] = mapped_column(String(200))  # §7 open channel lists: what "other" was
    jrt_channel: Mapped[str | None] = mapped_column(String(16))  # §7.4 JR/T 0169-2018 codes
    jrt_business: Mapped[str | None] = mapped_column(String(16))
    jrt_cause: Mapped[str | None] = mapped_column(String(16))
    clock_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # §7.1 restart; None: receipt
    paused_days: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # §7.1 since the clock started
    agent_name: Mapped[str | None] = mapped_column(String(128))  # §7.2 arts. 12, 14: an agent and their letter
    agent_authorisation: Mapped[str | None] = mapped_column(String(200))
    complained_employee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # §7.2 art. 17 recusal
    recusal_override: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    major_cause: Mapped[str | None] = mapped_column(String(32))  # §7.2 art. 29
    reviewed_case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))  # §7.2 art. 20: a 核查 case
    notification_method: Mapped[str | None] = mapped_column(String(32))  # §7.2 art. 21 proof of notification
    notification_ref: Mapped[str | None] = mapped_column(String(200))
    # --- the nearest open deadline, kept by services.casework.deadlines.store_next_due (issue 13 §1) ---
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_milestone: Mapped[str | None] = mapped_column(String(32))
    next_at_risk_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # RULES.md §3 warning window
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = created_at()
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now())

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class CaseDeadline(Base):
    __tablename__ = "case_deadlines"
    __table_args__ = (
        UniqueConstraint("case_id", "milestone"),
        CheckConstraint(_in("milestone", MILESTONES), name="milestone_known"),
        CheckConstraint(_in("status", DEADLINE_STATUSES), name="status_known"),
        CheckConstraint("extensions >= 0", name="extensions_nonneg"),
        # the at-risk and overdue scans of the board and the sweep read the index alone (issue 13 §1–2)
        Index("ix_case_deadlines_open_due", "due_at", postgresql_include=["starts_at", "case_id", "milestone"],
              postgresql_where="status = 'open'"),
        Index("ix_case_deadlines_milestone_due", "milestone", "due_at"),
        # issue 13 §2: the KPI backlog's deadlines met since a period, and its waived ones (index only, by case)
        Index("ix_case_deadlines_milestone_met", "milestone", "met_at", "due_at"),
        Index("ix_case_deadlines_resolve_waived", "case_id", "id",
              postgresql_where="milestone = 'resolve' AND status = 'waived'"),
        # the automatic run reads only the open deadlines not yet escalated as overdue (issue 13 §2)
        Index("ix_case_deadlines_open_unescalated", "due_at", postgresql_include=["id"],
              postgresql_where="status = 'open' AND NOT overdue_escalated"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    milestone: Mapped[str] = mapped_column(String(32))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    original_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    met_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    period: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(Text)
    extensions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # its `overdue:<milestone>` escalation is recorded, once and for good (services.casework.escalation)
    overdue_escalated: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class CaseEvent(Base):
    """Append-only timeline: a trigger refuses UPDATE and DELETE (migration 0001)."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint(_in("event_type", EVENT_TYPES), name="event_type_known"),
        Index("ix_case_events_case_at", "case_id", "at"),
        Index("ix_case_events_type_at", "event_type", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = created_at()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    event_type: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, info={"max_chars": 20000})  # the intake event carries the content
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")


class Extension(Base):
    __tablename__ = "extensions"
    __table_args__ = (CheckConstraint("new_due_at > old_due_at", name="later_due"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(32))
    old_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    new_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    customer_informed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    customer_informed_method: Mapped[str] = mapped_column(String(64))
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


class ClockPause(Base):
    """Time the statutory clock does not count (RULES.md §7.1, order 3 arts. 18, 23): appraisal, testing,
    assessment or mediation, from `starts_on` to `ends_on` (open while None), the complainant told."""

    __tablename__ = "clock_pauses"
    __table_args__ = (CheckConstraint(_in("kind", PAUSE_KINDS), name="kind_known"),
                      CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="ends_after_start"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    complainant_informed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    informed_method: Mapped[str] = mapped_column(String(64))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


class ExtensionApproval(Base):
    """A superior's approval a further statutory extension needs (RULES.md §7.1, order 3 art. 18): asked by the
    handler, decided once by someone senior; an approved one is used by the extension it allowed."""

    __tablename__ = "extension_approvals"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    milestone: Mapped[str] = mapped_column(String(32))
    new_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    approved: Mapped[bool | None] = mapped_column(Boolean)
    decision_reason: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    extension_id: Mapped[int | None] = mapped_column(ForeignKey("extensions.id"))


class Escalation(Base):
    """One row per escalation; `rule_key` makes an automatic escalation happen exactly once."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("case_id", "rule_key"),
        # the board's cases awaiting acknowledgement, never a scan of every escalation (issue 13 §1)
        Index("ix_escalations_unacknowledged", "case_id", postgresql_where="acknowledged_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    to_role: Mapped[str] = mapped_column(String(64))
    rule_key: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text, info={"max_chars": 20000})  # an automatic one quotes the assessment
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CaseCounter(Base):
    """Per-day counter behind case numbers TS-YYYYMMDD-NNNNNN."""

    __tablename__ = "case_counters"
    __table_args__ = (CheckConstraint("last_no BETWEEN 1 AND 999999", name="last_no_range"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last_no: Mapped[int] = mapped_column(Integer)


class CalendarDayRow(Base):
    """Exceptions to Mon–Fri: statutory holidays and weekend make-up working days (RULES.md §3)."""

    __tablename__ = "working_calendar"
    __table_args__ = (CheckConstraint("day_type IN ('holiday', 'makeup_workday')", name="day_type_known"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    day_type: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = created_at()


class CalendarYear(Base):
    """A year with holidays or make-up days entered; other years fall back to Mon–Fri. It counts as covered
    only once `complete` (an admin marked it so, issue 10 §6): one entered date does not cover a year."""

    __tablename__ = "calendar_years"
    __table_args__ = (CheckConstraint("year BETWEEN 1990 AND 2200", name="year_range"),)

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(32))
    loaded_at: Mapped[datetime] = created_at()
    complete: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class ImportFile(Base):
    """A spreadsheet already imported, by the SHA-256 of its bytes: the same file is refused (issue 10 §5)."""

    __tablename__ = "import_files"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cases: Mapped[int] = mapped_column(Integer)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSONB)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class AuditEvent(Base):
    """Who did what: sign-ins, views, prints, downloads, admin changes (issue 8 §7); append-only.

    The database fills seq, prev_hash and row_hash on insert (migration 0009): each row's hash
    covers the previous row's, so an edited, deleted or reordered row breaks the chain.
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # A code, never prose: the hash joins fields with '|', so only the last (detail) may be free text.
        CheckConstraint(r"action ~ '^[a-z][a-z0-9_]*$'", name="action_code"),
        Index("ix_audit_events_case_id_at", "case_id", "at"),
        Index("ix_audit_events_actor_id_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    at: Mapped[datetime] = created_at()
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    # Set by the database's trigger whatever the writer sends.
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, server_default=FetchedValue())
    prev_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
    row_hash: Mapped[str] = mapped_column(String(64), server_default=FetchedValue())
