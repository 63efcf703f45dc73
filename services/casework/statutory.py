"""The regulator's clock on a case (RULES.md §7.1, CBIRC order 2020 no. 3 arts. 18, 23): pauses for appraisal,
testing, assessment or mediation, a restart when new facts arrive, a repeat of the same matter merged into the
open case, and the statutory extensions, the further one only after a superior has approved it.

The deadline itself is `services.rules.statutory`'s: from the clock's start, the limit in force (15, 30 or 60
calendar days), plus the paused days. Each use case is one change with its timeline event, as in
`services.casework.cases`; the caller commits (issue 9 §3).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from db.models import PAUSE_KINDS, Case, CaseDeadline, ClockPause, ExtensionApproval
from services.casework.cases import CaseRef, _text, finish, open_case, record_event, record_extension
from services.casework.deadlines import RUNNING
from services.errors import InvalidInput, InvalidTransition, Listing, NotPermitted, Phrase
from services.institution.access import Actor, may
from services.rules import statutory
from services.rules.calendar import SHANGHAI, iso
from services.rules.policy import Policy, StatutoryLayer
from services.unit_of_work import UnitOfWork

# The case-page actions of this module; `clock_actions` says which of them have something to do.
ACTIONS = ("pause_clock", "resume_clock", "restart_clock", "merge_repeat", "extend_statutory", "request_extension",
           "approve_extension")


def _layer(policy: Policy) -> StatutoryLayer:
    if policy.statutory is None or not policy.statutory.enabled:
        raise InvalidTransition("error.statutory.not_applicable", field="statutory")
    return policy.statutory


def _clock(uow: UnitOfWork, case: Case) -> CaseDeadline:
    """The case's statutory deadline while it runs (or stands still)."""
    row = uow.session.scalar(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id, CaseDeadline.milestone == statutory.MILESTONE))
    if row is None or row.status not in RUNNING:
        raise InvalidTransition("error.statutory.clock_not_running", field="statutory")
    return row


def _due(uow: UnitOfWork, layer: StatutoryLayer, case: Case, extensions: int) -> datetime:
    return statutory.statutory_due(layer, uow.calendar(), layer.limit(extensions), case.clock_started_at or
                                   case.received_at, case.paused_days).at


def _day(value: Any, field: str, uow: UnitOfWork, earliest: date) -> date:
    """A day of the clock: not before it started, not after today (Shanghai)."""
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidInput("error.statutory.day_missing", field=field)
    if value < earliest or value > uow.now().astimezone(SHANGHAI).date():
        raise InvalidInput("error.statutory.day_out_of_range", field=field, earliest=earliest.isoformat())
    return value


def _open_pause(uow: UnitOfWork, case: Case) -> ClockPause | None:
    return uow.session.scalar(select(ClockPause).where(ClockPause.case_id == case.id, ClockPause.ends_on.is_(None)))


def _move(uow: UnitOfWork, layer: StatutoryLayer, case: Case, row: CaseDeadline) -> dict[str, str]:
    """The deadline recomputed after the clock changed, as the timeline records it (old → new)."""
    old, row.due_at = row.due_at, _due(uow, layer, case, row.extensions)
    return {"old_due": iso(old), "new_due": iso(row.due_at)}


