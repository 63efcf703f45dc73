"""The case page's handling duties (RULES.md §7.2): the decision letter's link, the review (核查) and its
window, the employee complained about; and the proof-of-notification and recusal fields of the feedback,
forward and reassign forms. The services decide and check everything again; this only mirrors them.
"""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import error, t
from dashboard.navigation import link
from dashboard.session import acting_user_id, now, uow
from dashboard.text import literal
from services.casework import duties
from services.casework.case_view import CaseDetail
from services.errors import DomainError
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.duties import NOTIFICATION_METHODS
from services.rules.policy import Policy
from services.words import N_

DONE = "case_done"  # as case_actions.DONE: the page says which action was saved
_BUILT = (N_("action.request_review"), N_("action.name_complained_employee"), N_("nav.letter"),  # keys built
          N_("event.review_requested"), N_("event.recusal_override"))  # by the page, the menu and the timeline


def _view(detail: CaseDetail) -> duties.DutiesView:
    with uow() as work:
        return duties.duties_view(work, acting_user_id(), detail.case_no)


def proof_fields(policy: Policy, prefix: str, errors: FieldErrors) -> dict[str, str | None]:
    """How the complainant was told and its evidence (art. 21): asked on every feedback form, required where the
    pack has the statutory layer (the service refuses feedback without them)."""
    required = policy.statutory_on
    choices: list[str | None] = list(NOTIFICATION_METHODS) if required else [None, *NOTIFICATION_METHODS]
    method = st.selectbox(t("duties.notification_method") + (" *" if required else ""), choices,
                          key=f"{prefix}_notification_method",
                          format_func=lambda m: t(f"notification_method.{m}") if m else t("duties.none"))
    errors.under("notification_method")
    ref = st.text_input(t("duties.notification_ref") + (" *" if required else ""), key=f"{prefix}_notification_ref",
                        help=t("duties.notification_ref_help"))
    errors.under("notification_ref")
    return {"notification_method": method, "notification_ref": ref or None}


def recusal_field(detail: CaseDetail, prefix: str) -> str | None:
    """The override reason, asked only on a case that names the employee complained about (art. 17)."""
    view = _view(detail)
    if view.complained_employee is None:
        return None
    st.caption(literal(t("duties.recusal_hint", name=view.complained_employee)))
    return st.text_input(t("duties.recusal_reason"), key=f"{prefix}_recusal_reason") or None


def panel(detail: CaseDetail, policy: Policy) -> None:
    """Below the case's tabs: what the duties say about this case, and the forms the user may use."""
    view = _view(detail)
    if view.letter_ready:
        link("letter", t("duties.letter"), {"case": detail.case_no})
    if view.reviewed_case_no:
        st.info(literal(t("duties.is_review", case_no=view.reviewed_case_no)))
        link("case", t("duties.open_case", case_no=view.reviewed_case_no), {"case": view.reviewed_case_no})
    if view.review_due:
        st.caption(literal(t("duties.review_due", due=format_deadline(view.review_due))))
    for case_no in view.review_case_nos:
        st.info(literal(t("duties.reviewed_by", case_no=case_no)))
        link("case", t("duties.open_case", case_no=case_no), {"case": case_no})
    if view.review_request_ends and not view.review_case_nos:
        st.caption(literal(t("duties.review_window", last=format_deadline(view.review_request_ends))))
    if view.complained_employee:
        st.caption(literal(t("duties.complained_employee_is", name=view.complained_employee)))
    if view.complained_is_handler:
        st.warning(literal(t("duties.handled_by_complained", reason=view.recusal_override or "")))
    if view.may_name:
        with st.expander(t("duties.name_employee")):
            _name_form(detail, view)
    if view.may_request_review:
        with st.expander(t("duties.request_review")):
            _review_form(detail, view)


def _name_form(detail: CaseDetail, view: duties.DutiesView) -> None:
    people = dict(view.staff)
    with st.form("duties_name"):
        chosen = st.selectbox(t("duties.complained_employee"), [None, *people], key="du_employee",
                              format_func=lambda i: people[i] if i is not None else t("duties.none"))
        if st.form_submit_button(t("form.submit")):
            try:
                with uow() as work:
                    duties.name_complained_employee(work, acting_user_id(), detail.case_no, view.version, chosen)
            except DomainError as exc:
                error(exc)
            else:
                st.session_state[DONE] = "name_complained_employee"
                st.rerun()


def _review_form(detail: CaseDetail, view: duties.DutiesView) -> None:
    with st.form("duties_review"):
        day = st.date_input(t("duties.review_received_on"), value=now().date(), key="du_review_day")
        content = st.text_area(t("duties.review_content"), key="du_review_content")
        if st.form_submit_button(t("form.submit")):
            received = datetime.combine(day, now().time(), SHANGHAI)
            try:
                with uow() as work:
                    ref = duties.request_review(work, acting_user_id(), detail.case_no, view.version, received,
                                                content)
            except DomainError as exc:
                error(exc)
            else:
                st.session_state[DONE] = "request_review"
                st.query_params["case"] = ref.case_no
                st.session_state.pop("case_pick", None)  # the page's case box then reads the new number
                st.rerun()
