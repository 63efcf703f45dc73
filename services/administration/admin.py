"""系统管理: users, departments, the active pack's editable values and the working calendar.

Every call is an admin's; every change leaves an audit event with who and when.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from db.models import ROLES, Case, Department, Setting, User
from services.casework.deadlines import store_next_due
from services.errors import InvalidInput, Listing, NotFound, Phrase
from services.institution import audit, identity, sessions
from services.institution.access import Actor, load_actor, require_role
from services.institution.auth import clear_throttle
from services.institution.directory import create_user, department_by_code, ensure_department, hash_password
from services.rules.calendar import SHANGHAI
from services.rules.packs import policy_from_data
from services.unit_of_work import PACK_EDITS, UnitOfWork

# Pack values an institution may tune (issue 3 §5): thresholds, deadlines, escalation roles, and what it
# calls its categories (issue 9).
EDITABLE = re.compile(r"^(warning_window|extension\.max_count|milestones\.\d+\.period|categories\.\w+\.(zh|en)"
                      r"|(grades|handling_levels)\.\d+\.when(\.any\.\d+)?\.(claim_over|claim_at_most)"
                      r"|escalations\.\d+\.(escalate_to|notify)"
                      r"|statutory\.(enabled|roll_forward))$")  # the regulator's clock, per institution (RULES.md §7.1)
CALENDAR_HORIZON = timedelta(days=60)
LOCKED_FOREVER = datetime(9999, 12, 31, tzinfo=SHANGHAI)  # an admin's lock lasts until an admin unlocks


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    roles: list[str]
    department: str | None
    active: bool
    locked: bool
    sso_login: str | None = None  # 统一身份账号: the identity provider's e-mail that signs this user in
    title: str | None = None  # the pack role an executive holds (issue 10 §2)


def _admin(uow: UnitOfWork, actor_id: int) -> Actor:
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "administer")
    return actor


def _audit(uow: UnitOfWork, actor: Actor, action: str, **detail: Any) -> None:
    audit.record(uow.session, actor.id, action, **detail)


def _user(uow: UnitOfWork, user_id: int) -> User:
    user = uow.session.get(User, user_id)
    if user is None:
        raise NotFound("error.user.not_found", field="user")
    return user


def list_users(uow: UnitOfWork, actor_id: int) -> list[UserRow]:
    _admin(uow, actor_id)
    rows = uow.session.execute(select(User, Department.code).outerjoin(Department).order_by(User.username))
    now = uow.now()
    return [UserRow(u.id, u.username, u.display_name, list(u.roles), code, u.active,
                    u.locked_until is not None and u.locked_until > now, u.sso_login, u.pack_role) for u, code in rows]


def add_user(uow: UnitOfWork, actor_id: int, *, username: str, display_name: str, password: str,
             roles: list[str], department: str | None) -> int:
    actor = _admin(uow, actor_id)
    user = create_user(uow, username, display_name, password, roles, department or None)
    _audit(uow, actor, "user_created", username=username, roles=roles, department=department)
    uow.flush()
    return user.id


def _keep_an_admin(uow: UnitOfWork, user: User) -> None:
    """Refuse to take the last active, unlocked administrator away (issue 8 §4).

    The active admins' rows are locked first, so two admins demoting each other at the same moment run one
    after the other, and the second sees the first's change.
    """
    now = uow.now()
    admins = uow.session.scalars(select(User).where(User.active.is_(True), User.roles.contains(["admin"]))
                                 .order_by(User.id).with_for_update().execution_options(populate_existing=True))
    if not any(a.id != user.id and not (a.locked_until and a.locked_until > now) for a in admins):
        raise InvalidInput("error.user.last_admin", field="roles")


def update_user(uow: UnitOfWork, actor_id: int, user_id: int, *, roles: list[str] | None = None,
                department: str | None = None, active: bool | None = None, sso_login: str | None = None,
                title: str | None = None) -> None:
    """Change roles, department, the active flag, the 统一身份账号 or the title (a pack role, issue 10 §2; "" for
    none); the user's sessions end, so it applies at once (a title applies on the next call anyway)."""
    actor = _admin(uow, actor_id)
    user = _user(uow, user_id)
    if user.id == actor.id and (active is False or (roles is not None and "admin" not in roles)):
        raise InvalidInput("error.user.demote_self", field="roles")
    if roles is not None:
        unknown = sorted(set(roles) - set(ROLES))
        if not roles or unknown:
            raise InvalidInput("error.user.bad_roles", field="roles",
                               roles=Listing(unknown) if unknown else Phrase("error.user.no_role_chosen"))
    if title and title not in uow.policy().roles:
        raise InvalidInput("error.user.unknown_title", field="title", title=title)
    login = identity.sso_login(sso_login) if sso_login is not None else user.sso_login
    if login is not None and uow.session.scalar(select(User.id).where(User.sso_login == login, User.id != user.id)):
        raise InvalidInput("error.user.sso_login_taken", field="sso_login")
    if "admin" in user.roles and (active is False or (roles is not None and "admin" not in roles)):
        _keep_an_admin(uow, user)
    before = {"roles": list(user.roles), "department_id": user.department_id, "active": user.active,
              "sso_login": user.sso_login, "title": user.pack_role}
    if roles is not None:
        user.roles = sorted(set(roles))
    if department is not None:
        user.department_id = department_by_code(uow.session, department).id if department else None
    if active is not None:
        user.active = active
    user.sso_login = login
    if title is not None:
        user.pack_role = title or None
    after = {"roles": list(user.roles), "department_id": user.department_id, "active": user.active,
             "sso_login": user.sso_login, "title": user.pack_role}
    # issue 8 §2: whoever loses access, or whose scope moves, signs in again
    if before["active"] and not after["active"]:
        sessions.end_all(uow, user.id, "deactivated")
    elif before["roles"] != after["roles"] or before["department_id"] != after["department_id"]:
        sessions.end_all(uow, user.id, "role_changed")
    elif before["sso_login"] != after["sso_login"]:  # whoever signed in by the old identity signs in again
        sessions.end_all(uow, user.id, "identity_changed")
    _audit(uow, actor, "user_updated", username=user.username, before=before, after=after)
    uow.flush()


