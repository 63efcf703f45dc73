"""Least privilege in the database (issue 8 §6): the app's role cannot rewrite history, the owner's TRUNCATE is
refused too, and the embedded server opens no TCP port, wants a password and keeps its files private."""

from __future__ import annotations

import os
import shutil
import stat
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from db import embedded
from db.engine import APP_ROLE, embedded_server_url
from tests.service.conftest import make_institution

HISTORY = ("case_events", "audit_events")
INSUFFICIENT_PRIVILEGE = "42501"
embedded_only = pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")), reason="checks the embedded server")


def write_history(engine) -> None:
    """One case (its timeline) and one audit row, written by the app's role."""
    make_institution(engine, "bank").intake()
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (action, detail) VALUES ('test', '{}')"))


@pytest.fixture
def history(engine) -> None:
    write_history(engine)


def counts(engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in HISTORY}


def test_the_app_connects_as_its_own_role_not_the_owner(engine, owner_engine):
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) == APP_ROLE
        assert not conn.scalar(text("SELECT rolsuper OR rolcreaterole OR rolcreatedb FROM pg_roles"
                                    " WHERE rolname = current_user"))
    with owner_engine.connect() as conn:
        assert conn.scalar(text("SELECT current_user")) != APP_ROLE


@pytest.mark.parametrize("statement", [
    *(f"TRUNCATE {t}" for t in HISTORY),
    *(f"UPDATE {t} SET id = id" for t in HISTORY),
    *(f"DELETE FROM {t}" for t in HISTORY),
    "ALTER TABLE case_events DISABLE TRIGGER ALL",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "DROP TABLE case_events",
    "CREATE TABLE shadow (id int)",
    "UPDATE alembic_version SET version_num = '0001'",
])
def test_the_apps_role_gets_permission_denied_on_rewriting_history(history, engine, statement):
    before = counts(engine)
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text(statement))
    assert refused.value.orig.pgcode == INSUFFICIENT_PRIVILEGE  # permission denied / must be owner
    assert counts(engine) == before


def test_the_apps_role_still_reads_and_adds_history(engine):
    write_history(engine)
    assert all(counts(engine).values())


@pytest.mark.parametrize("table", HISTORY)
def test_even_the_owners_truncate_is_refused_by_the_trigger(history, engine, owner_engine, table):
    before = counts(engine)
    with pytest.raises(DBAPIError, match=f"{table} is append-only: TRUNCATE refused"), owner_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {table} CASCADE"))
    assert counts(engine) == before


def test_sql_parameters_never_appear_in_a_database_error(engine):
    name, phone = "张秘密", "1" * 40  # the phone is too long for its column
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text("INSERT INTO customers (name, phone) VALUES (:name, :phone)"),
                     {"name": name, "phone": phone})
    message = str(refused.value)
    assert "value too long" in message and "parameters hidden" in message
    assert name not in message and phone not in message


# --- the embedded server ---------------------------------------------------------------------------------


def _socket_dir(url: str) -> Path:
    return Path(make_url(url).query["host"])


@embedded_only
def test_the_embedded_server_listens_on_no_tcp_port_and_keeps_its_socket_private(engine, server_url):
    with engine.connect() as conn:
        assert conn.scalar(text("SHOW listen_addresses")) == ""
    assert stat.S_IMODE(_socket_dir(server_url).stat().st_mode) == 0o700


@embedded_only
def test_the_embedded_server_refuses_a_connection_without_password(server_url):
    for user in ("postgres", APP_ROLE):
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host=str(_socket_dir(server_url)), dbname="postgres", user=user, passfile="/dev/null",
                             password="")


@embedded_only
def test_the_embedded_servers_log_carries_no_failing_row(engine, server_url):
    with pytest.raises(DBAPIError) as refused, engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, roles)"
                          " VALUES ('u', '王秘密', 'x', ARRAY['king'])"))
    assert "王秘密" in str(refused.value.orig)  # psycopg2's own DETAIL still has it: the app must not show it
    log = _socket_dir(server_url).parent / "pg" / "server.log"
    assert "ck_users_roles_known" in log.read_text() and "王秘密" not in log.read_text()


