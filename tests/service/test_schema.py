"""The database keeps what the rules need and refuses what they forbid."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError


def _desk_and_customer(conn) -> None:
    """Department 1, user 1 and customer 1, for a case inserted by hand."""
    conn.execute(text("INSERT INTO departments (code, name) VALUES ('ops', '运营')"))
    conn.execute(text("INSERT INTO users (username, display_name, password_hash, roles)"
                      " VALUES ('u', '用户', 'x', ARRAY['intake'])"))
    conn.execute(text("INSERT INTO customers (name, phone) VALUES ('张三', '13800000000')"))


def test_case_events_refuse_update_and_delete_even_from_their_owner(engine, owner_engine):
    with engine.begin() as conn:
        _desk_and_customer(conn)
        conn.execute(text(
            "INSERT INTO cases (case_no, pack, channel, category, cause, grade, state, received_at, content,"
            " customer_id, first_responder_id, responsible_department_id, compensation_claimed, assessment)"
            " VALUES ('TS-20261122-000001', 'branch', 'phone', 'A', 'branch', 'general', 'registered', now(), '内容',"
            " 1, 1, 1, 0, '{}')"))
        conn.execute(text("INSERT INTO case_events (case_id, at, event_type, note)"
                          " VALUES (1, now(), 'intake', '登记')"))
    for statement in ("UPDATE case_events SET note = '改写'", "DELETE FROM case_events"):
        with pytest.raises(DBAPIError, match="append-only"), owner_engine.begin() as conn:
            conn.execute(text(statement))
    with engine.connect() as conn:
        assert conn.scalar(text("SELECT note FROM case_events")) == "登记"


# The system's own codes (grades, states) are checked; a pack's codes (channel, category, cause) are the
# pack file's to define, so the database takes any (issue 9 §4).
@pytest.mark.parametrize("column, value", [("compensation_claimed", -1), ("grade", "'huge'"),
                                           ("case_no", "'TS-1'")])
def test_cases_refuse_bad_codes_and_negative_amounts(engine, column, value):
    values = {"case_no": "'TS-20261122-000001'", "grade": "'general'", "compensation_claimed": 0}
    values[column] = value
    with engine.begin() as conn:
        _desk_and_customer(conn)
    with pytest.raises(DBAPIError, match="violates check constraint"), engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO cases (case_no, pack, channel, category, cause, grade, state, received_at, content,"
            " customer_id, first_responder_id, responsible_department_id, compensation_claimed, assessment)"
            f" VALUES ({values['case_no']}, 'branch', 'pigeon', 'A', 'weather', {values['grade']}, 'registered',"
            f" now(), '内容', 1, 1, 1, {values['compensation_claimed']}, '{{}}')"))


def test_cases_take_any_code_a_pack_defines(engine):
    """Issue 9 §4: a channel, category or cause added to a pack's TOML needs no migration."""
    with engine.begin() as conn:
        _desk_and_customer(conn)
        conn.execute(text(
            "INSERT INTO cases (case_no, pack, channel, category, cause, grade, state, received_at, content,"
            " customer_id, first_responder_id, responsible_department_id, compensation_claimed, assessment)"
            " VALUES ('TS-20261122-000001', 'branch', 'wechat_mini_program', 'wealth_management', 'third_party',"
            " 'general', 'registered', now(), '内容', 1, 1, 1, 0, '{}')"))
        assert conn.scalar(text("SELECT cause FROM cases")) == "third_party"


def test_users_refuse_unknown_roles(engine):
    with pytest.raises(DBAPIError, match="ck_users_roles_known"), engine.begin() as conn:
        conn.execute(text("INSERT INTO users (username, display_name, password_hash, roles)"
                          " VALUES ('u', '用户', 'x', ARRAY['king'])"))
