"""Each page's script run (issue 13 §4): Streamlit's AppTest runs the real entrypoint on the bench's database,
signed in as a user of the role that uses the page, as tests/app/ does (DATABASE_URL is the owner's URL, the app
connects as its own role; the session token sits where the sign-in form puts it). Warm: the page is opened and
run once untimed, then rerun several times, each rerun timed — what a user waits for on every click.

`rows(inst)` returns one `bench.rows.Row` per page; nothing happens at import.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import streamlit as st
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from bench.data import Institution
from bench.rows import Row
from db.models import Setting
from services.administration.setup import SETUP_DONE
from services.institution.sessions import open_session
from services.rules.clock import set_clock
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import transaction

ENTRYPOINT = Path(__file__).resolve().parents[1] / "dashboard" / "app.py"
TARGET = 1.0  # seconds per script run (issue 13 §4)
RUNS = 5
WARMUP = 1


@dataclass(frozen=True)
class Page:
    page: str  # file in pages/
    role: str  # the Institution's user who opens it: clerk, handler, head, supervisor, admin
    query: tuple[tuple[str, str], ...] = ()
    label: str = ""

    @property
    def name(self) -> str:
        return f"page {self.page}{f' ({self.label})' if self.label else ''} as {self.role}"


def plan(inst: Institution) -> list[Page]:
    """Every page, opened by the role that uses it, on cases of the bench data that page works on."""
    cases = _cases(inst)
    out = [Page("home", "clerk"), Page("intake", "clerk"), Page("home", "head"),
           Page("queue", "handler", label="own"), Page("queue", "head", (("view", "department"),), "department"),
           Page("case", "handler", (("case", cases["open"]),), "open"),
           Page("case", "head", (("case", cases["closed"]),), "closed"),
           Page("print", "handler", (("case", cases["open"]),)),
           Page("letter", "head", (("case", cases["closed"]),))]
    if cases["transferred"]:
        out.append(Page("reply", "head", (("case", cases["transferred"]),)))
    return [*out, Page("escalation", "head"), Page("escalation", "supervisor"), Page("kpi", "head"),
            Page("kpi", "supervisor"), Page("sampling", "supervisor"), Page("disputes", "supervisor"),
            Page("audit", "supervisor"), Page("training", "supervisor"), Page("admin", "admin")]


def _cases(inst: Institution) -> dict[str, str]:
    """An open case of the busiest handler, a decided closed one of their department, a transferred one ("": none
    in the data)."""
    with inst.engine.connect() as conn:
        params = {"h": inst.handler, "head": inst.head, "open": list(OPEN_STATES)}
        found = {
            "open": conn.scalar(text("SELECT case_no FROM cases WHERE assignee_id = :h AND state = ANY(:open) "
                                     "ORDER BY next_due_at NULLS LAST, id LIMIT 1"), params),
            "closed": conn.scalar(text(
                "SELECT case_no FROM cases WHERE state = 'archived' AND resolved_at IS NOT NULL AND "
                "responsible_department_id = (SELECT department_id FROM users WHERE id = :head) "
                "ORDER BY md5(case_no) LIMIT 1"), params),
            "transferred": conn.scalar(text("SELECT case_no FROM cases WHERE source <> 'own' AND regulator_ref "
                                            "IS NOT NULL AND transferred_on IS NOT NULL LIMIT 1")),
        }
    return {kind: case_no or "" for kind, case_no in found.items()}


def users(inst: Institution) -> dict[str, int]:
    with inst.engine.connect() as conn:
        admin = conn.scalar(text("SELECT id FROM users WHERE 'admin' = ANY(roles) AND active ORDER BY id LIMIT 1"))
    return {"clerk": inst.clerk, "handler": inst.handler, "head": inst.head, "supervisor": inst.supervisor,
            "admin": admin}


@contextmanager
def app_configured(inst: Institution) -> Iterator[None]:
    """The app's configuration pointed at the bench's database, its clock at the data's `now`; all put back."""
    saved = {name: os.environ.get(name) for name in ("DATABASE_URL", "DATABASE_READ_URL", "COMPLAINTS_APP_DB_PASSWORD")}
    os.environ["DATABASE_URL"] = inst.engine.url.render_as_string(hide_password=False)  # the owner's, as deployed
    os.environ.pop("DATABASE_READ_URL", None)
    # the app role's password for this run; otherwise it would be written to a secret file in the checkout
    os.environ.setdefault("COMPLAINTS_APP_DB_PASSWORD", secrets.token_urlsafe(16))
    with transaction(inst.engine) as uow:  # the data is an institution past its first-run set-up
        if uow.session.get(Setting, SETUP_DONE) is None:
            uow.session.add(Setting(key=SETUP_DONE, value=True))
    previous = set_clock(lambda: inst.now)  # reads as of the data's now, as every benchmark reads
    logging.disable(logging.WARNING)  # Streamlit's notes on bare-mode threads and deprecations would bury the table
    st.cache_resource.clear()
    st.cache_data.clear()
    try:
        yield
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()
        set_clock(previous)
        logging.disable(logging.NOTSET)
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def problems(at: AppTest) -> list[str]:
    """What went wrong on the screen: an exception, or an error box (the entrypoint shows an unexpected one
    as a catalogue message; no page of this plan should show any)."""
    return [f"exception: {e.message.splitlines()[0] if e.message else ''}" for e in at.exception] + [
        f"error shown: {e.value}" for e in at.error]


def time_page(inst: Institution, page: Page, user_id: int, runs: int = RUNS, warmup: int = WARMUP,
              target: float = TARGET) -> Row:
    """Open `page` as `user_id` (untimed), rerun it `warmup` times, then time `runs` reruns."""
    at = AppTest.from_file(str(ENTRYPOINT), default_timeout=120)
    at.session_state["lang"] = "zh"
    with transaction(inst.engine) as uow:
        at.session_state["session_token"] = open_session(uow, user_id).token
    at.run()  # home, as after sign-in: the navigation registers the user's pages
    for key, value in page.query:
        at.query_params[key] = value
    at.switch_page(f"../pages/{page.page}.py")
    times: list[float] = []
    notes: list[str] = []
    errors = 0
    for i in range(warmup + runs):  # a failed warm-up counts too: the page is broken either way
        started = time.perf_counter()
        at.run()
        seconds = time.perf_counter() - started
        found = problems(at)
        errors += bool(found)
        notes += [f"run {i}: {p}" for p in found]
        if i >= warmup and not found:
            times.append(seconds)
    return Row(page.name, target, times, errors, notes)


def rows(inst: Institution, *, runs: int = RUNS, warmup: int = WARMUP, log: object = print) -> list[Row]:
    """One row per page of `plan`: the timed script runs of that page."""
    who = users(inst)
    out = []
    with app_configured(inst):
        for page in plan(inst):
            row = time_page(inst, page, who[page.role], runs, warmup)
            out.append(row)
            if callable(log):
                log(f"  {row.name}: median {row.median * 1000:.0f} ms" + (f", {row.errors} errors" if row.errors
                                                                           else ""), flush=True)
                for note in row.notes[:3]:
                    log(f"    {note}", flush=True)
    return out
