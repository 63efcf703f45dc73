"""Where the database is, who connects to it, and migrating it (the unit of work: services.unit_of_work).

`DATABASE_URL` set → that server. Unset → an embedded PostgreSQL whose data lives in
`$COMPLAINTS_DATA_DIR/pg` (default `.data/pg` in the checkout), started on first use (db.embedded).
`DATABASE_READ_URL` set → the reads that may lag a moment (KPIs, reports, sampling preview, board) go to that
standby through `read_engine`, read-only (issue 13 §5).

Two database roles (issue 8 §6):
- the owner, `DATABASE_URL`'s user (embedded: the superuser): runs migrations and grants, backups, and
  creates or drops the training database — only through `owner_engine`;
- the app role, `complaints_app` (or `DATABASE_APP_URL`'s user), which the app connects as: it may read and
  write ordinary tables, only read and add to the history tables, never TRUNCATE, and owns nothing (so it
  cannot disable a trigger).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

import db.guard  # noqa: F401 - every session gets the ORM's last check on lengths and NUL characters

ROOT = Path(__file__).resolve().parent.parent
DATABASE_NAME = "complaints"
APP_ROLE = "complaints_app"
HISTORY_TABLES = ("case_events", "audit_events")  # append-only: the app reads and adds, nothing else
READ_ONLY_TABLES = ("alembic_version",)  # only migrations move the schema's revision
_PREPARE_LOCK = 0x7EA1_0008  # pg advisory lock: replicas starting together migrate and grant one at a time



def data_dir() -> Path:
    return Path(os.environ.get("COMPLAINTS_DATA_DIR", ROOT / ".data")).resolve()


def embedded_server_url(pgdata: Path, database: str = DATABASE_NAME, *, keep_running: bool = True) -> str:
    """Start (or reuse) the embedded server in `pgdata`, make sure `database` exists; its owner's URL.

    keep_running: the server outlives this process, so app replicas and CLI calls share it;
    tests pass False so their throw-away server is stopped and deleted at exit.
    """
    from db import embedded

    server = embedded.start(pgdata, keep_running=keep_running)
    _create_database(server.url("postgres"), database)
    return server.url(database)


def database_url() -> str:
    """The owner's URL of the configured database (DATABASE_URL, or the embedded server)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    return embedded_server_url(data_dir() / "pg")


# --- the two roles --------------------------------------------------------------------------------------

_owners: dict[str, URL] = {}  # server (URL without user, password, database) → its owner's URL


def _server(url: URL) -> str:
    return url._replace(drivername="postgresql", username=None, password=None, database=None).render_as_string()


def app_password() -> str:
    """The app role's password: COMPLAINTS_APP_DB_PASSWORD, else a secret file made at first start."""
    from db.embedded import read_or_create_secret

    return os.environ.get("COMPLAINTS_APP_DB_PASSWORD") or read_or_create_secret(
        data_dir() / "secrets" / "app_db_password")


def app_url(owner_url: str) -> str:
    """The app role's URL for the database `owner_url` names (DATABASE_APP_URL pointed at that database
    when set); remembers the owner so `owner_url_of` can find it back."""
    owner = make_url(owner_url)
    explicit = os.environ.get("DATABASE_APP_URL")
    url = (make_url(explicit).set(database=owner.database) if explicit
           else owner.set(username=APP_ROLE, password=app_password()))
    if url.username == owner.username:
        raise RuntimeError("DATABASE_URL must be the owner's URL and the app's role must be another one "
                           f"(both are '{owner.username}'): see DATABASE_APP_URL in the README.")
    _owners[_server(url)] = owner
    return url.render_as_string(hide_password=False)


def owner_url_of(url: str | URL) -> str:
    """The owner's URL for the database an app (or owner) URL names."""
    url = make_url(url)
    owner = _owners.get(_server(url))
    return (owner.set(database=url.database) if owner else url).render_as_string(hide_password=False)


# --- engines --------------------------------------------------------------------------------------------


def make_engine(url: str, **options: object) -> Engine:
    if make_url(url).drivername == "postgresql":
        url = url.replace("postgresql://", "postgresql+psycopg2://", 1)
    # hide_parameters: bound values (customers' data) never appear in exceptions or logs (issue 8 §5).
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, **options)


@functools.cache
def owner_engine(url: str | None = None) -> Engine:
    """The owner's engine for the database `url` names (an app or owner URL; default: the configured one).
    Without a pool: it serves migrations, grants, backups and training resets, never requests."""
    return make_engine(owner_url_of(url or database_url()), poolclass=NullPool)


@functools.cache
def app_engine(owner_url: str | None = None) -> Engine:
    """The app's engine (as the app role) for the database `owner_url` names (default: the configured one),
    after migrations and grants ran once in this process through the owner."""
    owner = owner_url or database_url()
    prepare(owner_engine(owner))
    return make_engine(app_url(owner))


def read_url(url: str | None = None) -> str | None:
    """`url` (default DATABASE_READ_URL): a streaming standby (or any copy) the reporting reads go to (issue 13
    §5); None → the primary. Without a user in it, the app role and its password (a physical standby has the
    same roles)."""
    url = url or os.environ.get("DATABASE_READ_URL")
    if not url:
        return None
    parsed = make_url(url)
    if parsed.username is None:
        parsed = parsed.set(username=APP_ROLE, password=app_password())
    return parsed.render_as_string(hide_password=False)


