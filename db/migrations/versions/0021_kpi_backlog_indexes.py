"""Indexes behind the overdue backlog of the KPIs (issue 13 §2): its rows are found from the deadlines met since the
period began (`milestone, met_at, due_at`) and from the cases closed since its end (`closed_at, id`) matched, index
only, against the waived `resolve` deadlines (`case_id, id`), instead of from every waived deadline of the history
followed by a lookup of its case.

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

WAIVED = "milestone = 'resolve' AND status = 'waived'"
INDEXES = {
    "ix_case_deadlines_milestone_met": ("case_deadlines", ["milestone", "met_at", "due_at"], None),
    "ix_case_deadlines_resolve_waived": ("case_deadlines", ["case_id", "id"], WAIVED),
    "ix_cases_closed_at": ("cases", ["closed_at", "id"], None),
}


def upgrade() -> None:
    for name, (table, columns, where) in INDEXES.items():
        op.create_index(name, table, columns, postgresql_where=sa.text(where) if where else None)


def downgrade() -> None:
    for name, (table, *_) in INDEXES.items():
        op.drop_index(name, table_name=table)
