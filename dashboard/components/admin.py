"""The four sections of 系统管理; each form calls one admin service and shows its error in place."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.downloads import download
from dashboard.i18n import choosing, code, error, joined, lang, role_names, t
from dashboard.i18n import department as department_name
from dashboard.session import attempt, now, uow
from db.models import ROLES
from services import words
from services.administration import admin, importer
from services.administration.calendar_edits import mark_year_complete, set_calendar_day
from services.administration.setup import demo_loaded, forget_demo
from services.errors import DomainError, PolicyError
from services.export import neutralised
from services.rules.calendar import HOLIDAY_CODES, DayType
from services.rules.policy import Policy


def users(user_id: int) -> None:
    with uow() as work:
        rows = admin.list_users(work, user_id)
        listed = admin.list_departments(work, user_id)
        departments = [code for code, _, active in listed if active]
        policy = work.policy()
    names = {code: name for code, name, _ in listed}

    def shown(code: str) -> str:  # a department by its name in the forms too, never its code (issue 10 §2)
        return department_name(policy, code, names.get(code, code)) if code else ""

    # issue 10 §2: roles and departments by their names, not dept_head or branch; ticks for the flags
    st.dataframe(neutralised(pd.DataFrame([{
        t("admin.username"): r.username, t("admin.display_name"): r.display_name,
        t("admin.roles"): role_names(r.roles),
        t("admin.department"): department_name(policy, r.department, names.get(r.department, r.department))
        if r.department else "",
        t("admin.title_role"): policy.label("role", r.title, lang()) if r.title else "",
        t("admin.active"): r.active, t("admin.locked"): r.locked} for r in rows])),
        hide_index=True, column_config={t("admin.active"): st.column_config.CheckboxColumn(),
                                        t("admin.locked"): st.column_config.CheckboxColumn()})
    with st.form("create_user", clear_on_submit=False):
        st.subheader(t("admin.create_user"))
        username = st.text_input(t("admin.username"), key="new_username")
        name = st.text_input(t("admin.display_name"), key="new_name")
        password = st.text_input(t("admin.password"), type="password", key="new_password")
        roles = st.multiselect(t("admin.roles"), ROLES, format_func=lambda r: t(f"role.{r}"), key="new_roles",
                               **choosing())
        department = st.selectbox(t("admin.department"), ["", *departments], format_func=shown, key="new_department")
        if st.form_submit_button(t("admin.create_user")):
            attempt(admin.add_user, user_id, username=username, display_name=name, password=password, roles=roles,
                    department=department or None, confirm=True)
    by_name = {r.username: r for r in rows}
    chosen = by_name.get(st.selectbox(t("admin.pick_user"), list(by_name), key="edit_pick"))
    if chosen is None:
        return
    with st.form("edit_user"):
        st.subheader(t("admin.edit_user"))
        roles = st.multiselect(t("admin.roles"), ROLES, default=chosen.roles, format_func=lambda r: t(f"role.{r}"),
                               **choosing())
        options = ["", *departments]
        department = st.selectbox(t("admin.department"), options, index=options.index(chosen.department or ""),
                                  format_func=shown)
        active = st.checkbox(t("admin.active"), value=chosen.active)
        sso_login = st.text_input(t("admin.sso_login"), value=chosen.sso_login or "", max_chars=254)
        titles = ["", *policy.roles]  # which pack role an executive is: ranks what they answer (issue 10 §2)
        title = st.selectbox(t("admin.title_role"), titles, help=t("admin.title_help"),
                             index=titles.index(chosen.title) if chosen.title in titles else 0,
                             format_func=lambda r: policy.label("role", r, lang()) if r else "—")
        new_password = st.text_input(t("admin.new_password"), type="password")
        save, reset, lock, unlock = st.columns(4)
        if save.form_submit_button(t("admin.update_user")):
            attempt(admin.update_user, user_id, chosen.id, roles=roles, department=department, active=active,
                    sso_login=sso_login, title=title, confirm=True)
        if reset.form_submit_button(t("admin.reset_password")):
            attempt(admin.reset_password, user_id, chosen.id, new_password, confirm=True)
        if lock.form_submit_button(t("admin.lock")):
            attempt(admin.lock, user_id, chosen.id, confirm=True)
        if unlock.form_submit_button(t("admin.unlock")):
            attempt(admin.unlock, user_id, chosen.id, confirm=True)
    _sessions(user_id)


def _sessions(user_id: int) -> None:
    """Idle timeout (issue 8 §2) and, while the demo's accounts are loaded, disabling them (§4)."""
    st.subheader(t("admin.sessions"))
    with uow() as work:
        minutes = admin.idle_minutes(work, user_id)
        demo = demo_loaded(work.session)
    with st.form("idle_timeout"):
        chosen = st.number_input(t("admin.idle_minutes"), min_value=5, max_value=480, value=minutes, step=5,
                                 key="idle_minutes")
        if st.form_submit_button(t("admin.save_idle")):
            attempt(admin.set_idle_timeout, user_id, int(chosen), confirm=True)
    if demo:
        st.warning(t("admin.forget_demo_hint"))
        if st.button(t("admin.forget_demo"), key="forget_demo"):
            done, count = attempt(forget_demo, user_id)
            if done:
                st.success(t("admin.demo_forgotten", count=count))


