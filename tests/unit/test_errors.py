"""An unexpected error shows a reference, never the customer's data; the log says where, not what
(issue 8 §5)."""

from __future__ import annotations

import io
import logging

from sqlalchemy.exc import IntegrityError

from dashboard import errors
from dashboard.i18n import t
from services.errors import log_unexpected

NAME, PHONE = "张伟", "13800138000"


def failed_insert() -> IntegrityError:
    """What PostgreSQL says when a row is refused: the statement, the values and a DETAIL quoting them."""
    try:
        try:
            raise RuntimeError(f'duplicate key value violates unique constraint "customers_phone_key"\n'
                               f"DETAIL:  Key (phone)=({PHONE}) already exists.")
        except RuntimeError as db_error:
            raise IntegrityError("INSERT INTO customers (name, phone) VALUES (%(name)s, %(phone)s)",
                                 {"name": NAME, "phone": PHONE}, db_error) from db_error
    except IntegrityError as exc:
        return exc


def test_a_database_error_is_shown_and_logged_without_the_customers_data(caplog) -> None:
    exc = failed_insert()
    assert PHONE in str(exc)  # the raw error does quote the customer
    with caplog.at_level(logging.ERROR, logger="complaints.errors"):
        shown = errors.report_unexpected(exc)
    logged = caplog.text
    ref = log_unexpected(exc)
    assert shown == t("error.unexpected", ref=ref)
    assert ref in logged and "IntegrityError" in logged and "failed_insert" in logged  # where it happened
    for said in (shown, logged):
        assert PHONE not in said and NAME not in said


def test_streamlits_own_uncaught_exception_log_is_replaced_by_the_one_without_pii(caplog) -> None:
    from streamlit import error_util

    errors.install()
    errors.install()  # twice is harmless
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    streamlit_log = logging.getLogger("streamlit.error_util")
    streamlit_log.addHandler(handler)
    exc = failed_insert()
    try:
        with caplog.at_level(logging.ERROR, logger="complaints.errors"):
            error_util._log_uncaught_app_exception(exc)  # what Streamlit does before any handler
    finally:
        streamlit_log.removeHandler(handler)
    assert PHONE not in stream.getvalue() and NAME not in stream.getvalue()
    assert log_unexpected(exc) in caplog.text and PHONE not in caplog.text


def test_the_command_line_reports_an_unexpected_error_in_one_line_without_the_customers_data(
        monkeypatch, capsys, caplog) -> None:
    from services import __main__ as cli
    def fails(args: object) -> int:
        raise failed_insert()

    monkeypatch.setitem(cli.COMMANDS, "calendar", fails)
    with caplog.at_level(logging.ERROR, logger="complaints.errors"):
        code = cli.main(["calendar", "--from", "2026-10-01", "--to", "2026-10-02"])
    said = capsys.readouterr().err
    assert code == 1 and said.count("\n") == 1 and said.startswith("error: unexpected:")
    for text in (said, caplog.text):
        assert PHONE not in text and NAME not in text
