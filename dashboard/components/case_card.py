"""The case page's read-only parts: facts with masked customer data, assessment, deadlines, timeline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard.components import sla
from dashboard.i18n import code, department, error, joined, lang, pair, t
from dashboard.navigation import link
from dashboard.session import acting_user_id, uow
from dashboard.text import literal
from services.casework.case_view import PII_LABELS, CaseDetail, escalation_reason, event_note, reveal_pii
from services.errors import DomainError
from services.rules import reasons
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.policy import Policy

PII_KEY = "revealed_pii"


def _when(at: object) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if at else ""  # type: ignore[attr-defined]


def facts(detail: CaseDetail, policy: Policy) -> None:
    revealed = st.session_state.setdefault(PII_KEY, {})
    left, right = st.columns(2)
    left.write(pair(t("field.customer_name"), detail.customer.name))
    for field in ("phone", "id_number", "account_no"):
        masked = getattr(detail.customer, field)
        if not masked:
            continue
        shown = revealed.get((detail.case_no, field), masked)
        left.write(pair(t(PII_LABELS[field]), shown))
        if detail.customer.can_reveal and (detail.case_no, field) not in revealed and \
                left.button(t("case.reveal", field=t(PII_LABELS[field])), key=f"rv_{field}"):
            try:
                with uow() as work:
                    revealed[(detail.case_no, field)] = reveal_pii(work, acting_user_id(), detail.case_no,
                                                                   field) + " " + t("case.revealed")
            except DomainError as exc:
                error(exc)
            st.rerun()
    right.write(pair(t("field.state"), t("state." + detail.state)))
    right.write(pair(t("field.channel"), code(policy, "channel", detail.channel)) + " · "
                + pair(t("field.category"), code(policy, "category", detail.category)))
    right.write(pair(t("field.received_at"), _when(detail.received_at)) + " · "
                + pair(t("field.first_responder"), detail.first_responder))
    right.write(pair(t("field.department"), department(policy, detail.department_code, detail.department_name)) + " · "
                + pair(t("field.assignee"), detail.assignee or "—"))
    st.write(pair(t("field.content"), detail.content))
    if detail.parent:
        link("case", f"{t('case.parent')} {detail.parent.case_no}", {"case": detail.parent.case_no})
    for child in detail.children:
        link("case", f"{t('case.children')} {child.case_no}", {"case": child.case_no})


def assessment(detail: CaseDetail, policy: Policy) -> None:
    level = " · " + pair(t("field.handling_level"), code(policy, "handling_level", detail.handling_level)) \
        if detail.handling_level else ""
    st.write(pair(t("field.grade"), code(policy, "grade", detail.grade)) + level)
    if detail.flags:
        st.write(pair(t("field.flags"), joined(code(policy, "flag", f) for f in detail.flags)))
    for warning in reasons.warnings(policy, detail.notices, lang()):
        st.warning(literal(warning))
    with st.expander(t("field.explanation")):
        for line in reasons.explanation(policy, detail.reasons, lang()):
            st.caption(literal(line))
    if detail.escalations:
        st.write(f"**{t('case.escalations')}**")
        for e in detail.escalations:
            answered = f" ✓ {e.acknowledged_by} {_when(e.acknowledged_at)}" if e.acknowledged_at else ""
            why = escalation_reason(lambda kind, c: code(policy, kind, c), e.rule_key, e.reason, lang())
            st.caption(literal(f"{_when(e.created_at)} → {code(policy, 'role', e.to_role)} · {why}{answered}"))


def deadlines(detail: CaseDetail, policy: Policy) -> None:
    st.dataframe(pd.DataFrame([{
        t("field.milestone"): code(policy, "milestone", d.milestone), t("field.due"): format_deadline(d.due_at),
        t("field.original_due"): format_deadline(d.original_due_at), t("field.sla"): sla.text(d.sla),
        t("field.met_at"): _when(d.met_at)} for d in detail.deadlines]), hide_index=True)


def timeline(detail: CaseDetail, policy: Policy) -> None:
    for entry in reversed(detail.timeline):
        moved = f" → {t('state.' + entry.to_state)}" if entry.to_state and entry.to_state != entry.from_state else ""
        who = entry.actor_name or t("case.system")
        st.markdown(f"**{_when(entry.at)}** · " + literal(f"{code(policy, 'event', entry.event_type)}{moved} · {who}"))
        note = event_note(policy, entry, lang())
        if note:
            st.caption(literal(note))
