"""The reader's language on screen: Simplified Chinese first, English one click away.

Codes from the policy packs (categories, departments, grades…) are labelled by the pack data
through `code()`; every other text comes from the catalogue (services/words.py) through `t()`.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from dashboard.text import literal
from services import words
from services.errors import DomainError
from services.rules.policy import Policy

LANGS = {"zh": "中文", "en": "English"}  # each language named in itself


def lang() -> str:
    return st.session_state.get("lang", "zh")


def t(key: str, **values: Any) -> str:
    return words.text(key, lang(), **values)


def code(policy: Policy, kind: str, value: str) -> str:
    """A pack code (category, department, grade, milestone…) in the current language."""
    return policy.label(kind, value, lang())


def department(policy: Policy, value: str, name: str) -> str:
    """A department for the reader: the directory's (Chinese) name, or in another language the pack's label of
    a pack department (one an admin added has only its name)."""
    return policy.label("department", value, lang()) if lang() != "zh" and value in policy.departments else name


def joined(items: Any) -> str:
    """A list in running text: 甲、乙 in Chinese, "a, b" in English."""
    return words.joined(items, lang())


def pair(label: str, value: Any) -> str:
    """**label**：value with the punctuation of the current language; the value shown as typed (issue 8 §5)."""
    return f"**{label}**{'：' if lang() == 'zh' else ': '}{literal(value)}"


def role_names(roles: Any) -> str:
    return joined(t(f"role.{r}") for r in sorted(roles))


def error(exc: DomainError) -> None:
    """Show a domain error in the clerk's language; it may quote what the user typed (issue 8 §5)."""
    st.error(literal(exc.message(lang())))


def language_switch() -> None:
    choice = st.sidebar.segmented_control(t("lang.switch"), list(LANGS), format_func=LANGS.get,
                                          default=lang(), key="lang_choice")
    if choice and choice != lang():
        st.session_state["lang"] = choice
        st.rerun()
