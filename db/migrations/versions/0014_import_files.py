"""Idempotent import, training case numbers and complete calendar years (issue 10 §5, §6).

Revision ID: 0014
Revises: 0013

- import_files: the SHA-256 of every imported spreadsheet, so the same file is refused the second time.
- cases.case_no may start PX- (training cases) besides TS- (real ones).
- calendar_years.complete: a year counts as covered only once an admin marks it complete; the years
  shipped from the chinese_calendar package (migration 0002) are complete, a year an admin merely entered a
  date in is not.
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "import_files",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("imported_by_id", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["imported_by_id"], ["users.id"], name=op.f("fk_import_files_imported_by_id_users")),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_import_files")),
    )
    op.drop_constraint(op.f("ck_cases_case_no_format"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_case_no_format"), "cases", r"case_no ~ '^(TS|PX)-[0-9]{8}-[0-9]{6}$'")
    op.add_column("calendar_years", sa.Column("complete", sa.Boolean(), server_default="false", nullable=False))
    op.execute("UPDATE calendar_years SET complete = true WHERE source = 'chinese_calendar'")


def downgrade() -> None:
    op.drop_column("calendar_years", "complete")
    op.drop_constraint(op.f("ck_cases_case_no_format"), "cases", type_="check")
    op.create_check_constraint(op.f("ck_cases_case_no_format"), "cases", r"case_no ~ '^TS-[0-9]{8}-[0-9]{6}$'")
    op.drop_table("import_files")
