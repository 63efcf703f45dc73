"""What leaves the system as a spreadsheet or CSV (issue 8 §5): text is data, never a formula.

A cell that starts with = + - @ (or a tab / carriage return before one) is run as a formula by
Excel, WPS and LibreOffice; such text gets a leading apostrophe, as OWASP recommends. Every
spreadsheet or CSV the system writes goes through `write_xlsx` or `write_csv`, the one door.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from typing import Any, BinaryIO

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SheetStyle = Callable[[Any, pd.DataFrame], None]  # (openpyxl worksheet, the frame written to it)


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would run as a formula, made inert; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) are inert in a spreadsheet."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    return out.rename(columns=neutralise)


def write_xlsx(sheets: Mapping[str, pd.DataFrame], out: str | BinaryIO, style: SheetStyle | None = None) -> None:
    """One sheet per frame (no index), every text cell inert; `style` may then format each sheet."""
    with pd.ExcelWriter(out, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            neutralised(frame).to_excel(writer, sheet_name=name, index=False)
            if style is not None:
                style(writer.sheets[name], frame)


def write_csv(frame: pd.DataFrame) -> bytes:
    """A CSV that Excel on Chinese Windows opens correctly (UTF-8 with BOM), every text cell inert."""
    buffer = io.StringIO()
    neutralised(frame).to_csv(buffer, index=False)
    return buffer.getvalue().encode("utf-8-sig")
