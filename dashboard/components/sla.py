"""The SLA badge: a coloured mark and the time left or overdue (RULES.md §3)."""

from __future__ import annotations

from dashboard.i18n import lang
from services.casework.queue import SlaBadge

MARKS = {"overdue": "🔴", "at_risk": "🟠", "on_time": "🟢", "met": "✅", "met_late": "⚠️", "waived": "⚪", "paused": "⏸️"}


def text(badge: SlaBadge | None) -> str:
    if badge is None:
        return "—"
    return f"{MARKS.get(badge.status, '')} {badge.text(lang())}"
