"""Who may do what: roles per action and the scope of cases a user may see.

Pages only mirror these rules; the service layer enforces them on every call, re-reading
the user's roles and active flag from the database each time (issue 3: a changed role
takes effect on the next click, whatever the session or cookie says).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Row, bindparam, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from db.models import Case, User
from services.errors import NotFound, NotPermitted
from services.rules.policy import ANSWERING_ROLES, Term
from services.rules.transitions import actions_in

# Roles that may perform each action (RULES.md §2; DESIGN.md roles).
ACTION_ROLES: dict[str, frozenset[str]] = {
    "intake": frozenset({"intake", "handler", "dept_head"}),
    "forward": frozenset({"intake", "dept_head"}),
    "reassign": frozenset({"dept_head"}),  # the head of the case's department only (issue 10 §5)
    "first_contact": frozenset({"handler", "dept_head"}),
    "resolve": frozenset({"handler", "dept_head"}),
    "invalid": frozenset({"intake", "handler", "dept_head"}),
    "feedback": frozenset({"intake", "handler", "dept_head"}),
    "return_visit": frozenset({"intake", "handler", "dept_head", "supervisor"}),
    "archive": frozenset({"intake", "dept_head"}),
    "withdraw": frozenset({"intake", "handler", "dept_head"}),
    "re_complaint": frozenset({"intake", "handler", "dept_head"}),
    "report_hq": frozenset({"handler", "dept_head"}),
    "extend": frozenset({"handler", "dept_head"}),
    "escalate": frozenset({"intake", "handler", "dept_head", "supervisor", "executive"}),
    # Escalations are answered by their addressee's rank or above (issue 8 §1, services.rules.policy.ANSWERING_ROLES).
    "acknowledge": frozenset({"dept_head", "executive"}),
    "view_case": frozenset({"intake", "handler", "dept_head", "supervisor", "executive", "admin"}),
    "reveal_pii": frozenset({"intake", "handler", "dept_head", "supervisor"}),
    "edit_calendar": frozenset({"admin"}),
    "administer": frozenset({"admin"}),
    "view_audit": frozenset({"admin", "supervisor"}),  # issue 8 §7
    "supervise": frozenset({"supervisor", "admin"}),  # plan and draw samples, close any rectification (RULES.md §6)
    "review": frozenset({"supervisor"}),  # review a sampled case assigned to one (RULES.md §6)
    "train_others": frozenset({"admin", "supervisor"}),  # reset the training database (issue 5 §4)
    "view_department": frozenset({"dept_head"}),  # the department's queue, counts and KPIs (issue 3 §6, 5 §2)
    # Handling duties (RULES.md §7.2): the desk records a review request and whom the complaint is about
    "request_review": frozenset({"intake", "handler", "dept_head"}),
    "name_complained_employee": frozenset({"intake", "handler", "dept_head"}),
    # The regulator's clock (RULES.md §7.1): the department handling the case pauses, restarts and extends it; a
    # further extension needs a senior manager of the superior institution or head office: an executive.
    "pause_clock": frozenset({"handler", "dept_head"}),
    "resume_clock": frozenset({"handler", "dept_head"}),
    "restart_clock": frozenset({"handler", "dept_head"}),
    "merge_repeat": frozenset({"intake", "handler", "dept_head"}),
    "request_extension": frozenset({"handler", "dept_head"}),
    "approve_extension": frozenset({"executive"}),
    # JR/T 0169 codes (RULES.md §7.4): whoever handles or files the case; statistics are read by supervision
    "classify": frozenset({"intake", "handler", "dept_head"}),
    "view_statistics": frozenset({"supervisor", "executive", "admin"}),
    # Supervision as an audit (RULES.md §8, issue 12 §4–6): a supervisor runs calibration sessions among the
    # reviewers; the reviewed department's head disputes a finding; a supervisor other than its reviewer decides.
    "calibrate": frozenset({"supervisor"}),
    "dispute": frozenset({"dept_head"}),
    "decide_dispute": frozenset({"supervisor"}),
    "view_reviewer_quality": frozenset({"supervisor"}),
    # issue 11 §3: whoever handles or records the case records that the reply went back to the regulator
    "regulator_reply": frozenset({"intake", "handler", "dept_head"}),
    # issue 11 §5 (order 3 art. 29): anyone who may escalate a case may find it major later
    "declare_major": frozenset({"intake", "handler", "dept_head", "supervisor", "executive"}),
}
ACTION_ROLES["extend_statutory"] = ACTION_ROLES["extend"]
# Import replays the intake of each row: a clerk imports their own, an admin any (issue 5 §5).
ACTION_ROLES["import_cases"] = ACTION_ROLES["intake"] | ACTION_ROLES["administer"]
# Disputes are read by those who file them (their department's) and those who decide them (all).
ACTION_ROLES["view_disputes"] = ACTION_ROLES["dispute"] | ACTION_ROLES["decide_dispute"]
SEES_ALL = frozenset({"supervisor", "executive", "admin"})
STAFF = frozenset({"intake", "handler", "dept_head", "supervisor", "executive", "admin"})
DEPARTMENT_STAFF = frozenset({"handler", "dept_head"})  # see their department's work; may be given a case
PRACTICE_ROLES = frozenset({"intake", "handler", "dept_head"})  # a training mirror practises every case action

# Pages each role may open, in menu order; the navigation mirrors this, services enforce it.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "home": STAFF | {"trainee"},
    "intake": ACTION_ROLES["intake"],
    "queue": frozenset({"intake", "handler", "dept_head"}),
    "case": ACTION_ROLES["view_case"],
    "escalation": frozenset({"dept_head", "supervisor", "executive"}),
    "print": ACTION_ROLES["view_case"],
    "letter": ACTION_ROLES["view_case"],  # the decision letter (RULES.md §7.2 art. 19)
    "reply": ACTION_ROLES["view_case"],  # a transferred case's reply package (issue 11 §3)
    "sampling": frozenset({"supervisor"}),
    "disputes": ACTION_ROLES["view_disputes"],
    "kpi": frozenset({"dept_head", "supervisor", "executive", "admin"}),
    "training": frozenset({"trainee", "admin", "supervisor"}),
    "admin": frozenset({"admin"}),
    "audit": ACTION_ROLES["view_audit"],
}


@dataclass(frozen=True)
class Actor:
    id: int
    username: str
    display_name: str
    roles: frozenset[str]
    department_id: int | None
    title: str | None = None  # an executive's pack role (users.pack_role), ranking what they answer (issue 10 §2)


def load_actor(session: Session, user_id: int) -> Actor:
    """The active user `user_id` as an actor; its columns alone, by a statement built once: the ORM's loading of the
    whole user was ~1 ms of a queue view (issue 13 §4)."""
    user = session.execute(_ACTOR, {"user_id": user_id}).one_or_none()
    if user is None:
        raise NotPermitted("error.access.account_unusable")
    return actor_of(user)


_ACTOR = select(User.id, User.username, User.display_name, User.roles, User.department_id, User.pack_role).where(
    User.id == bindparam("user_id"), User.active)


def actor_of(user: User | Row[Any]) -> Actor:
    return Actor(user.id, user.username, user.display_name, frozenset(user.roles), user.department_id, user.pack_role)


def may(actor: Actor, action: str) -> bool:
    return bool(actor.roles & ACTION_ROLES[action])


def require_role(actor: Actor, action: str) -> None:
    if not may(actor, action):
        raise NotPermitted("error.access.role_not_allowed", action=action)


def pages_for(roles: frozenset[str]) -> list[str]:
    return [page for page, allowed in PAGE_ROLES.items() if roles & allowed]


def may_open(actor: Actor, page: str) -> bool:
    return bool(actor.roles & PAGE_ROLES[page])


def headed_department(actor: Actor) -> int | None:
    """The department this user heads (a dept_head sees and answers for it), else None."""
    return actor.department_id if may(actor, "view_department") else None


def require_page(actor: Actor, page: str) -> None:
    if not may_open(actor, page):
        raise NotPermitted("error.access.page_not_allowed", field="page")


def scope(actor: Actor, people: Iterable[InstrumentedAttribute[int] | InstrumentedAttribute[int | None]],
          department: InstrumentedAttribute[int] | InstrumentedAttribute[int | None]) -> ColumnElement[bool]:
    """SQL filter of the rows this user may see (issue 3 §3): all for supervision, else those naming them
    in one of `people`, and for department staff those of their `department`."""
    if actor.roles & SEES_ALL:
        return true()
    mine = or_(*(column == actor.id for column in people))
    if actor.department_id is not None and actor.roles & DEPARTMENT_STAFF:
        return or_(mine, department == actor.department_id)
    return mine


def case_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL filter of the cases this user may see (issue 3 §3)."""
    return scope(actor, (Case.first_responder_id, Case.assignee_id), Case.responsible_department_id)


