"""First-run set-up and every admin action, through the real pages."""

from __future__ import annotations

import json

from sqlalchemy import select

from db.models import User
from services.unit_of_work import transaction
from tests.app.test_shell import sign_in, submit


def fill_setup(at, username="boss", name="李总", password="admin-pass-1", demo=False):
    at.text_input(key="setup_username").input(username)
    at.text_input(key="setup_name").input(name)
    at.text_input(key="setup_password").input(password)
    at.selectbox(key="setup_pack").set_value("bank")
    if demo:
        at.checkbox(key="setup_demo").check()
    return submit(at, "setup")


def test_set_up_creates_the_admin_who_then_signs_in(app_env, app):
    at = fill_setup(app())
    assert not at.exception
    assert at.success[0].value == "设置完成，请登录。"
    at = sign_in(at, "boss", "admin-pass-1")
    assert at.title[0].value == "工作台"
    assert "admin" in at.session_state["nav_pages"]


def test_set_up_refuses_a_short_password_and_keeps_the_form(app_env, app):
    at = fill_setup(app(), password="short")
    assert at.error[0].value == "密码至少 10 位。"
    assert at.title[0].value == "初始设置" and at.text_input(key="setup_username").value == "boss"
    with transaction(app_env) as uow:
        assert uow.session.scalar(select(User.id)) is None


def test_set_up_with_the_demo_shows_its_users_and_password_only_to_the_admin_who_loaded_it(app_env, app, monkeypatch):
    monkeypatch.setattr("demo.loader.DEMO_CASES", 40)  # the full 2,000 are loaded by the browser test
    at = fill_setup(app(), demo=True)
    assert not at.exception
    demo = at.info[0].value
    assert "演示机构已加载" in demo and "`" in demo
    username = demo.split("`")[1]
    password = demo.split("共用密码 ")[1].split("，")[0]
    anonymous = app()  # another browser: no account names, no password
    shown = " ".join(str(e.value) for kind in ("markdown", "info", "success", "caption", "text")
                     for e in getattr(anonymous, kind))
    assert anonymous.text_input(key="signin_username") and not anonymous.info
    assert username not in shown and password not in shown and "demo." not in shown
    at = sign_in(at, username, password)
    assert at.title[0].value == "工作台"


def test_the_demo_checkbox_shows_the_real_number_of_cases(app_env, app, monkeypatch):
    # issue 10 §4: it said "约 2,000 件" whatever COMPLAINTS_DEMO_CASES said
    monkeypatch.setattr("demo.loader.DEMO_CASES", 1234)
    label = app().checkbox(key="setup_demo").label
    assert "1,234 件投诉" in label and "2,000" not in label


def admin_page(app, institution):
    at = app(institution.users["admin"])
    at.switch_page("../pages/admin.py")
    return at.run()


def test_admin_creates_a_user(institution, app):
    at = admin_page(app, institution)
    assert at.title[0].value == "系统管理"
    at.text_input(key="new_username").input("zhao.lei")
    at.text_input(key="new_name").input("赵磊")
    at.text_input(key="new_password").input("violet-harbour-93")
    at.multiselect(key="new_roles").select("handler")
    choices = at.selectbox(key="new_department").options
    assert "branch" not in choices and "营业部" in "".join(choices)  # departments by name (issue 10 §2)
    at.selectbox(key="new_department").set_value("branch")
    at = submit(at, "create_user")
    assert at.success[0].value == "已保存。"
    with transaction(institution.engine) as uow:
        assert uow.session.scalar(select(User.roles).where(User.username == "zhao.lei")) == ["handler"]


def test_admin_sees_validation_errors_in_place(institution, app):
    at = admin_page(app, institution)
    at.text_input(key="new_username").input("bad name")
    at.text_input(key="new_name").input("x")
    at.text_input(key="new_password").input("violet-harbour-93")
    at.multiselect(key="new_roles").select("handler")
    at = submit(at, "create_user")
    assert "用户名" in at.error[0].value
    assert at.text_input(key="new_username").value == "bad name"


def test_admin_edits_a_pack_value_and_a_bad_one_is_refused(institution, app):
    at = admin_page(app, institution)
    labels = at.selectbox(key="pack_path").options  # a path shown in words: 时限规则 1（办结） · 期限
    at.selectbox(key="pack_path").select_index(next(i for i, o in enumerate(labels) if o.endswith(" · 期限")))
    at.text_input(key="pack_text").input("3 wd")
    at = submit(at, "pack_value")
    # issue 10 §7: the key in the page's words (时限规则 1（…） · 期限), not milestones[0].period or the file
    assert " · 期限：时长格式错误" in at.error[0].value and "时限规则 " in at.error[0].value
    assert "milestones" not in at.error[0].value and ".toml" not in at.error[0].value
    at.text_input(key="pack_text").input("4 working_days")
    at = submit(at, "pack_value")
    assert at.success[0].value == "已保存。"


def test_a_refused_pack_value_names_its_key_in_words(institution, app):  # issue 10 §7
    at = admin_page(app, institution)
    labels = at.selectbox(key="pack_path").options
    at.selectbox(key="pack_path").select_index(labels.index("上报规则 3 · 上报对象"))
    at.text_input(key="pack_text").input("nobody")
    at = submit(at, "pack_value")
    shown = at.error[0].value
    assert shown.startswith("上报规则 3 · 上报对象 1：") and "nobody" in shown
    assert "escalat" not in shown and "[" not in shown


