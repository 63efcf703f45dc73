"""Case facts (RULES.md §4): what the rules engine reads from a case, parsed from JSON-shaped data
and checked against a pack's vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.errors import InvalidInput, Listing
from services.rules import validation
from services.rules.policy import Policy

FACT_KEYS = ("received_at", "channel", "category", "compensation_claim", "cause", "flags",
             "forwarded_at", "resolved_at", "clock_started_at", "paused_days")


@dataclass(frozen=True)
class Facts:
    """What the engine reads from a case (RULES.md §4)."""

    received_at: datetime  # aware
    channel: str
    category: str
    compensation_claim: Decimal = Decimal(0)  # CNY, >= 0
    cause: str = "branch"  # one of the pack's causes (seed 002 art. 19); parse_facts defaults to its first
    flags: frozenset[str] = frozenset()
    forwarded_at: datetime | None = None
    resolved_at: datetime | None = None
    clock_started_at: datetime | None = None  # the statutory clock restarted by new facts (RULES.md §7.1)
    paused_days: int = 0  # calendar days the statutory clock stood still since it started (RULES.md §7.1)

    @property
    def clock_start(self) -> datetime:
        """When the statutory clock runs from: receipt, or the receipt of the new facts that restarted it."""
        return self.clock_started_at or self.received_at


def parse_facts(data: Mapping[str, Any], policy: Policy, *, what_if: bool = False) -> Facts:
    """Facts from JSON-shaped data, checked against the pack's vocabulary.

    A receipt must have happened (issue 8 §5): every path that saves a case goes through here. Only a
    `what_if` assessment (the CLI's `assess`, rule tests) may plan one in the future.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("error.facts.not_an_object", field="facts")
    for key in data:
        if key not in FACT_KEYS:
            raise InvalidInput("error.facts.unknown_field", field=str(key), known=Listing(FACT_KEYS))
    received = _instant(data.get("received_at"), "received_at")
    if received is None:
        raise InvalidInput("error.facts.received_at_missing", field="received_at")
    validation.received_at(received, planned=what_if)
    facts = Facts(
        received_at=received,
        channel=_required_text(data, "channel"),
        category=_required_text(data, "category"),
        compensation_claim=_amount(_given(data, "compensation_claim", 0)),  # RULES.md §2: 0 if none
        cause=_given(data, "cause", next(iter(policy.causes), "")),  # the pack's first cause (issue 9 §4)
        flags=_flags(_given(data, "flags", [])),
        forwarded_at=_instant(data.get("forwarded_at"), "forwarded_at"),
        resolved_at=_instant(data.get("resolved_at"), "resolved_at"),
        clock_started_at=_instant(data.get("clock_started_at"), "clock_started_at"),
        paused_days=_days(_given(data, "paused_days", 0)),
    )
    check_facts(policy, facts)
    return facts


def check_facts(policy: Policy, facts: Facts) -> None:
    """Codes must belong to this pack; later events may not precede receipt."""
    known = {"channel": policy.channels, "category": policy.categories, "cause": policy.causes}
    for name, allowed in known.items():
        value = getattr(facts, name)
        if not isinstance(value, str) or value not in allowed:
            _unknown(policy, name, value, allowed)
    for flag in sorted(facts.flags - set(policy.flags)):
        _unknown(policy, "flags", flag, policy.flags)
    validation.check_amount(facts.compensation_claim, "compensation_claim")
    if isinstance(facts.paused_days, bool) or not isinstance(facts.paused_days, int) or facts.paused_days < 0:
        raise InvalidInput("error.facts.bad_paused_days", field="paused_days", value=facts.paused_days)
    for name in ("forwarded_at", "resolved_at", "clock_started_at"):
        at = getattr(facts, name)
        if at is not None and at < facts.received_at:
            raise InvalidInput("error.facts.before_receipt", field=name)


def _unknown(policy: Policy, name: str, value: object, allowed: Mapping[str, Any]) -> None:
    raise InvalidInput("error.facts.unknown_code", field=name, code=policy.code, value=value, choices=Listing(allowed))


def _given(data: Mapping[str, Any], name: str, default: Any) -> Any:
    """A JSON null counts as not given."""
    value = data.get(name)
    return default if value is None else value


def _required_text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("error.facts.code_required", field=name)
    return value


def _instant(value: Any, name: str) -> datetime | None:
    """An aware instant from an ISO-8601 string or datetime; naive times are refused (§3)."""
    if value is None:
        return None
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput("error.facts.bad_time", field=name, value=value) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput("error.facts.zone_offset_missing", field=name, value=value)
    return at


def _amount(value: Any) -> Decimal:
    try:
        if isinstance(value, bool):
            raise TypeError
        amount = Decimal(str(value)) if isinstance(value, int | float | str) else Decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise InvalidInput("error.facts.bad_amount", field="compensation_claim", value=value)
    return amount  # the sign is checked with the other facts (check_facts)


def _days(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidInput("error.facts.bad_paused_days", field="paused_days", value=value)
    return value


def _flags(value: Any) -> frozenset[str]:
    if not isinstance(value, list | tuple | set | frozenset) or not all(
            isinstance(f, str) for f in value):
        raise InvalidInput("error.facts.bad_flags", field="flags")
    return frozenset(value)
