"""Many users at once (issue 13 §4): threads as intake clerks, handlers, department heads and supervisors, each a
user of the bench data, mixing their screens (own queue, department queue, case page, board, KPIs) and intakes
for a while. The roles have threads in proportion to the institution's staff (each role at least one): an office
is mostly clerks and handlers working their queues, with a few heads and a supervision team reading the board
and the KPIs; every call is one service call in its own unit of work, as a page makes it, on an engine whose pool
holds a connection per thread. Each screen is first timed by one user alone (the same calls, one after
another), then in the crowd: a screen meets its target when the crowd's p95 is within twice the lone user's
and no call failed. Users think between clicks (`think`, seconds, drawn uniformly from 0.5× to 1.5×): with
no thinking at all, 30 threads on a 2-core machine only measure the queue in front of the CPUs.

`rows(inst)` returns one `bench.rows.Row` per screen (the throughput is printed); nothing happens at import.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from bench.data import Institution, month_before
from bench.rows import Row, p95
from db.engine import make_engine
from services.casework.case_view import case_detail
from services.casework.cases import intake
from services.casework.escalation import board
from services.casework.queue import my_queue
from services.rules.calendar import SHANGHAI
from services.rules.packs import load_policy
from services.supervision.kpi import kpis
from services.unit_of_work import UnitOfWork, transaction

THREADS = 30
SECONDS = 240.0  # at 60 s the board and the KPIs had 5–11 calls, at 120 s 11–17: their p95 was the slowest call
THINK = 5.0  # mean seconds between one user's calls: reading the screen, typing (issue 13 §4 gives none)
ALONE_RUNS = 40  # lone-user calls per screen (after two warm-up calls): of 20, one slow call set the target
# What each role does, and how often (relative weights)
MIX: dict[str, dict[str, int]] = {
    "clerk": {"own queue": 4, "case page": 3, "intake": 3},
    "handler": {"own queue": 6, "case page": 4},
    "head": {"department queue": 4, "own queue": 1, "case page": 3, "board": 1, "kpis": 1},
    "supervisor": {"board": 4, "case page": 4, "kpis": 2},
}
ROLES = {"clerk": "intake", "handler": "handler", "head": "dept_head", "supervisor": "supervisor"}
Call = Callable[[UnitOfWork, random.Random], Any]


@dataclass
class User:
    id: int
    role: str  # a key of MIX
    cases: list[str]  # case numbers this user may open


@dataclass
class Tally:
    """What the crowd did, shared by its threads (appends under the lock)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (screen, exception type) → count
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, screen: str, seconds: float | None, error: BaseException | None = None) -> None:
        with self.lock:
            if error is None and seconds is not None:
                self.times[screen].append(seconds)
            else:
                self.errors[(screen, type(error).__name__)] += 1


def crowd_users(inst: Institution, threads: int = THREADS) -> list[User]:
    """`threads` users, each role's share as in `threads_by_role`; as many different people as the data has."""
    people: dict[str, list[User]] = {}
    with inst.engine.connect() as conn:
        for role, system in ROLES.items():
            ids = list(conn.scalars(text("SELECT id FROM users WHERE :r = ANY(roles) AND active ORDER BY id"),
                                    {"r": system}))
            found = [User(i, role, _visible_cases(conn, role, i)) for i in ids]
            people[role] = [u for u in found if u.cases]  # someone with nothing to open opens no case page
    shares = threads_by_role({role: len(found) for role, found in people.items()}, threads)
    return [people[role][n % len(people[role])] for role, share in shares.items() for n in range(share)]


def threads_by_role(headcount: dict[str, int], threads: int) -> dict[str, int]:
    """Threads per role in proportion to its people (largest remainders), at least one for each role with people."""
    present = {role: n for role, n in headcount.items() if n}
    rest = threads - len(present)
    exact = {role: rest * n / sum(present.values()) for role, n in present.items()}
    shares = {role: 1 + int(x) for role, x in exact.items()}
    for role in sorted(exact, key=lambda r: int(exact[r]) - exact[r])[:threads - sum(shares.values())]:
        shares[role] += 1
    return shares


def _visible_cases(conn: Any, role: str, user_id: int) -> list[str]:
    """Twenty cases the user may open: a clerk's own intakes, a handler's own, a head's department's, any for a
    supervisor."""
    where = {"clerk": "first_responder_id = :u", "handler": "assignee_id = :u",
             "head": "responsible_department_id = (SELECT department_id FROM users WHERE id = :u)",
             "supervisor": "true"}[role]
    return list(conn.scalars(text(f"SELECT case_no FROM cases WHERE {where} ORDER BY md5(case_no) LIMIT 20"),
                             {"u": user_id}))


