"""The cases' indexes of the KPI anchors (received, fed back, resolved) carry the department, and a department by case
id: the KPIs by department, or of a head's department, count from the indexes alone instead of fetching ~25,000 case
rows for each family and ~56,000 more for the deadlines and events of a month (issue 13 §2; 1M cases: 238 → ~150 ms).
The columns each family counts ride along; other dimensions read the rows as before.

Revision ID: 0027
Revises: 0026
"""

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

# index → (anchor, what the family counts beside the department)
COVERING = {
    "ix_cases_received_at": ("received_at", ["parent_case_id", "compensation_claimed", "compensation_paid"]),
    "ix_cases_feedback_at": ("feedback_at", ["satisfaction"]),
    "ix_cases_resolved_at": ("resolved_at", ["received_at"]),
}


def upgrade() -> None:
    for name, (anchor, counted) in COVERING.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", [anchor], postgresql_include=["responsible_department_id", *counted])
    op.create_index("ix_cases_id_department", "cases", ["id"], postgresql_include=["responsible_department_id"])


def downgrade() -> None:
    op.drop_index("ix_cases_id_department", table_name="cases")
    for name, (anchor, _) in COVERING.items():
        op.drop_index(name, table_name="cases")
        op.create_index(name, "cases", [anchor])