@pytest.fixture
def deep_data():
    """A data dir whose path is too long for a unix socket, below parents with modes of their own."""
    data = embedded.scratch_dir("complaints-deep-")
    deep = data / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    (data / ("d" * 60)).chmod(0o751)
    deep.chmod(0o711)
    yield deep
    embedded.stop(deep / "pg", delete=True)
    shutil.rmtree(data, ignore_errors=True)


def _modes(path: Path) -> dict[Path, tuple[int, int]]:
    return {p: (p.stat().st_mode, p.stat().st_uid) for p in path.parents}


@embedded_only
def test_starting_a_server_leaves_its_parent_directories_as_they_were(deep_data):
    before = _modes(deep_data / "pg")
    url = embedded_server_url(deep_data / "pg", "postgres", keep_running=False)
    assert _modes(deep_data / "pg") == before
    socket_dir = _socket_dir(url)  # the data path is too long: a fresh private directory instead of run/
    assert socket_dir.parent != deep_data and stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((deep_data / "pg").stat().st_mode) == 0o700
    secret = deep_data / "secrets" / embedded.SUPERUSER_SECRET
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret.parent.stat().st_mode) == 0o700


@embedded_only
def test_a_cluster_that_trusted_local_connections_is_upgraded_to_passwords(deep_data):
    pgdata = deep_data / "pg"
    url = embedded_server_url(pgdata, "postgres", keep_running=False)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("ALTER ROLE postgres PASSWORD NULL")  # as earlier versions left it
    (pgdata / "pg_hba.conf").write_text("local all all trust\n")
    embedded.stop(pgdata)
    url = embedded_server_url(pgdata, "postgres", keep_running=False)
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT 1")
    assert "trust" not in (pgdata / "pg_hba.conf").read_text()
    with pytest.raises(psycopg2.OperationalError, match="password"):
        psycopg2.connect(host=str(_socket_dir(url)), dbname="postgres", user="postgres", passfile="/dev/null",
                         password="")


def _shared_buffers_mb(url: str) -> int:
    with closing(psycopg2.connect(url)) as conn, conn.cursor() as cur:
        cur.execute("SELECT setting::bigint * 8192 / 1048576 FROM pg_settings WHERE name = 'shared_buffers'")
        return int(cur.fetchone()[0])


@embedded_only
def test_a_cluster_from_before_the_memory_setting_gets_a_quarter_of_memory_and_an_operators_setting_wins(deep_data):
    pgdata, quarter = deep_data / "pg", os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4 // 2**20
    embedded_server_url(pgdata, "postgres", keep_running=False)
    embedded.stop(pgdata)
    conf = pgdata / "postgresql.conf"
    conf.write_text(conf.read_text().split(embedded._MEMORY_MARK)[0])  # as earlier versions left it: 128 MB
    url = embedded_server_url(pgdata, "postgres", keep_running=False)
    assert _shared_buffers_mb(url) == max(quarter, 128)
    with closing(psycopg2.connect(url)) as conn:
        conn.autocommit = True  # ALTER SYSTEM runs outside a transaction
        conn.cursor().execute("ALTER SYSTEM SET shared_buffers = '256MB'")
    embedded.stop(pgdata)
    assert _shared_buffers_mb(embedded_server_url(pgdata, "postgres", keep_running=False)) == 256


@embedded_only
@pytest.mark.skipif(os.geteuid() != 0, reason="as another user the server runs as that user")
def test_a_data_dir_the_servers_user_cannot_enter_is_named_not_loosened():
    scratch = embedded.scratch_dir("complaints-closed-")
    closed = scratch / "closed"
    closed.mkdir(mode=0o700)
    try:
        with pytest.raises(embedded.EmbeddedServerError, match=f"cannot enter {closed} .*COMPLAINTS_DATA_DIR"):
            embedded.start(closed / "data" / "pg")
        assert stat.S_IMODE(closed.stat().st_mode) == 0o700 and not (closed / "data").exists()
    finally:
        shutil.rmtree(scratch)
