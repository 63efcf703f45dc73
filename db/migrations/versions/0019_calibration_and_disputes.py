"""Calibration sessions and disputes of review findings (issue 12 §4–5, RULES.md §8): `calibration_sessions`,
`calibration_cases`, `calibration_reviewers`, `calibration_reviews` (apart from `reviews`, so they never count in
KPIs or samples) and `review_disputes`.

Revision ID: 0019
Revises: 0018
"""

from datetime import datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def _ck(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger(), nullable=False)


def _ref(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _user(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.Integer(), nullable=nullable)  # users.id is an integer


def _at(name: str, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    t = "calibration_sessions"
    op.create_table(
        t, _id(), sa.Column("title", sa.String(200), nullable=False), _user("created_by_id"),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        _at("closed_at", True), _user("closed_by_id", True),
        _ck(t, "title_present", "length(btrim(title)) > 0"),
        _ck(t, "closed_by_someone", "(closed_at IS NULL) = (closed_by_id IS NULL)"),
        _fk(t, "created_by_id", "users.id"), _fk(t, "closed_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")))
    t = "calibration_cases"
    op.create_table(
        t, _id(), _ref("session_id"), _ref("case_id"),
        _fk(t, "session_id", "calibration_sessions.id"), _fk(t, "case_id", "cases.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("session_id", "case_id", name=op.f(f"uq_{t}_session_id_case_id")))
    t = "calibration_reviewers"
    op.create_table(
        t, _id(), _ref("session_id"), _user("reviewer_id"),
        _fk(t, "session_id", "calibration_sessions.id"), _fk(t, "reviewer_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("session_id", "reviewer_id", name=op.f(f"uq_{t}_session_id_reviewer_id")))
    op.create_index("ix_calibration_reviewers_reviewer", t, ["reviewer_id"])
    t = "calibration_reviews"
    op.create_table(
        t, _id(), _ref("session_id"), _ref("case_id"), _user("reviewer_id"),
        sa.Column("checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=True), _at("submitted_at"),
        sa.Column("baseline", sa.Boolean(), server_default="false", nullable=False),
        _ck(t, "score_range", "score IS NULL OR score BETWEEN 0 AND 100"),
        _fk(t, "session_id", "calibration_sessions.id"), _fk(t, "case_id", "cases.id"),
        _fk(t, "reviewer_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("session_id", "case_id", "reviewer_id",
                            name=op.f(f"uq_{t}_session_id_case_id_reviewer_id")))
    op.create_index("ix_calibration_reviews_one_baseline", t, ["session_id", "case_id"], unique=True,
                    postgresql_where=sa.text("baseline"))
    op.create_index("ix_calibration_reviews_reviewer", t, ["reviewer_id"])
    t = "review_disputes"
    op.create_table(
        t, _id(), _ref("review_id"), sa.Column("item", sa.String(32), nullable=False), _user("filed_by_id"),
        _at("filed_at"), sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), server_default="filed", nullable=False),
        sa.Column("score_before", sa.Numeric(5, 2), nullable=True),
        sa.Column("score_after", sa.Numeric(5, 2), nullable=True),
        _user("decided_by_id", True), _at("decided_at", True), sa.Column("decision_reason", sa.Text(), nullable=True),
        _ck(t, "status_known", "status IN ('filed', 'accepted', 'partly_accepted', 'rejected')"),
        _ck(t, "reason_present", "length(btrim(reason)) > 0"),
        _ck(t, "decided_when_not_filed", "(status = 'filed') = (decided_at IS NULL)"),
        _ck(t, "decision_with_reason", "status = 'filed' OR (decided_by_id IS NOT NULL"
                                       " AND length(btrim(coalesce(decision_reason, ''))) > 0)"),
        _ck(t, "score_after_when_accepted",
            "(status IN ('accepted', 'partly_accepted')) = (score_after IS NOT NULL)"),
        _ck(t, "score_after_range", "score_after IS NULL OR score_after BETWEEN 0 AND 100"),
        _fk(t, "review_id", "reviews.id"), _fk(t, "filed_by_id", "users.id"), _fk(t, "decided_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("review_id", "item", name=op.f(f"uq_{t}_review_id_item")))
    op.create_index("ix_review_disputes_filed_at", t, ["filed_at"])


def downgrade() -> None:
    for table in ("review_disputes", "calibration_reviews", "calibration_reviewers", "calibration_cases",
                  "calibration_sessions"):
        op.drop_table(table)
