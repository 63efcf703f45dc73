"""Seed the working calendar shipped with the app, 2004–2026 (RULES.md §3).

Revision ID: 0002
Revises: 0001

The rows are literal data (data/shipped_calendar_2004_2026.csv, written once from chinesecalendar 2004–2026),
so a fresh database gets the same calendar whatever the installed packages or models (issue 9 §4).
"""

import csv
from datetime import date
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SHIPPED = Path(__file__).resolve().parent.parent / "data" / "shipped_calendar_2004_2026.csv"
YEARS = range(2004, 2027)


def upgrade() -> None:
    years = sa.table("calendar_years", sa.column("year", sa.Integer), sa.column("source", sa.String))
    days = sa.table("working_calendar", sa.column("day", sa.Date), sa.column("day_type", sa.String),
                    sa.column("name", sa.String), sa.column("source", sa.String))
    with SHIPPED.open(newline="", encoding="utf-8") as f:
        rows = [{"day": date.fromisoformat(r["day"]), "day_type": r["day_type"], "name": r["name"] or None,
                 "source": "chinese_calendar"} for r in csv.DictReader(f)]
    op.bulk_insert(years, [{"year": year, "source": "chinese_calendar"} for year in YEARS])
    op.execute(days.insert().values(rows))


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM working_calendar WHERE source = 'chinese_calendar'"))
    op.execute(sa.text("DELETE FROM calendar_years WHERE source = 'chinese_calendar'"))
