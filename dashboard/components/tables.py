"""Column kinds shared by the list tables (issue 10 §2), in the queue's and the board's style: the case
number as a link to the case page, shown whole at 1366 px; times and days formatted; sortable by type."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import pandas as pd
import streamlit as st

from services.rules.calendar import SHANGHAI

CASE_NO_WIDTH = 170  # px: "TS-20261130-000001" whole at 1366 px (issue 10 §3), as in pages/queue.py
MISSING = "—"  # a cell with no value; Streamlit's own says "None"


def case_link(case_no: str | None) -> str | None:
    """The case page's address; the column shows only the number (`case_column`)."""
    return f"case?case={case_no}" if case_no else None


def case_column(label: str) -> Any:
    return st.column_config.LinkColumn(label, display_text=r"case=(.*)$", width=CASE_NO_WIDTH)


def when_column(label: str) -> Any:
    return st.column_config.DatetimeColumn(label, format="YYYY-MM-DD HH:mm")


def day_column(label: str) -> Any:
    return st.column_config.DateColumn(label, format="YYYY-MM-DD")


def local_times(values: Iterable[datetime | None]) -> list[datetime | None]:
    """Times as Shanghai wall-clock without a zone: the table shows them as the institution reads them."""
    return [None if v is None or pd.isna(v) else
            (v.astimezone(SHANGHAI).replace(tzinfo=None) if v.tzinfo else v) for v in values]


def days(values: Iterable[date | None]) -> list[date | None]:
    return [None if v is None or pd.isna(v) else v for v in values]
