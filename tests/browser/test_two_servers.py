"""Two app servers on one database (issue 13 §5): separate processes with separate data directories, as on two
machines, sharing only DATABASE_URL, the app role's password and the cookie key. A clerk's intake on one is in
their queue on the other, and the sign-in made on one holds on the other (sessions live in PostgreSQL), so a
reverse proxy may move a browser between them."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from db import embedded
from db.engine import embedded_server_url, make_engine, migrate
from tests.browser.conftest import Server, serve
from tests.browser.test_sessions_in_browser import sign_in_here, signed_in_as
from tests.service.conftest import make_institution

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[Server, Server]]:
    data = embedded.scratch_dir("complaints-two-servers-")
    try:
        owner_url = embedded_server_url(data / "pg", keep_running=False)
        engine = make_engine(owner_url)
        migrate(engine)
        make_institution(engine, "securities")
        engine.dispose()
        shared = {"DATABASE_URL": owner_url, "COMPLAINTS_APP_DB_PASSWORD": os.environ["COMPLAINTS_APP_DB_PASSWORD"],
                  "COMPLAINTS_SECRET_KEY": secrets.token_urlsafe(32)}
        with ExitStack() as stack:
            first = stack.enter_context(serve(env=shared))
            second = stack.enter_context(serve(env=shared | {"ESCALATION_SWEEP_SECONDS": "0"}))  # one sweeper
            yield first, second
    finally:
        embedded.stop(data / "pg", delete=True)
        shutil.rmtree(data, ignore_errors=True)


def grid_text(page) -> str:
    """The tables' cells (drawn on a canvas: read from the grid's accessible copy)."""
    return " ".join(grid.text_content() or "" for grid in page.get_by_test_id("stDataFrame").all())


def test_an_intake_on_one_server_is_in_the_queue_on_the_other(servers, browser):
    first, second = servers
    assert first.url != second.url
    context = browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto(first.url)
    sign_in_here(page, "clerk")
    page.goto(f"{first.url}/intake")
    page.get_by_label("客户姓名", exact=True).fill("周晓明")
    page.get_by_label("联系电话", exact=True).fill("13912345678")
    page.get_by_label("投诉内容", exact=True).fill("网银转账失败后资金未退回，客服电话无人接听")
    page.get_by_label("投诉内容", exact=True).press("Tab")
    page.get_by_text("规则预判（保存前）").wait_for()
    page.get_by_role("button", name="保存登记", exact=True).click()
    case_no = page.get_by_text(re.compile(r"已登记：[A-Z]{2}-\d{8}-\d{6}")).inner_text().split("：")[1].strip()

    # the same browser on the other server (cookies go by host, not port): still signed in, and the case is there
    other = context.new_page()
    other.goto(f"{second.url}/queue")
    signed_in_as(other, "Clerk")
    other.get_by_text("我首问跟踪的", exact=True).click()
    deadline = time.monotonic() + 30
    while case_no not in grid_text(other):
        assert time.monotonic() < deadline, f"{case_no} is not in the queue on the second server"
        other.wait_for_timeout(300)
    other.goto(f"{second.url}/case?case={case_no}")
    other.get_by_role("heading", name=f"案件 {case_no}").wait_for()
    context.close()