def reset_password(uow: UnitOfWork, actor_id: int, user_id: int, password: str) -> None:
    """A new password; every session of the user ends (a stolen cookie dies with the old password)."""
    actor = _admin(uow, actor_id)
    user = _user(uow, user_id)
    user.password_hash = hash_password(password, username=user.username, display_name=user.display_name)
    clear_throttle(uow.session, user.username)
    sessions.end_all(uow, user.id, "password_reset")
    _audit(uow, actor, "password_reset", username=user.username)
    uow.flush()


def lock(uow: UnitOfWork, actor_id: int, user_id: int) -> None:
    """An admin's lock: the user cannot sign in until unlocked, and is signed out now."""
    actor = _admin(uow, actor_id)
    user = _user(uow, user_id)
    if user.id == actor.id:
        raise InvalidInput("error.user.lock_self", field="user")
    if "admin" in user.roles and user.active:
        _keep_an_admin(uow, user)
    user.locked_until = LOCKED_FOREVER
    sessions.end_all(uow, user.id, "locked")
    _audit(uow, actor, "account_locked", username=user.username)
    uow.flush()


def unlock(uow: UnitOfWork, actor_id: int, user_id: int) -> None:
    """Lift an admin's lock and the account's sign-in delay."""
    actor = _admin(uow, actor_id)
    user = _user(uow, user_id)
    user.locked_until = None
    clear_throttle(uow.session, user.username)
    _audit(uow, actor, "account_unlocked", username=user.username)
    uow.flush()


