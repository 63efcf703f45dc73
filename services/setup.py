"""First-run set-up (issue 3 §4): the first admin, the active policy pack and, optionally, the demo
institution — all in one transaction, so a failure anywhere leaves the database as it was.

The demo users share one random password, printed once at set-up and kept in the `demo` setting so
the sign-in page can show it while the demo institution is loaded (issue 3 §4); a real institution
never loads the demo, so that setting never exists there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Setting, User
from db.seed import DemoUser, load_demo
from services import audit
from services.access import load_actor, require_role
from services.calendar import SHANGHAI
from services.directory import create_user
from services.errors import InvalidInput, NotPermitted
from services.policy import PACK_CODES
from services.settings import activate_pack

DEMO = "demo"  # settings key: the demo institution is loaded, its users and shared password
DEMO_CASES = int(os.environ.get("COMPLAINTS_DEMO_CASES", "2000"))  # size of the demo institution
_SETUP_LOCK = 0x5E7_0001  # pg advisory lock: two set-up forms submitted at once run one after the other


@dataclass(frozen=True)
class DemoCredentials:
    users: tuple[DemoUser, ...]
    password: str


@dataclass(frozen=True)
class SetupResult:
    admin_username: str
    pack: str
    demo: DemoCredentials | None
    demo_cases: int
    seconds: float  # time the demo load took (0 without demo)


def needs_setup(session: Session) -> bool:
    """True while there is no active admin: the app opens the set-up page instead of sign-in."""
    admin = session.scalar(select(User.id).where(User.active.is_(True), User.roles.contains(["admin"])).limit(1))
    return admin is None


def first_run_setup(uow: UnitOfWork, *, pack: str, admin_username: str, admin_name: str, admin_password: str,
                    demo: bool, now: datetime | None = None, demo_cases: int | None = None) -> SetupResult:
    """Create the admin, activate the pack (and its departments), and optionally load the demo.

    One transaction: the demo's service calls run inside it (db.seed), and nothing is committed
    unless everything succeeded.
    """
    uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})
    if not needs_setup(uow.session):
        raise NotPermitted("系统已有管理员，初始设置已完成，不能重复进行。",
                           "An administrator already exists: set-up has been done and cannot be repeated.",
                           field="admin")
    if pack not in PACK_CODES:
        raise InvalidInput(f"未知的政策包：{pack}（可选：{'、'.join(PACK_CODES)}）。",
                           f"Unknown policy pack: {pack} (one of: {', '.join(PACK_CODES)}).", field="pack")
    admin = create_user(uow, admin_username, admin_name or admin_username, admin_password, ["admin"])
    activate_pack(uow, pack, actor_id=admin.id)
    audit.record(uow.session, admin.id, "first_run_setup", pack=pack, demo=demo)
    credentials, cases, seconds = None, 0, 0.0
    if demo:
        loaded = load_demo(uow, pack, cases=demo_cases or DEMO_CASES, now=now)
        credentials, cases, seconds = DemoCredentials(loaded.users, loaded.password), loaded.cases, loaded.seconds
        _record_demo(uow, admin.id, pack, loaded.cases, credentials, now)
    uow.commit()
    return SetupResult(admin.username, pack, credentials, cases, seconds)


def _record_demo(uow: UnitOfWork, admin_id: int, pack: str, cases: int, credentials: DemoCredentials,
                 now: datetime | None) -> None:
    # The password is kept in clear on purpose: issue 3 §4 shows it on the sign-in page while the demo
    # is loaded. It only ever opens the demo accounts, never the admin's.
    value: dict[str, Any] = {
        "loaded": True, "pack": pack, "cases": cases, "password": credentials.password,
        "loaded_at": (now or datetime.now(SHANGHAI)).isoformat(),
        "users": [{"username": u.username, "display_name": u.display_name, "roles": list(u.roles),
                   "department": u.department} for u in credentials.users]}
    uow.session.add(Setting(key=DEMO, value=value, updated_by_id=admin_id))
    uow.flush()


def demo_credentials(session: Session) -> DemoCredentials | None:
    """The demo users still active and their shared password, or None when no demo is loaded."""
    setting = session.get(Setting, DEMO)
    if setting is None or not (setting.value or {}).get("loaded"):
        return None
    listed = setting.value.get("users", [])
    active = set(session.scalars(select(User.username).where(
        User.username.in_([u["username"] for u in listed]), User.active.is_(True))))
    users = tuple(DemoUser(u["username"], u["display_name"], tuple(u["roles"]), u["department"])
                  for u in listed if u["username"] in active)
    return DemoCredentials(users, setting.value["password"]) if users else None


def forget_demo(uow: UnitOfWork, actor_id: int) -> None:
    """An admin takes the demo accounts off the sign-in page (the demo's cases and users stay)."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "administer")
    setting = uow.session.get(Setting, DEMO)
    if setting is not None:
        uow.session.delete(setting)
        audit.record(uow.session, actor.id, "demo_forgotten")
    uow.commit()
