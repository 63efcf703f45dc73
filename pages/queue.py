"""我的待办: my cases, nearest deadline first, with SLA badges; filtered and paged in SQL.

A table (issue 10 §3): full case numbers linking to the case, labels not codes, sortable columns.
The filters come from the query string too, so a home tile opens exactly what it counts (issue 10 §4).
"""

import pandas as pd
import streamlit as st

from dashboard.components import sla
from dashboard.i18n import choosing, code, error, t
from dashboard.navigation import link
from dashboard.session import page_user, uow
from services.casework.cases import reassign_many
from services.casework.queue import DUE, filters_from_query, my_queue
from services.errors import DomainError
from services.export import neutralised
from services.institution.directory import handlers_by_department
from services.rules.calendar import SHANGHAI
from services.rules.transitions import CLOSED_STATES, OPEN_STATES, states_for

PAGE_SIZE = 100
CASE_NO_WIDTH = 170  # px: "TS-20261130-000001" whole at 1366 px (issue 10 §3)
user = page_user("queue")
st.title(t("queue.title"))
with uow() as work:
    policy = work.policy()
asked = filters_from_query(st.query_params.to_dict())


def chosen(name: str, options: list[str]) -> list[str]:
    """The query string's values for a filter, those it may take (a hand-edited link may carry others)."""
    return [value for value in asked.get(name, []) if value in options]


views = ["assigned", "first_responder"] + (["department"] if "dept_head" in user.roles else [])
shown_view = asked.get("view") if asked.get("view") in views else views[0]
# A click on the selected view deselected it and fell back to another view, often empty ("共 0 件"):
# required keeps it selected, and a deselection that still arrives keeps the view shown last (issue 10 §3).
view = (st.segmented_control(t("queue.view"), views, format_func=lambda v: t(f"queue.view.{v}"),
                             default=shown_view, required=True, key="queue_view")
        or st.session_state.get("queue_last_view", shown_view))
st.session_state["queue_last_view"] = view
ANY = t("queue.filter_any")  # an empty filter keeps everything; Streamlit's own says "Choose options"
state_options, grade_options = [*OPEN_STATES, *CLOSED_STATES], list(dict.fromkeys(g.code for g in policy.grades))
columns = st.columns(4)
states = columns[0].multiselect(t("field.state"), state_options, default=chosen("states", state_options),
                                format_func=lambda s: t(f"state.{s}"), **choosing(t("queue.filter_open")),
                                key="queue_states")  # no state chosen: the open ones (my_queue)
grades = columns[1].multiselect(t("field.grade"), grade_options, default=chosen("grades", grade_options),
                                format_func=lambda g: code(policy, "grade", g), **choosing(ANY), key="queue_grades")
categories = columns[2].multiselect(t("field.category"), list(policy.categories),
                                    default=chosen("categories", list(policy.categories)),
                                    format_func=lambda c: code(policy, "category", c), **choosing(ANY),
                                    key="queue_categories")
channels = columns[3].multiselect(t("field.channel"), list(policy.channels),
                                  default=chosen("channels", list(policy.channels)),
                                  format_func=lambda c: code(policy, "channel", c), **choosing(ANY),
                                  key="queue_channels")
due = asked.get("due") if asked.get("due") in DUE else None
if due:  # a home tile's 已超期 / 即将超期: said, and one click away from the whole list
    st.caption(t("queue.due_only", what=t(f"home.{due}")))
    link("queue", t("queue.due_clear"), {"view": view})
page = st.number_input(t("field.page"), min_value=1, value=1, key="queue_page")
try:
    with uow() as work:
        result = my_queue(work, user.id, view=view, states=states, grades=grades, categories=categories,
                          channels=channels, due=due, page=int(page), page_size=PAGE_SIZE)
except DomainError as exc:
    error(exc)
    st.stop()
st.caption(t("queue.total", total=result.total, page=result.page, pages=result.pages))
if done := st.session_state.pop("queue_reassigned", 0):  # said after the rerun that refreshed the list
    st.success(t("queue.reassigned", count=done))
