"""Sessions that can be ended and sign-in that resists guessing (issue 8 §2–3), on a real PostgreSQL."""

from __future__ import annotations

import secrets
import threading
from datetime import timedelta

import bcrypt
import pytest
from sqlalchemy import select, text

from db.session_models import UserSession
from services.administration import admin
from services.errors import InvalidInput, NotPermitted
from services.institution import sessions
from services.institution.directory import check_password
from tests.service.conftest import at, make_institution

PASSWORD = "kite-harbour9"
T0 = at("2026-11-23 09:00")


@pytest.fixture
def inst(engine):
    return make_institution(engine, "securities")


def sign_in(inst, username: str = "clerk", password: str = PASSWORD, *, ip: str = "10.0.0.1", now=T0):
    with inst.uow() as uow:
        return sessions.sign_in(uow, username, password, client_ip=ip, client=f"{ip} Chrome", now=now)


def resume(inst, token: str | None, now=T0):
    with inst.uow() as uow:
        return sessions.resume(uow, token, now=now)


def end_reason(inst, token: str) -> str | None:
    with inst.uow() as uow:
        return uow.session.get(UserSession, sessions.digest(token)).end_reason


def refusal(inst, username: str, password: str, *, ip: str = "10.0.0.1", now=T0) -> str:
    with pytest.raises((InvalidInput, NotPermitted)) as refused:
        sign_in(inst, username, password, ip=ip, now=now)
    return refused.value.message("zh")


# --- sessions ------------------------------------------------------------------------------------------------------

def test_a_session_resumes_until_signed_out_and_never_after(inst):
    opened = sign_in(inst)
    assert resume(inst, opened.token).username == "clerk"
    with inst.uow() as uow:
        sessions.end(uow, opened.token)
    assert resume(inst, opened.token) is None
    assert end_reason(inst, opened.token) == "sign_out"


def test_the_database_keeps_only_a_hash_of_the_token(inst):
    opened = sign_in(inst)
    with inst.engine.connect() as conn:
        dump = " ".join(str(v) for row in conn.execute(text("SELECT * FROM user_sessions")) for v in row)
    assert opened.token not in dump and opened.ticket not in dump


@pytest.mark.parametrize(("change", "reason"), [
    (lambda uow, by, who: admin.reset_password(uow, by, who, "fresh-kite-harbour7"), "password_reset"),
    (lambda uow, by, who: admin.lock(uow, by, who), "locked"),
    (lambda uow, by, who: admin.update_user(uow, by, who, roles=["intake", "handler"]), "role_changed"),
    (lambda uow, by, who: admin.update_user(uow, by, who, department="legal_compliance"), "role_changed"),
    (lambda uow, by, who: admin.update_user(uow, by, who, active=False), "deactivated"),
])
def test_an_admin_change_that_takes_access_away_ends_every_session_of_the_user(inst, change, reason):
    first, second = sign_in(inst), sign_in(inst, ip="10.0.0.2")  # two browsers
    other = sign_in(inst, "handler")
    with inst.uow() as uow:
        change(uow, inst.users["admin"], inst.users["clerk"])
    assert resume(inst, first.token) is None and resume(inst, second.token) is None
    assert end_reason(inst, first.token) == end_reason(inst, second.token) == reason
    assert resume(inst, other.token).username == "handler"  # nobody else is signed out


def test_saving_a_user_without_changes_keeps_their_sessions(inst):
    opened = sign_in(inst)
    with inst.uow() as uow:
        admin.update_user(uow, inst.users["admin"], inst.users["clerk"], roles=["intake"], active=True)
    assert resume(inst, opened.token).username == "clerk"


def test_a_session_left_idle_30_minutes_ends_and_clicks_keep_it_alive(inst):
    opened = sign_in(inst)
    for minutes in (20, 40, 60):  # a click every 20 minutes
        assert resume(inst, opened.token, T0 + timedelta(minutes=minutes)) is not None
    assert resume(inst, opened.token, T0 + timedelta(minutes=91)) is None
    assert end_reason(inst, opened.token) == "idle"
    assert resume(inst, opened.token, T0 + timedelta(minutes=92)) is None  # and it stays ended


def test_an_admin_sets_the_idle_timeout_within_5_to_480_minutes(inst):
    for minutes in (4, 481):
        with pytest.raises(InvalidInput), inst.uow() as uow:
            admin.set_idle_timeout(uow, inst.users["admin"], minutes)
    with inst.uow() as uow:
        admin.set_idle_timeout(uow, inst.users["admin"], 5)
    opened = sign_in(inst)
    assert resume(inst, opened.token, T0 + timedelta(minutes=4)) is not None
    assert resume(inst, opened.token, T0 + timedelta(minutes=10)) is None
    with inst.uow() as uow:
        assert uow.session.scalar(text("SELECT detail FROM audit_events WHERE action = 'idle_timeout_changed'")) \
            == {"old": 30, "new": 5}


