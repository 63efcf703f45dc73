"""Index re-complaints by their original case: the case page lists them (bench: 1.3 s → 22 ms at 3M cases).

Revision ID: 0006
Revises: 0005
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_parent_case", "cases", ["parent_case_id"],
                    postgresql_where="parent_case_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_cases_parent_case", table_name="cases")
