"""Each case keeps its nearest open deadline and that deadline's at-risk instant (issue 13 §1): `cases.next_due_at`,
`next_milestone`, `next_at_risk_at`, kept by services.casework.deadlines.store_next_due, and partial indexes of the
open cases by assignee and department and of the cases with an open deadline by due time, for the queues and the
board.

Revision ID: 0020
Revises: 0019
"""

import json
import tomllib
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

OPEN_CASE = ("state IN ('registered', 'forwarded', 'in_progress', 'resolved', 'feedback_given', "
             "'return_visit')")
POLICIES = Path(__file__).resolve().parents[3] / "services" / "rules" / "policies"


def _windows() -> dict[str, float]:
    """Each pack's warning window as the institution runs it: the admin's edited copy, else the shipped file."""
    shipped = {path.stem: float(tomllib.loads(path.read_text(encoding="utf-8"))["warning_window"])
               for path in POLICIES.glob("*.toml")}
    edits = op.get_bind().scalar(sa.text("SELECT value FROM settings WHERE key = 'pack_edits'")) or {}
    if isinstance(edits, str):
        edits = json.loads(edits)
    return shipped | {code: float(data["warning_window"]) for code, data in edits.items()
                      if isinstance(data, dict) and "warning_window" in data}


def upgrade() -> None:
    op.add_column("cases", sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("next_milestone", sa.String(length=32), nullable=True))
    op.add_column("cases", sa.Column("next_at_risk_at", sa.DateTime(timezone=True), nullable=True))
    windows = _windows()
    # the same expression as services.rules.calendar.at_risk_from on the nearest open deadline
    op.get_bind().execute(sa.text(
        "UPDATE cases c SET next_due_at = n.due_at, next_milestone = n.milestone, "
        "next_at_risk_at = n.due_at - (n.due_at - n.starts_at) * w.share "
        "FROM cases k CROSS JOIN LATERAL (SELECT d.due_at, d.milestone, d.starts_at FROM case_deadlines d "
        "WHERE d.case_id = k.id AND d.status = 'open' ORDER BY d.due_at, d.id LIMIT 1) n "
        "JOIN unnest(CAST(:packs AS text[]), CAST(:shares AS float8[])) AS w(pack, share) ON true "
        "WHERE c.id = k.id AND w.pack = k.pack"), {"packs": list(windows), "shares": list(windows.values())})
    op.create_index("ix_cases_open_assignee_due", "cases", ["assignee_id", "next_due_at", "received_at", "id"],
                    postgresql_where=sa.text(OPEN_CASE))
    op.create_index("ix_cases_open_department_due", "cases",
                    ["responsible_department_id", "next_due_at", "received_at", "id"],
                    postgresql_where=sa.text(OPEN_CASE))
    op.create_index("ix_cases_next_due", "cases", ["next_due_at"], postgresql_where=sa.text("next_due_at IS NOT NULL"))


def downgrade() -> None:
    for name in ("ix_cases_next_due", "ix_cases_open_department_due", "ix_cases_open_assignee_due"):
        op.drop_index(name, table_name="cases")
    for column in ("next_at_risk_at", "next_milestone", "next_due_at"):
        op.drop_column("cases", column)
