"""Supervision (RULES.md §6): sampling plans, sampled cases, reviews, rectification actions, return visits.

Same metadata as `db.models`; the tables are created by migration 0003.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from db.models import Base, _array_within, _in, created_at

STRATIFIERS = ("department", "grade", "category", "channel")
PERIOD_BASES = ("closed", "received")
SIZING_METHODS = ("rate", "margin", "attribute", "aql")  # issue 12 §1; each method's columns: migration 0017
# Why a case is in a sample (issue 12 §2, RULES.md §8): taken in full by a rule, or drawn at random. A case a rule
# takes has reason "all_major" when `major` is among its rules (as before), else "rule"; its rules in `included_by`.
SAMPLE_REASONS = ("all_major", "rule", "drawn")
RISK_RULES = ("overdue", "extended", "regulator", "recomplaint", "dissatisfied")  # toggled on the plan; migration 0018
INCLUSION_RULES = ("major", *RISK_RULES)
ACTION_STATUSES = ("open", "closed")


class SamplingPlan(Base):
    """A plan with its seed: drawing it again on the same population gives the same cases (RULES.md §6)."""

    __tablename__ = "sampling_plans"
    __table_args__ = (
        CheckConstraint("period_to >= period_from", name="period_ordered"),
        CheckConstraint(_in("period_basis", PERIOD_BASES), name="period_basis_known"),
        CheckConstraint(_array_within("stratify_by", STRATIFIERS), name="stratify_by_known"),
        CheckConstraint("rate IS NULL OR (rate > 0 AND rate <= 1)", name="rate_range"),
        CheckConstraint("confidence IS NULL OR (confidence > 0 AND confidence < 1)", name="confidence_range"),
        CheckConstraint("margin IS NULL OR (margin > 0 AND margin < 1)", name="margin_range"),
        CheckConstraint("(sizing_method = 'rate' AND rate IS NOT NULL AND confidence IS NULL AND margin IS NULL"
                        " AND tolerable IS NULL AND accepted IS NULL)"
                        " OR (sizing_method = 'margin' AND rate IS NULL AND confidence IS NOT NULL"
                        " AND margin IS NOT NULL AND tolerable IS NULL AND accepted IS NULL)"
                        " OR (sizing_method = 'attribute' AND rate IS NULL AND confidence IS NOT NULL"
                        " AND margin IS NULL AND tolerable IS NOT NULL AND accepted IS NOT NULL)"
                        " OR (sizing_method = 'aql' AND rate IS NULL AND confidence IS NULL AND margin IS NULL"
                        " AND tolerable IS NULL AND accepted IS NULL)",
                        name="one_sizing_method"),
        CheckConstraint("tolerable IS NULL OR (tolerable > 0 AND tolerable < 1)", name="tolerable_range"),
        CheckConstraint("accepted IS NULL OR accepted >= 0", name="accepted_nonneg"),
        CheckConstraint("min_per_stratum >= 0", name="min_nonneg"),
        CheckConstraint("max_per_stratum IS NULL OR max_per_stratum >= GREATEST(min_per_stratum, 1)",
                        name="max_not_below_min"),
        CheckConstraint("length(seed) BETWEEN 1 AND 64", name="seed_length"),
        CheckConstraint("population_size >= 0 AND sample_size >= 0", name="sizes_nonneg"),
        CheckConstraint(_array_within("include_rules", RISK_RULES), name="include_rules_known"),
        CheckConstraint("evaluation_tolerable IS NULL OR (evaluation_tolerable > 0 AND evaluation_tolerable < 1"
                        " AND sizing_method <> 'attribute')", name="evaluation_tolerable_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    period_from: Mapped[date] = mapped_column(Date)
    period_to: Mapped[date] = mapped_column(Date)
    period_basis: Mapped[str] = mapped_column(String(16), default="closed", server_default="closed")
    # {"departments": [...], "grades": [...], "categories": [...], "channels": [...], "states": [...]}
    population_filter: Mapped[dict[str, Any]] = mapped_column(JSONB)
    stratify_by: Mapped[list[str]] = mapped_column(ARRAY(String(16)))
    rate: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    confidence: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    margin: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    sizing_method: Mapped[str] = mapped_column(String(16), default="rate", server_default="rate")
    tolerable: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))  # attribute sampling (RULES.md §8)
    accepted: Mapped[int | None] = mapped_column(Integer)
    min_per_stratum: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_per_stratum: Mapped[int | None] = mapped_column(Integer)
    include_all_major: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    # issue 12 §2: the risk rules whose cases are always included besides major/L1 (codes of RISK_RULES)
    include_rules: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")
    # issue 12 §3: the tolerable deviation rate a rate, margin or AQL plan is evaluated against (attribute plans
    # use `tolerable`); fixed before drawing, so the evidence cannot move the criterion
    evaluation_tolerable: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    # per stratum at the draw: {"population": N_s, "included": by rule, "drawn": at random}; {} before 0018
    strata: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, server_default="{}")
    seed: Mapped[str] = mapped_column(String(64))
    population_size: Mapped[int] = mapped_column(Integer)
    sample_size: Mapped[int] = mapped_column(Integer)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


class SampleItem(Base):
    __tablename__ = "sample_items"
    __table_args__ = (
        UniqueConstraint("plan_id", "case_id"),
        CheckConstraint(_in("reason", SAMPLE_REASONS), name="reason_known"),
        CheckConstraint(_array_within("included_by", INCLUSION_RULES), name="included_by_known"),
        CheckConstraint("(reason = 'drawn') = (cardinality(included_by) = 0)"
                        " AND (reason = 'all_major') = ('major' = ANY(included_by))", name="reason_matches_rules"),
        Index("ix_sample_items_reviewer", "reviewer_id"),
        Index("ix_sample_items_case", "case_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("sampling_plans.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    stratum: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(16))
    draw_key: Mapped[str | None] = mapped_column(String(32))  # md5(seed || ':' || case id), for the auditor
    included_by: Mapped[list[str]] = mapped_column(ARRAY(String(16)), default=list, server_default="{}")  # §2
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))


class Review(Base):
    __tablename__ = "reviews"
    __table_args__ = (
        UniqueConstraint("sample_item_id"),
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sample_item_id: Mapped[int] = mapped_column(ForeignKey("sample_items.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # {item: {"result": "pass" | "fail" | "na", "note": str}}
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONB)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    findings: Mapped[str | None] = mapped_column(Text, info={"max_chars": 20000})  # issue 8 §5: db.guard
    created_at: Mapped[datetime] = created_at()
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RectificationAction(Base):
    """A finding's follow-up, tracked until closed with evidence (RULES.md §6)."""

    __tablename__ = "rectification_actions"
    __table_args__ = (
        CheckConstraint(_in("status", ACTION_STATUSES), name="status_known"),
        CheckConstraint("length(btrim(finding)) > 0", name="finding_present"),
        CheckConstraint("status = 'open' OR (length(btrim(coalesce(evidence, ''))) > 0"
                        " AND closed_at IS NOT NULL AND closed_by_id IS NOT NULL)", name="closed_with_evidence"),
        CheckConstraint("status = 'closed' OR (closed_at IS NULL AND closed_by_id IS NULL)", name="open_not_closed"),
        Index("ix_rectification_actions_open_due", "due_date", postgresql_where="status = 'open'"),
        Index("ix_rectification_actions_review", "review_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id"))
    finding: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    owner_department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    evidence: Mapped[str | None] = mapped_column(Text, info={"max_chars": 4000})
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = created_at()


class SupervisionReturnVisit(Base):
    """The reviewer's own call to the customer of a sampled case."""

    __tablename__ = "supervision_return_visits"
    __table_args__ = (
        CheckConstraint("satisfaction BETWEEN 1 AND 5", name="satisfaction_scale"),
        Index("ix_supervision_return_visits_item", "sample_item_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    sample_item_id: Mapped[int] = mapped_column(ForeignKey("sample_items.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    method: Mapped[str] = mapped_column(String(64))
    satisfaction: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, info={"max_chars": 4000})
    created_at: Mapped[datetime] = created_at()
