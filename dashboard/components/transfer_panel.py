"""The case page's statutory intake marks (issue 11 §3, §5): a major complaint's banner, the regulator's transfer
with its reply package and replies, the agent, and the two actions of services.casework.transfers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from dashboard.components.case_actions import DONE
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import error, pair, t
from dashboard.navigation import link
from dashboard.session import acting_user_id, now, uow
from services.casework import transfers
from services.casework.case_view import CaseDetail
from services.errors import Conflict, DomainError
from services.rules.intake_extras import GROUP_IN_PERSON_MIN, MAJOR_CAUSES


def transfer_mark(source: str) -> str:
    """A list's 监管转办 cell: the regulator's label, or nothing for the institution's own (issue 11 §3)."""
    return t(f"source.{source}") if source != "own" else ""


def major_mark(cause: str | None) -> str:
    return t(f"major_cause.{cause}") if cause else ""


def mark_columns() -> dict[str, object]:
    """The column_config entries of the two marks, for st.dataframe."""
    return {"transfer": st.column_config.TextColumn(t("field.transfer_mark")),
            "major_complaint": st.column_config.TextColumn(t("field.major_mark"))}


def show(detail: CaseDetail) -> None:
    with uow() as work:
        marks = transfers.case_marks(work, acting_user_id(), detail.case_no)
    if marks.major_cause:  # the emergency flow is running: say so above everything (order 3 art. 29)
        people = t("transfer.major_people", people=marks.major_people) if marks.major_people else ""
        st.error(t("transfer.major_banner", cause=t(f"major_cause.{marks.major_cause}"), people=people))
    if marks.source != "own":
        st.info(t("transfer.banner", source=t(f"source.{marks.source}"), ref=marks.regulator_ref or "",
                  day=marks.transferred_on.isoformat() if marks.transferred_on else ""))
        link("reply", t("transfer.open_reply"), {"case": detail.case_no})
        for reply in marks.replies:
            st.caption(t("transfer.replied", day=reply.sent_on.isoformat(), method=reply.method,
                         who=reply.recorded_by))
    if marks.channel_note:
        st.write(pair(t("field.channel_note"), marks.channel_note))
    if marks.agent_name:
        st.write(pair(t("transfer.agent"), t("transfer.agent_with_letter", agent=marks.agent_name,
                                               letter=marks.agent_authorisation or "")))
    if marks.may_reply:
        with st.expander(t("transfer.record_reply")):
            _record_reply(detail)
    if marks.may_declare_major:
        with st.expander(t("transfer.declare_major")):
            _declare_major(detail)


def _submit(detail: CaseDetail, action: str, call: Callable[..., Any], errors: FieldErrors, **values: Any) -> None:
    try:
        with uow() as work:
            call(work, acting_user_id(), detail.case_no, detail.version, **values)
    except Conflict as exc:
        error(exc)
    except DomainError as exc:
        errors.show(exc)
    else:
        st.session_state[DONE] = action
        st.rerun()


def _record_reply(detail: CaseDetail) -> None:
    errors = FieldErrors()
    sent_on = st.date_input(t("field.reply_sent_on"), value=now().date(), max_value=now().date(), key="rr_sent_on")
    errors.under("sent_on")
    method = st.text_input(t("field.reply_method"), key="rr_method", max_chars=64)
    errors.under("method")
    note = st.text_area(t("field.reply_note"), key="rr_note")
    errors.under("note")
    if st.button(t("transfer.record_reply"), key="action_regulator_reply"):
        _submit(detail, "regulator_reply", transfers.record_reply, errors, sent_on=sent_on, method=method, note=note)


def _declare_major(detail: CaseDetail) -> None:
    errors = FieldErrors()
    cause = st.selectbox(t("field.major_cause"), MAJOR_CAUSES, key="dm_cause",
                         format_func=lambda c: t(f"major_cause.{c}"))
    errors.under("major_cause")
    people = None
    if cause == "group_in_person":
        people = st.number_input(t("field.major_people"), min_value=0, value=GROUP_IN_PERSON_MIN, step=1,
                                 key="dm_people")
        errors.under("major_people")
    if st.button(t("transfer.declare_major"), key="action_declare_major"):
        _submit(detail, "declare_major", transfers.declare_major_later, errors, cause=cause, people=people)
