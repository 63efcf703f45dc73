"""The escalation board (升级看板, issue 4 §4) and the automatic escalations the sweep records.

Automatic escalations (RULES.md §4, issue 4 §4): an open milestone past its deadline goes to the
head of the responsible department (`overdue:<milestone>`); the pack's escalation rules recorded in
the assessment — major/L1 cases to the executive roles, and the pack's own — go to their roles
(`rule:<role>`, the key intake uses). UNIQUE(case_id, rule_key) with ON CONFLICT DO NOTHING makes
each happen exactly once however many sessions run this at the same time. Opening the board only reads;
`sweep` runs from `python -m services escalate` (cron) and from the app server's timer (issue 9 §8).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from itertools import groupby
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    any_,
    bindparam,
    func,
    literal,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import aliased

from db.models import Case, CaseDeadline, CaseEvent, Department, Escalation, User
from services.casework.case_view import EscalationView, case_escalations
from services.casework.cases import rule_reason
from services.casework.deadlines import at_risk_cases, overdue_sql, warning_windows
from services.casework.queue import SlaBadge, open_case, plain_rows, row_badges, stored_nearest
from services.errors import Conflict, NotPermitted
from services.institution.access import Actor, answers, case_scope, load_actor, require_role
from services.rules.calendar import format_deadline
from services.rules.policy import ANSWERING_ROLES, Policy
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork

MAJOR_GRADES = ("major", "L1")  # seed 000 art. 4, 001 art. 13, 002 art. 18(2), 003 §3, 004 art. 9
DEFAULT_BOARD_LIMIT = 500
_BATCH = 1000  # escalations inserted per statement
SWEEP_LOCK = 0x9E5CA1A7E  # advisory lock key: one sweep at a time across app servers and cron


@dataclass(frozen=True)
class BoardRow:
    case_no: str
    pack: str
    state: str
    grade: str
    handling_level: str | None
    department_code: str
    department_name: str
    responsible_person: str  # the handler once forwarded, before that the first responder
    deadline: SlaBadge | None  # the nearest open deadline; when overdue, the longest overdue one
    reasons: tuple[str, ...]  # overdue | at_risk | major | escalated | closed_unacknowledged
    escalations: list[EscalationView]
    to_answer: tuple[int, ...]  # unacknowledged escalations this user answers (issue 8 §1)
    source: str = "own"  # a regulator's transfer is marked in every list (issue 11 §3)
    major_cause: str | None = None  # a major complaint by order 3 art. 29 (issue 11 §5)


@dataclass(frozen=True)
class BoardGroup:
    handling_level: str | None
    department_code: str
    department_name: str
    rows: list[BoardRow]


def awaiting_acknowledgement() -> ColumnElement[bool]:
    """The cases with an escalation nobody has acknowledged, whatever their state: they stay on the board until
    acknowledged, even archived (issue 10 §3). The board and the home tile both count this one set: as IN, the few
    waiting escalations are read once from their index, not looked up for each of the user's cases (issue 13 §1)."""
    return Case.id.in_(select(Escalation.case_id).where(Escalation.acknowledged_at.is_(None)))


# made once, as the queue's (issue 13 §4): a fresh alias adapts each column it is asked for anew
_ASSIGNEE, _RESPONDER = aliased(User, name="assignee"), aliased(User, name="responder")


