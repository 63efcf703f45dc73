"""First-run set-up (issue 3 §4): the first admin and the active policy pack, in the caller's transaction
(the demo institution is loaded on top by `demo.loader.set_up`, in the same one), so a failure anywhere leaves
the database as it was.

Set-up happens once, for good: a `setup_done` setting says so, whatever becomes of the admins later
(issue 8 §4). The demo users share one random password that is returned once, to the admin who loaded
them, and stored nowhere in clear; the `demo` setting only lists the accounts, so "forget demo" can
disable them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from db.models import Setting, User
from services.errors import InvalidInput, Listing, NotPermitted
from services.institution import audit, sessions
from services.institution.access import load_actor, require_role
from services.institution.directory import create_user
from services.institution.settings import activate_pack
from services.rules.policy import PACK_CODES
from services.unit_of_work import UnitOfWork

DEMO = "demo"  # settings key: the demo institution is loaded, and its accounts
SETUP_DONE = "setup_done"  # settings key: set-up was done; never removed
_SETUP_LOCK = 0x5E7_0001  # pg advisory lock: two set-up forms submitted at once run one after the other


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    roles: tuple[str, ...]
    department: str | None


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
    admin_id: int


def needs_setup(session: Session) -> bool:
    """True until first-run set-up has been done (once, permanently: issue 8 §4)."""
    return session.get(Setting, SETUP_DONE) is None


def first_run_setup(uow: UnitOfWork, *, pack: str, admin_username: str, admin_name: str, admin_password: str,
                    demo: bool = False) -> SetupResult:
    """Create the admin and activate the pack (and its departments); `demo`: the caller loads the demo next
    (`demo.loader.set_up`), recorded in the audit. The caller commits (issue 9 §3)."""
    uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SETUP_LOCK})
    if not needs_setup(uow.session):
        raise NotPermitted("error.setup.already_done", field="admin")
    if pack not in PACK_CODES:
        raise InvalidInput("error.pack.unknown_choose", field="pack", pack=pack, choices=Listing(PACK_CODES))
    admin = create_user(uow, admin_username, admin_name or admin_username, admin_password, ["admin"])
    activate_pack(uow, pack, actor_id=admin.id)
    uow.session.add(Setting(key=SETUP_DONE, value=True, updated_by_id=admin.id))
    audit.record(uow.session, admin.id, "first_run_setup", pack=pack, demo=demo)
    uow.flush()
    return SetupResult(admin.username, pack, None, 0, 0.0, admin.id)


def record_demo(uow: UnitOfWork, admin_id: int, pack: str, cases: int, credentials: DemoCredentials,
                now: datetime | None = None) -> None:
    """The demo's accounts, listed so that "forget demo" can disable them (never their password)."""
    value: dict[str, Any] = {
        "loaded": True, "pack": pack, "cases": cases, "loaded_at": uow.at(now).isoformat(),
        "users": [{"username": u.username, "display_name": u.display_name, "roles": list(u.roles),
                   "department": u.department} for u in credentials.users]}
    uow.session.add(Setting(key=DEMO, value=value, updated_by_id=admin_id))
    uow.flush()


def demo_loaded(session: Session) -> bool:
    """The demo institution's accounts are loaded and not yet forgotten (the admin page offers to)."""
    setting = session.get(Setting, DEMO)
    return setting is not None and bool((setting.value or {}).get("loaded"))


def forget_demo(uow: UnitOfWork, actor_id: int) -> int:
    """An admin disables the demo accounts and ends their sessions (the demo's cases stay); returns how
    many accounts were disabled."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "administer")
    setting = uow.session.get(Setting, DEMO)
    if setting is None:
        return 0
    names = [u["username"] for u in (setting.value or {}).get("users", [])]
    users = uow.session.scalars(select(User).where(User.username.in_(names), User.active.is_(True))).all()
    for user in users:
        user.active = False
        sessions.end_all(uow, user.id, "demo_disabled")
    uow.session.delete(setting)
    audit.record(uow.session, actor.id, "demo_forgotten", disabled=sorted(u.username for u in users))
    uow.flush()
    return len(users)
