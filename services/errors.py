"""Domain errors: every refusal carries a message a clerk understands, in Chinese and English.

An unexpected error (a bug, a database failure) is logged by `log_unexpected` with its type, a random
reference and where it happened — never its message, arguments or locals, which may quote a customer's
name or phone (a database error repeats the row it refused; issue 8 §5).
"""

from __future__ import annotations

import logging
import secrets
import traceback

LOG = logging.getLogger("complaints.errors")
_REF = "_complaints_error_ref"  # the reference, kept on the exception so it is logged once


class DomainError(Exception):
    """A rule of the domain was broken; nothing was saved."""

    code = "domain_error"

    def __init__(self, zh: str, en: str, *, field: str | None = None) -> None:
        super().__init__(en)
        self.zh = zh
        self.en = en
        self.field = field

    def message(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en


class InvalidInput(DomainError):
    """A required value is missing or malformed."""

    code = "invalid_input"


class PolicyError(DomainError):
    """A policy pack file or an edited pack value is not valid."""

    code = "policy_error"


class NotPermitted(DomainError):
    """The user's roles or scope do not allow this action."""

    code = "not_permitted"


class InvalidTransition(DomainError):
    """The case's state does not allow this action."""

    code = "invalid_transition"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """Someone else changed the case since it was read (optimistic locking)."""

    code = "conflict"


class Unexpected(DomainError):
    """What the user is told of an unexpected error: that it happened, and its reference in the log."""

    code = "unexpected"

    def __init__(self, reference: str) -> None:
        super().__init__(f"系统出现意外错误，操作未完成，已记录（参考编号 {reference}）。",
                         f"Something went wrong and the action was not completed; it has been logged "
                         f"(reference {reference}).")


def _frames(exc: BaseException) -> str:
    """Type and frame locations of the exception and its causes; no messages, no locals."""
    parts, seen = [], set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        where = "".join(traceback.format_list(traceback.extract_tb(current.__traceback__)))
        parts.append(f"{type(current).__module__}.{type(current).__qualname__}\n{where}")
        current = current.__cause__ or current.__context__
    return "caused by: ".join(reversed(parts))


def log_unexpected(exc: BaseException) -> str:
    """A random reference for this exception, logged with its PII-free traceback the first time."""
    ref = getattr(exc, _REF, None)
    if ref is None:
        ref = secrets.token_hex(4).upper()
        setattr(exc, _REF, ref)
        LOG.error("unexpected %s, reference %s\n%s", type(exc).__qualname__, ref, _frames(exc))
    return ref
