"""Domain errors: every refusal carries a key of the one catalogue of words, its parameters and the field
it is about (issue 9 §6); the message is said in the reader's language when shown.

An unexpected error (a bug, a database failure) is logged by `log_unexpected` with its type, a random
reference and where it happened — never its message, arguments or locals, which may quote a customer's
name or phone (a database error repeats the row it refused; issue 8 §5).
"""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from services import words

LOG = logging.getLogger("complaints.errors")
_REF = "_complaints_error_ref"  # the reference, kept on the exception so it is logged once


@runtime_checkable
class Said(Protocol):
    """Words said in the reader's language: a pack's `Label`, a `Phrase`, a `Listing`, a `DomainError`."""

    def text(self, lang: str) -> str: ...


def _said(params: dict[str, object], lang: str) -> dict[str, object]:
    return {name: value.text(lang) if isinstance(value, Said) else value for name, value in params.items()}


class Phrase:
    """A catalogue message with its parameters, said later: a field's name in a refusal, or the problem a
    file reader reports under its own file and key (a Babel keyword, so its key is extracted)."""

    def __init__(self, key: str, **params: object) -> None:
        self.key, self.params = key, params

    def text(self, lang: str) -> str:
        return words.text(self.key, lang, **_said(self.params, lang))


class Listing:
    """Codes listed in a message: "a、b" in Chinese, "a, b" in English; a `Phrase` among them in the reader's
    language."""

    def __init__(self, items: Iterable[object]) -> None:
        self.items = [item if isinstance(item, Said) else str(item) for item in items]

    def text(self, lang: str) -> str:
        return words.joined((item.text(lang) if isinstance(item, Said) else item for item in self.items), lang)


class DomainError(Exception):
    """A rule of the domain was broken; nothing was saved. `key` names the message in the catalogue,
    `params` fill it; `str()` is the English message (the CLI's stderr line, tests)."""

    code = "domain_error"

    def __init__(self, key: str, *, field: str | None = None, **params: object) -> None:
        self.key, self.params, self.field = key, params, field
        super().__init__(self.message("en"))

    def message(self, lang: str = words.DEFAULT_LANG) -> str:
        return words.text(self.key, lang, **_said(self.params, lang))

    text = message  # said like any other words: inside another message, in an import's row errors


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
        super().__init__("error.unexpected", ref=reference)


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
