"""The spreadsheet import writes set-based (issue 13 §3): the same records, errors and result as the case services
taking every row's steps one at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from db.models import Department, User
from services.administration import importer
from services.casework.deadlines import next_due_differences
from services.casework.ledger import Ledger
from services.rules import jrt
from services.rules.calendar import SHANGHAI
from services.unit_of_work import UnitOfWork, transaction
from tests.service.conftest import at, make_institution
from tests.service.test_import import GOOD, xlsx
from tests.service.test_setup import RECORDS

TABLES = {
    **RECORDS,
    "classification": "SELECT case_no, jrt_channel, jrt_business, jrt_cause FROM cases ORDER BY 1",
    "audit": "SELECT action, detail FROM audit_events WHERE action = 'cases_imported'",
    "files": "SELECT sha256, filename, cases FROM import_files",
}
CODES = {column: sorted(jrt.VOCABULARY[d])[1] for d, column in jrt.COLUMNS.items()}


def rows(count: int) -> list[dict]:
    """Every kind of row the sheet takes, over several receipt days (and several rows a day)."""
    out = []
    for n in range(count):
        base = dict(GOOD[n % len(GOOD)])
        shift = timedelta(days=n % 9, minutes=n)
        for key in importer.STEPS:
            if key in base:  # Beijing time as the sheet writes it
                when = base[key]
                when = datetime.fromisoformat(when.replace("/", "-")) if isinstance(when, str) else when
                when = when.astimezone(SHANGHAI) if when.tzinfo else when
                base[key] = f"{when + shift:%Y-%m-%d %H:%M}"
        base["customer_name"] = f"{base['customer_name']}{n}"
        if n % 4 == 1:  # paid compensation, confirmed; a return visit; the sheet's own codes
            base.update(compensation_paid="200", signed_confirmation="客户签字确认", return_visit_at=base.get(
                "archived_at"), return_visit_method="电话", return_visit_note="客户满意", **CODES)
        if n % 7 == 3:  # what COPY escapes, in a text and in the timeline's JSON
            base["content"] = '第一行\n第二行\t制表符 \\反斜杠 "引号" \\N'
        if n % 5 == 2:
            base["jrt_cause"] = CODES["jrt_cause"]
        out.append(base)
    return out


def records(engine, clerk: int, data: bytes, one_by_one: bool) -> tuple[importer.ImportResult, dict[str, list]]:
    with UnitOfWork(engine) as uow:  # never committed: each run starts from the same institution
        result = importer.import_file(uow, clerk, data, "cases.xlsx", one_by_one=one_by_one)
        assert next_due_differences(uow) == []  # the stored nearest deadline, as cases.finish leaves it
        return result, {table: [tuple(r) for r in uow.session.execute(text(sql))] for table, sql in TABLES.items()}


def test_the_set_based_import_writes_what_the_case_services_write(engine):
    futures = make_institution(engine, "futures")
    data = xlsx(rows(60))
    (bulk, by_ledger), (replayed, by_services) = (records(engine, futures.users["clerk"], data, flag)
                                                  for flag in (False, True))
    assert bulk.errors == () and bulk == replayed and bulk.imported == 60
    assert len({no[:11] for no in bulk.case_nos}) > 5  # several receipt days, numbered on from each day's counter
    assert {row[8] for row in by_services["cases"]} >= {"registered", "archived", "feedback_given"}
    for table, expected in by_services.items():
        written = by_ledger[table]
        assert [r for r in written if r not in expected] == [r for r in expected if r not in written], table
        assert written == expected, table


@pytest.mark.parametrize("one_by_one", [False, True])
def test_a_row_the_checks_did_not_foresee_is_reported_the_same_way_and_nothing_is_written(engine, one_by_one):
    futures = make_institution(engine, "futures")
    bad = rows(6)
    bad[3]["customer_phone"] = "12345"  # the case services refuse the contact; the sheet's checks take any text
    with UnitOfWork(engine) as uow:
        result = importer.import_file(uow, futures.users["clerk"], xlsx(bad), "cases.xlsx", one_by_one=one_by_one)
        assert [(e.row, e.message("en")) for e in result.errors] == [(6, result.errors[0].message("en"))]
        assert "contact" in result.errors[0].message("en")
        assert uow.session.scalar(text("SELECT count(*) FROM cases")) == 0
        assert uow.session.scalar(text("SELECT count(*) FROM case_counters")) == 0  # no number taken either


def test_a_clerks_intake_while_an_import_is_written_keeps_its_number(engine):
    # the set-based writer read every day's counter when it began; it moves on only the days it numbered, so a
    # case taken in meanwhile on another day keeps its number and the next one does not repeat it
    futures = make_institution(engine, "futures")
    assert futures.intake().case_no == "TS-20261102-000001"
    with transaction(engine) as uow:  # the import's transaction, open while the clerk works
        ledger = Ledger(uow, uow.policy(), uow.session.scalars(select(User)).all(),
                        {d.code: d.id for d in uow.session.scalars(select(Department))})
        assert futures.intake().case_no == "TS-20261102-000002"  # committed meanwhile
        ledger.intake(futures.users["clerk"], {**futures.complaint(), "received_at": at("2026-11-05 10:00")})
        ledger.write()
    assert futures.intake().case_no == "TS-20261102-000003"
