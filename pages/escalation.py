"""升级看板: overdue, at-risk, major/L1 and escalated cases by handling level and department."""

import pandas as pd
import streamlit as st

from dashboard.components import sla
from dashboard.i18n import code, department, error, joined, t
from dashboard.session import page_user, uow
from dashboard.text import literal
from services.casework.escalation import acknowledge, board, grouped
from services.errors import DomainError
from services.supervision.reviews import overdue_actions

user = page_user("escalation")
st.title(t("board.title"))
with uow() as work:  # only reads: the server's sweep or cron records the escalations (issue 9 §8)
    rows, policy = board(work, user.id), work.policy()
    late_actions = overdue_actions(work, user.id)
if not rows:
    st.success(t("board.empty"))
for group in grouped(rows):
    level = code(policy, "handling_level", group.handling_level) if group.handling_level else "—"
    name = department(policy, group.department_code, group.department_name)
    st.subheader(t("board.group", level=literal(level), department=literal(name)))
    st.dataframe(pd.DataFrame([{
        t("field.case_no"): f"case?case={r.case_no}", t("field.sla"): sla.text(r.deadline),
        t("field.grade"): code(policy, "grade", r.grade), t("field.assignee"): r.responsible_person,
        t("board.reason"): joined(t(f"board.why.{x}") for x in r.reasons)}
        for r in group.rows]), hide_index=True,
        column_config={t("field.case_no"): st.column_config.LinkColumn(display_text=r"case=(.*)$")})
    for r in group.rows:
        for e in (e for e in r.escalations if e.id in r.to_answer):
            label = literal(f"{t('board.acknowledge')} {r.case_no} → {code(policy, 'role', e.to_role)}")
            if st.button(label, key=f"ack_{e.id}"):
                try:
                    with uow() as work:
                        acknowledge(work, user.id, e.id)
                except DomainError as exc:
                    error(exc)
                else:
                    st.rerun()
if late_actions:
    st.subheader(t("board.overdue_actions"))
    st.dataframe(pd.DataFrame([{t("field.case_no"): a.case_no, t("board.finding"): a.finding,
                                t("field.department"): a.owner_department, t("field.assignee"): a.owner,
                                t("field.due"): a.due_date} for a in late_actions]), hide_index=True)
