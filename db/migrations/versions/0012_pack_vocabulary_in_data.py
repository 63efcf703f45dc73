"""The pack file is the truth for its own codes (issue 9 §4): no CHECK copies a pack's channels or causes.

Revision ID: 0012
Revises: 0011

Causes become pack data (`[causes.X]`), so an admin's edited copy of a pack stored before this gets the two
causes every shipped pack had; a pack may name longer codes (up to 32 characters, as channels).
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

CAUSES = '{"branch": {"zh": "营业部原因", "en": "branch"}, "company": {"zh": "公司原因", "en": "company"}}'


def upgrade() -> None:
    op.drop_constraint(op.f("ck_cases_channel_known"), "cases", type_="check")
    op.drop_constraint(op.f("ck_cases_cause_known"), "cases", type_="check")
    op.alter_column("cases", "cause", type_=sa.String(32), existing_nullable=False, server_default=None)
    op.execute(sa.text(
        "UPDATE settings SET value = (SELECT jsonb_object_agg(code, CASE WHEN pack ? 'causes' THEN pack "
        "ELSE pack || jsonb_build_object('causes', CAST(:causes AS jsonb)) END) FROM jsonb_each(value) AS e(code, pack)) "
        "WHERE key = 'pack_edits' AND jsonb_typeof(value) = 'object' AND value <> '{}'::jsonb")
        .bindparams(causes=CAUSES))


def downgrade() -> None:
    op.execute(sa.text(
        "UPDATE settings SET value = (SELECT jsonb_object_agg(code, pack - 'causes') FROM jsonb_each(value) AS e(code, pack)) "
        "WHERE key = 'pack_edits' AND jsonb_typeof(value) = 'object' AND value <> '{}'::jsonb"))
    op.alter_column("cases", "cause", type_=sa.String(16), existing_nullable=False, server_default="branch")
    op.create_check_constraint(op.f("ck_cases_cause_known"), "cases", "cause IN ('branch', 'company')")
    op.create_check_constraint(
        op.f("ck_cases_channel_known"), "cases", "channel IN ('phone', 'letter', 'fax', 'email', 'walk_in', 'online', "
        "'comment_book', 'media', 'regulator', 'upper_level')")
