"""升级看板: overdue, at-risk, major/L1 cases and every unacknowledged escalation, in one sortable table."""

from functools import cache

import pandas as pd
import streamlit as st

from dashboard.components import sla, transfer_panel
from dashboard.i18n import code, department, error, joined, t
from dashboard.session import page_user, uow
from services.casework.escalation import acknowledge_many, board
from services.errors import DomainError
from services.export import neutralised
from services.rules.calendar import SHANGHAI
from services.supervision.reviews import overdue_actions

user = page_user("escalation")
st.title(t("board.title"))
# only reads (the server's sweep or cron records the escalations, issue 9 §8): the read engine (issue 13 §5) —
# except right after an acknowledgement, which a standby may not have replayed yet
with uow(reading=not st.session_state.pop("board_acknowledged", False)) as work:
    rows, policy = board(work, user.id), work.policy()
    late_actions = overdue_actions(work, user.id)
if not rows:
    st.success(t("board.empty"))
else:  # one table, not one button per escalation (issue 10 §1)
    # each label worked out once per distinct code, not for each of up to 500 rows (issue 13 §4)
    label = cache(lambda kind, value: code(policy, kind, value))
    why = cache(lambda reason: t(f"board.why.{reason}"))
    unit = cache(lambda value, name: department(policy, value, name))
    table = pd.DataFrame([{
        "case": f"case?case={r.case_no}",
        "level": label("handling_level", r.handling_level) if r.handling_level else "—",
        "department": unit(r.department_code, r.department_name),
        "reason": joined(why(x) for x in r.reasons),
        "sla": sla.text(r.deadline), "grade": label("grade", r.grade), "assignee": r.responsible_person,
        "escalated_to": joined(label("role", e.to_role) for e in r.escalations if e.acknowledged_at is None),
        "escalated_at": min((e.created_at.astimezone(SHANGHAI).replace(tzinfo=None)
                             for e in r.escalations if e.acknowledged_at is None), default=None),
        "yours": len(r.to_answer), "transfer": transfer_panel.transfer_mark(r.source),
        "major_complaint": transfer_panel.major_mark(r.major_cause)} for r in rows])
    picked = st.dataframe(
        # a new key after each acknowledgement: a kept selection would point at whatever rows move into its place
        table, hide_index=True, key=f"board_table_{st.session_state.get('board_round', 0)}", on_select="rerun",
        selection_mode="multi-row",
        column_config={
            "case": st.column_config.LinkColumn(t("field.case_no"), display_text=r"case=(.*)$", width="medium"),
            "level": st.column_config.TextColumn(t("field.handling_level")),
            "department": st.column_config.TextColumn(t("field.department")),
            "reason": st.column_config.TextColumn(t("board.reason"), width="medium"),
            "sla": st.column_config.TextColumn(t("field.sla")),
            "grade": st.column_config.TextColumn(t("field.grade")),
            "assignee": st.column_config.TextColumn(t("field.assignee")),
            "escalated_to": st.column_config.TextColumn(t("board.escalated_to")),
            "escalated_at": st.column_config.DatetimeColumn(t("board.escalated_at"), format="YYYY-MM-DD HH:mm"),
            "yours": st.column_config.NumberColumn(t("board.yours"), help=t("board.yours_help")),
            **transfer_panel.mark_columns()})  # issue 11 §3, §5
    chosen = [rows[i] for i in picked.selection.rows if i < len(rows)]
    to_answer = [e for r in chosen for e in r.to_answer]
    if chosen and not to_answer:
        st.info(t("board.nothing_to_acknowledge"))
    if st.button(t("board.acknowledge_selected", count=len(to_answer)), disabled=not to_answer, type="primary"):
        try:
            with uow() as work:
                acknowledge_many(work, user.id, to_answer)
        except DomainError as exc:
            error(exc)
        else:
            st.session_state["board_round"] = st.session_state.get("board_round", 0) + 1
            st.session_state["board_acknowledged"] = True
            st.rerun()
if late_actions:
    st.subheader(t("board.overdue_actions"))
    # the department by its label (issue 10 §3); the finding is the reviewer's text, inert in the CSV (issue 8 §5)
    st.dataframe(neutralised(pd.DataFrame([{
        t("field.case_no"): a.case_no, t("board.finding"): a.finding,
        t("field.department"): code(policy, "department", a.owner_department), t("field.assignee"): a.owner,
        t("field.due"): a.due_date} for a in late_actions])), hide_index=True)
