"""Who may do what: roles per action and the scope of cases a user may see.

Pages only mirror these rules; the service layer enforces them on every call, re-reading
the user's roles and active flag from the database each time (issue 3: a changed role
takes effect on the next click, whatever the session or cookie says).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from db.models import Case, User
from services.errors import NotPermitted

# Roles that may perform each action (RULES.md §2; DESIGN.md roles).
ACTION_ROLES: dict[str, frozenset[str]] = {
    "intake": frozenset({"intake", "handler", "dept_head"}),
    "forward": frozenset({"intake", "dept_head"}),
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
    "view_case": frozenset({"intake", "handler", "dept_head", "supervisor", "executive", "admin"}),
    "reveal_pii": frozenset({"intake", "handler", "dept_head", "supervisor"}),
    "edit_calendar": frozenset({"admin"}),
    "administer": frozenset({"admin"}),
    "view_audit": frozenset({"admin", "supervisor"}),  # issue 8 §7
}
SEES_ALL = frozenset({"supervisor", "executive", "admin"})
STAFF = frozenset({"intake", "handler", "dept_head", "supervisor", "executive", "admin"})

# Pages each role may open, in menu order; the navigation mirrors this, services enforce it.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "home": STAFF | {"trainee"},
    "intake": ACTION_ROLES["intake"],
    "queue": frozenset({"intake", "handler", "dept_head"}),
    "case": ACTION_ROLES["view_case"],
    "escalation": frozenset({"dept_head", "supervisor", "executive"}),
    "print": ACTION_ROLES["view_case"],
    "sampling": frozenset({"supervisor"}),
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


def load_actor(session: Session, user_id: int) -> Actor:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise NotPermitted("该账号不存在或已停用。", "This account does not exist or is disabled.")
    return Actor(user.id, user.username, user.display_name, frozenset(user.roles), user.department_id)


def require_role(actor: Actor, action: str) -> None:
    if not actor.roles & ACTION_ROLES[action]:
        raise NotPermitted(f"您的角色无权执行此操作（{action}）。",
                           f"Your roles do not allow this action ({action}).")


def pages_for(roles: frozenset[str]) -> list[str]:
    return [page for page, allowed in PAGE_ROLES.items() if roles & allowed]


def require_page(actor: Actor, page: str) -> None:
    if not actor.roles & PAGE_ROLES[page]:
        raise NotPermitted("无权访问此页面。", "You are not permitted to open this page.", field="page")


def case_scope(actor: Actor) -> ColumnElement[bool]:
    """SQL filter of the cases this user may see (issue 3 §3)."""
    if actor.roles & SEES_ALL:
        return Case.id.is_not(None)
    mine = or_(Case.first_responder_id == actor.id, Case.assignee_id == actor.id)
    if actor.department_id is not None and actor.roles & {"handler", "dept_head"}:
        return or_(mine, Case.responsible_department_id == actor.department_id)
    return mine


def in_scope(session: Session, actor: Actor, case: Case) -> bool:
    return bool(session.scalar(select(Case.id).where(Case.id == case.id, case_scope(actor))))


def require_case_access(session: Session, actor: Actor, case: Case, action: str) -> None:
    require_role(actor, action)
    if not in_scope(session, actor, case):
        raise NotPermitted("该案件不在您的权限范围内。", "This case is outside your scope.")
