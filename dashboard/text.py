"""User text on screen (issue 8 §5): shown as typed, never interpreted as Markdown or HTML.

Streamlit renders st.markdown/write/caption/info/… and widget labels (button, expander, page_link,
checkbox, radio) as Markdown, plus its own `:red[…]`, `:material/…:` and `$…$` syntax. `literal`
backslash-escapes every ASCII punctuation character (CommonMark allows it for all of them), which
also breaks those extensions: `\\:red\\[x\\]` is no directive, `:material\\/` no icon, `\\$` no math.
GitHub-style autolinks (http://…, www.…, a@b.c) are found in the text after escapes are undone, so
an invisible WORD JOINER is put inside their markers; the text reads the same.
"""

from __future__ import annotations

import re
from typing import Any

_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character
_AUTOLINK = re.compile(r"(?i)(?<=:)(?=//)|(?<=www)(?=\.)|(?=@)")  # http(s)://, www., e-mail and mailto:
WORD_JOINER = "\u2060"


def literal(value: Any) -> str:
    """`value` as Markdown that displays exactly its text; line breaks kept as line breaks."""
    text = _AUTOLINK.sub(WORD_JOINER, "" if value is None else str(value))
    return "  \n".join(_PUNCTUATION.sub(r"\\\1", line) for line in text.splitlines())
