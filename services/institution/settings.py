"""The institution's settings: its one active policy pack (RULES.md §4)."""

from __future__ import annotations

import functools
import json
from typing import Any

from sqlalchemy.orm import Session

from db.engine import UnitOfWork
from db.models import Setting
from services.errors import InvalidInput
from services.institution import audit
from services.institution.access import load_actor, require_role
from services.institution.directory import ensure_department
from services.rules.packs import load_policy, policy_from_data
from services.rules.policy import PACK_CODES, Policy

ACTIVE_PACK = "active_pack"
PACK_EDITS = "pack_edits"  # {pack code: the admin's edited copy of the pack data}


def active_pack_code(session: Session) -> str | None:
    setting = session.get(Setting, ACTIVE_PACK)
    return setting.value if setting else None


def active_policy(session: Session) -> Policy:
    code = active_pack_code(session)
    if code is None:
        raise InvalidInput("error.settings.no_active_pack", field="pack")
    return policy_for(session, code)


def policy_for(session: Session, code: str) -> Policy:
    """The pack as this institution runs it: the shipped file, or the admin's edited copy (RULES.md §4)."""
    edited = edited_pack_data(session, code)
    return _edited_policy(code, json.dumps(edited, sort_keys=True)) if edited else load_policy(code)


def edited_pack_data(session: Session, code: str) -> dict[str, Any] | None:
    """The admin's edited copy of a pack, read once per unit of work (the demo load calls this per case)."""
    if PACK_EDITS not in session.info:
        setting = session.get(Setting, PACK_EDITS)
        session.info[PACK_EDITS] = dict(setting.value or {}) if setting else {}
    edits: dict[str, dict[str, Any]] = session.info[PACK_EDITS]  # pack code → its edited data
    return edits.get(code)


@functools.lru_cache(maxsize=32)
def _edited_policy(code: str, data: str) -> Policy:
    return policy_from_data(json.loads(data), origin=f"{code}.toml (edited)")


def activate_pack(uow: UnitOfWork, code: str, actor_id: int | None = None) -> Policy:
    """Make `code` the active pack and create its departments (actor None: first-run set-up)."""
    if actor_id is not None:
        require_role(load_actor(uow.session, actor_id), "administer")
    if code not in PACK_CODES:
        raise InvalidInput("error.pack.unknown", field="pack", pack=code)
    policy = load_policy(code)
    for department in policy.departments.values():
        ensure_department(uow, department.code, department.zh)
    setting = uow.session.get(Setting, ACTIVE_PACK) or Setting(key=ACTIVE_PACK)
    setting.value, setting.updated_by_id = code, actor_id
    uow.session.add(setting)
    audit.record(uow.session, actor_id, "pack_activated", pack=code)
    uow.flush()
    return policy
