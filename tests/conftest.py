"""A real PostgreSQL for the tests: the embedded server, or DATABASE_URL's server when set.

One migrated template database per run; every test that touches the database gets a
fresh copy of it (CREATE DATABASE … TEMPLATE), so tests never see each other's cases.
`engine` connects as the app's role, as the app does (issue 8 §6): the whole suite proves the app
works with least privilege; `owner_engine` is the owner, for the few tests that need DDL or triggers.

`clock` pins the process clock (issue 9 §9): the service and page tests use it for every test, so none depends
on today's date; a test moves it with `clock.at = …`.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from db import embedded
from db import engine as db_engine
from db.engine import app_url, embedded_server_url, make_engine, prepare
from services.rules.calendar import SHANGHAI
from services.rules.clock import set_clock

TEMPLATE = "complaints_test_template"
TODAY = datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # "now" for every service and page test
os.environ.setdefault("COMPLAINTS_BCRYPT_ROUNDS", "4")  # hashing speed only; the check is the same
# The app role's password for this run (inherited by the CLI subprocesses): no secret file in the checkout.
os.environ.setdefault("COMPLAINTS_APP_DB_PASSWORD", secrets.token_urlsafe(16))
os.environ.pop("DATABASE_READ_URL", None)  # an operator's standby never serves the tests' reads (issue 13 §5)
_numbers = itertools.count()


@pytest.fixture(scope="session")
def server_url() -> Iterator[str]:
    """Owner's URL of the maintenance database of the server the tests use."""
    if os.environ.get("DATABASE_URL"):
        yield str(make_url(os.environ["DATABASE_URL"]).set(database="postgres"))
        return
    data = embedded.scratch_dir("complaints-test-")
    yield embedded_server_url(data / "pg", database="postgres", keep_running=False)
    embedded.stop(data / "pg", delete=True)
    shutil.rmtree(data, ignore_errors=True)


def database_url(server_url: str, name: str) -> str:
    """The owner's URL of database `name` on the tests' server."""
    return make_url(server_url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def admin_engine(server_url: str) -> Iterator[Engine]:
    """The owner on the maintenance database: creates and drops the tests' databases."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{TEMPLATE}"'))
        conn.execute(text(f'CREATE DATABASE "{TEMPLATE}"'))
    template = make_engine(database_url(server_url, TEMPLATE))
    prepare(template)  # migrations, the app role and its grants: copied with the template
    template.dispose()
    yield engine
    engine.dispose()


@pytest.fixture
def engine(admin_engine: Engine, server_url: str) -> Iterator[Engine]:
    """A fresh database, connected as the app's role."""
    name = f"complaints_test_{os.getpid()}_{next(_numbers)}"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    db = make_engine(app_url(database_url(server_url, name)))
    yield db
    db.dispose()
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def owner_engine(engine: Engine) -> Engine:
    """The same database as `engine`, connected as its owner."""
    return db_engine.owner_engine(engine.url.render_as_string(hide_password=False))


@dataclass
class FixedClock:
    """A clock that stands still at `at` until a test moves it."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
def clock() -> Iterator[FixedClock]:
    """The process clock (services.rules.clock) pinned at TODAY for this test, then restored."""
    fixed = FixedClock(TODAY)
    previous = set_clock(fixed)
    yield fixed
    set_clock(previous)
