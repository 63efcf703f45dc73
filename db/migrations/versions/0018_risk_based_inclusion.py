"""Risk-based inclusion and the evaluation of a sample (issue 12 §2–3, RULES.md §8): a plan stores the risk rules
it always includes, a tolerable rate to evaluate a rate/margin/AQL plan against and its strata at the draw; a
sample item stores the rules that included it.

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

P, I = "sampling_plans", "sample_items"
RISK_RULES = ("overdue", "extended", "regulator", "recomplaint", "dissatisfied")
INCLUSION_RULES = ("major", *RISK_RULES)


def _within(column: str, values: tuple[str, ...]) -> str:
    return f"{column} <@ ARRAY[{', '.join(repr(v) for v in values)}]::varchar[]"


def upgrade() -> None:
    op.add_column(P, sa.Column("include_rules", postgresql.ARRAY(sa.String(16)), server_default="{}", nullable=False))
    op.add_column(P, sa.Column("evaluation_tolerable", sa.Numeric(5, 4), nullable=True))
    op.add_column(P, sa.Column("strata", postgresql.JSONB(), server_default="{}", nullable=False))
    op.create_check_constraint(op.f(f"ck_{P}_include_rules_known"), P, _within("include_rules", RISK_RULES))
    op.create_check_constraint(op.f(f"ck_{P}_evaluation_tolerable_range"), P,
                               "evaluation_tolerable IS NULL OR (evaluation_tolerable > 0 AND evaluation_tolerable < 1"
                               " AND sizing_method <> 'attribute')")
    op.add_column(I, sa.Column("included_by", postgresql.ARRAY(sa.String(16)), server_default="{}", nullable=False))
    op.execute(f"UPDATE {I} SET included_by = '{{major}}' WHERE reason = 'all_major'")
    op.drop_constraint(op.f(f"ck_{I}_reason_known"), I, type_="check")
    op.create_check_constraint(op.f(f"ck_{I}_reason_known"), I, "reason IN ('all_major', 'rule', 'drawn')")
    op.create_check_constraint(op.f(f"ck_{I}_included_by_known"), I, _within("included_by", INCLUSION_RULES))
    op.create_check_constraint(op.f(f"ck_{I}_reason_matches_rules"), I,
                               "(reason = 'drawn') = (cardinality(included_by) = 0)"
                               " AND (reason = 'all_major') = ('major' = ANY(included_by))")


def downgrade() -> None:
    # fails once a case was included by a risk rule alone: a drawn sample is evidence and is never rewritten
    op.drop_constraint(op.f(f"ck_{I}_reason_matches_rules"), I, type_="check")
    op.drop_constraint(op.f(f"ck_{I}_included_by_known"), I, type_="check")
    op.drop_constraint(op.f(f"ck_{I}_reason_known"), I, type_="check")
    op.create_check_constraint(op.f(f"ck_{I}_reason_known"), I, "reason IN ('all_major', 'drawn')")
    op.drop_column(I, "included_by")
    op.drop_constraint(op.f(f"ck_{P}_evaluation_tolerable_range"), P, type_="check")
    op.drop_constraint(op.f(f"ck_{P}_include_rules_known"), P, type_="check")
    op.drop_column(P, "strata")
    op.drop_column(P, "evaluation_tolerable")
    op.drop_column(P, "include_rules")
