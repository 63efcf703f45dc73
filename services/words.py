"""The one catalogue of words (issue 9 §6): gettext catalogues, Simplified Chinese first, English beside it.

Every text a person reads — labels, headers, domain errors, the assessment's reasons — is a keyed message
("nav.home", "error.case_not_found") translated in both `locale/zh_CN` and `locale/en`; a key missing from
either catalogue fails tests/unit/test_catalogue.py. Pack data (names of categories, departments) keeps its
own zh/en fields. `make catalogue` extracts the keys with Babel, merges them into both `.po` files and
compiles the `.mo` files that are read here.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from functools import cache
from pathlib import Path

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
LOCALES = {"zh": "zh_CN", "en": "en"}  # the reader's language → its catalogue; zh is the default
DEFAULT_LANG = "zh"


@cache
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue of a language (an unknown language reads Chinese)."""
    locale = LOCALES.get(lang, LOCALES[DEFAULT_LANG])
    with open(LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.mo", "rb") as compiled:
        return gettext.GNUTranslations(compiled)


def text(key: str, lang: str = DEFAULT_LANG, **params: object) -> str:
    """The message `key` in `lang`, its `{placeholders}` filled from `params`."""
    message = catalogue(lang).gettext(key)
    return message.format(**params) if params else message


def joined(items: Iterable[object], lang: str = DEFAULT_LANG) -> str:
    """A list in running text: 甲、乙 in Chinese, "a, b" in English."""
    return text("list.separator", lang).join(str(item) for item in items)


def known(key: str) -> bool:
    """Both catalogues translate `key` (a dynamic key, e.g. an audit action, is checked with this)."""
    return all(key in catalogue(lang)._catalog for lang in LOCALES)  # type: ignore[attr-defined]  # gettext's table


def N_(key: str) -> str:
    """Marks a key for extraction where it is named now and translated later (Babel keyword)."""
    return key