def screens(inst: Institution) -> dict[str, Callable[[User], Call]]:
    """Each screen's service call for a user, as its page makes it (read as of the data's `now`)."""
    now = inst.now
    first, last = month_before(now)
    policy = load_policy(inst.pack)
    categories, channels = list(policy.categories), list(policy.channels)

    def own_queue(user: User) -> Call:  # a clerk follows the cases they took in (seed 002 art. 3), the others theirs
        view = "first_responder" if user.role == "clerk" else "assigned"
        return lambda uow, _: my_queue(uow, user.id, view=view, now=now)

    def new_case(user: User) -> Call:
        def call(uow: UnitOfWork, rng: random.Random) -> Any:
            form: dict[str, Any] = {"customer_name": "王芳", "customer_phone": f"139{rng.randrange(10**8):08d}",
                    "customer_id_number": None, "channel": rng.choice(channels), "category": rng.choice(categories),
                    "received_at": datetime.now(SHANGHAI), "compensation_claim": rng.choice((0, 3000)),
                    "cause": "branch", "flags": [], "channel_note": "客户来信",  # read for the "other" channel only
                    "content": "客户反映网点排队时间过长，大堂无人引导，要求改进。"}
            return intake(uow, user.id, form)
        return call

    return {
        "own queue": own_queue,
        "department queue": lambda user: lambda uow, _: my_queue(uow, user.id, view="department", now=now),
        "case page": lambda user: lambda uow, rng: case_detail(uow, user.id, rng.choice(user.cases), now=now),
        "board": lambda user: lambda uow, _: board(uow, user.id, now=now),
        "kpis": lambda user: lambda uow, _: kpis(uow, user.id, date_from=first, date_to=last, by="department",
                                                 now=now),
        "intake": new_case,
    }


def timed(engine: Engine, call: Call, rng: random.Random) -> float:
    """One call in its own unit of work, committed as a page's; its seconds (what raised, raises)."""
    started = time.perf_counter()
    with transaction(engine) as uow:
        call(uow, rng)
    return time.perf_counter() - started


def alone(engine: Engine, users: Sequence[User], calls: dict[str, Callable[[User], Call]],
          runs: int = ALONE_RUNS, seed: int = 0) -> dict[str, list[float]]:
    """Each screen by one user at a time: the same users as the crowd's, in turn, two warm-up calls first."""
    rng = random.Random(seed)
    out: dict[str, list[float]] = {}
    for screen, make in calls.items():
        who = [u for u in users if MIX[u.role].get(screen)]
        for n in range(2):
            timed(engine, make(who[n % len(who)]), rng)
        out[screen] = [timed(engine, make(who[n % len(who)]), rng) for n in range(runs)]
    return out


def crowd(engine: Engine, users: Sequence[User], calls: dict[str, Callable[[User], Call]], seconds: float,
          think: float = THINK, seed: int = 0) -> tuple[Tally, float]:
    """Every user in their own thread until `seconds` have passed; the tally and the seconds it really took."""
    tally = Tally()
    stop = time.perf_counter() + seconds

    def work(user: User, rng: random.Random) -> None:
        names, weights = zip(*MIX[user.role].items(), strict=True)
        warm = False  # a user's first call opens its connection: a running server's pool is warm, so untimed
        while time.perf_counter() < stop:
            screen = rng.choices(names, weights)[0]
            try:
                seconds_taken = timed(engine, calls[screen](user), rng)
                if warm:
                    tally.record(screen, seconds_taken)
            except Exception as exc:  # counted, and the user goes on, as after an error on a page
                tally.record(screen, None, exc)
            warm = True
            if think:
                time.sleep(rng.uniform(0.5 * think, 1.5 * think))

    threads = [threading.Thread(target=work, args=(user, random.Random(seed * 1000 + n)), name=f"crowd-{n}")
               for n, user in enumerate(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return tally, time.perf_counter() - started


def rows(inst: Institution, *, threads: int = THREADS, seconds: float = SECONDS, think: float = THINK,
         single: dict[str, float] | None = None, log: Any = print) -> list[Row]:
    """The lone-user p95 of each screen (measured here unless `single` gives it, seconds by screen), then the
    crowd: one row per screen (target twice the lone p95, every error counted); the throughput is logged."""
    engine = make_engine(inst.engine.url.render_as_string(hide_password=False), pool_size=threads,
                         max_overflow=5, pool_timeout=60)
    try:
        users = crowd_users(inst, threads)
        calls = screens(inst)
        baseline = single or {screen: p95(times) for screen, times in alone(engine, users, calls).items()}
        tally, took = crowd(engine, users, calls, seconds, think)
    finally:
        engine.dispose()
    out = []
    for screen in calls:
        errors = sum(n for (s, _), n in tally.errors.items() if s == screen)
        notes = [f"{kind} ×{n}" for (s, kind), n in tally.errors.items() if s == screen]
        out.append(Row(f"crowd {threads}: {screen} (alone p95 {baseline[screen] * 1000:.0f} ms)",
                       2 * baseline[screen], tally.times.get(screen, []), errors, notes))
    done = sum(len(t) for t in tally.times.values())
    failed = sum(tally.errors.values())
    if log:
        log(f"  crowd: {threads} users, {took:.0f} s, {done} calls ({done / took:.1f}/s), {failed} errors, "
            f"think {think:g} s", flush=True)
        for row in out:
            log(f"    {row.name}: {len(row.times)} calls, crowd p95 {row.p95 * 1000:.0f} ms"
                + (f", errors: {', '.join(row.notes)}" if row.errors else ""), flush=True)
    return out