def departments(user_id: int) -> None:
    with uow() as work:
        rows = admin.list_departments(work, user_id)
    st.dataframe(neutralised(pd.DataFrame(rows, columns=[t("admin.code"), t("admin.name"), t("admin.active")])),
                 hide_index=True, column_config={t("admin.active"): st.column_config.CheckboxColumn()})
    with st.form("department"):
        code = st.text_input(t("admin.code"), key="department_code")
        name = st.text_input(t("admin.name"), key="department_name")
        active = st.checkbox(t("admin.active"), value=True, key="department_active")
        if st.form_submit_button(t("admin.save_department")):
            attempt(admin.save_department, user_id, code, name, active, confirm=True)


_ENTRY_KIND = {"grades": "grade", "handling_levels": "handling_level", "milestones": "milestone"}


def _path_label(policy: Policy, path: str) -> str:
    """A pack key path (escalations.2.escalate_to) in words: 上报规则 3 · 上报对象 (issue 10 §2)."""
    parts, out, data = path.split("."), [], policy.data
    for i, part in enumerate(parts):
        if part.isdigit():
            entry = data[parts[i - 1]][int(part)] if i and parts[i - 1] in data else {}
            kind = _ENTRY_KIND.get(parts[i - 1]) if i else None
            named = f"（{code(policy, kind, entry['code'])}）" if kind and "code" in entry else ""
            out[-1] = f"{out[-1]} {int(part) + 1}{named}"
        elif i and parts[i - 1] == "categories":
            out.append(code(policy, "category", part))
        else:
            out.append(t(f"pack.key.{part}") if words.known(f"pack.key.{part}") else part)
    return " · ".join(out)


def _value(policy: Policy, path: str, value: Any) -> str:
    """Roles by their labels; other values as the pack holds them."""
    if path.endswith((".escalate_to", ".notify")) and isinstance(value, list):
        return joined(code(policy, "role", r) for r in value)
    if isinstance(value, bool):
        return t("common.yes") if value else t("common.no")
    return str(value)


def pack(user_id: int) -> None:
    with uow() as work:
        values = admin.pack_values(work, user_id)
        policy = work.policy()
    st.caption(t("admin.pack_hint"))
    st.dataframe(pd.DataFrame({t("admin.pack_path"): [_path_label(policy, p) for p in values],
                               t("admin.pack_value"): [_value(policy, p, v) for p, v in values.items()]}),
                 hide_index=True)
    with st.form("pack_value"):
        path = st.selectbox(t("admin.pack_path"), list(values), key="pack_path",
                            format_func=lambda p: _path_label(policy, p))
        text = st.text_input(t("admin.pack_value"), key="pack_text")
        if st.form_submit_button(t("admin.set_value")):
            _set_pack_value(user_id, policy, path, _typed(values.get(path), text))


def _set_pack_value(user_id: int, policy: Policy, path: str, value: Any) -> None:
    """`attempt`, with a refusal naming the key as the table above does, not by its path (issue 10 §7)."""
    try:
        with uow() as work:
            admin.set_pack_value(work, user_id, path, value)
    except DomainError as exc:
        error(_in_words(policy, exc))
        return
    st.success(t("common.saved"))


