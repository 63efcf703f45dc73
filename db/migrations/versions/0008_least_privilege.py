"""Least privilege: history tables refuse TRUNCATE, even from their owner (issue 8 §6).

The app's own role and its grants are not made here but at every start (db.engine.prepare): a role is
cluster-wide and has a password, and a restored database or a new table must get the grants too.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

HISTORY = ("case_events", "audit_events")


def upgrade() -> None:
    # refuse_change() (migration 0001) raises "<table> is append-only: TRUNCATE refused".
    for table in HISTORY:
        op.execute(f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()")


def downgrade() -> None:
    for table in HISTORY:
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
