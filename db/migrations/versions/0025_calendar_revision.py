"""Stamp every change of the working calendar with a new revision (settings `calendar_revision`): a unit of work
reads the short stamp with the other settings and builds the calendar only when the stamp is one it has not
seen; reading the ~800 days on every view cost 1.7 ms of a 10 ms queue (issue 13 §4). A random stamp, not a
counter: a copied database (a template, a restore) has the stamp of the days it carries, and two databases
that count alike never share one.

Revision ID: 0025
Revises: 0024
"""

from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLES = ("working_calendar", "calendar_years")


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION stamp_calendar_revision() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO settings (key, value) VALUES ('calendar_revision', to_jsonb(gen_random_uuid()::text))
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now();
            RETURN NULL;
        END $$""")
    for table in TABLES:
        op.execute(f"CREATE TRIGGER {table}_revision AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION stamp_calendar_revision()")
    op.execute("INSERT INTO settings (key, value) VALUES ('calendar_revision', to_jsonb(gen_random_uuid()::text)) "
               "ON CONFLICT (key) DO NOTHING")


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"DROP TRIGGER {table}_revision ON {table}")
    op.execute("DROP FUNCTION stamp_calendar_revision()")
    op.execute("DELETE FROM settings WHERE key = 'calendar_revision'")