def board(uow: UnitOfWork, actor_id: int, now: datetime | None = None,
          limit: int = DEFAULT_BOARD_LIMIT) -> list[BoardRow]:
    """Cases in the user's scope that are open and overdue, at risk or major/L1, or (open or closed) have an
    unacknowledged escalation, ordered by handling level, department, then the most urgent deadline."""
    session = uow.session
    actor = load_actor(session, actor_id)
    require_role(actor, "view_case")
    now = uow.at(now)
    # the cases at risk read once: the candidates and the flag below share them (issue 13 §4)
    at_risk_ids = at_risk_cases(now, warning_windows(uow)).cte("at_risk")
    at_risk = Case.id.in_(select(at_risk_ids.c.case_id))
    escalated = awaiting_acknowledgement()
    overdue = overdue_sql(now)
    major = Case.grade.in_(MAJOR_GRADES)
    major_complaint = Case.major_cause.is_not(None)  # order 3 art. 29: on the board while open (issue 11 §5)
    closed = Case.state.not_in(OPEN_STATES)
    # the page of cases by the stored nearest deadline (issue 13 §1); people and deadlines for those rows only.
    # The conditions below are checked on the candidates alone, never on every open or received case; as an array,
    # their rows are read in id order by one index scan.
    candidates = func.array(_candidates(now, select(at_risk_ids.c.case_id)).scalar_subquery())
    page = (select(Case.id, Case.case_no, Case.pack, Case.state, Case.grade, Case.handling_level,
                   Department.code.label("department_code"), Department.name.label("department_name"),
                   Case.assignee_id, Case.first_responder_id, Case.next_due_at, Case.next_milestone,
                   overdue.label("overdue"), at_risk.label("at_risk"), major.label("major"),
                   escalated.label("escalated"), closed.label("closed"), major_complaint.label("major_complaint"),
                   Case.source, Case.major_cause)
            .join(Department, Department.id == Case.responsible_department_id)
            .where(Case.id == any_(candidates), case_scope(actor),
                   or_(and_(open_case(), or_(overdue, at_risk, major, major_complaint)), escalated))
            .order_by(Case.handling_level.asc().nulls_last(), Department.name, Case.next_due_at.asc().nulls_last(),
                      Case.id)
            .limit(limit)).subquery("page")
    assignee, responder = _ASSIGNEE, _RESPONDER
    # through the connection: the ORM's row loading, for columns alone, cost ~1 ms more per 500 rows (issue 13 §1)
    rows = plain_rows(session.connection().execute(
        select(page, assignee.display_name.label("assignee"), responder.display_name.label("responder"),
               CaseDeadline.milestone, CaseDeadline.due_at, CaseDeadline.starts_at, CaseDeadline.period,
               CaseDeadline.status)
        .join(responder, responder.id == page.c.first_responder_id)
        .outerjoin(assignee, assignee.id == page.c.assignee_id)
        .outerjoin(CaseDeadline, stored_nearest(page))
        .order_by(page.c.handling_level.asc().nulls_last(), page.c.department_name,
                  page.c.next_due_at.asc().nulls_last(), page.c.id)))
    badges = row_badges(uow, rows, now)
    escalations = case_escalations(session, [r.id for r in rows])
    answers_to = cache(lambda pack, to_role: answerable(actor, uow.policy(pack), to_role))  # a few pairs, ~1000 asks
    return [BoardRow(
        r.case_no, r.pack, r.state, r.grade, r.handling_level, r.department_code, r.department_name,
        r.assignee or r.responder, badge,
        ("escalated", "closed_unacknowledged") if r.closed
        else tuple(reason for reason in ("major_complaint", "overdue", "at_risk", "major", "escalated")
                   if getattr(r, reason)),
        escalations.get(r.id, []),
        tuple(e.id for e in escalations.get(r.id, []) if e.acknowledged_at is None
              and answers_to(r.pack, e.to_role)), r.source, r.major_cause)
        for r, badge in zip(rows, badges, strict=True)]


def _candidates(now: datetime, at_risk: Select[tuple[int]]) -> CompoundSelect[tuple[int]]:
    """Every case the board can show, and a few more, each part read from an index (issue 13 §1): open and overdue
    (the stored nearest deadline), `at_risk` (any state: the board checks), open and major, or an escalation
    awaiting acknowledgement."""
    return union(
        select(Case.id).where(overdue_sql(now), open_case()),
        at_risk,
        select(Case.id).where(open_case(), or_(_literal_in(Case.grade, MAJOR_GRADES), Case.major_cause.is_not(None))),
        select(Escalation.case_id).where(Escalation.acknowledged_at.is_(None)))


def _literal_in(column: Any, values: Iterable[str]) -> ColumnElement[bool]:
    """`column IN (…)` with the values written into the statement, so a partial index whose predicate names them
    serves it however the statement is prepared (db.models.OPEN_MAJOR_CASE)."""
    written: ColumnElement[bool] = column.in_([literal(value, literal_execute=True) for value in values])
    return written


