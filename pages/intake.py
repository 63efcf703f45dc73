"""投诉登记: the form, a live preview of what the rules decide, repeat-complaint warning, save once."""

from uuid import uuid4

import streamlit as st

from dashboard.components import intake_form
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import lang, t
from dashboard.navigation import link
from dashboard.session import page_user, uow
from dashboard.text import literal
from services.casework import cases
from services.casework.queue import intake_preview, recent_complaints
from services.errors import DomainError, InvalidInput

user = page_user("intake")
st.title(t("intake.title"))
saved = st.session_state.get("intake_saved")
if saved:
    st.success(t("intake.saved", case_no=saved))
    link("case", t("intake.open_case"), {"case": saved})
    if st.button(t("intake.another")):
        intake_form.reset()  # every intake_ key, intake_saved included: popping it again crashed (issue 10 §1)
        st.rerun()
    st.stop()
with uow() as work:
    policy = work.policy()
form_column, preview_column = st.columns([3, 2])
errors = FieldErrors()  # each refusal under the field it names (issue 10 §2)
with form_column:
    form = intake_form.show(policy, errors)
with preview_column, uow() as work:
    st.subheader(t("intake.preview"))
    try:
        intake_form.preview(policy, intake_preview(work, user.id, form, lang()))
    except InvalidInput as exc:
        errors.show(exc)
    recent = recent_complaints(work, user.id, form["customer_phone"], form["customer_id_number"])
parent = None
if recent.visible or recent.elsewhere:
    st.warning(t("intake.repeat_warning", count=len(recent.visible) + recent.elsewhere))
    for item in recent.visible:
        link("case", f"{item.case_no} · {t('state.' + item.state)} · {literal(item.excerpt)}", {"case": item.case_no})
    if recent.elsewhere:  # other desks' cases: a count, nothing of their content (issue 8 §1)
        st.caption(t("intake.repeat_elsewhere", count=recent.elsewhere))
    eligible = {r.case_no: r for r in recent.visible if r.re_complaint}
    parent = eligible.get(st.selectbox(t("intake.as_re_complaint"), [None, *eligible],
                                       format_func=lambda c: c or t("intake.new_case")))
if st.checkbox(t("intake.resolved_at_intake"), key="intake_resolved") and not parent:
    form["resolved_at_intake"] = True
    form["explanation"] = st.text_area(t("intake.explanation"), key="intake_explanation")
    errors.under("explanation")
    form["satisfaction"] = st.select_slider(t("intake.satisfaction"), [1, 2, 3, 4, 5], value=4,
                                            format_func=lambda s: t(f"satisfaction.{s}"), key="intake_satisfaction")
form["intake_key"] = st.session_state.setdefault("intake_key_value", uuid4().hex)
if st.button(t("intake.save"), type="primary"):
    try:
        with uow() as work:
            ref = (cases.re_complaint(work, user.id, parent.case_no, parent.version, form) if parent
                   else cases.intake(work, user.id, form))
    except DomainError as exc:
        errors.show(exc)
    else:
        st.session_state["intake_saved"] = ref.case_no
        st.session_state.pop("intake_key_value")
        st.rerun()
