"""A real server started as `make run` starts it (dashboard/server.py), on a fresh embedded PostgreSQL, and
Debian's chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from db import embedded
from db.engine import embedded_server_url

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"


@dataclass(frozen=True)
class Server:
    url: str
    pgdata: Path  # where the app under test keeps its embedded PostgreSQL

    def database_url(self) -> str:
        """The app's database (started by the app on its first page; reused here, not restarted)."""
        return embedded_server_url(self.pgdata)

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with serve() as running:
        yield running


@contextmanager
def serve(*options: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """The app served as `make run` serves it, with extra `streamlit run` options (e.g. --secrets.files) and
    environment (e.g. a shared DATABASE_URL: several servers on one database, issue 13 §5)."""
    port = _free_port()
    data = str(embedded.scratch_dir("complaints-browser-"))  # the server's OS user must enter it (as root)
    # bcrypt at 4 rounds: the same checks, at a pace a 2-core CI machine can repeat many sign-ins at;
    # none of the test process's own switches (an in-process identity provider's plain-HTTP one) reach the app
    private = ("DATABASE_URL", "COMPLAINTS_SECRET_KEY", "AUTHLIB_INSECURE_TRANSPORT")
    env = {k: v for k, v in os.environ.items() if k not in private} | {
        "COMPLAINTS_DATA_DIR": data, "COMPLAINTS_BCRYPT_ROUNDS": "4"} | (env or {})
    log = open(Path(data) / "server.log", "w")  # noqa: SIM115 - closed below
    process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/server.py", "--server.address",
                                "127.0.0.1", "--server.port", str(port), *options],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield Server(url, Path(data) / "pg")
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        _delete_embedded(Path(data) / "pg")


def wait_until_up(url: str) -> None:
    """Until Streamlit's health check answers; a server that never does fails the test here, not later."""
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the app at {url} did not come up within a minute (see its server.log)")


def _delete_embedded(pgdata: Path) -> None:
    embedded.stop(pgdata, delete=True)



WAIT = 20_000  # ms: a rerun, or a sign-in's trip through /auth/session, on a busy 2-core machine


@pytest.fixture
def context(browser):
    """A fresh browser profile (no cookies) in Chinese, as a clerk's counter PC."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1300, "height": 900})
    context.set_default_timeout(WAIT)
    yield context
    context.close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


def idle(page) -> None:
    """Until Streamlit's script run is over (its status widget gone): a click during a rerun can land on an
    element the rerun then replaces, and its input is lost."""
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="detached", timeout=60_000)
