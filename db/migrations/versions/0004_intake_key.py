"""cases.intake_key: one case per submitted intake form, however often save is clicked (issue 4 §1).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("intake_key", sa.String(length=64), nullable=True))
    op.create_unique_constraint("uq_cases_intake_key", "cases", ["intake_key"])


def downgrade() -> None:
    op.drop_constraint("uq_cases_intake_key", "cases", type_="unique")
    op.drop_column("cases", "intake_key")