def case_refusal() -> NotPermitted:
    """The one answer a limited user gets for a case outside their scope or one that does not exist:
    it says nothing about the case, not even whether it exists (issue 8 §1)."""
    return NotPermitted("error.case.not_in_scope", field="case_no")


def case_for(session: Session, actor: Actor, case_no: str, action: str, *, lock: bool = False) -> Case:
    """The case `action` may touch: the role is checked first, then scope, and a case out of scope reads
    exactly like a missing one. `lock` takes the row lock every change of the case starts with."""
    require_role(actor, action)
    query = select(Case).where(Case.case_no == case_no, case_scope(actor))
    case = session.scalar(query.with_for_update() if lock else query)
    if case is not None:
        return case
    if actor.roles & SEES_ALL:  # sees every case: a missing one simply does not exist
        raise NotFound("error.case.not_found", field="case_no", case_no=case_no)
    raise case_refusal()


def answers(actor: Actor, addressed: str, role: Term | None = None, titles: Mapping[str, Term] | None = None) -> bool:
    """Whether the user answers an escalation addressed to the system role `addressed` (issue 8 §1):
    the addressee's role or one above it (services.rules.policy.ANSWERING_ROLES, lowest first). Among the pack
    `role`s one system role answers, the pack's `rank` decides (issue 10 §2): a holder of that system role
    answers those ranked at or below their own title (a pack role from `titles`; none or unknown: rank 0), so
    an executive who is not the president does not take up the president's escalations."""
    rank = ANSWERING_ROLES.index(addressed)
    if actor.roles & set(ANSWERING_ROLES[rank + 1:]):
        return True
    if addressed not in actor.roles:
        return False
    own = (titles or {}).get(actor.title or "")
    return role is None or (own.rank if own and own.answered_by == addressed else 0) >= role.rank


def allowed_actions(state: str, roles: Iterable[str]) -> list[str]:
    """The actions both the state and one of the roles allow (scope is checked by the caller)."""
    held = frozenset(roles)
    return [action for action in actions_in(state) if held & ACTION_ROLES[action]]