def set_idle_timeout(uow: UnitOfWork, actor_id: int, minutes: int) -> None:
    """How long a session may sit unused before it ends (issue 8 §2), 5–480 minutes."""
    actor = _admin(uow, actor_id)
    if not isinstance(minutes, int) or not sessions.IDLE_MIN <= minutes <= sessions.IDLE_MAX:
        raise InvalidInput("error.settings.idle_timeout_range", field="idle_minutes", low=sessions.IDLE_MIN,
                           high=sessions.IDLE_MAX)
    old = int(sessions.idle_timeout(uow.session).total_seconds() // 60)
    setting = uow.session.get(Setting, sessions.IDLE_SETTING) or Setting(key=sessions.IDLE_SETTING)
    setting.value, setting.updated_by_id = minutes, actor.id
    uow.session.add(setting)
    _audit(uow, actor, "idle_timeout_changed", old=old, new=minutes)
    uow.flush()


def idle_minutes(uow: UnitOfWork, actor_id: int) -> int:
    _admin(uow, actor_id)
    return int(sessions.idle_timeout(uow.session).total_seconds() // 60)


def list_departments(uow: UnitOfWork, actor_id: int) -> list[tuple[str, str, bool]]:
    _admin(uow, actor_id)
    return [(d.code, d.name, d.active) for d in uow.session.scalars(select(Department).order_by(Department.code))]


def save_department(uow: UnitOfWork, actor_id: int, code: str, name: str, active: bool = True) -> None:
    """Create a department or rename / (de)activate it; pack departments keep their codes."""
    actor = _admin(uow, actor_id)
    if not re.fullmatch(r"[a-z][a-z0-9_]{1,63}", code or ""):
        raise InvalidInput("error.department.bad_code", field="code")
    if not name.strip():
        raise InvalidInput("error.department.name_missing", field="name")
    department = ensure_department(uow, code, name.strip())
    department.name, department.active = name.strip(), active
    _audit(uow, actor, "department_saved", code=code, name=name, active=active)
    uow.flush()


def pack_values(uow: UnitOfWork, actor_id: int) -> dict[str, Any]:
    """The editable values of the active pack, path → current value."""
    _admin(uow, actor_id)
    return {path: value for path, value in _walk(uow.policy().to_data()) if EDITABLE.match(path)}


def set_pack_value(uow: UnitOfWork, actor_id: int, path: str, value: Any) -> None:
    """Change one editable value; the edited pack is validated exactly like the pack files."""
    actor = _admin(uow, actor_id)
    if not EDITABLE.match(path):
        raise InvalidInput("error.pack_edit.not_editable", field=path, path=path)
    code = uow.active_pack_code()
    data = copy.deepcopy(uow.policy().to_data())
    old = _set(data, path, value)
    policy_from_data(data, origin=f"{code}.toml (edited)")  # raises PolicyError naming the key
    setting = uow.session.get(Setting, PACK_EDITS) or Setting(key=PACK_EDITS, value={})
    setting.value = {**(setting.value or {}), code: data}
    setting.updated_by_id = actor.id
    uow.session.add(setting)
    uow.configuration_changed()  # this unit of work now runs the edited pack
    _audit(uow, actor, "pack_value_changed", pack=code, path=path, old=old, new=value)
    uow.flush()
    if path == "warning_window":  # the stored at-risk instants of the pack's cases move with it (issue 13 §1)
        store_next_due(uow, (Case.pack == code) & Case.next_due_at.is_not(None))


def _walk(node: Any, prefix: str = "") -> list[tuple[str, Any]]:
    if isinstance(node, dict):
        return [item for key, value in node.items() for item in _walk(value, f"{prefix}{key}.")]
    if isinstance(node, list) and node and isinstance(node[0], dict):
        return [item for i, value in enumerate(node) for item in _walk(value, f"{prefix}{i}.")]
    return [(prefix[:-1], node)]


def _set(data: dict[str, Any], path: str, value: Any) -> Any:
    *parents, last = path.split(".")
    node: Any = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node.get(key)
        if node is None:
            raise InvalidInput("error.pack_edit.no_such_value", field=path, path=path)
    if last not in node:
        raise InvalidInput("error.pack_edit.no_such_value", field=path, path=path)
    old, node[last] = node[last], value
    return old


def calendar_gaps(uow: UnitOfWork, today: date | None = None) -> list[int]:
    """Years within the next 60 days that have no calendar data: the admin banner (issue 3 §5)."""
    today = today or uow.now().date()
    calendar = uow.calendar()
    return [y for y in range(today.year, (today + CALENDAR_HORIZON).year + 1) if not calendar.has_data(y)]
