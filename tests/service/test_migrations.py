"""The migrations build exactly the schema the models describe (so no change is ever unmigrated)."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import db.session_models  # registers the sign-in session tables
import db.supervision_models  # noqa: F401 - registers the supervision tables
from db.models import Base


def test_the_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert differences == []