def addressee(policy: Policy, to_role: str) -> str:
    """The system role that answers an escalation to `to_role` (pack data `answered_by`, issue 8 §1);
    an unknown role is answered only by the top rank."""
    if to_role in ANSWERING_ROLES:
        return to_role
    role = policy.roles.get(to_role)
    return role.answered_by if role and role.answered_by else ANSWERING_ROLES[-1]


def answerable(actor: Actor, policy: Policy, to_role: str) -> bool:
    """Whether this user takes up an escalation to `to_role`: its addressee's rank or above, and among the pack
    roles of one rank, their title's or below (issue 8 §1, issue 10 §2)."""
    return answers(actor, addressee(policy, to_role), policy.roles.get(to_role), policy.roles)


def grouped(rows: Iterable[BoardRow]) -> list[BoardGroup]:
    """The board's rows grouped by handling level and department, in the board's order."""
    return [BoardGroup(level, code, name, list(members)) for (level, code, name), members in groupby(
        rows, key=lambda r: (r.handling_level, r.department_code, r.department_name))]


# --- automatic escalations ------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class _Due:
    """An automatic escalation a case is owed (sorted, so concurrent runs lock in the same order)."""

    case_id: int
    rule_key: str
    to_role: str
    state: str
    reason: str


def _overdue_escalations(uow: UnitOfWork, now: datetime) -> list[_Due]:
    """The open cases' overdue deadlines not yet marked escalated, their ids from their partial index (db.models):
    each is escalated once and for good, so a run that finds nothing new reads next to nothing (issue 13 §2). As an
    array the planner takes the ids for a few; joined, it guessed thousands from the history's due dates and started
    parallel workers (~5 ms) to read none."""
    due = aliased(CaseDeadline)
    unescalated = select(due.id).where(due.status == "open", ~due.overdue_escalated, due.due_at <= now)
    rows = uow.session.execute(
        select(Case.id, Case.state, Case.pack, CaseDeadline.milestone, CaseDeadline.due_at, Department.name)
        .join(Case, Case.id == CaseDeadline.case_id)
        .join(Department, Department.id == Case.responsible_department_id)
        .where(CaseDeadline.id == any_(func.array(unescalated.scalar_subquery())), open_case()))
    return [_Due(r.id, f"overdue:{r.milestone}", "dept_head", r.state,
                 f"“{uow.policy(r.pack).label('milestone', r.milestone)}”期限 {format_deadline(r.due_at)} "
                 f"已过仍未完成，上报{r.name}负责人") for r in rows]


# Marks what a run recorded, and what another run or an earlier version did (a conflict inserted nothing here).
_MARK_ESCALATED = text(
    "UPDATE case_deadlines d SET overdue_escalated = true "
    "WHERE d.status = 'open' AND NOT d.overdue_escalated AND d.due_at <= :now AND EXISTS (SELECT 1 FROM escalations e "
    "WHERE e.case_id = d.case_id AND e.rule_key = 'overdue:' || d.milestone)")


# The open cases the pack's rules escalate, their ids from their partial index (db.models) and then their rows: the
# planner cannot estimate the condition and read every open case instead. Per role, one probe of the case's recorded
# key, LIMIT 1 in a lateral join: as NOT EXISTS the planner hashed every escalation ever recorded (issue 13 §2).
_RULE_ESCALATIONS = text(
    "SELECT c.id, c.state, c.pack, c.grade, r.role FROM cases c "
    "CROSS JOIN LATERAL jsonb_array_elements_text(c.assessment -> 'escalate_to') AS r(role) "
    "LEFT JOIN LATERAL (SELECT 1 AS found FROM escalations e WHERE e.case_id = c.id AND e.rule_key = 'rule:' || r.role "
    "LIMIT 1) recorded ON true "
    "WHERE c.id = ANY (ARRAY(SELECT id FROM cases WHERE state IN :open "
    "AND (assessment -> 'escalate_to') <> '[]'::jsonb)) AND recorded.found IS NULL"
).bindparams(bindparam("open", expanding=True, literal_execute=True, type_=String()))


def _rule_escalations(uow: UnitOfWork) -> list[_Due]:
    """The pack's escalation rules as assessed (major/L1 → executives, and the pack's own)."""
    out = []
    for r in uow.session.execute(_RULE_ESCALATIONS, {"open": list(OPEN_STATES)}):
        out.append(_Due(r.id, f"rule:{r.role}", r.role, r.state, rule_reason(uow.policy(r.pack), r.grade, r.role)))
    return out


