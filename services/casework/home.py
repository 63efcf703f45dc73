"""The home page's "what needs me today": counts per role, each pointing at the page that resolves it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select

from db.models import Case
from services.casework.deadlines import at_risk_sql, overdue_sql
from services.casework.escalation import awaiting_acknowledgement
from services.casework.queue import queue_query
from services.institution.access import Actor, case_scope, headed_department, load_actor, may_open
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class WorkCount:
    key: str  # label key in the UI catalogue: home.<key>
    count: int
    page: str  # where to go to deal with it
    query: dict[str, str]  # the queue filtered to exactly what `count` counts (issue 10 §4)


def _count(uow: UnitOfWork, actor: Actor, *conditions: ColumnElement[bool]) -> int:
    return uow.session.scalar(select(func.count()).select_from(Case).where(case_scope(actor), *conditions)) or 0


def todays_work(uow: UnitOfWork, actor_id: int, now: datetime | None = None) -> list[WorkCount]:
    """Only what needs this user, by role (issue 3 §6); zero counts are left out."""
    now = uow.at(now)
    actor = load_actor(uow.session, actor_id)
    mine = Case.assignee_id == actor.id
    counts: list[WorkCount] = []
    if "handler" in actor.roles:
        counts += [
            WorkCount("assigned_open", _count(uow, actor, mine, Case.state.in_(("forwarded", "in_progress"))),
                      "queue", queue_query("assigned", states=("forwarded", "in_progress"))),
            WorkCount("overdue", _count(uow, actor, mine, overdue_sql(now)), "queue",
                      queue_query("assigned", due="overdue")),
            WorkCount("at_risk", _count(uow, actor, mine, at_risk_sql(uow, now)), "queue",
                      queue_query("assigned", due="at_risk")),
        ]
    if "intake" in actor.roles:
        tracked = Case.first_responder_id == actor.id
        counts += [
            WorkCount("to_forward", _count(uow, actor, tracked, Case.state == "registered"), "queue",
                      queue_query("first_responder", states=("registered",))),
            WorkCount("to_feedback", _count(uow, actor, tracked, Case.state == "resolved"), "queue",
                      queue_query("first_responder", states=("resolved",))),
            WorkCount("to_archive", _count(uow, actor, tracked, Case.state.in_(("feedback_given", "return_visit"))),
                      "queue", queue_query("first_responder", states=("feedback_given", "return_visit"))),
        ]
    if headed_department(actor) is not None:
        department = Case.responsible_department_id == headed_department(actor)
        counts += [
            # the open states by name, not "not closed": the open cases' partial index answers it (issue 13 §4)
            WorkCount("department_open", _count(uow, actor, department, Case.state.in_(OPEN_STATES)),
                      "queue", queue_query("department")),  # the queue's default: the open states
            WorkCount("overdue", _count(uow, actor, department, overdue_sql(now)), "queue",
                      queue_query("department", due="overdue")),
        ]
    if may_open(actor, "escalation"):
        # the board's own set, archived cases included (issue 10 §3)
        counts.append(WorkCount("escalations", _count(uow, actor, awaiting_acknowledgement()), "escalation", {}))
    return [c for c in counts if c.count]
