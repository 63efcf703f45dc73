"""Supervision as an audit (RULES.md §8, issue 12 §4–5): calibration sessions and disputes of review findings.

Calibration reviews live in their own table, never in `reviews`, so no KPI, sample evaluation, reviewer load or
report that reads `reviews` can count them (issue 12 §4). Same metadata as `db.models`; migration 0019.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, _in, created_at

DISPUTE_STATUSES = ("filed", "accepted", "partly_accepted", "rejected")
DISPUTE_DECISIONS = DISPUTE_STATUSES[1:]


class CalibrationSession(Base):
    """A supervisor's calibration: the same closed cases reviewed blind by two or more reviewers."""

    __tablename__ = "calibration_sessions"
    __table_args__ = (
        CheckConstraint("length(btrim(title)) > 0", name="title_present"),
        CheckConstraint("(closed_at IS NULL) = (closed_by_id IS NULL)", name="closed_by_someone"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CalibrationCase(Base):
    __tablename__ = "calibration_cases"
    __table_args__ = (UniqueConstraint("session_id", "case_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))


class CalibrationReviewer(Base):
    __tablename__ = "calibration_reviewers"
    __table_args__ = (UniqueConstraint("session_id", "reviewer_id"), Index("ix_calibration_reviewers_reviewer",
                                                                          "reviewer_id"))

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CalibrationReview(Base):
    """One reviewer's checklist of one case in a session; `baseline` marks the review the supervisor named the
    reference for that case (at most one per case)."""

    __tablename__ = "calibration_reviews"
    __table_args__ = (
        UniqueConstraint("session_id", "case_id", "reviewer_id"),
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_calibration_reviews_one_baseline", "session_id", "case_id", unique=True,
              postgresql_where=text("baseline")),
        Index("ix_calibration_reviews_reviewer", "reviewer_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("calibration_sessions.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # {item: {"result": "pass" | "fail" | "na", "note": str}}, as in reviews
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONB)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    baseline: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")


class Dispute(Base):
    """The reviewed department's dispute of one finding (a failed checklist item) of a review, and its final
    decision (issue 12 §5): one per finding, enforced by the unique constraint."""

    __tablename__ = "review_disputes"
    __table_args__ = (
        UniqueConstraint("review_id", "item"),
        CheckConstraint(_in("status", DISPUTE_STATUSES), name="status_known"),
        CheckConstraint("length(btrim(reason)) > 0", name="reason_present"),
        CheckConstraint("(status = 'filed') = (decided_at IS NULL)", name="decided_when_not_filed"),
        CheckConstraint("status = 'filed' OR (decided_by_id IS NOT NULL"
                        " AND length(btrim(coalesce(decision_reason, ''))) > 0)", name="decision_with_reason"),
        CheckConstraint("(status IN ('accepted', 'partly_accepted')) = (score_after IS NOT NULL)",
                        name="score_after_when_accepted"),
        CheckConstraint("score_after IS NULL OR score_after BETWEEN 0 AND 100", name="score_after_range"),
        Index("ix_review_disputes_filed_at", "filed_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    item: Mapped[str] = mapped_column(String(32))  # checklist item code (services.supervision.reviews.CHECKLIST)
    filed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    status: Mapped[str] = mapped_column(String(16), default="filed", server_default="filed")
    score_before: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))  # the review's score when filed
    score_after: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