def run_automatic_escalations(uow: UnitOfWork, now: datetime | None = None) -> int:
    """Record every automatic escalation not yet recorded, each exactly once; returns how many were new."""
    now = uow.at(now)
    owed = sorted(set(_overdue_escalations(uow, now) + _rule_escalations(uow)))
    created = 0
    for start in range(0, len(owed), _BATCH):
        batch = {(due.case_id, due.rule_key): due for due in owed[start:start + _BATCH]}
        # Rows go in (case_id, rule_key) order, so concurrent runs queue behind each other instead of
        # deadlocking; a key another run inserted first is skipped once that run commits, and gets no event here.
        inserted = uow.session.execute(
            insert(Escalation).values([{"case_id": due.case_id, "to_role": due.to_role, "rule_key": due.rule_key,
                                        "reason": due.reason, "created_by_id": None, "created_at": now}
                                       for due in batch.values()])
            .on_conflict_do_nothing(index_elements=["case_id", "rule_key"])
            .returning(Escalation.id, Escalation.case_id, Escalation.rule_key)).all()
        if inserted:
            uow.session.execute(insert(CaseEvent), [
                {"case_id": due.case_id, "at": now, "actor_id": None, "event_type": "escalation",
                 "from_state": due.state, "to_state": due.state, "note": due.reason,
                 "data": {"to_role": due.to_role, "rule": due.rule_key, "escalation_id": row.id}}
                for row in inserted for due in [batch[(row.case_id, row.rule_key)]]])
        created += len(inserted)
    uow.session.execute(_MARK_ESCALATED, {"now": now})
    uow.flush()
    return created


def sweep(uow: UnitOfWork, now: datetime | None = None) -> int | None:
    """The automatic escalations now due, unless another sweep holds the lock (then None: it does the work)."""
    if not uow.session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK}):
        return None
    return run_automatic_escalations(uow, now)


def acknowledge(uow: UnitOfWork, actor_id: int, escalation_id: int, at: datetime | None = None) -> EscalationView:
    """The escalated-to person (or one above) confirms they have taken it up; recorded on the timeline."""
    return acknowledge_many(uow, actor_id, [escalation_id], at)[0]


def acknowledge_many(uow: UnitOfWork, actor_id: int, escalation_ids: Iterable[int],
                     at: datetime | None = None) -> list[EscalationView]:
    """The board's "acknowledge selected" (issue 10 §1): each escalation checked exactly as one alone, in id
    order (so two heads' batches lock alike); any refusal raises and the caller's transaction records none."""
    session = uow.session
    actor = load_actor(session, actor_id)
    require_role(actor, "acknowledge")
    at = uow.at(at)
    done: list[tuple[int, int]] = []
    for escalation_id in sorted(set(escalation_ids)):
        escalation = session.scalar(select(Escalation).where(Escalation.id == escalation_id).with_for_update())
        case_row = (session.scalar(select(Case).where(Case.id == escalation.case_id, case_scope(actor)))
                    if escalation else None)
        if escalation is None or case_row is None:  # out of scope reads like missing (issue 8 §1)
            raise NotPermitted("error.escalation.not_in_scope", field="escalation_id")
        policy = uow.policy(case_row.pack)
        if not answerable(actor, policy, escalation.to_role):
            role = policy.label("role", escalation.to_role)
            raise NotPermitted("error.escalation.not_addressed_to_you", field="escalation_id", role=role)
        if escalation.acknowledged_at is not None:
            raise Conflict("error.escalation.already_acknowledged")
        escalation.acknowledged_by_id, escalation.acknowledged_at = actor.id, at
        session.add(CaseEvent(case_id=case_row.id, at=at, actor_id=actor.id, event_type="escalation_ack",
                              from_state=case_row.state, to_state=case_row.state, note=escalation.reason,
                              data={"escalation_id": escalation.id, "to_role": escalation.to_role,
                                    "rule": escalation.rule_key}))
        done.append((case_row.id, escalation.id))
    uow.flush()
    views = case_escalations(session, sorted({case_id for case_id, _ in done}))
    return [next(e for e in views[case_id] if e.id == escalation_id) for case_id, escalation_id in done]
