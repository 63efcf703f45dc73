"""Tabs whose hidden panes do not run (issue 13 §4): plain `st.tabs` runs every tab's code on every rerun, so one
click on a page paid for all its tabs. Here the tabs track which is open and only that one's view runs."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st


def open_tab(views: dict[str, Callable[[], object]], labels: dict[str, str], key: str) -> str:
    """Tabs labelled `labels[name]` for each view; only the open one's view runs. Switching tabs reruns the page
    (the label sits in `st.session_state[key]`). A widget in a tab keeps its value while another tab is open only
    with `persist_state="page"`: Streamlit forgets a widget not drawn in a run. The open tab's name."""
    tabs = st.tabs([labels[name] for name in views], key=key, on_change="rerun")
    for (name, show), tab in zip(views.items(), tabs, strict=True):
        if tab.open:
            with tab:
                show()
            return name
    return ""

