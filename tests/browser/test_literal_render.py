"""In Chromium, against Streamlit's real renderer: text passed through `dashboard.text.literal` shows
exactly as typed in every element the app uses for user text — no image fetched, no link, no HTML,
no colour, icon or formula (issue 8 §5)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from dashboard.text import WORD_JOINER
from tests.browser.conftest import ROOT, _free_port, wait_until_up

pytestmark = pytest.mark.browser
PAYLOADS = ("![x](http://127.0.0.1:9/x.png)", "<img src=x onerror=alert(1)>", "**bold** _it_ ~~no~~",
            "[link](http://evil) <http://evil2>", ":red[x] :material/home: :blue-background[y]", "$x^2$ $$y$$",
            "# heading", "> quote", "1. item", "- item", "&amp; &#60;b&#62;", "`code`", "a\\*b", "line one\nline two",
            "see http://evil.com/x, www.evil.com or mail a@evil.com")
PAGE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import streamlit as st
from dashboard.text import literal
for n, text in enumerate({PAYLOADS!r}):
    with st.container(key=f"case_{{n}}"):
        st.markdown(literal(text))
        st.caption(literal(text))
        st.warning(literal(text))
        st.button(literal(text), key=f"b{{n}}")
        st.expander(literal(text))
"""


@pytest.fixture(scope="module")
def literal_page(tmp_path_factory) -> Iterator[str]:
    script = tmp_path_factory.mktemp("literal") / "page.py"
    script.write_text(PAGE, encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port),
                                "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        process.terminate()
        process.wait(10)


def same(shown: str, typed: str) -> bool:
    """Equal as read: white space aside, and the invisible word joiners that disarm autolinks."""
    return " ".join(shown.replace(WORD_JOINER, "").split()) == " ".join(typed.split())


def test_user_text_renders_as_typed_in_chromium(literal_page, browser) -> None:
    page = browser.new_page()
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    try:
        page.goto(literal_page)
        last = page.locator(f".st-key-case_{len(PAYLOADS) - 1}")
        last.get_by_role("button").wait_for(timeout=30_000)
        for n, text in enumerate(PAYLOADS):
            block = page.locator(f".st-key-case_{n}")
            for element in ("stMarkdown", "stCaptionContainer", "stAlert"):
                shown = block.get_by_test_id(element).first.inner_text()
                assert same(shown, text), (element, shown)
            assert same(block.get_by_role("button").inner_text(), text)
            summary = block.locator("summary").get_by_test_id("stMarkdownContainer")
            assert same(summary.inner_text(), text)
            # nothing was interpreted: no image, link, raw HTML, formula, heading, quote, list, code or icon
            rendered = block.get_by_test_id("stMarkdownContainer")
            for tag in ("img", "a", "b", "strong", "em", "del", "h1", "blockquote", "ol", "ul", "code", ".katex",
                        "[data-testid=stIconMaterial]", "span[style*=color]", "span[style*=background]"):
                assert rendered.locator(tag).count() == 0, (text, tag)
    finally:
        page.close()
    assert not [url for url in fetched if "127.0.0.1:9" in url or "evil" in url or url.endswith("/x")]