def test_admin_adds_a_holiday_and_open_deadlines_move(institution, app):
    import datetime as dt

    institution.intake()
    at = admin_page(app, institution)
    at.date_input(key="calendar_day").set_value(dt.date(2026, 11, 3))
    at.selectbox(key="calendar_kind").set_value(at.selectbox(key="calendar_kind").options[0])
    at.text_input(key="calendar_name").input("临时休假")
    at = submit(at, "calendar_day")
    assert at.success[0].value == "已保存。"
    assert "1 件在办案件" in at.info[0].value


def test_admins_are_warned_when_the_next_60_days_reach_a_year_without_calendar_data(institution, app):
    # The shipped calendar ends with 2026, and the next 60 days from now reach 2027.
    assert any("2027 年尚无工作日历数据" in w.value for w in app(institution.users["admin"]).warning)
    assert not any("工作日历" in w.value for w in app(institution.users["clerk"]).warning)


def test_one_2027_date_keeps_the_warning_until_the_admin_marks_2027_complete(institution, app):
    # issue 10 §6: entering one 2027 date used to make the warning disappear
    import datetime as dt

    at = admin_page(app, institution)
    at.date_input(key="calendar_day").set_value(dt.date(2027, 1, 1))
    at.selectbox(key="calendar_kind").set_value(at.selectbox(key="calendar_kind").options[0])
    at.text_input(key="calendar_name").input("元旦")
    submit(at, "calendar_day")
    at = admin_page(app, institution)
    assert any("2027 年尚无工作日历数据" in w.value for w in at.warning)
    at.number_input(key="calendar_year").set_value(2027)
    at = at.run()
    at.button(key="calendar_complete").click()
    at = at.run()
    assert not at.exception
    assert not any("2027 年尚无工作日历数据" in w.value for w in admin_page(app, institution).warning)


def test_admin_disables_a_user_and_saves_a_department(institution, app):
    at = admin_page(app, institution)
    at.selectbox(key="edit_pick").set_value("clerk")
    at = at.run()
    next(c for c in at.checkbox if c.label == "启用").uncheck()
    at = submit(at, "edit_user")
    assert at.success[0].value == "已保存。"
    with transaction(institution.engine) as uow:
        assert uow.session.scalar(select(User.active).where(User.username == "clerk")) is False
    at.text_input(key="department_code").input("audit")
    at.text_input(key="department_name").input("稽核部")
    assert submit(at, "department").success[0].value == "已保存。"
    at.text_input(key="department_code").input("Bad Code")
    assert "部门代码" in submit(at, "department").error[0].value


def test_admin_sets_the_idle_timeout_and_a_value_out_of_range_cannot_be_entered(institution, app):
    at = admin_page(app, institution)
    assert at.number_input(key="idle_minutes").value == 30
    at.number_input(key="idle_minutes").set_value(60)
    at = submit(at, "idle_timeout")
    assert at.success[0].value == "已保存。"
    assert admin_page(app, institution).number_input(key="idle_minutes").value == 60


def test_admin_disables_the_demo_accounts_from_the_admin_page(app_env, app, monkeypatch):
    monkeypatch.setattr("demo.loader.DEMO_CASES", 30)
    at = fill_setup(app(), demo=True)
    at = sign_in(at, "boss", "admin-pass-1")
    at.switch_page("../pages/admin.py")
    at = at.run()
    at = at.button(key="forget_demo").click().run()
    assert "个演示账号" in at.success[0].value
    with transaction(app_env) as uow:
        assert uow.session.scalar(select(User.username).where(User.active.is_(True))) == "boss"
    assert "forget_demo" not in [b.key for b in at.run().button]  # nothing left to disable


def test_the_calendar_names_statutory_holidays_in_chinese(institution, app):  # issue 10 §2
    at = admin_page(app, institution)
    names = next(d.value for d in at.dataframe if "节日名称" in d.value.columns)
    assert "国庆节" in set(names["节日名称"]) and "National Day" not in set(names["节日名称"])


def test_the_pack_table_names_its_keys_in_words(institution, app):  # issue 10 §2
    at = admin_page(app, institution)
    table = next(d.value for d in at.dataframe if "上报规则 1 · 上报对象" in set(d.value.iloc[:, 0]))
    shown = " ".join(table.astype(str).to_numpy().ravel())
    assert "escalations." not in shown and "escalate_to" not in shown and "milestones." not in shown


def test_the_user_list_names_roles_and_departments(institution, app):  # issue 10 §2: not dept_head, branch
    at = admin_page(app, institution)
    assert not at.exception
    users = next(d for d in at.dataframe if "角色" in d.value.columns)
    shown = users.value.set_index("用户名")
    assert shown.loc["head", "角色"] == "部门负责人"
    assert shown.loc["head", "部门"] == "证券营业部"
    assert "dept_head" not in " ".join(users.value["角色"])
    config = json.loads(users.proto.columns)
    assert config["启用"]["type_config"]["type"] == "checkbox"
    days = next(d for d in at.dataframe if "节日名称" in d.value.columns)
    assert json.loads(days.proto.columns)["日期"]["type_config"]["format"] == "YYYY-MM-DD"
