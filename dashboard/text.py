"""User text on screen (issue 8 §5): shown as typed, never interpreted as Markdown or HTML.

Streamlit renders st.markdown/write/caption/info/… and widget labels (button, expander, page_link,
checkbox, radio) as Markdown, plus its own `:red[…]`, `:material/…:` and `$…$` syntax. `literal`
backslash-escapes every ASCII punctuation character (CommonMark allows it for all of them), which
also breaks those extensions: `\\:red\\[x\\]` is no directive, `:material\\/` no icon, `\\$` no math.
"""

from __future__ import annotations

import re
from typing import Any

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character


def literal(value: Any) -> str:
    """`value` as Markdown that displays exactly its text; line breaks kept as line breaks."""
    text = "" if value is None else str(value)
    return "  \n".join(_PUNCTUATION.sub(r"\\\1", line) for line in text.splitlines())
