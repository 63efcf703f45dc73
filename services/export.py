"""What leaves the system as a spreadsheet or CSV (issue 8 §5): text is data, never a formula.

A cell that starts with = + - @ (or a tab / carriage return before one) is run as a formula by
Excel, WPS and LibreOffice; such text gets a leading apostrophe, as OWASP recommends.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) are inert in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object:
            out[column] = out[column].map(neutralise)
    return out.rename(columns=neutralise)