def pause_clock(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, kind: str, starts_on: date,
                reason: str, complainant_informed_at: datetime, informed_method: str, ends_on: date | None = None,
                at: datetime | None = None) -> CaseRef:
    """Appraisal, testing, assessment or mediation: the statutory clock stands still from `starts_on` (order 3
    arts. 18, 23); with `ends_on` a pause already over, which moves the deadline at once."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "pause_clock")
    layer, row = _layer(policy), _clock(uow, case)
    if row.status == "paused":
        raise InvalidTransition("error.statutory.already_paused", field="kind")
    if kind not in PAUSE_KINDS:
        raise InvalidInput("error.statutory.pause_kind", field="kind")
    start = (case.clock_started_at or case.received_at).astimezone(SHANGHAI).date()
    starts_on = _day(starts_on, "starts_on", uow, start)
    ends_on = _day(ends_on, "ends_on", uow, starts_on) if ends_on is not None else None
    pause = ClockPause(case_id=case.id, kind=kind, starts_on=starts_on, ends_on=ends_on,
                       reason=_text({"reason": reason}, "reason", Phrase("error.field.pause_reason")),
                       complainant_informed_at=uow.at(complainant_informed_at),
                       informed_method=_text({"m": informed_method}, "m", Phrase("error.field.informed_method")),
                       recorded_by_id=actor.id, ended_by_id=actor.id if ends_on else None)
    uow.session.add(pause)
    at = uow.at(at)
    moved: dict[str, str] = {}
    if ends_on is None:
        row.status = "paused"  # neither at risk nor overdue while it stands still
    else:
        case.paused_days += statutory.days_paused(starts_on, ends_on)
        moved = _move(uow, layer, case, row)
    record_event(uow, case, actor, "clock_paused", at, note=pause.reason, kind=kind, starts_on=starts_on.isoformat(),
            ends_on=ends_on.isoformat() if ends_on else None, informed_method=pause.informed_method,
            complainant_informed_at=iso(pause.complainant_informed_at), **moved)
    case.updated_at = at
    return finish(uow, case)


def resume_clock(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, ends_on: date,
                 at: datetime | None = None) -> CaseRef:
    """The pause is over: the deadline moves by its calendar days (RULES.md §7.1)."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "resume_clock")
    layer, row = _layer(policy), _clock(uow, case)
    pause = _open_pause(uow, case)
    if row.status != "paused" or pause is None:
        raise InvalidTransition("error.statutory.not_paused", field="ends_on")
    pause.ends_on, pause.ended_by_id = _day(ends_on, "ends_on", uow, pause.starts_on), actor.id
    days = statutory.days_paused(pause.starts_on, pause.ends_on)
    case.paused_days += days
    row.status = "open"
    at = uow.at(at)
    record_event(uow, case, actor, "clock_resumed", at, kind=pause.kind, starts_on=pause.starts_on.isoformat(),
            ends_on=pause.ends_on.isoformat(), days=days, **_move(uow, layer, case, row))
    case.updated_at = at
    return finish(uow, case)


def restart_clock(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, received_at: datetime,
                  note: str, at: datetime | None = None) -> CaseRef:
    """New facts or materials: the statutory clock runs again from their receipt (order 3 art. 18), its first
    limit again, earlier pauses and extensions spent."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "restart_clock")
    layer, row = _layer(policy), _clock(uow, case)
    if row.status == "paused":
        raise InvalidTransition("error.statutory.end_pause_first", field="received_at")
    received = uow.at(received_at)
    if received < (case.clock_started_at or case.received_at) or received > uow.now():
        raise InvalidInput("error.statutory.restart_out_of_range", field="received_at")
    note = _text({"note": note}, "note", Phrase("error.field.new_facts"))
    case.clock_started_at, case.paused_days = received, 0
    row.starts_at, row.extensions = received, 0
    moved = _move(uow, layer, case, row)
    row.original_due_at = row.due_at  # the first deadline of the new clock: the KPIs' "within the first deadline"
    at = uow.at(at)
    record_event(uow, case, actor, "clock_restarted", at, note=note, received_at=iso(received), **moved)
    case.updated_at = at
    return finish(uow, case)


def merge_repeat(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, received_at: datetime,
                 channel: str, content: str, at: datetime | None = None) -> CaseRef:
    """The same matter complained of again while the case is handled: recorded on the open case, no new case and
    no new clock (order 3 art. 18); new facts restart the clock instead (`restart_clock`)."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "merge_repeat")
    _layer(policy)
    received = uow.at(received_at)
    if received < case.received_at or received > uow.now():
        raise InvalidInput("error.statutory.repeat_out_of_range", field="received_at")
    if channel not in policy.channels:
        raise InvalidInput("error.facts.unknown_code", field="channel", code=policy.code, value=channel,
                           choices=Listing(policy.channels))
    content = _text({"content": content}, "content", Phrase("error.field.content"))
    at = uow.at(at)
    record_event(uow, case, actor, "repeat_merged", at, note=content, received_at=iso(received), channel=channel)
    case.updated_at = at
    return finish(uow, case)


def _pending(uow: UnitOfWork, case: Case) -> ExtensionApproval | None:
    """The approval asked for and not yet decided, or approved and not yet used."""
    return uow.session.scalar(select(ExtensionApproval).where(
        ExtensionApproval.case_id == case.id, ExtensionApproval.extension_id.is_(None),
        ExtensionApproval.approved.is_not(False)).order_by(ExtensionApproval.id.desc()).limit(1))