if not result.rows:
    st.info(t("queue.empty"))
    st.stop()
frame = pd.DataFrame([{
    "case": f"case?case={r.case_no}", "sla": sla.text(r.deadline),
    "due": r.deadline.due_text if r.deadline else "",
    # the regulator's clock beside the nearest one (RULES.md §7.1)
    "statutory": f"{sla.text(r.statutory)} {r.statutory.due_text}" if r.statutory else "—",
    "state": t(f"state.{r.state}"),
    "grade": code(policy, "grade", r.grade), "category": code(policy, "category", r.category),
    "channel": code(policy, "channel", r.channel), "customer": r.customer_name,
    "assignee": r.assignee_name or "", "received": r.received_at.astimezone(SHANGHAI)} for r in result.rows])
if not any(r.statutory for r in result.rows):  # a pack without the regulator's clock: no empty column
    frame = frame.drop(columns="statutory")
# A head's department view selects rows to reassign several at once (issue 10 §2); a new key after each
# reassignment, so a spent selection cannot point at whatever rows move into its place.
selecting = view == "department"
chosen_rows = dict(on_select="rerun", selection_mode="multi-row",
                   key=f"queue_table_{st.session_state.get('queue_round', 0)}") if selecting else {}
# Dataframe cells are never Markdown; the toolbar's CSV download must not carry a formula (issue 8 §5).
picked = st.dataframe(neutralised(frame), hide_index=True, **chosen_rows, column_config={
    "case": st.column_config.LinkColumn(t("field.case_no"), display_text=r"case=(.*)$", width=CASE_NO_WIDTH),
    "sla": st.column_config.TextColumn(t("field.sla")),
    "due": st.column_config.TextColumn(t("field.deadline")),
    "statutory": st.column_config.TextColumn(t("field.statutory_clock")),
    "state": st.column_config.TextColumn(t("field.state")),
    "grade": st.column_config.TextColumn(t("field.grade")),
    "category": st.column_config.TextColumn(t("field.category")),
    "channel": st.column_config.TextColumn(t("field.channel")),
    "customer": st.column_config.TextColumn(t("field.customer")),
    "assignee": st.column_config.TextColumn(t("field.assignee")),
    "received": st.column_config.DatetimeColumn(t("field.received_at"), format="YYYY-MM-DD HH:mm"),
})
# The versions the user saw: the click reruns this script, whose fresh query would hide a change made
# meanwhile by someone else (issue 10 §2: versions as loaded).
seen = st.session_state.get("queue_versions", {})
st.session_state["queue_versions"] = {r.case_no: r.version for r in result.rows}
if selecting:
    chosen = [result.rows[i] for i in picked.selection.rows if i < len(result.rows)]
    movable = [r for r in chosen if r.state in states_for("reassign")]  # forwarded / in progress only
    if len(movable) < len(chosen):
        st.info(t("queue.reassign_skipped", count=len(chosen) - len(movable)))
    with uow() as work:
        people = dict(handlers_by_department(work.session).get(user.department_code or "", []))
    with st.form("queue_reassign"):
        st.caption(t("queue.reassign_hint"))
        handler = st.selectbox(t("form.handler"), list(people), format_func=people.get, key="qr_handler")
        reason = st.text_area(t("form.reassign_reason"), key="qr_reason")
        if st.form_submit_button(t("queue.reassign_selected", count=len(movable)), type="primary"):
            try:
                with uow() as work:  # all or nothing, each case at the version shown (issue 10 §2)
                    reassign_many(work, user.id, [(r.case_no, seen.get(r.case_no, r.version)) for r in movable],
                                  handler_id=handler or 0, reason=reason)
            except DomainError as exc:
                error(exc)
            else:
                st.session_state["queue_round"] = st.session_state.get("queue_round", 0) + 1
                st.session_state["queue_reassigned"] = len(movable)
                st.rerun()
