"""Risk-based inclusion (issue 12 §2, RULES.md §6, §8): the rules that take a case into a sample in full.

Each rule is a condition on the case's own record, evaluated in SQL inside the draw, so the draw stores which
rules took each case (`sample_items.included_by`) and a replay of the stored plan finds the same ones:
- `major`: grade major or L1 (RULES.md §6; the plan's `include_all_major`).
- `overdue`: a deadline met late, or still open past its due at the case's close (the end of the plan's
  period for a case not closed) — the same test as the checklist item `deadlines_met` (reviews.py).
- `extended`: at least one extension recorded.
- `regulator`: transferred by a regulator (`cases.source` other than `own`, RULES.md §7.3).
- `recomplaint`: a re-complaint (`parent_case_id` set), or a case re-complained about by a case received before
  the end of the plan's period (a later re-complaint cannot change a past draw).
- `dissatisfied`: satisfaction 1 or 2 on the five-point scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, DateTime, and_, exists, func, literal, or_
from sqlalchemy.orm import aliased

from db.models import Case, CaseDeadline, Extension
from db.supervision_models import INCLUSION_RULES, RISK_RULES
from services import words
from services.rules.calendar import end_of_day
from services.words import N_

CENSUS_GRADES = ("major", "L1")  # always reviewed in full (RULES.md §6)
DISSATISFIED = 2  # satisfaction at or below this is dissatisfied (1 very dissatisfied, 2 dissatisfied)
# each rule's name and what it takes, in the catalogue (issue 12 §2)
RULE_NAMES = {"major": N_("sampling.rule.major"), "overdue": N_("sampling.rule.overdue"),
              "extended": N_("sampling.rule.extended"), "regulator": N_("sampling.rule.regulator"),
              "recomplaint": N_("sampling.rule.recomplaint"), "dissatisfied": N_("sampling.rule.dissatisfied")}
RULE_HELP = {"overdue": N_("sampling.rule.overdue_help"), "extended": N_("sampling.rule.extended_help"),
             "regulator": N_("sampling.rule.regulator_help"), "recomplaint": N_("sampling.rule.recomplaint_help"),
             "dissatisfied": N_("sampling.rule.dissatisfied_help")}

__all__ = ["CENSUS_GRADES", "INCLUSION_RULES", "RISK_RULES", "RULE_HELP", "RULE_NAMES", "conditions", "described",
           "reason"]


def _overdue(end: ColumnElement[datetime]) -> ColumnElement[bool]:
    late = or_(CaseDeadline.status == "met_late",
               and_(CaseDeadline.status == "open", CaseDeadline.due_at <= func.coalesce(Case.closed_at, end)))
    return exists().where(CaseDeadline.case_id == Case.id, late)


def _recomplaint(end: ColumnElement[datetime]) -> ColumnElement[bool]:
    later = aliased(Case)
    return or_(Case.parent_case_id.is_not(None),
               exists().where(later.parent_case_id == Case.id, later.received_at < end))


def conditions(include_all_major: bool, include: Sequence[str], period_to: date) -> dict[str, ColumnElement[bool]]:
    """The plan's rules in INCLUSION_RULES order, each as a condition on `Case` (correlated where needed)."""
    end = literal(end_of_day(period_to), DateTime(timezone=True))
    chosen = {"major": include_all_major, **{rule: rule in include for rule in RISK_RULES}}
    every: dict[str, ColumnElement[bool]] = {
        "major": Case.grade.in_(CENSUS_GRADES), "overdue": _overdue(end), "extended": exists().where(
            Extension.case_id == Case.id), "regulator": Case.source != "own", "recomplaint": _recomplaint(end),
        "dissatisfied": Case.satisfaction <= DISSATISFIED}
    return {rule: every[rule] for rule in INCLUSION_RULES if chosen[rule]}


def reason(included_by: Sequence[str]) -> str:
    """sample_items.reason from the rules that took the case: drawn at random when none did."""
    if not included_by:
        return "drawn"
    return "all_major" if "major" in included_by else "rule"


def described(included_by: Sequence[str], lang: str) -> str:
    """Why a case is in the sample, in the reader's words: "按规则纳入：逾期、延期", or drawn at random."""
    if not included_by:
        return words.text("sampling.drawn", lang)
    rules = words.joined((words.text(RULE_NAMES[rule], lang) for rule in included_by), lang)
    return words.text("sampling.reason_rule", lang, rules=rules)
