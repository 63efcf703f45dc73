"""Failed sign-ins are counted in sign_in_throttle (issue 8 §3): the per-user counter is dead state.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_column("users", "failed_logins")  # drops its CHECK constraint with it


def downgrade() -> None:
    op.add_column("users", sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False))
    op.create_check_constraint("ck_users_failed_logins_nonneg", "users", "failed_logins >= 0")
