"""JR/T 0169-2018 classification of a case (RULES.md §7.4): its channel, business and cause codes, suggested
from the intake facts through the pack's `[jrt]` table, recorded by staff with a `classified` event.

A pack whose `[jrt]` table says `required` (bank) files no case without the three codes
(cases.missing_for_archive names them); every other pack is offered the same codes, optional.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from db.models import Case
from services.casework.cases import CaseRef, timeline_entry
from services.errors import Conflict, InvalidInput, InvalidTransition, Phrase
from services.institution.access import case_for, load_actor, may
from services.rules import jrt
from services.rules.policy import Policy
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork
from services.words import N_

# The words of each dimension (the page's field labels, the statistics' headers) and of the archive refusal
DIMENSION_WORDS = {"channel": N_("jrt.dimension.channel"), "business": N_("jrt.dimension.business"),
                   "cause": N_("jrt.dimension.cause")}
_DIMENSION_PHRASES = {"channel": Phrase("jrt.dimension.channel"), "business": Phrase("jrt.dimension.business"),
                      "cause": Phrase("jrt.dimension.cause")}
FIELD_WORDS = (N_("error.field.jrt_channel"), N_("error.field.jrt_business"), N_("error.field.jrt_cause"),
               N_("event.classified"))
# Before the case is filed (a withdrawn complaint still counts): an archived case's codes are what was reported.
CLASSIFY_STATES = (*OPEN_STATES, "withdrawn")


@dataclass(frozen=True)
class ClassificationView:
    """What the case page shows: the codes on the case, those the facts suggest, and what this user may do."""

    case_no: str
    version: int
    codes: dict[str, str | None]  # dimension → the case's code
    suggested: dict[str, str | None]  # dimension → the code the intake facts suggest
    required: bool  # the pack files no case without the three codes
    offered: tuple[str, ...]  # the dimensions the page offers: all three where the pack maps them, else cause
    may_classify: bool


def current(case: Case) -> dict[str, str | None]:
    return {d: getattr(case, jrt.COLUMNS[d]) for d in jrt.DIMENSIONS}


def suggested(case: Case, policy: Policy) -> dict[str, str | None]:
    return jrt.suggest(policy.jrt, case.channel, case.category, case.flags)


def offered(policy: Policy) -> tuple[str, ...]:
    """Banks classify on all three dimensions; the other packs are offered the cause (issue 11 §6)."""
    mapping = policy.jrt
    if mapping is not None and (mapping.required or mapping.channels or mapping.categories):
        return jrt.DIMENSIONS
    return ("cause",)


def classification_view(uow: UnitOfWork, actor_id: int, case_no: str) -> ClassificationView:
    actor = load_actor(uow.session, actor_id)
    case = case_for(uow.session, actor, case_no, "view_case")
    policy = uow.policy(case.pack)
    return ClassificationView(case.case_no, case.version, current(case), suggested(case, policy),
                              bool(policy.jrt and policy.jrt.required), offered(policy),
                              may(actor, "classify") and case.state in CLASSIFY_STATES)


def code(dimension: str, value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in jrt.VOCABULARY[dimension]:
        raise InvalidInput("error.jrt.unknown_code", field=jrt.COLUMNS[dimension], code=value,
                           dimension=_DIMENSION_PHRASES[dimension])
    return value


def classify(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, channel: str | None = None,
             business: str | None = None, cause: str | None = None, at: datetime | None = None) -> CaseRef:
    """Record the case's JR/T 0169 codes (None or "": not classified on that dimension); the event keeps the
    old and the new codes. Nothing changed: nothing recorded."""
    actor = load_actor(uow.session, actor_id)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InvalidInput("error.case.version_missing", field="version")
    case = case_for(uow.session, actor, case_no, "classify", lock=True)
    if case.version != version:
        raise Conflict("error.case.changed_by_someone_else", case_no=case_no)
    if case.state not in CLASSIFY_STATES:
        raise InvalidTransition("error.case.action_not_allowed_in_state", field="state",
                                state=Phrase(f"state.{case.state}"), action=Phrase("action.classify"))
    new = {"channel": code("channel", channel), "business": code("business", business),
           "cause": code("cause", cause)}
    old = current(case)
    if new != old:
        for dimension, value in new.items():
            setattr(case, jrt.COLUMNS[dimension], value)
        uow.session.add(timeline_entry(case, actor.id, "classified", uow.at(at), old=old, new=new))
        uow.flush()  # bumps case.version
    return CaseRef(case.id, case.case_no, case.version, case.state)
