"""初始设置: create the admin, choose the pack, optionally load the demo institution."""

import streamlit as st

from dashboard.i18n import error, lang, t
from dashboard.session import uow
from demo.loader import DEMO_CASES, set_up
from services.errors import DomainError
from services.rules.packs import load_policy
from services.rules.policy import PACK_CODES

st.title(t("setup.title"))
st.write(t("setup.intro"))
with st.form("setup"):
    # The shipped packs to choose from: nothing is active yet (issue 9 §1).
    pack = st.selectbox(t("setup.pack"), PACK_CODES, format_func=lambda c: load_policy(c).name.text(lang()),
                        key="setup_pack")
    username = st.text_input(t("setup.admin_username"), value="admin", key="setup_username")
    name = st.text_input(t("setup.admin_name"), key="setup_name")
    password = st.text_input(t("setup.admin_password"), type="password", key="setup_password")
    # the size COMPLAINTS_DEMO_CASES sets, not a fixed "约 2,000" (issue 10 §4)
    demo = st.checkbox(t("setup.demo_count", cases=f"{DEMO_CASES:,}"), key="setup_demo")
    submitted = st.form_submit_button(t("setup.submit"), type="primary")
if submitted:
    try:
        # a real progress bar with the step being done, not a spinner for a minute (issue 10 §4)
        bar = st.progress(0.0, text=t("setup.step.admin"))
        with uow() as work:
            result = set_up(work, pack=pack, admin_username=username, admin_name=name, admin_password=password,
                            demo=demo, progress=lambda done, key, params: bar.progress(done, text=t(key, **params)))
    except DomainError as exc:
        error(exc)
    else:
        st.session_state["setup_result"] = result
        st.rerun()
