"""The institution's settings: choosing its one active policy pack (RULES.md §4).

Reading the active pack is the unit of work's (`uow.policy()`, issue 9 §1)."""

from __future__ import annotations

from db.models import Setting
from services.errors import InvalidInput
from services.institution import audit
from services.institution.access import load_actor, require_role
from services.institution.directory import ensure_department
from services.rules.policy import PACK_CODES, Policy
from services.unit_of_work import ACTIVE_PACK, UnitOfWork


def activate_pack(uow: UnitOfWork, code: str, actor_id: int | None = None) -> Policy:
    """Make `code` the active pack and create its departments (actor None: first-run set-up)."""
    if actor_id is not None:
        require_role(load_actor(uow.session, actor_id), "administer")
    if code not in PACK_CODES:
        raise InvalidInput("error.pack.unknown", field="pack", pack=code)
    setting = uow.session.get(Setting, ACTIVE_PACK) or Setting(key=ACTIVE_PACK)
    setting.value, setting.updated_by_id = code, actor_id
    uow.session.add(setting)
    uow.configuration_changed()
    policy = uow.policy(code)
    for department in policy.departments.values():
        ensure_department(uow, department.code, department.zh)
    audit.record(uow.session, actor_id, "pack_activated", pack=code)
    uow.flush()
    return policy
