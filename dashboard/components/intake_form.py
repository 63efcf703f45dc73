"""The intake form's widgets (outside st.form, so the rules preview follows every change)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import streamlit as st

from dashboard import session
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import choosing, code, joined, lang, pair, t
from dashboard.text import literal
from services.rules.assess import Assessment
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.intake_extras import GROUP_IN_PERSON_MIN, MAJOR_CAUSES, OTHER_CHANNEL, SOURCES, top_role
from services.rules.policy import Policy

KEY = "intake_"  # every widget key of this form starts with it, so "register another" clears them all


def show(policy: Policy, errors: FieldErrors | None = None) -> dict[str, Any]:
    """Collect the complaint as plain values for services.casework.cases.intake (RULES.md §2 intake data);
    `errors` gets a slot under each field for its refusal."""
    errors = errors or FieldErrors()
    now = session.now()
    left, right = st.columns(2)
    name = left.text_input(t("field.customer_name"), key=KEY + "customer_name")
    errors.under("customer_name", left)
    phone = right.text_input(t("field.customer_phone"), key=KEY + "customer_phone")
    errors.under("customer_phone", right)
    id_number = left.text_input(t("field.customer_id_number"), key=KEY + "customer_id_number")
    errors.under("customer_id_number", left)
    account = right.text_input(t("field.customer_account_no"), key=KEY + "customer_account_no")
    errors.under("customer_account_no", right)
    day = left.date_input(t("field.received_date"), value=now.date(), max_value=now.date(), key=KEY + "date")
    time = right.time_input(t("field.received_time"), value=now.time().replace(second=0, microsecond=0),
                            key=KEY + "time")
    errors.under("received_at")
    channel = left.selectbox(t("field.channel"), list(policy.channels), key=KEY + "channel",
                             format_func=lambda c: code(policy, "channel", c))
    category = right.selectbox(t("field.category"), list(policy.categories), key=KEY + "category",
                               format_func=lambda c: code(policy, "category", c))
    # No min_value: the browser would clamp a negative claim to 0 without a word; the service refuses it.
    claim = left.number_input(t("field.compensation_claim"), step=1000.0, key=KEY + "claim")
    errors.under("compensation_claim", left)
    cause = right.selectbox(t("field.cause"), list(policy.causes), key=KEY + "cause",
                            format_func=lambda c: code(policy, "cause", c))
    flags = st.multiselect(t("field.flags"), list(policy.flags), key=KEY + "flags",
                           format_func=lambda f: code(policy, "flag", f), **choosing())
    content = st.text_area(t("field.content"), key=KEY + "content")
    errors.under("content")
    form = {"customer_name": name, "customer_phone": phone, "customer_id_number": id_number,
            "customer_account_no": account, "received_at": datetime.combine(day, time, SHANGHAI),
            "channel": channel, "category": category, "compensation_claim": claim, "cause": cause,
            "flags": flags, "content": content}
    if channel == OTHER_CHANNEL:  # what the channel was (issue 11 §7)
        form["channel_note"] = st.text_input(t("field.channel_note"), max_chars=200, key=KEY + "channel_note")
        errors.under("channel_note")
    return form | statutory(policy, now.date(), errors)


def statutory(policy: Policy, today: date, errors: FieldErrors) -> dict[str, Any]:
    """Source of a regulator's transfer, an agent, a major complaint (issue 11 §3, §5; RULES.md §7.2, §7.3)."""
    left, right = st.columns(2)
    source = left.selectbox(t("field.source"), SOURCES, key=KEY + "source", format_func=lambda s: t(f"source.{s}"))
    errors.under("source", left)
    form: dict[str, Any] = {"source": source}
    if source != "own":
        form["regulator_ref"] = right.text_input(t("field.regulator_ref"), max_chars=64, key=KEY + "regulator_ref")
        errors.under("regulator_ref", right)
        form["transferred_on"] = left.date_input(t("field.transferred_on"), value=None, max_value=today,
                                                 key=KEY + "transferred_on")
        errors.under("transferred_on", left)
    left, right = st.columns(2)
    form["agent_name"] = left.text_input(t("field.agent_name"), max_chars=128, key=KEY + "agent_name")
    errors.under("agent_name", left)
    form["agent_authorisation"] = right.text_input(t("field.agent_authorisation"), max_chars=200,
                                                   key=KEY + "agent_authorisation")
    errors.under("agent_authorisation", right)
    left, right = st.columns(2)
    form["major_cause"] = left.selectbox(t("field.major_cause"), [None, *MAJOR_CAUSES], key=KEY + "major_cause",
                                         format_func=lambda c: t(f"major_cause.{c}") if c else t("field.not_major"))
    errors.under("major_cause", left)
    if form["major_cause"]:  # said before saving: the emergency flow starts at once (order 3 art. 29)
        st.warning(t("intake.major_escalates", role=code(policy, "role", top_role(policy))))
    if form["major_cause"] == "group_in_person":
        form["major_people"] = right.number_input(t("field.major_people"), min_value=0, value=GROUP_IN_PERSON_MIN,
                                                  step=1, key=KEY + "major_people")
        errors.under("major_people", right)
    return form


def preview(policy: Policy, assessment: Assessment) -> None:
    """Grade, level, department, escalation and every deadline, with the explanation (issue 4 §1)."""
    st.metric(t("field.grade"), code(policy, "grade", assessment.grade))
    if assessment.handling_level:
        st.write(pair(t("field.handling_level"), code(policy, "handling_level", assessment.handling_level)))
    st.write(pair(t("field.department"), code(policy, "department", assessment.responsible_department)))
    if assessment.escalate_to:
        st.write(pair(t("field.escalate_to"), joined(code(policy, "role", r) for r in assessment.escalate_to)))
    if assessment.notify:
        st.write(pair(t("field.notify"), joined(code(policy, "department", d) for d in assessment.notify)))
    st.table({t("field.milestone"): [code(policy, "milestone", m.code) for m in assessment.milestones],
              t("field.due"): [format_deadline(m.due) for m in assessment.milestones]})
    for warning in assessment.warnings:
        st.warning(literal(warning))
    with st.expander(t("field.explanation"), expanded=lang() == "zh"):
        for line in assessment.explanation:
            st.caption(literal(line))


def reset() -> None:
    for key in [k for k in st.session_state if str(k).startswith(KEY)]:
        del st.session_state[key]
