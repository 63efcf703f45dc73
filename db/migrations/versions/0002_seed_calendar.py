"""Seed the working calendar from the chinesecalendar package (RULES.md §3).

Revision ID: 0002
Revises: 0001
"""

from alembic import op
from sqlalchemy import text
from sqlalchemy.orm import Session

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from services.institution.calendar_store import seed_shipped_calendar

    session = Session(bind=op.get_bind())
    seed_shipped_calendar(session)
    session.flush()


def downgrade() -> None:
    op.execute(text("DELETE FROM working_calendar WHERE source = 'chinese_calendar'"))
    op.execute(text("DELETE FROM calendar_years WHERE source = 'chinese_calendar'"))
