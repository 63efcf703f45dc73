"""培训: the scenario library, a step-by-step walkthrough with the rules, and practice on one's own copy."""

import streamlit as st

from dashboard.components import training_views
from dashboard.i18n import t
from dashboard.session import in_training, page_user

user = page_user("training")
st.title(t("training.title"))
if not in_training():
    training_views.enter(user)
    st.stop()
library, practice = st.tabs([t("training.library"), t("training.practice")])
with library:
    training_views.walkthrough(user)
with practice:
    training_views.practice(user)
