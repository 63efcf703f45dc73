"""JR/T 0169-2018 classification (RULES.md §7.4): the three code dimensions — channel (A), business (B), cause
(C) — as data (services/rules/jrt0169.toml, which names its sources and says which numbering is ours), and
the codes a case's intake facts suggest through the pack's `[jrt]` mapping."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType

from services.rules.policy import JrtMapping, Label

VOCABULARY_FILE = Path(__file__).parent / "jrt0169.toml"
DIMENSIONS = ("channel", "business", "cause")
COLUMNS = {"channel": "jrt_channel", "business": "jrt_business", "cause": "jrt_cause"}  # cases.<column>


def _load() -> Mapping[str, Mapping[str, Label]]:
    data = tomllib.loads(VOCABULARY_FILE.read_text(encoding="utf-8"))
    return MappingProxyType({d: MappingProxyType({code: Label(e["zh"], e["en"]) for code, e in data[d].items()})
                             for d in DIMENSIONS})


VOCABULARY = _load()


def codes(dimension: str) -> tuple[str, ...]:
    """The codes of one dimension, in the standard's order."""
    return tuple(VOCABULARY[dimension])


def label(dimension: str, code: str | None, lang: str = "zh") -> str:
    """`A3 电子渠道…`: the code with its label; an unknown code comes back unchanged, None as ''."""
    if code is None:
        return ""
    known = VOCABULARY[dimension].get(code)
    return f"{code} {known.text(lang)}" if known else code


def suggest(mapping: JrtMapping | None, channel: str, category: str, flags: Iterable[str]) -> dict[str, str | None]:
    """The codes the intake facts suggest (None where they say nothing): the channel and category through the
    pack's table, the cause from the category, else from the first mapped flag (in the pack's order)."""
    if mapping is None:
        return dict.fromkeys(DIMENSIONS)
    held = set(flags)
    cause = mapping.category_causes.get(category) or next(
        (c for flag, c in mapping.flag_causes.items() if flag in held), None)
    return {"channel": mapping.channels.get(channel), "business": mapping.categories.get(category), "cause": cause}
