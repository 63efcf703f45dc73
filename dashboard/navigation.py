"""The page list of the signed-in user, and links between pages."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from dashboard.i18n import t

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
SECTIONS = {"section.work": ("home", "intake", "queue", "case", "escalation", "print", "letter", "reply"),
            "section.supervision": ("sampling", "disputes", "kpi", "training"),
            "section.system": ("admin", "audit")}
HIDDEN = ("case", "print", "letter", "reply")  # reached by links with ?case=TS-…, not from the menu
REGISTRY = "nav_pages"


def _page(name: str) -> st.Page:
    return st.Page(PAGES_DIR / f"{name}.py", title=t(f"nav.{name}"), url_path=name, default=name == "home",
                   visibility="hidden" if name in HIDDEN else "visible")


def _not_allowed(name: str) -> st.Page:
    """A page outside the user's role, asked for by its URL: the catalogue says so at that URL, where Streamlit
    would show its English "Page not found" (issue 10 §3). Only this runs, never the page's script; the menu
    (access.pages_for) and each page's own check (session.page_user) stay the authority."""
    def refuse() -> None:
        st.title(t(f"nav.{name}"))
        st.warning(t("nav.not_allowed", page=t(f"nav.{name}")))
        link("home")

    return st.Page(refuse, title=t(f"nav.{name}"), url_path=name, visibility="hidden")


def navigation(allowed: list[str]) -> Any:
    """st.navigation over the pages this user may open, grouped in sections; every other page only refuses."""
    names = [name for names in SECTIONS.values() for name in names if (PAGES_DIR / f"{name}.py").exists()]
    pages = {name: _page(name) for name in names if name in allowed}
    st.session_state[REGISTRY] = pages
    sections = {t(s): [pages[n] for n in names if n in pages] for s, names in SECTIONS.items()}
    groups = {label: group for label, group in sections.items() if group}
    refused = [_not_allowed(name) for name in names if name not in allowed]
    if groups and refused:  # hidden: in the menu's first section, which lists them nowhere
        first = next(iter(groups))
        groups[first] = groups[first] + refused
    return st.navigation(groups)


def link(name: str, label: str | None = None, query: dict[str, str] | None = None, container: Any = st) -> None:
    """A link to another page, shown only when the user may open it."""
    page = st.session_state.get(REGISTRY, {}).get(name)
    if page is not None:
        container.page_link(page, label=label or t(f"nav.{name}"), query_params=query)
