"""A department head's reassignment is a case event (issue 10 §5).

Revision ID: 0014
Revises: 0013
"""

from alembic import op

revision = "0014"
down_revision = "0013"
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


def downgrade() -> None:
    _known(BEFORE)  # fails once a reassignment is recorded: case events are history and are never deleted
