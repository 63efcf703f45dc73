"""Indexes that let the board and the escalation sweep read only the cases they can concern (issue 13 §1–2): the
unacknowledged escalations, the open major cases, the open cases the pack's rules escalate, and the open deadlines
with their start and case (the at-risk and overdue scans read the index alone); the open cases by department carry
the columns of a user's scope, so a department queue's count reads that index alone.

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

OPEN_CASE = ("state IN ('registered', 'forwarded', 'in_progress', 'resolved', 'feedback_given', "
             "'return_visit')")


def upgrade() -> None:
    op.create_index("ix_escalations_unacknowledged", "escalations", ["case_id"],
                    postgresql_where=sa.text("acknowledged_at IS NULL"))
    op.create_index("ix_cases_open_major", "cases", ["id"],
                    postgresql_where=sa.text(f"{OPEN_CASE} AND (grade IN ('major', 'L1') OR major_cause IS NOT NULL)"))
    op.create_index("ix_cases_open_escalate_to", "cases", ["id"],
                    postgresql_where=sa.text(f"{OPEN_CASE} AND (assessment -> 'escalate_to') <> '[]'::jsonb"))
    op.drop_index("ix_case_deadlines_open_due", table_name="case_deadlines")
    op.create_index("ix_case_deadlines_open_due", "case_deadlines", ["due_at"],
                    postgresql_include=["starts_at", "case_id", "milestone"],
                    postgresql_where=sa.text("status = 'open'"))
    _department_index(include=["first_responder_id", "assignee_id"])


def _department_index(include: list[str]) -> None:
    op.drop_index("ix_cases_open_department_due", table_name="cases")
    op.create_index("ix_cases_open_department_due", "cases",
                    ["responsible_department_id", "next_due_at", "received_at", "id"],
                    postgresql_include=include, postgresql_where=sa.text(OPEN_CASE))


def downgrade() -> None:
    _department_index(include=[])
    op.drop_index("ix_case_deadlines_open_due", table_name="case_deadlines")
    op.create_index("ix_case_deadlines_open_due", "case_deadlines", ["due_at"],
                    postgresql_where=sa.text("status = 'open'"))
    for name, table in (("ix_cases_open_escalate_to", "cases"), ("ix_cases_open_major", "cases"),
                        ("ix_escalations_unacknowledged", "escalations")):
        op.drop_index(name, table_name=table)
