"""Several machines (issue 13 §5): a streaming standby of the embedded server, made with `pg_basebackup -R` from
the same binaries, serves the reporting reads (DATABASE_READ_URL) with the primary's figures.

Its own small primary, not the suite's shared server: replication needs a pg_hba entry the shared one must not
have. Both clusters are throw-away and deleted at the end of the module.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from streamlit.testing.v1 import AppTest

from db import embedded
from db.engine import app_engine, embedded_server_url, read_engine, read_url
from services.casework import cases
from services.casework.escalation import board
from services.institution.sessions import open_session
from services.supervision import kpi, report
from services.unit_of_work import transaction
from tests.app.conftest import ENTRYPOINT
from tests.app.test_workflow import open_page
from tests.service.conftest import Institution, make_institution

REPLICATION_HBA = "\n# issue 13 §5 test: the standby streams through the socket, with the superuser's password\n" \
                  "local replication postgres scram-sha-256\n"


@dataclass(frozen=True)
class Pair:
    primary: embedded.Server
    standby: embedded.Server
    owner_url: str  # the primary's database, as its owner


def _standby_of(primary: embedded.Server, data: Path) -> embedded.Server:
    """`pg_basebackup -R` of `primary` into `data/pg`, started as a hot standby streaming from it."""
    pgdata = data / "pg"
    user = embedded._owner_of(primary.pgdata)  # as root: the server's OS user, who must own the copy too
    pgdata.mkdir(mode=0o700)
    if user is not None:
        os.chown(pgdata, user.pw_uid, user.pw_gid)
    # the copy has the primary's roles: its superuser's password is the primary's
    secret = data / "secrets" / embedded.SUPERUSER_SECRET
    secret.parent.mkdir(mode=0o700)
    secret.write_text(primary.password + "\n")
    secret.chmod(0o600)
    conninfo = f"host={primary.socket_dir} port={embedded.PORT} user={embedded.SUPERUSER} password={primary.password}"
    embedded._run([str(embedded.bin_dir() / "pg_basebackup"), "-D", str(pgdata), "-R", "-X", "stream",
                   "-c", "fast", "-d", conninfo], user, cwd=pgdata)
    assert (pgdata / "standby.signal").exists()  # -R: a standby that streams from the primary
    return embedded.start(pgdata, keep_running=False)


@pytest.fixture(scope="module")
def pair() -> Iterator[Pair]:
    first, second = embedded.scratch_dir("complaints-primary-"), embedded.scratch_dir("complaints-standby-")
    try:
        owner_url = embedded_server_url(first / "pg", keep_running=False)
        primary = embedded.start(first / "pg")
        with (primary.pgdata / "pg_hba.conf").open("a") as hba:  # appending keeps the file's owner
            hba.write(REPLICATION_HBA)
        with embedded_owner(primary) as conn:
            conn.execute(text("SELECT pg_reload_conf()"))
            assert conn.scalar(text("SHOW wal_level")) in ("replica", "logical")  # PostgreSQL's default
            assert int(conn.scalar(text("SHOW max_wal_senders"))) > 0
        app_engine(owner_url)  # migrations, the app role and its grants, before the copy is taken
        standby = _standby_of(primary, second)
        yield Pair(primary, standby, owner_url)
    finally:
        embedded.stop(second / "pg", delete=True)
        embedded.stop(first / "pg", delete=True)
        shutil.rmtree(first, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)


def embedded_owner(server: embedded.Server) -> Connection:
    return create_engine(server.url("postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool).connect()


def _replayed(primary: Engine, standby: Engine) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with primary.connect() as conn:
        lsn = conn.scalar(text("SELECT pg_current_wal_lsn()::text"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with standby.connect() as conn:
            if conn.scalar(text("SELECT pg_last_wal_replay_lsn() >= CAST(:lsn AS pg_lsn)"), {"lsn": lsn}):
                return
        time.sleep(0.1)
    pytest.fail(f"the standby did not replay up to {lsn} within 30 s")


def test_the_standby_gives_the_primarys_kpis_report_and_board_and_the_pages_read_it(pair, monkeypatch):
    primary = app_engine(pair.owner_url)
    inst: Institution = make_institution(primary, "futures")
    for _ in range(4):
        inst.intake()
    # DATABASE_READ_URL without a user: the app role (replicated with the standby) and its password
    socket = pair.standby.socket_dir
    monkeypatch.setenv("DATABASE_READ_URL", f"postgresql:///complaints?host={socket}&port={embedded.PORT}")
    standby_url = read_url()
    assert standby_url is not None and make_url(standby_url).username == "complaints_app"
    standby = read_engine(pair.owner_url, standby_url)
    _replayed(primary, standby)

    def figures(engine: Engine) -> tuple[pd.DataFrame, str, list[object]]:
        with transaction(engine, reading=True) as uow:
            table = kpi.kpis(uow, inst.users["supervisor"], date_from=date(2026, 11, 1), date_to=date(2026, 11, 30),
                             by="department")
            built = report.to_html(report.monthly_report(uow, inst.users["supervisor"], "2026-11"), "zh")
            return table, built, list(board(uow, inst.users["supervisor"]))

    on_primary, on_standby = figures(primary), figures(standby)
    with standby.connect() as conn:
        assert conn.scalar(text("SELECT pg_is_in_recovery()"))  # truly read from the standby
    assert on_primary[0]["volume"].sum() == 4  # the four intakes, replayed on the standby
    pd.testing.assert_frame_equal(on_standby[0], on_primary[0])
    assert on_standby[1] == on_primary[1]
    assert on_standby[2] == on_primary[2] and len(on_primary[2]) == 4  # received on 2 November: overdue
    # and nothing is ever written through it
    with pytest.raises(DBAPIError, match="read-only transaction"), transaction(standby, reading=True) as uow:
        cases.intake(uow, inst.users["clerk"], inst.complaint())

    # The pages read it: with its replay paused, a fifth intake on the primary is not yet in the KPI page's
    # figures nor on the board; once replayed, it is.
    monkeypatch.setenv("DATABASE_URL", pair.owner_url)
    st.cache_resource.clear()

    def start(user_id: int) -> AppTest:
        page = AppTest.from_file(ENTRYPOINT, default_timeout=60)
        with transaction(primary) as uow:
            page.session_state["session_token"] = open_session(uow, user_id).token
        return page.run()

    def shown() -> tuple[int, int]:
        kpis, board_page = (open_page(start, inst.users["supervisor"], name) for name in ("kpi", "escalation"))
        assert not kpis.exception and not board_page.exception
        return int(kpis.dataframe[0].value["投诉量"].sum()), len(board_page.dataframe[0].value)

    with embedded_owner(pair.standby) as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
        try:
            inst.intake()
            assert shown() == (4, 4)
        finally:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
    _replayed(primary, standby)
    assert shown() == (5, 5)
    st.cache_resource.clear()
    primary.dispose()
    standby.dispose()