def _in_words(policy: Policy, exc: DomainError) -> DomainError:
    """The refusal with its key path (escalations[2].escalate_to[0]) in the page's words; the file it names
    ("bank.toml (edited)") left out: the admin edited the pack here, not a file."""
    if not exc.field or "path" not in exc.params:
        return exc
    try:
        label = _path_label(policy, re.sub(r"\[(\d+)\]", r".\1", exc.field))
    except (IndexError, KeyError, TypeError):  # a path the pack no longer has: its own words, unchanged
        return exc
    if exc.key == "error.file.at_key":
        return PolicyError("error.pack_edit.at_key", field=exc.field, path=label, problem=exc.params["problem"])
    return type(exc)(exc.key, field=exc.field, **{**exc.params, "path": label})


_YES_NO = {"是": True, "true": True, "yes": True, "否": False, "false": False, "no": False}


def _typed(current: Any, text: str) -> Any:
    """Read the admin's text as the kind of value it replaces; the service validates the rest."""
    if isinstance(current, list):
        return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(current, bool):  # 是/否 (or true/false); anything else goes on to be refused by the pack check
        return _YES_NO.get(text.strip().lower(), text.strip())
    if not isinstance(current, int | float):
        return text.strip()
    try:
        return int(text) if isinstance(current, int) else float(text)
    except ValueError:
        return text.strip()


def _day_name(name: str | None) -> str:
    """A statutory holiday in the reader's language; a name an admin typed, as typed (issue 10 §2)."""
    return t(f"holiday.{HOLIDAY_CODES[name]}") if name in HOLIDAY_CODES else name or ""


def calendar(user_id: int) -> None:
    year = st.number_input(t("admin.year"), 2004, 2100, now().year, key="calendar_year")
    with uow() as work:
        days = work.calendar().days(date(year, 1, 1), date(year, 12, 31))
        covered = work.calendar().has_data(year)
    special = [d for d in days if d.day_type in (DayType.HOLIDAY, DayType.MAKEUP_WORKDAY)]
    st.dataframe(pd.DataFrame([{t("admin.day"): d.day, t("admin.day_type"): t(f"day.{d.day_type.value}"),
                                t("admin.day_name"): _day_name(d.name)} for d in special]),
                 hide_index=True, column_config={t("admin.day"): tables.day_column(t("admin.day"))})
    with st.form("calendar_day"):
        day = st.date_input(t("admin.day"), key="calendar_day")
        kinds = [DayType.HOLIDAY, DayType.MAKEUP_WORKDAY, None]
        kind = st.selectbox(t("admin.day_type"), kinds, key="calendar_kind",
                            format_func=lambda k: t(f"day.{k.value}") if k else t("day.default"))
        name = st.text_input(t("admin.day_name"), key="calendar_name")
        if st.form_submit_button(t("admin.set_day")):
            done, changed = attempt(set_calendar_day, user_id, day, kind, name or None, confirm=True)
            if done:
                st.info(t("admin.days_changed", count=changed))
    # issue 10 §6: a year counts as covered only once the admin says all its days are entered
    if covered:
        st.caption(t("admin.year_complete", year=year))
    elif st.button(t("admin.mark_year_complete", year=year), key="calendar_complete") \
            and attempt(mark_year_complete, user_id, year, confirm=True)[0]:
        st.rerun()


def import_cases(user_id: int) -> None:
    """Spreadsheet import for institutions moving off paper (issue 5 §5): all rows valid, or nothing."""
    with uow() as work:
        template = importer.template_xlsx(work.policy())
    download(t("import.template"), template, "complaints-import-template.xlsx", what="import_template")
    upload = st.file_uploader(t("import.file"), type=["xlsx", "csv"], key="import_file")
    if upload is None or not st.button(t("import.run"), type="primary"):
        return
    done, result = attempt(importer.import_file, user_id, upload.getvalue(), upload.name)
    if not done:
        return
    if result.errors:
        st.error(t("import.failed", count=len(result.errors)))
        st.dataframe(pd.DataFrame([{t("import.row"): e.row, t("import.column"): e.column,
                                    t("import.problem"): e.message(lang())}
                                   for e in result.errors]), hide_index=True)
    else:
        st.success(t("import.done", count=result.imported))
