"""Case facts (RULES.md §4): what the rules engine reads from a case, parsed from JSON-shaped data
and checked against a pack's vocabulary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from services.errors import InvalidInput
from services.rules import validation
from services.rules.policy import Policy

FACT_KEYS = ("received_at", "channel", "category", "compensation_claim", "cause", "flags",
             "forwarded_at", "resolved_at")


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


def parse_facts(data: Mapping[str, Any], policy: Policy, *, what_if: bool = False) -> Facts:
    """Facts from JSON-shaped data, checked against the pack's vocabulary.

    A receipt must have happened (issue 8 §5): every path that saves a case goes through here. Only a
    `what_if` assessment (the CLI's `assess`, rule tests) may plan one in the future.
    """
    if not isinstance(data, Mapping):
        raise InvalidInput("案件事实应为 JSON 对象", "facts must be a JSON object", field="facts")
    for key in data:
        if key not in FACT_KEYS:
            raise InvalidInput(f"未知字段（可用：{', '.join(FACT_KEYS)}）",
                               f"unknown field (known: {', '.join(FACT_KEYS)})", field=str(key))
    received = _instant(data.get("received_at"), "received_at")
    if received is None:
        raise InvalidInput("必须填写受理时间", "is required", field="received_at")
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
    for name in ("forwarded_at", "resolved_at"):
        at = getattr(facts, name)
        if at is not None and at < facts.received_at:
            raise InvalidInput("不能早于受理时间", "must not be before received_at", field=name)


def _unknown(policy: Policy, name: str, value: object, allowed: Mapping[str, Any]) -> None:
    raise InvalidInput(f"政策包 {policy.code} 中没有 \"{value}\"（可选：{'、'.join(allowed)}）",
                       f"unknown \"{value}\" in pack {policy.code} (one of: {', '.join(allowed)})",
                       field=name)


def _given(data: Mapping[str, Any], name: str, default: Any) -> Any:
    """A JSON null counts as not given."""
    value = data.get(name)
    return default if value is None else value


def _required_text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidInput("必填，应为代码文本", "is required as a code string", field=name)
    return value


def _instant(value: Any, name: str) -> datetime | None:
    """An aware instant from an ISO-8601 string or datetime; naive times are refused (§3)."""
    if value is None:
        return None
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"无法识别的时间：{value!r}", f"not an ISO-8601 time: {value!r}",
                           field=name) from None
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(f"缺少时区（例如 +08:00）：{value}",
                           f"needs a time-zone offset such as +08:00: {value}", field=name)
    return at


def _amount(value: Any) -> Decimal:
    try:
        if isinstance(value, bool):
            raise TypeError
        amount = Decimal(str(value)) if isinstance(value, int | float | str) else Decimal(value)
    except (TypeError, ValueError, InvalidOperation):
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise InvalidInput(f"应为金额（元）：{value!r}", f"not an amount in CNY: {value!r}",
                           field="compensation_claim")
    return amount  # the sign is checked with the other facts (check_facts)


def _flags(value: Any) -> frozenset[str]:
    if not isinstance(value, list | tuple | set | frozenset) or not all(
            isinstance(f, str) for f in value):
        raise InvalidInput("应为标记代码列表", "must be a list of flag codes", field="flags")
    return frozenset(value)
