"""The case page's JR/T 0169 classification (RULES.md §7.4, issue 11 §6): the codes on the case, the form that
records them pre-filled with what the intake facts suggest; required before a bank case is filed."""

from __future__ import annotations

import streamlit as st

from dashboard.components.case_actions import _submit
from dashboard.components.field_errors import FieldErrors
from dashboard.i18n import error, lang, pair, t
from dashboard.session import acting_user_id, uow
from services.casework.case_view import CaseDetail
from services.casework.classification import DIMENSION_WORDS, ClassificationView, classification_view, classify
from services.errors import DomainError
from services.rules import jrt


def show(detail: CaseDetail) -> None:
    """One expander under the tabs; open while a required code is missing."""
    try:
        with uow() as work:
            view = classification_view(work, acting_user_id(), detail.case_no)
    except DomainError as exc:
        error(exc)
        return
    missing = view.required and not all(view.codes.values())
    with st.expander(t("action.classify"), expanded=missing and view.may_classify):
        st.caption(t("jrt.required") if view.required else t("jrt.optional"))
        for dimension in view.offered:
            st.write(pair(t(DIMENSION_WORDS[dimension]), jrt.label(dimension, view.codes[dimension], lang())
                          or t("jrt.none")))
        if view.may_classify:
            _form(detail, view)


def _form(detail: CaseDetail, view: ClassificationView) -> None:
    errors = FieldErrors()
    chosen: dict[str, str | None] = {}
    with st.form("jrt_form"):
        for dimension in view.offered:
            options = ["", *jrt.codes(dimension)]
            value = view.codes[dimension] or view.suggested[dimension] or ""
            chosen[dimension] = st.selectbox(
                t(DIMENSION_WORDS[dimension]), options, index=options.index(value), key=f"jrt_{dimension}",
                format_func=lambda c, d=dimension: jrt.label(d, c, lang()) or t("jrt.none"))
            errors.under(jrt.COLUMNS[dimension])
            if not view.codes[dimension] and view.suggested[dimension]:
                st.caption(t("jrt.suggested"))
        if st.form_submit_button(t("jrt.save")):
            # a dimension the page does not offer keeps its code
            codes = {d: (chosen[d] or None) if d in chosen else view.codes[d] for d in jrt.DIMENSIONS}
            _submit(detail, "classify", classify, errors, **codes)