def test_a_session_ends_12_hours_after_sign_in_however_busy(inst):
    opened = sign_in(inst)
    for minutes in range(10, 12 * 60, 10):
        assert resume(inst, opened.token, T0 + timedelta(minutes=minutes)) is not None
    assert resume(inst, opened.token, T0 + timedelta(hours=12)) is None
    assert end_reason(inst, opened.token) == "expired"


def test_a_forged_or_foreign_token_is_nobody(inst, engine):
    sign_in(inst)
    for token in (None, "", "not-a-token", secrets.token_hex(32), "A" * 64, "0" * 63 + "'"):
        assert resume(inst, token) is None


def test_a_session_of_a_user_disabled_behind_the_services_back_is_nobody_without_a_traceback(inst):
    opened = sign_in(inst)
    with inst.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = false WHERE username = 'clerk'"))
    assert resume(inst, opened.token) is None
    assert end_reason(inst, opened.token) == "deactivated"


def test_the_cookie_ticket_works_once_within_60_seconds(inst):
    opened = sign_in(inst)
    with inst.uow() as uow:
        assert sessions.exchange_ticket(uow, opened.ticket, T0 + timedelta(seconds=30)) == opened.token
    with inst.uow() as uow:
        assert sessions.exchange_ticket(uow, opened.ticket, T0 + timedelta(seconds=31)) is None  # spent
    late = sign_in(inst)
    with inst.uow() as uow:
        assert sessions.exchange_ticket(uow, late.ticket, T0 + timedelta(seconds=61)) is None
    with inst.uow() as uow:
        assert sessions.exchange_ticket(uow, secrets.token_hex(32), T0) is None


def test_a_ticket_of_a_session_ended_before_it_was_used_gives_no_cookie(inst):
    opened = sign_in(inst)
    with inst.uow() as uow:
        sessions.end(uow, opened.token)
    with inst.uow() as uow:
        assert sessions.exchange_ticket(uow, opened.ticket, T0) is None


# --- sign-in that resists guessing ---------------------------------------------------------------------------------

def test_unknown_user_wrong_password_disabled_and_locked_get_the_same_reply_after_one_bcrypt_check(inst, monkeypatch):
    with inst.uow() as uow:
        admin.lock(uow, inst.users["admin"], inst.users["handler"])
        admin.update_user(uow, inst.users["admin"], inst.users["head"], active=False)
    checks = []
    real = bcrypt.checkpw
    monkeypatch.setattr(bcrypt, "checkpw", lambda *a: checks.append(1) or real(*a))
    replies = {name: refusal(inst, name, password, ip=f"10.0.1.{i}") for i, (name, password) in enumerate([
        ("nobody", PASSWORD), ("clerk", "wrong-password"), ("head", PASSWORD), ("handler", PASSWORD)])}
    assert set(replies.values()) == {"用户名或密码错误。"}
    assert len(checks) == 4  # the same work every time: timing tells nothing either


def test_the_account_waits_a_growing_delay_after_five_failures_whether_it_exists_or_not(inst):
    for name in ("clerk", "nobody"):
        for i in range(5):
            refusal(inst, name, "wrong-password", ip=f"10.0.2.{i}")
        waiting = refusal(inst, name, PASSWORD, ip="10.0.2.9")  # even the right password waits …
        assert waiting == "尝试次数过多，请 1 秒后再试。"
    assert sign_in(inst, now=T0 + timedelta(seconds=1)).token  # … one second
    for i in range(7):  # the success cleared the count: five free, then 1 s, 2 s, 4 s
        refusal(inst, "clerk", "wrong-password", now=T0 + timedelta(seconds=10 * (i + 1)))
    assert refusal(inst, "clerk", PASSWORD, now=T0 + timedelta(seconds=71)) == "尝试次数过多，请 3 秒后再试。"


def test_a_count_left_alone_for_an_hour_starts_again_from_zero(inst):
    for i in range(5):
        refusal(inst, "clerk", "wrong-password", ip=f"10.0.3.{i}")
    an_hour_later = T0 + timedelta(hours=1)
    assert refusal(inst, "clerk", "wrong-password", now=an_hour_later) == "用户名或密码错误。"  # not "wait"
    assert sign_in(inst, now=an_hour_later).token


def test_the_delay_is_capped_at_five_minutes_and_an_admin_unlock_lifts_it(inst):
    with inst.engine.begin() as conn:
        conn.execute(text("INSERT INTO sign_in_throttle VALUES ('account:clerk', 40, :t, :t)"), {"t": T0})
    refusal(inst, "clerk", "wrong-password", now=T0 + timedelta(hours=0.5))
    assert refusal(inst, "clerk", PASSWORD, now=T0 + timedelta(hours=0.5)) == "尝试次数过多，请 300 秒后再试。"
    with inst.uow() as uow:
        admin.unlock(uow, inst.users["admin"], inst.users["clerk"])
    assert sign_in(inst, now=T0 + timedelta(hours=0.5)).token


