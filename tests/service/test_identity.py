"""Sign-in through the institution's identity provider (issue 8 §3): an identity signs in only the active,
unlocked user an admin linked it to, only while it is fresh, with that user's roles; on a real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from db.session_models import UserSession
from services.administration import admin
from services.errors import DomainError, InvalidInput
from services.institution import identity, sessions
from tests.service.conftest import at, make_institution

T0 = at("2026-11-23 09:00")
LOGIN = "clerk@bank.example"


@pytest.fixture
def inst(engine):
    inst = make_institution(engine, "securities")
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], sso_login="Clerk@Bank.example ")
    return inst


def claims(email: str = LOGIN, *, age: timedelta = timedelta(seconds=2), **more) -> dict:
    issued = int((T0 - age).timestamp())
    return {"is_logged_in": True, "sub": "u-42", "email": email, "email_verified": True, "iat": issued,
            "auth_time": issued, "name": "Clerk at the counter"} | more


def sign_in(inst, identity_claims: dict, now=T0):
    with inst.uow() as uow:
        return identity.sign_in_with_identity(uow, identity_claims, client_ip="10.0.0.1", client="10.0.0.1 Chrome",
                                              now=now)


def refusal(inst, identity_claims: dict) -> DomainError:
    with pytest.raises(DomainError) as refused:
        sign_in(inst, identity_claims)
    return refused.value


def sso_audit(inst) -> list[tuple[int | None, str, str | None]]:
    with inst.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(
            "SELECT actor_id, action, detail->>'reason' FROM audit_events "
            "WHERE detail->>'method' = 'sso' ORDER BY seq"))]


def open_sessions(inst) -> int:
    with inst.engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM user_sessions WHERE ended_at IS NULL"))


def test_the_linked_user_gets_a_session_with_their_own_roles_and_it_is_audited(inst):
    opened = sign_in(inst, claims("CLERK@bank.example"))  # e-mails compare case-insensitively
    with inst.uow() as uow:
        user = sessions.resume(uow, opened.token, now=T0)
        token = sessions.exchange_ticket(uow, opened.ticket, now=T0)
    assert user.username == "clerk" and user.roles == {"intake"}
    assert token == opened.token  # the same cookie hand-over as a password sign-in
    assert sso_audit(inst) == [(inst.users["clerk"], "signed_in", None)]


@pytest.mark.parametrize(("identity_claims", "reason"), [
    (claims("stranger@bank.example"), "unknown_identity"),
    (claims(email_verified=False), "unverified"),
    (claims(email=None), "no_email"),
    (claims(age=timedelta(minutes=6)), "stale"),  # a lingering Streamlit identity cookie
    ({k: v for k, v in claims().items() if k not in ("iat", "auth_time")}, "stale"),
])
def test_an_identity_that_cannot_be_trusted_or_linked_is_refused_audited_and_opens_nothing(inst, identity_claims,
                                                                                         reason):
    refused = refusal(inst, identity_claims)
    assert refused.message("zh") == identity.refused().message("zh")
    assert refused.message("en") == identity.refused().message("en")
    assert open_sessions(inst) == 0
    assert [r for _, _, r in sso_audit(inst)] == [reason]


def test_an_identity_signed_in_at_the_provider_hours_ago_but_issued_now_is_fresh(inst):
    # the provider's own single sign-on: auth_time is old, the token (iat) was issued at this callback
    assert sign_in(inst, claims(auth_time=int((T0 - timedelta(hours=3)).timestamp()))).token


@pytest.mark.parametrize(("change", "reason"), [
    (lambda uow, by, who: admin.update_user(uow, by, who, active=False), "disabled"),
    (lambda uow, by, who: admin.lock(uow, by, who), "locked"),
])
def test_a_disabled_or_locked_user_gets_the_same_refusal_by_identity(inst, change, reason):
    with inst.uow() as uow:
        change(uow, inst.users["admin"], inst.users["clerk"])
    assert refusal(inst, claims()).message("zh") == identity.refused().message("zh")
    assert open_sessions(inst) == 0
    assert sso_audit(inst) == [(inst.users["clerk"], "sign_in_failed", reason)]


def test_an_admin_sets_a_valid_unique_institutional_sign_in(inst):
    by, handler = inst.users["admin"], inst.users["handler"]
    for bad in ("not an e-mail", "a@b@c", "x" * 250 + "@b.cn"):
        with pytest.raises(InvalidInput), inst.uow() as uow:
            admin.update_user(uow, by, handler, sso_login=bad)
    with pytest.raises(InvalidInput, match="another user"), inst.uow() as uow:
        admin.update_user(uow, by, handler, sso_login="clerk@BANK.example")
    with inst.uow() as uow:
        rows = {r.username: r.sso_login for r in admin.list_users(uow, by)}
    assert rows["clerk"] == LOGIN and rows["handler"] is None


def test_changing_or_clearing_a_users_institutional_sign_in_ends_their_sessions_and_is_audited(inst):
    opened = sign_in(inst, claims())
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], sso_login="")
    with inst.uow() as uow:
        assert sessions.resume(uow, opened.token, now=T0) is None
        assert uow.session.get(UserSession, sessions.digest(opened.token)).end_reason == "identity_changed"
    assert refusal(inst, claims())  # the old identity no longer signs anyone in
    with inst.engine.connect() as conn:
        change = conn.scalar(text("SELECT detail FROM audit_events WHERE action = 'user_updated' ORDER BY seq DESC"))
    assert (change["before"]["sso_login"], change["after"]["sso_login"]) == (LOGIN, None)


def test_saving_a_user_without_touching_the_institutional_sign_in_keeps_it_and_the_sessions(inst):
    opened = sign_in(inst, claims())
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], roles=["intake"], sso_login=LOGIN)
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], active=True)
    with inst.uow() as uow:
        assert sessions.resume(uow, opened.token, now=T0).username == "clerk"
