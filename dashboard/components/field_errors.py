"""Refusals shown under the field they name (issue 10 §2).

A form leaves an empty slot under each field; a refusal naming one of them is shown in its slot, any
other where the form shows errors. Slots are drawn anew on every run, so an error never outlives the
submit that caused it.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.i18n import error, lang
from dashboard.text import literal
from services.errors import DomainError


class FieldErrors:
    def __init__(self) -> None:
        self._slots: dict[str, Any] = {}

    def under(self, field: str, container: Any = st) -> None:
        """Reserve the slot for `field`'s error; call right after its widget."""
        self._slots[field] = container.empty()

    def show(self, exc: DomainError) -> None:
        slot = self._slots.get(getattr(exc, "field", None) or "")
        if slot is None:
            error(exc)
        else:
            slot.error(literal(exc.message(lang())))
