"""An unexpected error shows a reference, never the customer's data; the log says where, not what
(issue 8 §5)."""

from __future__ import annotations

import io
import logging

import pytest
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


# --- domain errors carry a key of the catalogue and its parameters (issue 9 §6) ------------------------

def test_a_refusal_is_said_in_the_readers_language_from_its_key_and_parameters() -> None:
    from services.errors import NotFound

    refused = NotFound("error.case.not_found", field="case_no", case_no="TS-20261102-000001")
    assert (refused.key, refused.params, refused.field) == (
        "error.case.not_found", {"case_no": "TS-20261102-000001"}, "case_no")
    assert refused.message("zh") == "案件 TS-20261102-000001 不存在。"
    assert refused.message("en") == str(refused) == "Case TS-20261102-000001 does not exist."


def test_a_field_name_and_a_list_in_a_refusal_are_said_in_the_readers_language() -> None:
    from services.errors import InvalidInput, Listing
    from services.rules import validation

    with pytest.raises(InvalidInput) as missing:
        validation.phone("  ")
    assert missing.value.message("zh") == "请填写联系方式。"
    assert missing.value.message("en") == "Enter the customer's contact."
    unknown = InvalidInput("error.sampling.unknown_values", field="states", values=Listing(["a", "b"]))
    assert (unknown.message("zh"), unknown.message("en")) == ("未知的取值：a、b。", "Unknown values: a, b.")


def test_a_pack_file_error_names_its_file_and_key_around_the_readers_words() -> None:
    from services.errors import PolicyError
    from services.rules.policy_schema import _Reader

    with pytest.raises(PolicyError) as refused:
        _Reader("bank.toml").mapping(3, "milestones[0]")
    assert refused.value.message("zh") == "bank.toml: milestones[0]: 应为表"
    assert refused.value.message("en") == "bank.toml: milestones[0]: expected a table"


def test_every_domain_error_in_the_code_names_a_literal_key_both_catalogues_translate() -> None:
    """A computed key would escape Babel's extraction (tools/catalogue.py) and test_catalogue with it."""
    import ast
    from pathlib import Path

    from services import words
    from services.errors import DomainError
    from tools.catalogue import KEYWORDS, SOURCES

    def subclasses(cls: type) -> set[str]:
        return {name for sub in cls.__subclasses__() for name in {sub.__name__} | subclasses(sub)}

    import services.administration.backup  # noqa: F401  # defines BackupFailed
    raised = subclasses(DomainError) - {"Unexpected"}  # Unexpected's key is fixed in its constructor
    assert raised <= set(KEYWORDS)
    root = Path(__file__).resolve().parents[2]
    bad = []
    for folder in SOURCES:
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                        node.func.id in raised | {"DomainError", "Phrase"}:
                    first = node.args[0] if node.args else None
                    literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
                    computed = node.func.id == "Phrase" and isinstance(first, ast.JoinedStr)  # kpi.name.{name}
                    if not (literal and words.known(first.value)) and not computed:
                        bad.append(f"{path.relative_to(root)}:{node.lineno}")
    assert bad == []
