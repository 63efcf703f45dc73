"""Alembic environment: runs on the connection handed in by db.engine.migrate()."""

from alembic import context
from sqlalchemy import Connection

import db.calibration_models  # registers the calibration and dispute tables on Base
import db.session_models  # registers the sign-in session tables on Base
import db.supervision_models  # noqa: F401 - registers the supervision tables on Base
from db.engine import owner_engine
from db.models import Base

connection = context.config.attributes.get("connection")


def run(conn: Connection) -> None:
    context.configure(connection=conn, target_metadata=Base.metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with owner_engine().begin() as conn:  # migrations run as the owner (issue 8 §6)
        run(conn)
