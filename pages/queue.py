"""我的待办: my cases, nearest deadline first, with SLA badges; filtered and paged in SQL."""

import streamlit as st

from dashboard.components import sla
from dashboard.i18n import choosing, code, error, t
from dashboard.navigation import link
from dashboard.session import page_user, uow
from dashboard.text import literal
from services.casework.queue import my_queue
from services.errors import DomainError
from services.rules.transitions import CLOSED_STATES, OPEN_STATES

COLUMNS = [2, 3, 2, 1, 1, 2, 1, 1]
user = page_user("queue")
st.title(t("queue.title"))
with uow() as work:
    policy = work.policy()
views = ["assigned", "first_responder"] + (["department"] if "dept_head" in user.roles else [])
asked = st.query_params.get("view")
view = st.segmented_control(t("queue.view"), views, format_func=lambda v: t(f"queue.view.{v}"),
                            default=asked if asked in views else views[0], key="queue_view") or views[0]
columns = st.columns(4)
states = columns[0].multiselect(t("field.state"), OPEN_STATES + CLOSED_STATES,
                                format_func=lambda s: t(f"state.{s}"), key="queue_states", **choosing())
grades = columns[1].multiselect(t("field.grade"), list(dict.fromkeys(g.code for g in policy.grades)),
                                format_func=lambda g: code(policy, "grade", g), key="queue_grades", **choosing())
categories = columns[2].multiselect(t("field.category"), list(policy.categories),
                                    format_func=lambda c: code(policy, "category", c), key="queue_categories",
                                    **choosing())
channels = columns[3].multiselect(t("field.channel"), list(policy.channels),
                                  format_func=lambda c: code(policy, "channel", c), key="queue_channels", **choosing())
page = st.number_input(t("field.page"), min_value=1, value=1, key="queue_page")
try:
    with uow() as work:
        result = my_queue(work, user.id, view=view, states=states, grades=grades, categories=categories,
                          channels=channels, page=int(page))
except DomainError as exc:
    error(exc)
    st.stop()
st.caption(t("queue.total", total=result.total, page=result.page, pages=result.pages))
if not result.rows:
    st.info(t("queue.empty"))
    st.stop()
head = st.columns(COLUMNS)
for column, key in zip(head, ("field.case_no", "field.sla", "field.deadline", "field.state", "field.grade",
                              "field.category", "field.customer", "field.assignee"), strict=True):
    column.caption(t(key))
for r in result.rows:  # one click to the case (issue 4 §2)
    cells = st.columns(COLUMNS)
    link("case", r.case_no, {"case": r.case_no}, container=cells[0])
    cells[1].write(sla.text(r.deadline))
    cells[2].write(r.deadline.due_text if r.deadline else "")
    cells[3].write(t(f"state.{r.state}"))
    cells[4].write(literal(code(policy, "grade", r.grade)))  # pack labels are an admin's text (issue 8 §5)
    cells[5].write(literal(code(policy, "category", r.category)))
    cells[6].write(literal(r.customer_name))
    cells[7].write(literal(r.assignee_name or ""))
