"""Unexpected errors (issue 8 §5): the user sees a catalogue message with a reference, the log gets
the exception's type and where it happened — never its message, arguments or locals, which may
quote a customer's name or phone (a database error repeats the row it refused).

Wiring: the entrypoint catches what a page raises (`show_unexpected`), `on_script_error` serves
`st.App(..., on_script_error=...)`, and `install()` keeps Streamlit's own "Uncaught app exception"
log record (written with the full message) out of the log.
"""

from __future__ import annotations

import logging

import streamlit as st

from dashboard.i18n import t
from services.errors import log_unexpected


def report_unexpected(exc: BaseException) -> str:
    """Log `exc` without PII; the message to show, in the user's language, with the reference."""
    return t("error.unexpected", ref=log_unexpected(exc))


def show_unexpected(exc: BaseException) -> None:
    st.error(report_unexpected(exc))


def on_script_error(exc: Exception) -> bool:
    """For st.App(on_script_error=...): show the catalogue message instead of Streamlit's."""
    show_unexpected(exc)
    return True


class _WithoutDetails(logging.Filter):
    """Replaces a record carrying an exception by our PII-free one (same reference as on screen)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            log_unexpected(record.exc_info[1])
            return False
        return True


def install() -> None:
    """Keep Streamlit's uncaught-exception log (message and all) out of the log; call once at start."""
    logger = logging.getLogger("streamlit.error_util")
    if not any(isinstance(f, _WithoutDetails) for f in logger.filters):
        logger.addFilter(_WithoutDetails())
