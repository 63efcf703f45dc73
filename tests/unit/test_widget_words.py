"""Streamlit's own English never shows in the Chinese UI (issue 10 §3): every widget whose default text
Streamlit 1.67 lets us set gets it from the catalogue. Its frontend hard-codes "Select all" (turned off
with `select_all=False`) and "No results" (not settable: typing is turned off with `filter_mode=None`)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.joinpath("pages").glob("*.py"), *ROOT.joinpath("dashboard").rglob("*.py")])


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    found = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name:
                found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def _keywords(call: ast.Call) -> dict[str, ast.expr]:
    return {k.arg: k.value for k in call.keywords if k.arg}


def _false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


def test_the_pages_have_multiselects():
    assert _calls("multiselect")


@pytest.mark.parametrize(("where", "call"), _calls("multiselect"), ids=lambda v: v if isinstance(v, str) else "")
def test_a_multiselect_says_choose_in_the_readers_language(where, call):
    if any(k.arg is None and isinstance(k.value, ast.Call) and getattr(k.value.func, "id", "") == "choosing"
           for k in call.keywords):
        return  # **choosing(): dashboard/i18n.py
    kw = _keywords(call)
    assert "placeholder" in kw, f"{where}: Streamlit's placeholder is English 'Choose options'"
    assert _false(kw.get("select_all")), f"{where}: Streamlit's 'Select all' is English"
    assert "filter_mode" in kw and _false(kw["filter_mode"]), f"{where}: Streamlit's 'No results' is English"


def test_every_spinner_says_what_it_does():
    silent = [where for where, call in _calls("spinner") if not (call.args or "text" in _keywords(call))]
    assert silent == [], "Streamlit's default spinner text is English 'In progress...'"


def test_the_widget_texts_read_in_both_languages():
    from services import words

    assert words.text("widget.choose", "zh") == "请选择"
    assert words.text("widget.choose", "en") == "Choose"


def test_no_cache_shows_streamlits_english_running_spinner():
    bare = []
    for path in FILES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for decorator in getattr(node, "decorator_list", []):
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                cached = isinstance(target, ast.Attribute) and target.attr in ("cache_data", "cache_resource")
                if cached and (call is None or "show_spinner" not in _keywords(call)):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not bare, f"Streamlit's default spinner says 'Running …' in English: {bare}"
