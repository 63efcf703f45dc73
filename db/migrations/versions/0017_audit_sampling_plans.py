"""A sampling plan stores its sizing method and the auditor's parameters, so an attribute or ISO 2859-1 draw
can be replayed (issue 12 §1, RULES.md §8): `sizing_method`, `tolerable`, `accepted`.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

T = "sampling_plans"
OLD = ("(rate IS NOT NULL AND confidence IS NULL AND margin IS NULL)"
       " OR (rate IS NULL AND confidence IS NOT NULL AND margin IS NOT NULL)")
NEW = ("(sizing_method = 'rate' AND rate IS NOT NULL AND confidence IS NULL AND margin IS NULL"
       " AND tolerable IS NULL AND accepted IS NULL)"
       " OR (sizing_method = 'margin' AND rate IS NULL AND confidence IS NOT NULL AND margin IS NOT NULL"
       " AND tolerable IS NULL AND accepted IS NULL)"
       " OR (sizing_method = 'attribute' AND rate IS NULL AND confidence IS NOT NULL AND margin IS NULL"
       " AND tolerable IS NOT NULL AND accepted IS NOT NULL)"
       " OR (sizing_method = 'aql' AND rate IS NULL AND confidence IS NULL AND margin IS NULL"
       " AND tolerable IS NULL AND accepted IS NULL)")


def upgrade() -> None:
    op.add_column(T, sa.Column("sizing_method", sa.String(16), server_default="rate", nullable=False))
    op.add_column(T, sa.Column("tolerable", sa.Numeric(5, 4), nullable=True))
    op.add_column(T, sa.Column("accepted", sa.Integer(), nullable=True))
    op.execute(f"UPDATE {T} SET sizing_method = 'margin' WHERE rate IS NULL")
    op.drop_constraint(op.f(f"ck_{T}_one_sizing_method"), T, type_="check")
    op.create_check_constraint(op.f(f"ck_{T}_one_sizing_method"), T, NEW)
    op.create_check_constraint(op.f(f"ck_{T}_tolerable_range"), T, "tolerable IS NULL OR (tolerable > 0 AND tolerable < 1)")
    op.create_check_constraint(op.f(f"ck_{T}_accepted_nonneg"), T, "accepted IS NULL OR accepted >= 0")


def downgrade() -> None:
    # fails once an attribute or AQL plan is stored: a drawn plan is evidence and is never deleted
    op.drop_constraint(op.f(f"ck_{T}_accepted_nonneg"), T, type_="check")
    op.drop_constraint(op.f(f"ck_{T}_tolerable_range"), T, type_="check")
    op.drop_constraint(op.f(f"ck_{T}_one_sizing_method"), T, type_="check")
    op.create_check_constraint(op.f(f"ck_{T}_one_sizing_method"), T, OLD)
    op.drop_column(T, "accepted")
    op.drop_column(T, "tolerable")
    op.drop_column(T, "sizing_method")
