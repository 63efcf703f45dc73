"""The statutory clock (RULES.md §7.1, CBIRC order 2020 no. 3 arts. 18, 23): the regulator's limits, which
run beside a pack's own deadlines for the packs whose `[statutory]` layer is enabled.

Every limit is in calendar days counted from the clock's start (receipt, or the receipt of new facts that
restarted it), the start day not counted; paused days (appraisal, testing, assessment, mediation) are not
counted, so they are added; a last day that is not a working day moves to the next working day unless
the institution switched that roll-forward off. An extension sets the limit to the next step (30, then 60
days): the law extends the limit ("延长至30日"), it does not pick a date, and the second step needs a
superior's approval.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from services.errors import PolicyError
from services.rules.calendar import SHANGHAI, Due, Period, WorkingCalendar, due, end_of_day
from services.rules.policy import StatutoryLayer

MILESTONE = "statutory_decision"
MET_BY = ("feedback",)  # decided AND told to the complainant (order 3 art. 18): the feedback meets it


def statutory_due(layer: StatutoryLayer, calendar: WorkingCalendar, period: Period, start: datetime,
                  paused_days: int = 0) -> Due:
    """The exclusive deadline of `period` from `start`, moved by the paused calendar days."""
    if layer.roll_forward:
        return due(calendar, Period("calendar_days", period.n + paused_days), start)
    return Due(end_of_day(start.astimezone(SHANGHAI).date() + timedelta(days=period.n + paused_days)), frozenset())


def next_limit(layer: StatutoryLayer, extensions_so_far: int) -> Period:
    """The limit the next extension sets; never beyond the last step (60 days from the start)."""
    if extensions_so_far >= len(layer.extensions):
        raise PolicyError("error.statutory.no_further_extension", field="extensions",
                          most=len(layer.extensions), days=layer.extensions[-1].n if layer.extensions else
                          layer.decision.n)
    return layer.extensions[extensions_so_far]


def days_paused(starts_on: date, ends_on: date) -> int:
    """The calendar days a pause stops the clock: from its first day to its last, the first not counted
    (as every period of RULES.md §3 counts), so a pause from 7 July to 17 July adds 10 days."""
    return (ends_on - starts_on).days
