"""Handling duties of the statutory layer (RULES.md §7.2, CBIRC order 2020 no. 3 arts. 17, 19–21): the proof
of notification feedback records, the review (核查) window and the review's own limit.

Pure: the casework services (cases.feedback, services/casework/duties.py) and the demo's ledger share it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.errors import InvalidInput, Phrase
from services.rules import validation
from services.rules.calendar import WorkingCalendar
from services.rules.policy import Policy, StatutoryLayer
from services.rules.statutory import statutory_due
from services.words import N_

# How the complainant was told the decision (art. 21): written (handed over or posted), SMS, e-mail, a recorded call
NOTIFICATION_METHODS = ("written_handed", "written_posted", "sms", "email", "recorded_call")
_LABELS = (N_("notification_method.written_handed"), N_("notification_method.written_posted"),  # the catalogue's
           N_("notification_method.sms"), N_("notification_method.email"), N_("notification_method.recorded_call"))
REVIEW_MILESTONE = "review_decision"
REF_CHARS = 200  # cases.notification_ref


def notification_proof(policy: Policy, method: Any, ref: Any) -> dict[str, str]:
    """The checked proof of notification as feedback records it (column → value); empty when none was given.

    With the statutory layer both are required (art. 21: without them feedback is not met), so feedback
    without them is refused rather than recorded as unmet: the record never holds an unproven decision.
    Without the layer they stay optional, but what is given is checked.
    """
    method = "" if method is None else str(method).strip()
    ref = validation.text(ref, "notification_ref", Phrase("error.field.notification_ref"), required=False,
                          max_chars=REF_CHARS)
    if policy.statutory_on and not method:
        raise InvalidInput("error.feedback.proof_missing", field="notification_method")
    if method and method not in NOTIFICATION_METHODS:
        raise InvalidInput("error.feedback.unknown_notification_method", field="notification_method")
    if policy.statutory_on and not ref:
        raise InvalidInput("error.feedback.proof_ref_missing", field="notification_ref")
    if not method:
        if ref:  # a reference of nothing: say how the complainant was told
            raise InvalidInput("error.feedback.proof_missing", field="notification_method")
        return {}
    return {"notification_method": method, "notification_ref": ref}


def review_request_ends(layer: StatutoryLayer, calendar: WorkingCalendar, told_at: datetime) -> datetime:
    """The exclusive instant after which a review may no longer be asked for (art. 20: within 30 days of the
    decision). The period rule of every 日 of order 3 (RULES.md §7.1): calendar days from the day the
    complainant was told, that day not counted, a last day off work moved on unless switched off."""
    return statutory_due(layer, calendar, layer.review_request, told_at).at


def review_decision_due(layer: StatutoryLayer, calendar: WorkingCalendar, received_at: datetime) -> datetime:
    """The review's own limit (art. 20: decided within 30 days of the request), same period rule."""
    return statutory_due(layer, calendar, layer.review_decision, received_at).at
