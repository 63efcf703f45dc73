"""Domain errors: every refusal carries a message a clerk understands, in Chinese and English."""

from __future__ import annotations


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
