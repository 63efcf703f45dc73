"""Words built from codes at run time (issue 9 §6) read in both languages: Babel cannot see these keys."""

from __future__ import annotations

from datetime import datetime

import pytest

from services import words
from services.casework.queue import SlaBadge
from services.institution.audit import PROBLEMS
from services.rules.calendar import SHANGHAI
from services.rules.transitions import CLOSED_STATES, OPEN_STATES
from services.supervision import kpi, report

KPI_HEADERS = ["month", "group", "label", *kpi.COLUMNS, "kpi", "numerator", "denominator", "rate", "target",
               "met_target", "weight", "attainment", "points", "before", "after", "change"]
REASONS = [f"reason.{kind}{one}" for kind in ("hours", "working_days", "calendar_days") for one in ("", "_one")] + [
    f"reason.{key}" for key in ("flags_any", "grades", "categories", "channels", "handling_levels")]


@pytest.mark.parametrize("key", [
    *(f"kpi.column.{c}" for c in KPI_HEADERS), *(f"report.how.{c}" for *_, c in report.OVERVIEW),
    *(f"report.sheet.{by}" for by in report.BREAKDOWNS), *(f"state.{s}" for s in OPEN_STATES + CLOSED_STATES),
    *(f"sla.badge.{s}" for s in ("on_time", "at_risk", "overdue", "met", "met_late", "waived")), *REASONS,
    *(f"cli.audit.problem.{p}" for p in PROBLEMS)])
def test_a_key_made_from_a_code_is_in_both_catalogues(key):
    assert words.known(key)


def test_an_sla_badge_reads_in_the_readers_language():
    due = datetime(2026, 11, 3, tzinfo=SHANGHAI)
    one = SlaBadge("resolve", "at_risk", due, "working_days", 1)
    late = SlaBadge("resolve", "overdue", due, "hours", 3.5)
    assert (one.text("zh"), one.text("en")) == ("临近到期 · 剩余 1 个工作日", "at risk · 1 working day left")
    assert (late.text("zh"), late.text("en")) == ("已超期 3.5 小时", "3.5 hours overdue")
