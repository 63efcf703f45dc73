"""The app as served: Streamlit's pages plus two small HTTP routes that set and clear the sign-in cookie.

`streamlit run dashboard/server.py` finds `app` and serves it. The cookie is set by a real HTTP response
(not by a script component), so it is there for every reload, new tab and case link (issue 8 §2):
- GET /auth/session?ticket=…&next=/path — swaps the one-use ticket for the cookie, back to `next`;
- GET /auth/signout — ends the cookie's session, clears the cookie, back to the start page.
Both also delete Streamlit's own identity cookies (st.login's, 30 days): once our session is set, or ended,
only it decides who is signed in (issue 8 §3). Streamlit's /auth/login, /auth/logout and /oauth2callback are
other paths, and ours are exact ones, so neither shadows the other.

While it serves, a timer records the automatic escalations every ESCALATION_SWEEP_SECONDS (default 300, 0 = off),
so a single `make run` server needs no cron; several servers share the sweep's advisory lock (issue 9 §8).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import re
import sys
from collections.abc import AsyncIterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/server.py` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from starlette.concurrency import run_in_threadpool  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import RedirectResponse, Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from dashboard import cookie, errors  # noqa: E402
from db.engine import app_engine  # noqa: E402
from services.casework.escalation import sweep  # noqa: E402
from services.errors import log_unexpected  # noqa: E402
from services.institution import sessions  # noqa: E402
from services.unit_of_work import transaction  # noqa: E402

IDENTITY_COOKIE = re.compile(r"^_streamlit_user(_tokens)?(_[0-9]+)?$")  # st.login's cookies and their chunks


@functools.cache
def _engine() -> Engine:
    return app_engine(os.environ.get("DATABASE_URL"))  # the owner's URL; the routes act as the app role


def _redirect(target: str) -> RedirectResponse:
    response = RedirectResponse(target, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the ticket in this URL goes nowhere else
    return response


def _forget_identity(request: Request, response: Response) -> None:
    for name in request.cookies:
        if IDENTITY_COOKIE.match(name):
            response.delete_cookie(name, path="/", httponly=True, samesite="lax",
                                   secure=request.url.scheme == "https")


def _exchange(ticket: str) -> str | None:
    with transaction(_engine()) as uow:
        return sessions.exchange_ticket(uow, ticket)


def _end(token: str) -> None:
    with transaction(_engine()) as uow:
        sessions.end(uow, token, "sign_out")


async def session_route(request: Request) -> RedirectResponse:
    token = await run_in_threadpool(_exchange, request.query_params.get("ticket", ""))
    response = _redirect(cookie.safe_next(request.query_params.get("next")))
    if token is not None:  # no Max-Age: the cookie ends with the browser session
        response.set_cookie(cookie.NAME, cookie.seal(token), path="/", httponly=True, samesite="lax",
                            secure=request.url.scheme == "https")
    _forget_identity(request, response)
    return response


async def signout_route(request: Request) -> RedirectResponse:
    token = cookie.unseal(request.cookies.get(cookie.NAME))
    if token is not None:
        await run_in_threadpool(_end, token)
    response = _redirect("/")
    response.delete_cookie(cookie.NAME, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
    _forget_identity(request, response)
    return response


def _sweep() -> None:
    with transaction(_engine()) as uow:  # commits the escalations and releases the sweep's lock
        sweep(uow)


async def _sweep_forever(seconds: float) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await run_in_threadpool(_sweep)
        except Exception as exc:  # logged without PII; the next round tries again
            log_unexpected(exc)


@contextlib.asynccontextmanager
async def escalation_timer(_app: st.App) -> AsyncIterator[None]:
    seconds = float(os.environ.get("ESCALATION_SWEEP_SECONDS", "300"))
    task = asyncio.create_task(_sweep_forever(seconds)) if seconds > 0 else None
    try:
        yield None
    finally:
        if task is not None:
            task.cancel()


app = st.App(ROOT / "dashboard" / "app.py", on_script_error=errors.on_script_error,  # no details, no PII (§5)
             lifespan=escalation_timer,
             routes=[Route("/auth/session", session_route, methods=["GET"]),
                     Route("/auth/signout", signout_route, methods=["GET"])])