def test_twenty_failures_from_one_address_slow_that_address_only(inst):
    for i in range(20):  # twenty different names: no account reaches its own limit
        refusal(inst, f"guess{i}", "wrong-password", ip="203.0.113.7")
    assert "秒后再试" in refusal(inst, "clerk", PASSWORD, ip="203.0.113.7")
    assert sign_in(inst, ip="198.51.100.1").token  # the clerk at another counter signs in


def test_sign_in_success_and_failure_are_audited_without_the_password(inst):
    refusal(inst, "clerk", "wrong-password")
    sign_in(inst)
    with inst.engine.connect() as conn:
        events = conn.execute(text("SELECT actor_id, action, detail::text FROM audit_events "
                                   "WHERE action LIKE 'sign%' ORDER BY id")).all()
    clerk = inst.users["clerk"]
    assert [(a, b) for a, b, _ in events] == [(clerk, "sign_in_failed"), (clerk, "signed_in")]
    assert all("wrong-password" not in detail and PASSWORD not in detail for _, _, detail in events)


def test_a_password_longer_than_bcrypt_reads_fails_like_a_wrong_one(inst):
    assert refusal(inst, "clerk", PASSWORD + "x" * 100) == "用户名或密码错误。"
    assert refusal(inst, "clerk", "密" * 30) == "用户名或密码错误。"  # 90 bytes


def test_a_password_stored_before_the_policy_still_signs_in(inst):
    with inst.engine.begin() as conn:
        conn.execute(text("UPDATE users SET password_hash = :h WHERE username = 'clerk'"),
                     {"h": bcrypt.hashpw(b"password123", bcrypt.gensalt(4)).decode()})
    assert sign_in(inst, password="password123").token


@pytest.mark.parametrize(("password", "refused"), [
    ("short9!", "至少 10 位"),
    ("password123", "太容易被猜到"),
    ("qwertyuiop", "太容易被猜到"),
    ("1234567890", "太容易被猜到"),
    ("wang.fang2026", "太容易被猜到"),  # the person's own username
    ("密" * 25, "过长"),  # 75 bytes
    ("kite-harbour9", None),
    ("月光下的灯塔与远方风筝", None),
    ("x7#Lq-9vRt", None),
])
def test_the_password_policy(password, refused):
    if refused is None:
        check_password(password, username="wang.fang", display_name="王芳")
        return
    with pytest.raises(InvalidInput) as error:
        check_password(password, username="wang.fang", display_name="王芳")
    assert refused in error.value.message("zh") and error.value.message("en") and error.value.field == "password"


def test_every_way_of_setting_a_password_applies_the_policy(inst):
    with pytest.raises(InvalidInput, match="guess"), inst.uow() as uow:
        admin.add_user(uow, inst.users["admin"], username="li.na", display_name="李娜", password="password123",
                       roles=["intake"], department=None)
    with pytest.raises(InvalidInput, match="guess"), inst.uow() as uow:
        admin.reset_password(uow, inst.users["admin"], inst.users["clerk"], "clerk12345")


# --- the last administrator ----------------------------------------------------------------------------------------

def test_a_locked_administrator_is_not_the_one_left_to_keep(inst):
    with inst.uow() as uow:
        admin.add_user(uow, inst.users["admin"], username="second", display_name="Second", password=PASSWORD,
                       roles=["admin"], department=None)
    with inst.uow() as uow:
        second = uow.session.scalar(text("SELECT id FROM users WHERE username = 'second'"))
        admin.lock(uow, inst.users["admin"], second)
    for change in (dict(roles=["supervisor"]), dict(active=False)):
        with pytest.raises(InvalidInput, match="last active administrator"), inst.uow() as uow:
            admin.update_user(uow, second, inst.users["admin"], **change)
    with pytest.raises(InvalidInput, match="last active administrator"), inst.uow() as uow:
        admin.lock(uow, second, inst.users["admin"])


def test_two_admins_demoting_each_other_at_the_same_moment_leave_one(inst):
    with inst.uow() as uow:
        admin.add_user(uow, inst.users["admin"], username="second", display_name="Second", password=PASSWORD,
                       roles=["admin"], department=None)
    with inst.uow() as uow:
        second = uow.session.scalar(select(text("id")).select_from(text("users")).where(text("username = 'second'")))
    pairs = [(inst.users["admin"], second), (second, inst.users["admin"])]
    barrier, outcomes = threading.Barrier(2), []

    def demote(actor: int, target: int) -> None:
        with inst.uow() as uow:
            barrier.wait()
            try:
                admin.update_user(uow, actor, target, roles=["supervisor"])
                outcomes.append("done")
            except (InvalidInput, NotPermitted):
                outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=pair) for pair in pairs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["done", "refused"]
    with inst.engine.connect() as conn:
        assert conn.scalar(text("SELECT count(*) FROM users WHERE active AND 'admin' = ANY(roles)")) == 1
