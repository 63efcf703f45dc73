"""案件详情 (?case=TS-…): facts, assessment, deadlines, timeline and exactly the actions allowed."""

import streamlit as st

from dashboard.components import case_actions, case_card, classification, clock_forms, duties, transfer_panel
from dashboard.i18n import error, t
from dashboard.navigation import link
from dashboard.session import page_user, uow
from services.casework.case_view import case_detail
from services.errors import DomainError

user = page_user("case")
case_no = st.text_input(t("case.pick"), value=st.query_params.get("case", ""), key="case_pick").strip()
if not case_no:
    st.stop()
st.query_params["case"] = case_no
try:
    with uow() as work:
        fresh = case_detail(work, user.id, case_no)
        policy = work.policy(fresh.pack)
except DomainError as exc:  # outside one's scope: "not permitted", and nothing of the case
    error(exc)
    st.stop()
done = st.session_state.pop(case_actions.DONE, None)
# The page keeps showing the version this user saw, so a colleague's save makes theirs a conflict, not a surprise.
detail = case_actions.seen(fresh, refresh=bool(done))
st.title(t("case.title", case_no=detail.case_no))
if done:
    st.success(t("case.done", action=t(f"action.{done}")))
if detail.version != fresh.version:
    st.warning(t("case.changed"))
    if st.button(t("case.reload")):
        case_actions.seen(fresh, refresh=True)
        st.rerun()
link("print", t("case.print"), {"case": detail.case_no})
transfer_panel.show(detail)  # issue 11 §3, §5: major banner, regulator transfer, agent
facts, rules, due, history = st.tabs([t("case.facts"), t("case.assessment"), t("case.deadlines"), t("case.timeline")])
with facts:
    case_card.facts(detail, policy)
with rules:
    case_card.assessment(detail, policy)
with due:
    case_card.deadlines(detail, policy)
with history:
    case_card.timeline(detail, policy)
classification.show(detail)  # JR/T 0169 codes (issue 11 §6)
duties.panel(detail, policy)  # decision letter, review, recusal (RULES.md §7.2)
st.subheader(t("case.actions"))
if not detail.allowed_actions:
    st.info(t("case.no_actions"))
forms = {**case_actions.FORMS, **clock_forms.FORMS}
for action in detail.allowed_actions:
    with st.expander(t(f"action.{action}")):
        forms[action](detail, policy)
