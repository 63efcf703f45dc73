"""Mark a deadline once its overdue escalation is recorded, and index the open ones not yet marked: the automatic
run probed the escalations for every open overdue deadline on every run, ~4,300 probes at 1M cases, though each is
escalated once and for good (issue 13 §2; the run, nothing new, 28–32 ms against 30).

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_deadlines", sa.Column("overdue_escalated", sa.Boolean(), nullable=False,
                                              server_default=sa.text("false")))
    op.execute("UPDATE case_deadlines d SET overdue_escalated = true FROM escalations e "
               "WHERE e.case_id = d.case_id AND e.rule_key = 'overdue:' || d.milestone")
    op.create_index("ix_case_deadlines_open_unescalated", "case_deadlines", ["due_at"],
                    postgresql_include=["id"],
                    postgresql_where=sa.text("status = 'open' AND NOT overdue_escalated"))


def downgrade() -> None:
    op.drop_index("ix_case_deadlines_open_unescalated", table_name="case_deadlines")
    op.drop_column("case_deadlines", "overdue_escalated")
