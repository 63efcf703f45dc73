"""Sign-in through the institution's identity provider (issue 8 §3): each user may carry the identity
provider's verified e-mail that signs them in (set by an admin), and a session ended because an admin
changed it says so.

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BEFORE = ("sign_out", "password_reset", "locked", "role_changed", "deactivated", "idle", "expired", "demo_disabled")
AFTER = (*BEFORE, "identity_changed")


def _end_reasons(reasons: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_user_sessions_end_reason_known"), "user_sessions", type_="check")
    op.create_check_constraint(op.f("ck_user_sessions_end_reason_known"), "user_sessions",
                               "end_reason IS NULL OR end_reason IN (" + ", ".join(repr(r) for r in reasons) + ")")


def upgrade() -> None:
    op.add_column("users", sa.Column("sso_login", sa.String(254), nullable=True))
    op.create_unique_constraint(op.f("uq_users_sso_login"), "users", ["sso_login"])
    _end_reasons(AFTER)


def downgrade() -> None:
    op.execute("UPDATE user_sessions SET end_reason = 'role_changed' WHERE end_reason = 'identity_changed'")
    _end_reasons(BEFORE)
    op.drop_constraint(op.f("uq_users_sso_login"), "users", type_="unique")
    op.drop_column("users", "sso_login")
