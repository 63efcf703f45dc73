"""A real PostgreSQL for the tests: the embedded server, or DATABASE_URL's server when set.

One migrated template database per run; every test that touches the database gets a
fresh copy of it (CREATE DATABASE … TEMPLATE), so tests never see each other's cases.
"""

from __future__ import annotations

import itertools
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from db.engine import embedded_server_url, make_engine, migrate

TEMPLATE = "complaints_test_template"
os.environ.setdefault("COMPLAINTS_BCRYPT_ROUNDS", "4")  # hashing speed only; the check is the same
_numbers = itertools.count()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """URL of the maintenance database of the server the tests use."""
    if os.environ.get("DATABASE_URL"):
        yield str(make_url(os.environ["DATABASE_URL"]).set(database="postgres"))
        return
    tmp = Path(tempfile.mkdtemp(prefix="complaints-test-"))
    yield embedded_server_url(tmp / "pg", database="postgres", keep_running=False)


def _database_url(server_url: str, name: str) -> str:
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def admin_engine(server_url: str) -> Iterator[Engine]:
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    template = make_engine(_database_url(server_url, TEMPLATE))
    migrate(template)
    template.dispose()
    yield engine
    engine.dispose()


@pytest.fixture
def engine(admin_engine: Engine, server_url: str) -> Iterator[Engine]:
    name = f"complaints_test_{os.getpid()}_{next(_numbers)}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    db = make_engine(_database_url(server_url, name))
    yield db
    db.dispose()
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