def extend_statutory(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, reason: str,
                     customer_informed_at: datetime, informed_method: str, at: datetime | None = None) -> CaseRef:
    """The statutory limit extended to its next step (30 days, then 60, never beyond), the complainant told; the
    step that needs a superior's approval only once it was approved (order 3 art. 18)."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "extend_statutory")
    layer, row = _layer(policy), _clock(uow, case)
    if row.status == "paused":
        raise InvalidTransition("error.statutory.end_pause_first", field="reason")
    statutory.next_limit(layer, row.extensions)
    approval = _pending(uow, case) if layer.needs_approval(row.extensions) else None
    if layer.needs_approval(row.extensions) and (approval is None or not approval.approved):
        raise NotPermitted("error.statutory.approval_needed", field="reason")
    values = {"reason": reason, "informed_method": informed_method}
    extension = record_extension(
        uow, case, actor, row, _due(uow, layer, case, row.extensions + 1),
        _text(values, "reason", Phrase("error.field.extension_reason")), uow.at(customer_informed_at),
        _text(values, "informed_method", Phrase("error.field.informed_method")), uow.at(at),
        approval_id=approval.id if approval else None)
    if approval is not None:
        uow.flush()
        approval.extension_id = extension.id
    return finish(uow, case)


def request_extension(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, reason: str,
                      at: datetime | None = None) -> CaseRef:
    """Ask a superior to approve the further extension (especially complex or special reasons)."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "request_extension")
    layer, row = _layer(policy), _clock(uow, case)
    step = statutory.next_limit(layer, row.extensions)
    if not layer.needs_approval(row.extensions):
        raise InvalidTransition("error.statutory.no_approval_needed", field="reason")
    if _pending(uow, case) is not None:
        raise InvalidTransition("error.statutory.approval_pending", field="reason")
    at = uow.at(at)
    approval = ExtensionApproval(
        case_id=case.id, milestone=statutory.MILESTONE, requested_by_id=actor.id, requested_at=at,
        new_due_at=statutory.statutory_due(layer, uow.calendar(), step, case.clock_started_at or case.received_at,
                                           case.paused_days).at,
        reason=_text({"reason": reason}, "reason", Phrase("error.field.extension_reason")))
    uow.session.add(approval)
    uow.flush()
    record_event(uow, case, actor, "extension_requested", at, note=approval.reason, approval_id=approval.id,
            new_due=iso(approval.new_due_at))
    case.updated_at = at
    return finish(uow, case)


def decide_extension(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, approve: bool, reason: str,
                     at: datetime | None = None) -> CaseRef:
    """A superior (a senior manager of the superior institution or head office) approves or refuses, with a
    reason; recorded who, when and why, once."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "approve_extension")
    _layer(policy)
    approval = _pending(uow, case)
    if approval is None or approval.approved is not None:
        raise InvalidTransition("error.statutory.nothing_to_approve", field="approve")
    if approval.requested_by_id == actor.id:  # four eyes: who asks does not approve
        raise NotPermitted("error.statutory.own_request", field="approve")
    at = uow.at(at)
    approval.approved, approval.decided_by_id, approval.decided_at = bool(approve), actor.id, at
    approval.decision_reason = _text({"reason": reason}, "reason", Phrase("error.field.approval_reason"))
    record_event(uow, case, actor, "extension_decided", at, note=approval.decision_reason, approval_id=approval.id,
            approved=approval.approved, new_due=iso(approval.new_due_at))
    case.updated_at = at
    return finish(uow, case)


def clock_actions(uow: UnitOfWork, actor: Actor, case: Case) -> set[str]:
    """The statutory actions with something to do on this case now (the case page offers only those)."""
    policy = uow.policy(case.pack)
    if policy.statutory is None or not policy.statutory.enabled:
        return set()  # a pack without the layer works as it did
    row = uow.session.scalar(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id, CaseDeadline.milestone == statutory.MILESTONE))
    if row is None or row.status not in RUNNING:
        return {"merge_repeat"}
    layer, pending = policy.statutory, _pending(uow, case)
    out = {"merge_repeat", "resume_clock" if row.status == "paused" else "pause_clock"}
    if row.status == "open":
        out.add("restart_clock")
        if row.extensions < len(layer.extensions):
            if not layer.needs_approval(row.extensions) or (pending is not None and pending.approved):
                out.add("extend_statutory")
            elif pending is None:
                out.add("request_extension")
            elif may(actor, "approve_extension") and pending.requested_by_id != actor.id:
                out.add("approve_extension")
    return out
