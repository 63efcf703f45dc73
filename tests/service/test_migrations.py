"""The migrations build exactly the schema the models describe (so no change is ever unmigrated)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

import db.session_models  # registers the sign-in session tables
import db.supervision_models  # noqa: F401 - registers the supervision tables
from db.models import Base
from services.rules.calendar import shipped_special_days


def test_the_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert differences == []


def test_a_fresh_database_has_the_shipped_calendar_2004_to_2026(engine):
    """Migration 0002 carries the calendar as data (issue 9 §4): the same rows chinesecalendar gave for those years."""
    with engine.connect() as conn:
        days = conn.execute(text("SELECT day, day_type, name, source FROM working_calendar ORDER BY day")).all()
        years = conn.scalars(text("SELECT year FROM calendar_years WHERE source = 'chinese_calendar' ORDER BY year"))
        assert list(years) == list(range(2004, 2027))
    shipped = [(d.day, d.day_type.value, d.name, "chinese_calendar") for d in shipped_special_days()
               if 2004 <= d.day.year <= 2026]
    assert [tuple(row) for row in days] == shipped
    assert len(shipped) == 771
