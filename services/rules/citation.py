"""A pack citation as the institution reads it (issue 10 §3): "seed 004 arts. 3, 9" becomes
《某银行分行客户投诉处理和管理实施方案》第三条、第九条. Packs cite their source documents by an internal
reference (kept in stored reasons); each pack names those documents in its `[documents]` table."""

from __future__ import annotations

import re
from collections.abc import Mapping

from services.rules.policy import Label

_DIGITS = "零一二三四五六七八九"
_ITEM = r"§?\d+(?:\(\d+\))?(?:-\d+)?"
_ARTICLES = rf"(?:\s+(?:arts?\.\s*)?(?P<list>{_ITEM}(?:\s*,\s*{_ITEM})*))?"
_ONE = re.compile(r"(?P<section>§)?(?P<n>\d+)(?:\((?P<item>\d+)\))?(?:-(?P<to>\d+))?")
_COMMENT = re.compile(r":[^)]*(?=\))")  # "(seed 004 art. 9: within the prescribed time)": the note is ours


def numeral(n: int) -> str:
    """1–99 in Chinese numerals, as article numbers are written (第十七条)."""
    tens, ones = divmod(n, 10)
    if not tens:
        return _DIGITS[ones]
    return f"{'' if tens == 1 else _DIGITS[tens]}十{_DIGITS[ones] if ones else ''}"


def _zh(item: str) -> str:
    m = _ONE.fullmatch(item.strip())
    if m is None:
        return item
    unit = "部分" if m["section"] else "条"
    out = f"第{numeral(int(m['n']))}{unit}"
    if m["item"]:
        out += f"（{numeral(int(m['item']))}）"
    if m["to"]:
        out += f"至第{numeral(int(m['to']))}{unit}"
    return out


def cite(source: str, documents: Mapping[str, Label], lang: str) -> str:
    """`source` with every document reference the pack names replaced by its title and articles."""
    if not documents:
        return source
    keys = "|".join(re.escape(k) for k in sorted(documents, key=len, reverse=True))

    def one(m: re.Match[str]) -> str:
        title = documents[m["ref"]].text(lang)
        articles = m["list"]
        if lang == "zh":
            return f"《{title}》" + ("、".join(_zh(a) for a in articles.split(",")) if articles else "")
        return f"{title}, {m.group(0)[len(m['ref']):].strip()}" if articles else title

    out = re.sub(rf"(?P<ref>{keys}){_ARTICLES}", one, _COMMENT.sub("", source))
    if lang != "zh":
        return out
    return out.replace(" (", "（").replace("(", "（").replace(")", "）").replace("; ", "；")
