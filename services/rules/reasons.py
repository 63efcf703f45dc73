"""The assessment's reasons as data, rendered in the reader's language when shown (issue 9 §6).

A case stores what was decided, by which pack rule and seed article, and why — message keys of the catalogue
(services/locale) with their parameters — never prose. A parameter is a literal, pack codes
`{"kind": "flag", "codes": [...]}` (named from the pack when shown), an instant `{"at": iso}`, an amount
`{"cny": "50000"}`, a citation `{"source": ..., "rule": ...}`,
a pack text `{"zh": ..., "en": ...}` (pack data stays pack data), another phrase
`{"key": ..., "params": ...}` or a list of those (joined).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from services.rules.calendar import format_deadline
from services.rules.citation import cite
from services.rules.policy import Citation, Label, Policy
from services.words import text

Phrase = dict[str, Any]  # {"key": "reason.grades", "params": {...}}


def phrase(key: str, **params: Any) -> Phrase:
    return {"key": key, "params": params}


def codes(kind: str, values: Iterable[str]) -> dict[str, Any]:
    return {"kind": kind, "codes": list(values)}


def cited(source: str, rule: str) -> dict[str, str]:
    """A document citation, shown by the document's title (issue 10 §3); the pack key path kept as data."""
    return {"source": source, "rule": rule}


def instant(value: datetime) -> dict[str, str]:
    return {"at": value.isoformat()}


def cny(amount: Decimal) -> dict[str, str]:
    return {"cny": str(amount)}


def pack_text(label: Label) -> dict[str, str]:
    return {"zh": label.zh, "en": label.en}


@dataclass(frozen=True)
class Reason:
    """One decision: its head (what was decided), why it holds, the pack rule and seed article it cites."""

    head: tuple[Phrase, ...]
    why: tuple[Phrase, ...]
    cite: Citation | None  # None: a line recorded as prose before reasons were data (migration 0013)
    rule: str = ""  # pack key path, e.g. "bank.grades[2]"
    notes: tuple[Phrase, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"head": list(self.head), "why": list(self.why), "notes": list(self.notes)}
        if self.cite is not None:
            out.update(rule=self.rule, source=self.cite.source, inferred=self.cite.inferred)
        return out


class Renderer:
    """Renders stored reasons and warnings in one language, naming pack codes from `policy`."""

    def __init__(self, policy: Policy, lang: str) -> None:
        self.policy, self.lang = policy, lang if lang == "zh" else "en"

    def word(self, key: str) -> str:
        return text(key, self.lang)

    def phrase(self, p: Mapping[str, Any]) -> str:
        return text(p["key"], self.lang, **{k: self.value(v) for k, v in (p.get("params") or {}).items()})

    def value(self, v: Any) -> str:
        if isinstance(v, list):
            return self.word("reason.sep").join(self.value(item) for item in v)
        if not isinstance(v, Mapping):
            return str(v)
        if "key" in v:
            return self.phrase(v)
        if "codes" in v:
            return self.word("reason.sep").join(self.policy.label(v["kind"], c, self.lang) for c in v["codes"])
        if "source" in v:
            return cite(v["source"], self.policy.documents, self.lang)
        if "at" in v:
            return format_deadline(datetime.fromisoformat(v["at"]))
        if "cny" in v:
            return _cny(Decimal(v["cny"]))
        return Label(v.get("zh", ""), v.get("en") or v.get("zh", "")).text(self.lang)

    def line(self, reason: Mapping[str, Any]) -> str:
        """`head（reasons；《document》article）` — every decision cites its rule (RULES.md §4), by the title of
        the institution's document (issue 10 §3); the pack key path stays in the stored data."""
        head = self.word("reason.semi").join(self.phrase(p) for p in reason.get("head", []))
        head = head[:1].upper() + head[1:]
        if "rule" not in reason:
            return head
        why = [self.phrase(p) for p in reason.get("why", [])]
        ref = cite(reason["source"], self.policy.documents, self.lang)
        notes = [self.phrase(p) for p in reason.get("notes", [])]
        body = self.word("reason.semi").join([self.word("reason.comma").join(why), ref, *notes] if why
                                             else [ref, *notes])
        tail = self.word("reason.inferred") if reason.get("inferred") else ""
        return f"{head}{self.word('reason.open')}{body}{self.word('reason.close')}{tail}"


def explanation(policy: Policy, reasons: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    """The stored reasons as lines in the reader's language."""
    render = Renderer(policy, lang)
    return [render.line(r) for r in reasons]


def warnings(policy: Policy, stored: Sequence[Mapping[str, Any]], lang: str) -> list[str]:
    render = Renderer(policy, lang)
    return [render.phrase(w) for w in stored]


def _cny(amount: Decimal) -> str:
    return f"{amount.quantize(Decimal(1)) if amount == amount.to_integral_value() else amount:,}"
