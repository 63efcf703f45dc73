"""A department head's reassignment is a case event (issue 10 §5); an executive may hold a pack role as
their title, which ranks the escalations they answer (issue 10 §2: the president's are the president's).

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

BEFORE = ("intake", "forward", "first_contact", "resolve", "resolve_at_intake", "invalid", "feedback", "return_visit",
          "archive", "withdraw", "re_complaint", "extension", "escalation", "escalation_ack", "report_hq",
          "deadlines_recomputed", "reveal_pii", "note")


def _known(types: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_case_events_event_type_known"), "case_events", type_="check")
    op.create_check_constraint(op.f("ck_case_events_event_type_known"), "case_events",
                               "event_type IN ({})".format(", ".join(f"'{t}'" for t in types)))


def upgrade() -> None:
    _known((*BEFORE, "reassign"))
    op.add_column("users", sa.Column("pack_role", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("users", "pack_role")
    _known(BEFORE)  # fails once a reassignment is recorded: case events are history and are never deleted
