"""Index reviews (核查) by the case they review: the case page's duties panel lists them on every run (issue 13
§4; bench at 50k cases: a 68 ms sequential scan per run, growing with the table, to an index lookup).

Revision ID: 0023
Revises: 0022
"""

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_reviewed_case", "cases", ["reviewed_case_id"],
                    postgresql_where="reviewed_case_id IS NOT NULL")


def downgrade() -> None:
    op.drop_index("ix_cases_reviewed_case", table_name="cases")
