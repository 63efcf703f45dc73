"""Index a clerk's open cases by state: the clerk's home tiles counted them through every case the clerk ever
took in (bench at 3M cases over ten years: ~150k a clerk; the clerk's tiles 83 → 5 ms).

Revision ID: 0024
Revises: 0023
"""

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

# as migration 0020 wrote it: a migration keeps the predicate it created, whatever the models say later
OPEN_CASE = ("state IN ('registered', 'forwarded', 'in_progress', 'resolved', 'feedback_given', "
             "'return_visit')")


def upgrade() -> None:
    op.create_index("ix_cases_open_first_responder", "cases", ["first_responder_id", "state"],
                    postgresql_where=sa.text(OPEN_CASE))


def downgrade() -> None:
    op.drop_index("ix_cases_open_first_responder", table_name="cases")
