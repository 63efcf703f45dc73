"""The one catalogue of words (issue 9 §6): every key the code uses reads in both languages."""

from __future__ import annotations

import re
import string

import pytest

from services import words
from tools.catalogue import compiled, extracted_keys, read

LOCALES = tuple(words.LOCALES.values())
CHINESE = re.compile(r"[\u3400-\u9fff]")


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


def test_every_key_in_the_code_is_translated_in_both_languages():
    catalogues = {locale: read(locale) for locale in LOCALES}
    missing = [f"{locale}: {key} ({where[0]})" for key, where in sorted(extracted_keys().items())
               for locale, catalogue in catalogues.items()
               if key not in catalogue or not catalogue[key].string]
    assert missing == []


def test_both_languages_translate_the_same_keys_with_the_same_placeholders():
    zh, en = (read(locale) for locale in LOCALES)
    assert {m.id for m in zh if m.id} == {m.id for m in en if m.id}
    differ = [m.id for m in zh if m.id and placeholders(m.string) != placeholders(en[m.id].string)]
    assert differ == []


def test_english_reads_no_chinese():
    assert [m.id for m in read("en") if m.id and CHINESE.search(m.string)] == []


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalogue_is_current(locale):
    """The app reads the .mo files: run `make catalogue` after editing a .po file."""
    path = words.LOCALE_DIR / locale / "LC_MESSAGES" / f"{words.DOMAIN}.mo"
    assert path.read_bytes() == compiled(read(locale))


def test_a_message_is_filled_in_the_readers_language():
    assert words.text("home.greeting", "zh", name="王芳") == "王芳，您好。今天需要您处理的："
    assert words.text("home.greeting", "en", name="Wang Fang") == "Hello Wang Fang. What needs you today:"
