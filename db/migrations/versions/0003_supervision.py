"""Supervision: sampling plans, sampled cases, reviews, rectification actions, supervision return visits.

Revision ID: 0003
Revises: 0002
"""

from datetime import datetime

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    referred = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=op.f(f"fk_{table}_{column}_{referred}"))


def _ck(table: str, name: str, sql: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(sql, name=op.f(f"ck_{table}_{name}"))


def _created_at() -> sa.Column[datetime]:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False)


def upgrade() -> None:
    t = "sampling_plans"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("period_basis", sa.String(length=16), server_default="closed", nullable=False),
        sa.Column("population_filter", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("stratify_by", postgresql.ARRAY(sa.String(length=16)), nullable=False),
        sa.Column("rate", sa.Numeric(5, 4), nullable=True),
        sa.Column("confidence", sa.Numeric(5, 4), nullable=True),
        sa.Column("margin", sa.Numeric(5, 4), nullable=True),
        sa.Column("min_per_stratum", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_per_stratum", sa.Integer(), nullable=True),
        sa.Column("include_all_major", sa.Boolean(), server_default="true", nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("population_size", sa.Integer(), nullable=False),
        sa.Column("sample_size", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        _created_at(),
        _ck(t, "period_ordered", "period_to >= period_from"),
        _ck(t, "period_basis_known", "period_basis IN ('closed', 'received')"),
        _ck(t, "stratify_by_known",
            "stratify_by <@ ARRAY['department', 'grade', 'category', 'channel']::varchar[]"),
        _ck(t, "rate_range", "rate IS NULL OR (rate > 0 AND rate <= 1)"),
        _ck(t, "confidence_range", "confidence IS NULL OR (confidence > 0 AND confidence < 1)"),
        _ck(t, "margin_range", "margin IS NULL OR (margin > 0 AND margin < 1)"),
        _ck(t, "one_sizing_method", "(rate IS NOT NULL AND confidence IS NULL AND margin IS NULL)"
            " OR (rate IS NULL AND confidence IS NOT NULL AND margin IS NOT NULL)"),
        _ck(t, "min_nonneg", "min_per_stratum >= 0"),
        _ck(t, "max_not_below_min", "max_per_stratum IS NULL OR max_per_stratum >= GREATEST(min_per_stratum, 1)"),
        _ck(t, "seed_length", "length(seed) BETWEEN 1 AND 64"),
        _ck(t, "sizes_nonneg", "population_size >= 0 AND sample_size >= 0"),
        _fk(t, "created_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )

    t = "sample_items"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("plan_id", sa.BigInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("stratum", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("draw_key", sa.String(length=32), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        _ck(t, "reason_known", "reason IN ('all_major', 'drawn')"),
        _fk(t, "plan_id", "sampling_plans.id"),
        _fk(t, "case_id", "cases.id"),
        _fk(t, "reviewer_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("plan_id", "case_id", name=op.f(f"uq_{t}_plan_id_case_id")),
    )
    op.create_index("ix_sample_items_reviewer", t, ["reviewer_id"])
    op.create_index("ix_sample_items_case", t, ["case_id"])

    t = "reviews"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sample_item_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("score", sa.Numeric(5, 2), nullable=True),
        sa.Column("findings", sa.Text(), nullable=True),
        _created_at(),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        _ck(t, "score_range", "score IS NULL OR score BETWEEN 0 AND 100"),
        _fk(t, "sample_item_id", "sample_items.id"),
        _fk(t, "reviewer_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
        sa.UniqueConstraint("sample_item_id", name=op.f(f"uq_{t}_sample_item_id")),
    )

    t = "rectification_actions"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("review_id", sa.BigInteger(), nullable=False),
        sa.Column("finding", sa.Text(), nullable=False),
        sa.Column("owner_department_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        _created_at(),
        _ck(t, "status_known", "status IN ('open', 'closed')"),
        _ck(t, "finding_present", "length(btrim(finding)) > 0"),
        _ck(t, "closed_with_evidence", "status = 'open' OR (length(btrim(coalesce(evidence, ''))) > 0"
            " AND closed_at IS NOT NULL AND closed_by_id IS NOT NULL)"),
        _ck(t, "open_not_closed", "status = 'closed' OR (closed_at IS NULL AND closed_by_id IS NULL)"),
        _fk(t, "review_id", "reviews.id"),
        _fk(t, "owner_department_id", "departments.id"),
        _fk(t, "owner_id", "users.id"),
        _fk(t, "closed_by_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index("ix_rectification_actions_open_due", t, ["due_date"], postgresql_where="status = 'open'")
    op.create_index("ix_rectification_actions_review", t, ["review_id"])

    t = "supervision_return_visits"
    op.create_table(
        t,
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("sample_item_id", sa.BigInteger(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("method", sa.String(length=64), nullable=False),
        sa.Column("satisfaction", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _created_at(),
        _ck(t, "satisfaction_scale", "satisfaction BETWEEN 1 AND 5"),
        _fk(t, "sample_item_id", "sample_items.id"),
        _fk(t, "reviewer_id", "users.id"),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{t}")),
    )
    op.create_index("ix_supervision_return_visits_item", t, ["sample_item_id"])


def downgrade() -> None:
    op.drop_index("ix_supervision_return_visits_item", table_name="supervision_return_visits")
    op.drop_table("supervision_return_visits")
    op.drop_index("ix_rectification_actions_review", table_name="rectification_actions")
    op.drop_index("ix_rectification_actions_open_due", table_name="rectification_actions",
                  postgresql_where="status = 'open'")
    op.drop_table("rectification_actions")
    op.drop_table("reviews")
    op.drop_index("ix_sample_items_case", table_name="sample_items")
    op.drop_index("ix_sample_items_reviewer", table_name="sample_items")
    op.drop_table("sample_items")
    op.drop_table("sampling_plans")