@functools.cache
def read_engine(owner_url: str | None = None, standby_url: str | None = None) -> Engine:
    """The engine of the reads that may lag a moment behind (KPIs, reports, sampling preview, the board):
    `standby_url` (default: DATABASE_READ_URL), else the app's engine on the primary. Every transaction on a
    standby engine is read-only from its first statement (default_transaction_read_only): it never writes."""
    url = read_url(standby_url)
    if url is None:
        return app_engine(owner_url)
    return make_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


def default_engine() -> Engine:
    """The process-wide engine of the app, as the app role."""
    return app_engine()


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration (idempotent) as `engine`'s user, who must own the schema."""
    with engine.begin() as conn:
        _upgrade(conn)


def _upgrade(conn: Connection) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    config.attributes["connection"] = conn
    command.upgrade(config, "head")


def prepare(owner: Engine) -> None:
    """Migrate, create or update the app role, and grant it its privileges, in one transaction.

    Idempotent and run at every start (not only in a migration), so a restored database, a new table or a
    fresh replica always ends up with exactly these grants."""
    role = make_url(app_url(owner.url.render_as_string(hide_password=False))).username
    if role is None:  # only an operator's DATABASE_APP_URL can leave the user out
        raise RuntimeError("DATABASE_APP_URL must name the app's login role (see the README).")
    with owner.begin() as conn:
        conn.execute(select(func.pg_advisory_xact_lock(_PREPARE_LOCK)))
        _upgrade(conn)
        _ensure_app_role(conn, role)
        _grant(conn, role)


def _ensure_app_role(conn: Connection, role: str) -> None:
    if os.environ.get("DATABASE_APP_URL"):
        return  # the operator made that role; its password is in the URL
    may = conn.scalar(text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user"))
    if not may:
        raise RuntimeError(f"The database owner may not create the app role '{role}': create a login role for "
                           "the app and set DATABASE_APP_URL to its URL (see the README).")
    name = conn.dialect.identifier_preparer.quote(role)
    exists = conn.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
    if not exists:
        conn.execute(text(f"CREATE ROLE {name} LOGIN"))
    # Replicas of a shared server without COMPLAINTS_APP_DB_PASSWORD would each set their own secret file's
    # password and lock each other out: there, only the replica creating the role sets it.
    if exists and os.environ.get("DATABASE_URL") and not os.environ.get("COMPLAINTS_APP_DB_PASSWORD"):
        return
    import psycopg2.extensions
    from psycopg2.extensions import encrypt_password

    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg2.extensions.connection)  # make_engine only builds psycopg2 engines
    verifier = encrypt_password(app_password(), role, raw, "scram-sha-256")
    conn.execute(text(f"ALTER ROLE {name} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION "
                      "NOBYPASSRLS PASSWORD :verifier"), {"verifier": verifier})


def _grant(conn: Connection, role: str) -> None:
    """The app role's privileges (issue 8 §6): rebuilt from nothing, so none survives that we did not grant."""
    name = conn.dialect.identifier_preparer.quote(role)
    if conn.scalar(text("SELECT has_schema_privilege(:r, 'public', 'CREATE')"), {"r": role}):
        conn.execute(text("REVOKE CREATE ON SCHEMA public FROM PUBLIC"))  # servers older than PostgreSQL 15
    for statement in (
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {name}",
        f"REVOKE INSERT, UPDATE, DELETE ON {', '.join(READ_ONLY_TABLES)} FROM {name}",
        f"REVOKE UPDATE, DELETE ON {', '.join(HISTORY_TABLES)} FROM {name}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {name}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {name}",
    ):
        conn.execute(text(statement))


# --- databases beside the main one ---------------------------------------------------------------------


def _create_database(owner_url: str, name: str) -> None:
    """Create database `name` on the server of `owner_url` (connected to that URL's database) unless it exists."""
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)  # not in a transaction
    exists = text("SELECT 1 FROM pg_database WHERE datname = :d")
    try:
        with engine.connect() as conn:
            if not conn.scalar(exists, {"d": name}):
                try:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
                except ProgrammingError:
                    if not conn.scalar(exists, {"d": name}):  # not just another replica creating it first
                        raise
    finally:
        engine.dispose()


@functools.cache
def training_engine(main_url: str | None = None) -> Engine:
    """The training database (issue 5 §4): the main database's name + `_training` on the same server
    (embedded: `complaints_training`), created on first use by the owner, migrated, and used as the app
    role. `main_url` (owner or app URL) defaults to `database_url()`; practice only ever touches it."""
    owner = make_url(owner_url_of(main_url or database_url()))
    name = f"{owner.database}_training"
    _create_database(owner.render_as_string(hide_password=False), name)
    return app_engine(owner.set(database=name).render_as_string(hide_password=False))


def recreate_database(target: Engine, *, beside: Engine) -> None:
    """Drop the database `target` points at and create it afresh, migrated and granted, through the owner
    connected to the database of `beside` (the app role may neither drop nor create databases)."""
    name = target.url.database
    target.dispose()
    with owner_engine(beside.url.render_as_string(hide_password=False)).connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # CREATE/DROP DATABASE need no transaction
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # FORCE ends its connections first
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    prepare(owner_engine(target.url.render_as_string(hide_password=False)))
