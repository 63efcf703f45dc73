"""One form per case action (issue 4 §3); each calls one use case of services.casework.cases with the case's version.

Forms keep their input after a refusal, so a clerk who hits a conflict loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st

from dashboard.components import duties
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import code, error, t
from dashboard.session import acting_user_id, now, uow
from services.casework import cases
from services.casework.case_view import CaseDetail
from services.errors import Conflict, DomainError
from services.institution.directory import handlers_by_department
from services.rules.calendar import SHANGHAI, end_of_day
from services.rules.policy import Policy

DONE = "case_done"
SEEN = "case_seen"


def seen(fresh: CaseDetail, refresh: bool = False) -> CaseDetail:
    """The case as this user last loaded it; forms submit its version (optimistic locking)."""
    shown = st.session_state.setdefault(SEEN, {})
    if refresh or fresh.case_no not in shown:
        shown[fresh.case_no] = fresh
    return shown[fresh.case_no]


def _submit(detail: CaseDetail, action: str, call: Callable[..., Any], errors: FieldErrors | None = None,
            **values: Any) -> None:
    try:
        with uow() as work:
            call(work, acting_user_id(), detail.case_no, detail.version, **values)
    except Conflict as exc:
        error(exc)
        st.info(t("case.conflict_kept"))
    except DomainError as exc:
        (errors or FieldErrors()).show(exc)
    else:
        st.session_state[DONE] = action
        st.rerun()


def _satisfaction(key: str) -> int:
    return st.select_slider(t("form.satisfaction"), [1, 2, 3, 4, 5], value=4, key=key,
                            format_func=lambda s: t(f"satisfaction.{s}"))


def forward(detail: CaseDetail, policy: Policy) -> None:
    with uow() as work:
        handlers = handlers_by_department(work.session)
    department = st.selectbox(t("form.department"), list(policy.departments), key="fw_department",
                              index=list(policy.departments).index(detail.department_code)
                              if detail.department_code in policy.departments else 0,
                              format_func=lambda d: code(policy, "department", d))
    with st.form("action_forward"):
        people = dict(handlers.get(department, []))
        me = list(people).index(acting_user_id()) if acting_user_id() in people else 0  # small desks forward to self
        handler = st.selectbox(t("form.handler"), list(people), index=me, format_func=people.get, key="fw_handler")
        text = st.text_area(t("form.handling_form"), key="fw_text")
        recusal = duties.recusal_field(detail, "fw")  # RULES.md §7.2 art. 17
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "forward", cases.forward, department=department, handler_id=handler or 0,
                    handling_form=text, recusal_reason=recusal)


def reassign(detail: CaseDetail, policy: Policy) -> None:
    """Another handler of the same department (issue 10 §5); the service checks it again."""
    with uow() as work:
        staff = handlers_by_department(work.session).get(detail.department_code, [])
    people = {user_id: name for user_id, name in staff if name != detail.assignee}  # not the one who has it
    with st.form("action_reassign"):
        handler = st.selectbox(t("form.handler"), list(people), format_func=people.get, key="ra_handler")
        reason = st.text_area(t("form.reassign_reason"), key="ra_reason")
        recusal = duties.recusal_field(detail, "ra")  # RULES.md §7.2 art. 17
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "reassign", cases.reassign, handler_id=handler or 0, reason=reason,
                    recusal_reason=recusal)


def _one_text(detail: CaseDetail, action: str, call: Callable[..., Any], label: str, argument: str,
              key: str) -> None:
    """An action that needs one text: what was said, the explanation, the reason."""
    with st.form(f"action_{action}"):
        value = st.text_area(t(label), key=key)
        if st.form_submit_button(t("form.submit")):
            _submit(detail, action, call, **{argument: value})


def first_contact(detail: CaseDetail, policy: Policy) -> None:
    _one_text(detail, "first_contact", cases.first_contact, "form.note", "note", "fc_note")


def resolve(detail: CaseDetail, policy: Policy) -> None:
    errors = FieldErrors()  # each refusal under its field, redrawn on every submit (issue 10 §2)
    with st.form("action_resolve"):
        facts = st.text_area(t("form.fact_finding"), key="rs_facts")
        errors.under("fact_finding")
        measures = st.text_area(t("form.measures"), key="rs_measures")
        errors.under("measures")
        accountability = st.text_area(t("form.accountability"), key="rs_accountability")
        errors.under("accountability")
        # No min_value: the browser refused a negative amount without a word and 提交 did nothing (issue 10 §2).
        paid = st.number_input(t("field.compensation_paid"), step=100.0, key="rs_paid")
        errors.under("compensation_paid")
        signed = st.text_input(t("form.signed_confirmation"), key="rs_signed")
        errors.under("signed_confirmation")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "resolve", cases.resolve, errors, fact_finding=facts, measures=measures,
                    accountability=accountability, compensation_paid=paid, signed_confirmation=signed or None)


def invalid(detail: CaseDetail, policy: Policy) -> None:
    _one_text(detail, "invalid", cases.mark_invalid, "form.explanation", "explanation", "iv_explanation")


def _customer_contact(detail: CaseDetail, action: str, call: Callable[..., Any], prefix: str) -> None:
    """Feedback and return visit record the same things: how, how satisfied, what was said (RULES.md §2)."""
    with st.form(f"action_{action}"):
        method = st.text_input(t("form.method"), key=f"{prefix}_method")
        satisfaction = _satisfaction(f"{prefix}_satisfaction")
        note = st.text_area(t("form.note"), key=f"{prefix}_note")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, action, call, method=method, satisfaction=satisfaction, note=note)


def feedback(detail: CaseDetail, policy: Policy) -> None:
    """As the return visit, with the proof of notification (RULES.md §7.2, dashboard/components/duties.py)."""
    errors = FieldErrors()
    with st.form("action_feedback"):
        method = st.text_input(t("form.method"), key="fb_method")
        proof = duties.proof_fields(policy, "fb", errors)
        satisfaction = _satisfaction("fb_satisfaction")
        note = st.text_area(t("form.note"), key="fb_note")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "feedback", cases.feedback, errors, method=method, satisfaction=satisfaction, note=note,
                    **proof)


def return_visit(detail: CaseDetail, policy: Policy) -> None:
    _customer_contact(detail, "return_visit", cases.return_visit, "rv")


def archive(detail: CaseDetail, policy: Policy) -> None:
    with st.form("action_archive"):
        if st.form_submit_button(t("action.archive")):
            _submit(detail, "archive", cases.archive)


def extend(detail: CaseDetail, policy: Policy) -> None:
    with st.form("action_extend"):
        milestone = st.selectbox(t("form.milestone"), detail.extendable, key="ex_milestone",
                                 format_func=lambda m: code(policy, "milestone", m))
        new_due = st.date_input(t("form.new_due"), key="ex_due")
        reason = st.text_area(t("form.reason"), key="ex_reason")
        informed = st.date_input(t("form.informed_at"), key="ex_informed")
        method = st.text_input(t("form.informed_method"), key="ex_method")
        if st.form_submit_button(t("form.submit")):
            told = datetime.combine(informed, now().time(), SHANGHAI)
            _submit(detail, "extend", cases.extend, milestone=milestone, new_due=end_of_day(new_due), reason=reason,
                    customer_informed_at=told, informed_method=method)


def escalate(detail: CaseDetail, policy: Policy) -> None:
    with st.form("action_escalate"):
        role = st.selectbox(t("form.to_role"), list(policy.roles), key="es_role",
                            format_func=lambda r: code(policy, "role", r))
        reason = st.text_area(t("form.reason"), key="es_reason")
        if st.form_submit_button(t("form.submit")):
            _submit(detail, "escalate", cases.escalate, to_role=role, reason=reason)


def withdraw(detail: CaseDetail, policy: Policy) -> None:
    _one_text(detail, "withdraw", cases.withdraw, "form.reason", "reason", "wd_reason")


def re_complaint(detail: CaseDetail, policy: Policy) -> None:
    with st.form("action_re_complaint"):
        content = st.text_area(t("field.content"), key="rc_content")
        if st.form_submit_button(t("form.submit")):
            try:
                with uow() as work:
                    ref = cases.re_complaint(work, acting_user_id(), detail.case_no, detail.version,
                                             {"received_at": work.now(), "content": content})
            except DomainError as exc:
                error(exc)
            else:
                st.session_state[DONE] = "re_complaint"
                st.query_params["case"] = ref.case_no
                st.rerun()


def report_hq(detail: CaseDetail, policy: Policy) -> None:
    _one_text(detail, "report_hq", cases.report_hq, "form.note", "note", "hq_note")


FORMS: dict[str, Callable[[CaseDetail, Policy], None]] = {
    "forward": forward, "reassign": reassign, "first_contact": first_contact, "resolve": resolve, "invalid": invalid,
    "feedback": feedback, "return_visit": return_visit, "archive": archive, "extend": extend,
    "escalate": escalate, "withdraw": withdraw, "re_complaint": re_complaint, "report_hq": report_hq,
}
