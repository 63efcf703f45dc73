"""The case page's forms for the regulator's clock (RULES.md §7.1): one per use case of
services.casework.statutory, submitted with the case's version like every case action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from dashboard.components.case_actions import _submit
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import code, t
from dashboard.session import now
from db.models import PAUSE_KINDS
from services.casework import statutory
from services.casework.case_view import CaseDetail
from services.rules.calendar import SHANGHAI
from services.rules.policy import Policy


def _moment(label: str, key: str) -> datetime:
    """A day and a time of day, Shanghai (a complainant told, new facts received)."""
    day, hour = st.columns(2)
    picked = day.date_input(t(label), value=now().date(), key=f"{key}_day")
    at = hour.time_input(t("form.time_of_day"), value=now().time().replace(second=0, microsecond=0), key=f"{key}_time")
    return datetime.combine(picked, at, SHANGHAI)


def pause_clock(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    ended = st.checkbox(t("form.pause_already_over"), key="pc_over")
    with st.form("action_pause_clock"):
        kind = st.selectbox(t("form.pause_kind"), PAUSE_KINDS, key="pc_kind", format_func=lambda k: t(f"pause.{k}"))
        starts_on = st.date_input(t("form.pause_starts_on"), value=now().date(), key="pc_start")
        errors.under("starts_on")
        ends_on = st.date_input(t("form.pause_ends_on"), value=now().date(), key="pc_end") if ended else None
        errors.under("ends_on")
        reason = st.text_area(t("form.reason"), key="pc_reason")
        errors.under("reason")
        told = _moment("form.informed_at", "pc_told")
        method = st.text_input(t("form.informed_method"), key="pc_method")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "pause_clock", statutory.pause_clock, errors, kind=kind, starts_on=starts_on,
                    ends_on=ends_on, reason=reason, complainant_informed_at=told, informed_method=method)


def resume_clock(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_resume_clock"):
        ends_on = st.date_input(t("form.pause_ends_on"), value=now().date(), key="rc_end")
        errors.under("ends_on")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "resume_clock", statutory.resume_clock, errors, ends_on=ends_on)


def restart_clock(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_restart_clock"):
        received = _moment("form.new_facts_received", "rs_new")
        errors.under("received_at")
        note = st.text_area(t("form.new_facts"), key="rs_note")
        errors.under("note")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "restart_clock", statutory.restart_clock, errors, received_at=received, note=note)


def merge_repeat(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_merge_repeat"):
        received = _moment("form.repeat_received", "mr_at")
        errors.under("received_at")
        channel = st.selectbox(t("field.channel"), list(policy.channels), key="mr_channel",
                               format_func=lambda c: code(policy, "channel", c))
        content = st.text_area(t("field.content"), key="mr_content")
        errors.under("content")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "merge_repeat", statutory.merge_repeat, errors, received_at=received, channel=channel,
                    content=content)


def extend_statutory(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_extend_statutory"):
        st.caption(t("form.statutory_extension_note"))
        reason = st.text_area(t("form.reason"), key="es_reason_statutory")
        errors.under("reason")
        told = _moment("form.informed_at", "es_told")
        method = st.text_input(t("form.informed_method"), key="es_method")
        errors.under("informed_method")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "extend_statutory", statutory.extend_statutory, errors, reason=reason,
                    customer_informed_at=told, informed_method=method)


def request_extension(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_request_extension"):
        reason = st.text_area(t("form.reason"), key="rq_reason")
        errors.under("reason")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "request_extension", statutory.request_extension, errors, reason=reason)


def approve_extension(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()
    with st.form("action_approve_extension"):
        approve = st.radio(t("form.approval"), [True, False], key="ap_approve", horizontal=True,
                           format_func=lambda yes: t("form.approve") if yes else t("form.refuse"))
        reason = st.text_area(t("form.approval_reason"), key="ap_reason")
        errors.under("reason")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "approve_extension", statutory.decide_extension, errors, approve=approve, reason=reason)


FORMS: dict[str, Callable[[CaseDetail, Policy], None]] = {
    "pause_clock": pause_clock, "resume_clock": resume_clock, "restart_clock": restart_clock,
    "merge_repeat": merge_repeat, "extend_statutory": extend_statutory, "request_extension": request_extension,
    "approve_extension": approve_extension,
}
