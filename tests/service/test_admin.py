"""系统管理 through the service layer: every action, its validation, and who may do it."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from db.models import AuditEvent
from services.administration import admin
from services.casework import cases
from services.errors import InvalidInput, NotPermitted, PolicyError
from services.institution import auth
from services.institution.access import load_actor, require_page
from tests.service.conftest import make_institution


@pytest.fixture
def inst(engine):
    return make_institution(engine, "securities")


def test_pages_and_admin_services_refuse_other_roles_even_when_called_directly(inst):
    with inst.uow() as uow:
        with pytest.raises(NotPermitted):
            require_page(load_actor(uow.session, inst.users["clerk"]), "admin")
        with pytest.raises(NotPermitted):
            admin.list_users(uow, inst.users["clerk"])
        with pytest.raises(NotPermitted):
            admin.set_pack_value(uow, inst.users["head"], "milestones.0.period", "9 working_days")


def test_an_admin_creates_a_user_who_can_then_sign_in(inst):
    with inst.uow() as uow:
        admin.add_user(uow, inst.users["admin"], username="wang.fang", display_name="王芳",
                       password="violet-harbour-93", roles=["handler"], department="branch")
    with inst.uow() as uow:
        user = auth.authenticate(uow, "wang.fang", "violet-harbour-93")
    assert user.roles == {"handler"} and user.department_code == "branch"


@pytest.mark.parametrize("changes, field", [
    ({"username": "bad name!"}, "username"), ({"password": "short"}, "password"), ({"roles": []}, "roles"),
    ({"roles": ["king"]}, "roles"), ({"username": "clerk"}, "username"), ({"display_name": " "}, "display_name"),
])
def test_creating_a_user_validates_every_field(inst, changes, field):
    values = {"username": "new.user", "display_name": "新用户", "password": "violet-harbour-93", "roles": ["intake"],
              "department": None} | changes
    with pytest.raises(InvalidInput) as refused, inst.uow() as uow:
        admin.add_user(uow, inst.users["admin"], **values)
    assert refused.value.field == field


def test_disable_role_change_reset_and_unlock_are_recorded_with_who(inst):
    target = inst.users["clerk"]
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], target, roles=["intake", "handler"], active=False)
    with pytest.raises(InvalidInput), inst.uow() as uow:
        auth.authenticate(uow, "clerk", "kite-harbour9")  # disabled: same answer as a wrong password
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], target, active=True)
        admin.reset_password(uow, inst.users["admin"], target, "brand-new-pass")
    with inst.uow() as uow:
        assert auth.authenticate(uow, "clerk", "brand-new-pass").roles == {"intake", "handler"}
        actions = uow.session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == inst.users["admin"]))
        assert {"user_updated", "password_reset"} <= set(actions)


def test_an_admin_cannot_lock_themselves_out(inst):
    with pytest.raises(InvalidInput), inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], inst.users["admin"], active=False)


def test_a_department_is_created_and_renamed(inst):
    with inst.uow() as uow:
        admin.save_department(uow, inst.users["admin"], "audit", "稽核部")
        admin.save_department(uow, inst.users["admin"], "audit", "稽核与内控部")
    with inst.uow() as uow:
        assert ("audit", "稽核与内控部", True) in admin.list_departments(uow, inst.users["admin"])
    with pytest.raises(InvalidInput), inst.uow() as uow:
        admin.save_department(uow, inst.users["admin"], "Audit Dept", "x")


def test_an_edited_deadline_applies_to_new_cases(inst):
    with inst.uow() as uow:
        values = admin.pack_values(uow, inst.users["admin"])
    path = next(p for p, v in values.items() if p.endswith(".period") and v == "2 working_days")  # general grade
    with inst.uow() as uow:
        admin.set_pack_value(uow, inst.users["admin"], path, "3 working_days")
    with inst.uow() as uow:
        policy = uow.policy()
        assert any(str(m.period) == "3 working_days" for m in policy.milestones)
        change = uow.session.scalar(select(AuditEvent).where(AuditEvent.action == "pack_value_changed"))
        assert change.detail == {"pack": "securities", "path": path, "old": "2 working_days", "new": "3 working_days"}
    ref = inst.intake()  # Mon 2026-11-02 → 3 working days → Thu 2026-11-05 24:00
    with inst.uow() as uow:
        case = cases.case_by_number(uow, ref.case_no)
        assert case.assessment["deadlines"]["resolve"] == "2026-11-06T00:00:00+08:00"


@pytest.mark.parametrize("value", ["3 wd", "0 working_days", "fortnight"])
def test_a_bad_duration_is_refused_naming_the_key_and_nothing_changes(inst, value):
    with inst.uow() as uow:
        path = next(p for p in admin.pack_values(uow, inst.users["admin"]) if p.endswith(".period"))
    with pytest.raises(PolicyError) as refused, inst.uow() as uow:
        admin.set_pack_value(uow, inst.users["admin"], path, value)
    assert path.split(".")[0] in refused.value.message("en")
    with inst.uow() as uow:
        assert admin.pack_values(uow, inst.users["admin"])[path] != value


def test_values_outside_the_editable_set_are_refused(inst):
    with pytest.raises(InvalidInput), inst.uow() as uow:
        admin.set_pack_value(uow, inst.users["admin"], "categories.internal_management.department", "x")


def test_the_banner_names_a_coming_year_without_calendar_data(inst):
    with inst.uow() as uow:
        assert admin.calendar_gaps(uow, date(2026, 11, 23)) == [2027]
        assert admin.calendar_gaps(uow, date(2026, 6, 1)) == []


def test_an_admin_gives_an_executive_a_title_from_the_pack(inst):
    """Issue 10 §2: the title (a pack role) ranks the escalations an executive answers; unknown ones are refused."""
    target = inst.users["supervisor"]
    with pytest.raises(InvalidInput), inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], target, roles=["executive"], title="president")  # not securities
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], target, roles=["executive"], title="leadership_group")
    with inst.uow() as uow:
        assert load_actor(uow.session, target).title == "leadership_group"
        titles = {r.username: r.title for r in admin.list_users(uow, inst.users["admin"])}
        assert titles["supervisor"] == "leadership_group"
        admin.update_user(uow, inst.users["admin"], target, title="")
        assert load_actor(uow.session, target).title is None
