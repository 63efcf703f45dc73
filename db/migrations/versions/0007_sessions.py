"""Server-side sign-in sessions and sign-in throttling (issue 8 §2–3).

Also: the old cookie key leaves the database (the key now lives in the environment or a secret file),
and an institution already set up is marked so, permanently (issue 8 §4).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

END_REASONS = ("sign_out", "password_reset", "locked", "role_changed", "deactivated", "idle", "expired",
               "demo_disabled")


def upgrade() -> None:
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.Column("client", sa.String(128), server_default="", nullable=False),
        sa.Column("ticket_hash", sa.String(64), nullable=True),
        sa.Column("ticket_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ticket_sealed", sa.String(64), nullable=True),
        sa.CheckConstraint("end_reason IS NULL OR end_reason IN (" + ", ".join(repr(r) for r in END_REASONS) + ")",
                           name=op.f("ck_user_sessions_end_reason_known")),
        sa.CheckConstraint("(ended_at IS NULL) = (end_reason IS NULL)", name=op.f("ck_user_sessions_ended_with_reason")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_sessions_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_sessions")),
    )
    op.create_index("ix_user_sessions_user_id_open", "user_sessions", ["user_id"],
                    postgresql_where="ended_at IS NULL")
    op.create_index("ix_user_sessions_ticket_hash", "user_sessions", ["ticket_hash"], unique=True)
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked_until", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("failures >= 0", name=op.f("ck_sign_in_throttle_failures_nonneg")),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")),
    )
    op.create_index("ix_sign_in_throttle_last_failure_at", "sign_in_throttle", ["last_failure_at"])
    op.execute("DELETE FROM settings WHERE key = 'cookie_key'")
    op.execute("INSERT INTO settings (key, value) SELECT 'setup_done', 'true'::jsonb "
                "WHERE EXISTS (SELECT 1 FROM users WHERE 'admin' = ANY(roles)) ON CONFLICT (key) DO NOTHING")


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key = 'setup_done'")
    op.drop_index("ix_sign_in_throttle_last_failure_at", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_user_sessions_ticket_hash", table_name="user_sessions")
    op.drop_index("ix_user_sessions_user_id_open", table_name="user_sessions")
    op.drop_table("user_sessions")
