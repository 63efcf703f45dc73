"""The served app shows no tracebacks and offers no built-in CSV download of tables (issue 8 §5)."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = Path(__file__).resolve().parents[2] / ".streamlit" / "config.toml"


def test_no_error_details_and_no_dataframe_export() -> None:
    client = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["client"]
    assert client["showErrorDetails"] == "none"  # a traceback may quote a customer's data
    assert client["disableDataExport"] is True  # st.dataframe's CSV would bypass services.export and audit
