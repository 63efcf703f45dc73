"""The demo institution (issue 3 §4): the pack's departments, a user for every role and months of
realistic complaints in every state, with the records the case services write for real cases.

Everything happens in ONE transaction: the services only flush and the caller commits (issue 9 §3),
so a failure anywhere leaves no half-loaded demo behind; `set_up` composes first-run set-up and the demo
in the caller's one transaction. Each case's steps are planned first (times in the past, each after the
previous, aimed at the deadlines of the pack's own assessment); the runner decides each step's values
and a writer takes it as the staff who would do it. The ~25 cases that cover every path go through
`services.casework.cases`; the rest go through `services.casework.ledger`, which writes the same records a table at a
time (issue 10 §4: 2,000 cases through the services took half a minute, set-based they take seconds).
"""

from __future__ import annotations

import math
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import product
from typing import Any

from faker import Faker
from sqlalchemy import Engine, select

from db.models import Department, Setting, User
from demo import texts
from services.administration.setup import DemoCredentials, DemoUser, SetupResult, first_run_setup, record_demo
from services.casework import cases as svc
from services.casework.ledger import Ledger, Services, Writer
from services.errors import InvalidInput
from services.institution.directory import create_user
from services.institution.settings import activate_pack
from services.rules import jrt
from services.rules.assess import Facts, assess, latest_extension
from services.rules.calendar import WorkingCalendar
from services.rules.duties import NOTIFICATION_METHODS
from services.rules.intake_extras import OTHER_CHANNEL
from services.rules.policy import Policy
from services.rules.transitions import RE_COMPLAINT_FROM
from services.unit_of_work import UnitOfWork, active_pack_code, transaction

STATE_AFTER = {"forward": "forwarded", "first_contact": "in_progress", "resolve": "resolved", "invalid": "resolved",
               "feedback": "feedback_given", "return_visit": "return_visit", "archive": "archived",
               "withdraw": "withdrawn"}
OPEN = ("registered", "forwarded", "in_progress")
DEMO_CASES = int(os.environ.get("COMPLAINTS_DEMO_CASES", "2000"))  # size of the demo institution
PASSWORD_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


Progress = Callable[[float, str, dict[str, Any]], None]  # fraction done, step's catalogue key, its params


def _silent(fraction: float, key: str, params: dict[str, Any]) -> None:
    """No one is watching (the command line, tests)."""


@dataclass(frozen=True)
class DemoInstitution:
    users: tuple[DemoUser, ...]
    password: str
    cases: int
    seconds: float


def new_password() -> str:
    return "".join(secrets.choice(PASSWORD_ALPHABET) for _ in range(16))  # ~92 bits: always passes the policy


def set_up(uow: UnitOfWork, *, pack: str, admin_username: str, admin_name: str, admin_password: str, demo: bool,
           now: datetime | None = None, demo_cases: int | None = None, progress: Progress | None = None) -> SetupResult:
    """First-run set-up and, when asked, the demo institution on top, in the caller's one transaction (the
    set-up page and `python -m services setup --demo` commit it): nothing stays unless everything succeeded.
    progress(fraction, step key, params) is told each step (the page's progress bar, issue 10 §4)."""
    report = progress or _silent
    report(0.0, "setup.step.admin", {})
    result = first_run_setup(uow, pack=pack, admin_username=admin_username, admin_name=admin_name,
                             admin_password=admin_password, demo=demo)
    if not demo:
        return result
    loaded = load_demo(uow, pack, cases=demo_cases or DEMO_CASES, now=now, progress=report)
    credentials = DemoCredentials(loaded.users, loaded.password)
    record_demo(uow, result.admin_id, pack, loaded.cases, credentials, now)
    return replace(result, demo=credentials, demo_cases=loaded.cases, seconds=loaded.seconds)


def load_demo(target: Engine | UnitOfWork, pack: str, *, cases: int = 2000, months: int = 6,
              now: datetime | None = None, seed: int = 2026, password: str | None = None,
              progress: Progress | None = None, replay: str = "coverage") -> DemoInstitution:
    """Load the demo institution: `cases` cases (at least the ~20 that cover every state, grade, category,
    channel and special path) received over the last `months` months. Names and texts are reproducible
    from `seed`; the shared password is random unless given. Given an engine: its own transaction,
    committed. Given a unit of work: inside the caller's transaction, which the caller commits.

    `replay` says which cases go through the case services step by step: the "coverage" cases (and their
    re-complaints), "all" or "none"; the others are written set-based by `services.casework.ledger` (issue 10 §4: the
    first run in seconds), with the same records."""
    if isinstance(target, UnitOfWork):
        return _load(target, pack, cases, months, now, seed, password, progress or _silent, replay)
    with transaction(target) as uow:
        return _load(uow, pack, cases, months, now, seed, password, progress or _silent, replay)


def _load(uow: UnitOfWork, pack: str, cases: int, months: int, now: datetime | None, seed: int,
          password: str | None, progress: Progress, replay: str) -> DemoInstitution:
    started = time.perf_counter()
    now = uow.at(now)
    if cases < 1 or months < 1:
        raise InvalidInput("error.demo.not_positive", field="cases")
    active = active_pack_code(uow.session)
    if active is None:
        activate_pack(uow, pack)
    elif active != pack:
        raise InvalidInput("error.demo.other_pack_active", field="pack", active=active, pack=pack)
    policy = uow.policy()  # the admin's edited copy, if any
    rng, fake = random.Random(seed), Faker("zh_CN")
    fake.seed_instance(seed)
    password = password or new_password()
    progress(0.02, "setup.step.staff", {})
    users, ids = _staff(uow, policy, fake, password)
    # The identity map holds objects weakly: pin the staff and settings so that each service call's
    # `session.get` of them is answered from memory instead of the database.
    staff = [*uow.session.scalars(select(User))]
    departments = [*uow.session.scalars(select(Department))]
    uow.session.info["pinned"] = [*staff, *departments, *uow.session.scalars(select(Setting))]
    progress(0.05, "setup.step.plan", {})
    plans = sorted(_Planner(policy, uow.calendar(), rng, now, months).plans(cases), key=lambda p: p.received_at)
    by_services = [p for p in plans if replay == "all" or (replay == "coverage" and p.coverage)]
    by_ledger = [p for p in plans if replay == "none" or (replay == "coverage" and not p.coverage)]
    runner = _Runner(policy, ids, rng, fake)
    ledger = Ledger(uow, policy, staff, {d.code: d.id for d in departments})
    every, done = max(1, len(plans) // 50), 0  # ~50 updates of the bar, whatever the size

    def tick(share: float, offset: float) -> None:
        if done % every == 0 or done == len(plans):
            progress(offset + share * done / len(plans), "setup.step.cases", {"done": done, "total": len(plans)})

    for plan in by_ledger:  # set-based: worked out here, written below in one statement a table
        runner.run(plan, ledger)
        done += 1
        tick(0.75, 0.05)
    progress(0.05 + 0.75 * done / len(plans), "setup.step.write", {})
    ledger.write()
    services = Services(uow)
    for plan in by_services:  # after the ledger's: a re-complaint's parent is written first
        runner.run(plan, services)
        done += 1
        tick(0.2, 0.8)
    return DemoInstitution(users, password, len(plans), time.perf_counter() - started)


def _staff(uow: UnitOfWork, policy: Policy, fake: Faker, password: str
           ) -> tuple[tuple[DemoUser, ...], dict[str, list[int]]]:
    """A user for every role (admin exists already); several handlers and a head per department."""
    departments = list(policy.departments)
    people: list[tuple[str, str, str | None]] = [("demo.intake1", "intake", departments[0]),
                                                 ("demo.intake2", "intake", departments[0])]
    for code in departments:
        load = sum(1 for c in policy.categories.values() if c.department == code)
        people.append((f"demo.{code}.head", "dept_head", code))
        people += [(f"demo.{code}.handler{i}", "handler", code) for i in range(1, 3 + min(load, 4) // 2)]
    people += [("demo.supervisor", "supervisor", None), ("demo.executive", "executive", None),
               ("demo.trainee", "trainee", None)]
    users: list[DemoUser] = []
    ids: dict[str, list[int]] = {}  # role, and role@department → user ids
    shared: str | None = None  # one bcrypt for the one shared password (¼ s each at the work factor)
    # the executive holds the pack's top title, so someone in the demo can acknowledge every escalation to an
    # executive's role, the president's too (issue 10 §2, §4)
    titles = sorted((t.rank, code) for code, t in policy.roles.items() if t.answered_by == "executive")
    for username, role, department in people:
        title = titles[-1][1] if role == "executive" and titles else None
        user = create_user(uow, username, fake.name(), password, [role], department, title=title,
                           password_hash=shared)
        shared = user.password_hash
        users.append(DemoUser(username, user.display_name, (role,), department))
        ids.setdefault(role, []).append(user.id)
        ids.setdefault(f"{role}@{department}", []).append(user.id)
    return tuple(users), ids


@dataclass
class _Plan:
    """One demo case: its facts and the steps after intake, each (kind, time), in order."""

    received_at: datetime
    fate: str  # full | at_intake | invalid | withdrawn
    facts: dict[str, Any]
    department: str
    steps: list[tuple[str, datetime]] = field(default_factory=list)
    satisfaction: int = 4
    parent: _Plan | None = None
    case_no: str = ""
    first_responder: int = 0
    coverage: bool = False  # one of the cases that cover every path: replayed through the services

    @property
    def final_state(self) -> str:
        state = "feedback_given" if self.fate == "at_intake" else "registered"
        for kind, _ in self.steps:
            state = STATE_AFTER.get(kind, state)
        return state


class _Planner:
    """Decides each case's facts and step times; the pack's assessment gives the deadlines to aim at."""

    def __init__(self, policy: Policy, calendar: WorkingCalendar, rng: random.Random, now: datetime,
                 months: int) -> None:
        self.policy, self.calendar, self.rng, self.now = policy, calendar, rng, now
        self.window = timedelta(days=30.4 * months)
        self.categories, self.channels = list(policy.categories), list(policy.channels)
        self.flags = [f for f in policy.flags if f != "invalid"]  # invalid goes with the invalid fate
        self.variants = self._grade_variants()

    def plans(self, count: int) -> list[_Plan]:
        plans = self.coverage()
        for plan in plans:
            plan.coverage = True
        children = max(1, round(count * 0.03)) - 1  # the coverage set holds one re-complaint
        plans += [self.random_plan() for _ in range(max(0, count - len(plans) - children))]
        parents = [p for p in plans if self.may_be_parent(p)]
        for parent in self.rng.sample(parents, min(children, len(parents))):
            plans.append(self.re_complaint(parent))
        self.spread(plans)
        return plans

    def spread(self, plans: list[_Plan]) -> None:
        """Every department gets cases, open ones among them (issue 10 §4): the rules send nearly all to one or
        two departments, so the first responder forwards a share to the others, as to the department concerned."""
        departments = list(self.policy.departments)
        forwarded = [p for p in plans if any(kind == "forward" for kind, _ in p.steps)]
        idle = [d for d in departments if not any(p.department == d for p in forwarded)]
        still_open = [p for p in forwarded if p.final_state in OPEN]
        for i, plan in enumerate(still_open):  # every other open case: each department in turn
            if i % 2:
                plan.department = departments[(i // 2) % len(departments)]
        closed = [p for p in forwarded if p.final_state not in OPEN]
        for i, plan in enumerate(closed):  # and a quarter of the closed ones to the departments the rules skip
            if idle and i % 4 == 1:
                plan.department = idle[(i // 4) % len(idle)]

    def coverage(self) -> list[_Plan]:
        """Every state, grade, category and channel, and each special path, at least once."""
        specs: list[dict[str, Any]] = [{"target": s} for s in (*OPEN, "resolved", "feedback_given", "archived")]
        specs += [{"target": "return_visit", "visit": True}, {"target": "withdrawn", "fate": "withdrawn"},
                  {"target": "archived", "fate": "at_intake"}, {"target": "archived", "fate": "invalid"},
                  {"target": "archived", "extend": True}, {"target": "archived", "escalate": True}]
        specs += [{"stop": s, "age": (20, 60)} for s in OPEN]  # overdue: open long past the deadline
        specs += [{"variant": v} for v in self.variants.values()]
        specs += [{} for _ in range(max(len(self.categories), len(self.channels)) - len(specs))]
        plans = []
        for i, spec in enumerate(specs):
            spec["facts"] = self.facts(self.categories[i % len(self.categories)],
                                       self.channels[i % len(self.channels)], spec.pop("variant", None))
            plans.append(self.cover(**spec))
        parent = next((p for p in (self.cover("archived", facts=self.facts()) for _ in range(100))
                       if self.may_be_parent(p)), None)
        return [*plans, parent, self.re_complaint(parent)] if parent else plans

    def cover(self, target: str | None = None, age: tuple[float, float] | None = None, **kw: Any) -> _Plan:
        """A natural plan ending in `target`: try receipt times (log-uniform in age) until one does."""
        for _ in range(300 if target else 0):
            seconds = math.exp(self.rng.uniform(math.log(300), math.log(self.window.total_seconds())))
            plan = self.plan(self.now - timedelta(seconds=seconds), **kw)
            if plan.final_state == target:
                return plan
        days = min(self.rng.uniform(*age), self.window.days) if age else None
        received = self.now - timedelta(days=days) if days else self.received()
        return self.plan(received, stop=kw.pop("stop", target), **kw)

    def may_be_parent(self, plan: _Plan) -> bool:
        """Closed to the customer a while ago, so a re-complaint can follow before now."""
        return (plan.parent is None and plan.final_state in RE_COMPLAINT_FROM
                and (plan.steps[-1][1] if plan.steps else plan.received_at) < self.now - timedelta(days=2))

    def random_plan(self) -> _Plan:
        rng = self.rng
        fate = rng.choices(("at_intake", "invalid", "withdrawn", "full"), (8, 4, 3, 85))[0]
        stop = rng.choices((None, "feedback_given", *OPEN), (93, 5, 0.7, 0.7, 0.6))[0]  # stalled: overdue
        return self.plan(self.received(), fate=fate if stop is None else "full", facts=self.facts(), stop=stop,
                         extend=rng.random() < 0.05, escalate=rng.random() < 0.04, visit=rng.random() < 0.3)

    def re_complaint(self, parent: _Plan) -> _Plan:
        parent.satisfaction = self.rng.choice((1, 2))  # a dissatisfied customer comes back
        last = parent.steps[-1][1] if parent.steps else parent.received_at
        received = min(last + timedelta(days=self.rng.uniform(1, 20)), self.now - timedelta(minutes=30))
        plan = self.plan(max(received, last + timedelta(minutes=30)), facts=dict(parent.facts))
        plan.parent, plan.coverage = parent, parent.coverage  # written by whoever writes the parent, after it
        return plan

    def received(self) -> datetime:
        """A receipt time in the window, fewer at weekends, mostly in office hours."""
        while True:
            at = self.now - self.window * self.rng.random()
            at = at.replace(hour=int(self.rng.triangular(8, 20, 10)), minute=self.rng.randrange(60))
            if at < self.now and (at.weekday() < 5 or self.rng.random() < 0.4):
                return at

    def facts(self, category: str | None = None, channel: str | None = None,
              variant: dict[str, Any] | None = None) -> dict[str, Any]:
        rng, channels = self.rng, self.channels
        flags = rng.sample(self.flags, min(len(self.flags), rng.choices((0, 1, 2), (86, 12, 2))[0]))
        bucket = rng.choices((0, 1, 2, 3), (60, 33, 4, 3))[0]
        claim = (0, round(rng.uniform(100, 48000), -1), round(rng.uniform(50001, 100000), -2),
                 round(rng.uniform(100001, 600000), -3))[bucket]
        return {"category": category or rng.choice(self.categories),
                "channel": channel or rng.choices(channels, [texts.CHANNEL_MIX[c] for c in channels])[0],
                "flags": flags, "compensation_claim": Decimal(claim),
                "cause": "company" if rng.random() < 0.2 else "branch", **(variant or {})}

    def _grade_variants(self) -> dict[str, dict[str, Any]]:
        """Flags, claim and cause that produce each grade the pack can give (first found wins)."""
        found: dict[str, dict[str, Any]] = {}
        for flags, claim, cause in product([[], *([f] for f in self.policy.flags)], (0, 3000, 80000, 150000),
                                           ("branch", "company")):
            variant = {"flags": flags, "compensation_claim": Decimal(claim), "cause": cause}
            found.setdefault(self.assess(self.now, {**self.facts(), **variant}).grade, variant)
        return found

    def assess(self, received: datetime, facts: dict[str, Any], forwarded: datetime | None = None) -> Any:
        return assess(self.policy, Facts(
            received_at=received, channel=facts["channel"], category=facts["category"], cause=facts["cause"],
            compensation_claim=facts["compensation_claim"], flags=frozenset(facts["flags"]), forwarded_at=forwarded),
            self.calendar)

    def plan(self, received: datetime, *, facts: dict[str, Any], fate: str = "full", stop: str | None = None,
             **options: bool) -> _Plan:
        """The case's steps, each after the previous, in office hours, cut at `stop` and at now."""
        rng = self.rng
        if "invalid" in facts["flags"] or fate == "invalid":  # seed 002 art. 18(3): the invalid grade
            fate, facts = "invalid", {**facts, "flags": ["invalid"] if "invalid" in self.policy.flags else []}
        forward = _office(received + timedelta(minutes=rng.uniform(5, 50)), rng)
        assessment = self.assess(received, facts, forward)
        plan = _Plan(received, fate, facts, assessment.responsible_department,
                     satisfaction=rng.choice((3, 4, 5, 5)) if fate == "at_intake"
                     else rng.choices(list(texts.SATISFACTION_MIX), list(texts.SATISFACTION_MIX.values()))[0])
        resolve = assessment.milestone(self.policy.extension.milestones[0]) or assessment.milestone("resolve")
        span = max((resolve.due if resolve else received + timedelta(days=3)) - received, timedelta(hours=2))
        contact = min((m.due for m in assessment.milestones if "first_contact" in m.met_by), default=None)
        told = resolve is not None and "feedback" in resolve.met_by  # the decision counts once told (bank, branch)
        previous = received
        for kind, when in self.steps(fate, received, forward, span, contact, told, **options):
            # a delay runs on to the next morning; a time aimed at a deadline moves back into the day
            at = _office(previous + when, rng) if isinstance(when, timedelta) else _office(when, rng, back=True)
            previous = max(at, previous + timedelta(minutes=rng.uniform(5, 30)))
            plan.steps.append((kind, previous))
        if stop is not None:
            keep = [i for i, (kind, _) in enumerate(plan.steps) if STATE_AFTER.get(kind) == stop]
            plan.steps = plan.steps[:keep[-1] + 1] if keep else []
        due = next((i for i, (_, at) in enumerate(plan.steps) if at > self.now), len(plan.steps))
        plan.steps = plan.steps[:due]  # nothing happens in the future
        return plan

    def steps(self, fate: str, received: datetime, forward: datetime, span: timedelta, contact: datetime | None,
              told: bool, extend: bool = False, escalate: bool = False, visit: bool = False
              ) -> list[tuple[str, timedelta | datetime]]:
        """Each step after intake: at a time, or after a delay; contact and resolution aim at the pack's
        deadlines, and miss them now and then."""
        rng = self.rng

        def hours(low: float, high: float) -> timedelta:
            return timedelta(hours=rng.uniform(low, high))

        steps: list[tuple[str, timedelta | datetime]] = []
        if fate == "full":
            late = rng.random() < 0.06
            first_contact: timedelta | datetime = hours(0.3, 6) if rng.random() < 0.85 else hours(6, 30)
            if contact is not None and contact > forward and rng.random() < 0.93:
                first_contact = forward + (contact - forward) * rng.uniform(0.2, 0.8)
            steps += [("forward", forward), ("first_contact", first_contact)]
            if escalate:
                steps.append(("escalate", hours(0.5, 8)))
            if extend and self.policy.extension.max_count:
                steps.append(("extend", received + span * rng.uniform(0.5, 0.85)))
            frac = rng.uniform(1.05, 1.4) if extend or late else rng.uniform(0.25, 0.9)
            target = received + span * frac
            steps += [("resolve", target - hours(2, 20)), ("feedback", target)] if told else \
                [("resolve", target), ("feedback", hours(0.5, 30))]
            if self.policy.return_visit_required:
                steps.append(("return_visit", timedelta(days=rng.uniform(30, 50))))
            elif visit:
                steps.append(("return_visit", timedelta(days=rng.uniform(1, 10))))
            steps.append(("archive", timedelta(days=rng.uniform(0.5, 6))))
        elif fate == "at_intake":
            steps.append(("archive", timedelta(days=rng.uniform(0.5, 6))))
        elif fate == "invalid":
            steps += [("invalid", hours(1, 20)), ("feedback", hours(0.5, 24)), ("archive", hours(12, 120))]
        else:
            steps += [("forward", forward)] if rng.random() < 0.5 else []
            steps.append(("withdraw", timedelta(days=rng.uniform(0.2, 5))))
            steps += [("archive", timedelta(days=rng.uniform(1, 5)))] if rng.random() < 0.5 else []
        return steps


def _statutory(received: datetime) -> dict[str, Any]:
    """A few regulator transfers (1 in 20), agents and major complaints among the demo's cases (issue 11 §3, §5),
    decided by the receipt time, so the demo's random stream and its other cases stay as they were."""
    extra: dict[str, Any] = {}
    if received.minute % 20 == 7:
        source = texts.TRANSFER_SOURCES[received.day % len(texts.TRANSFER_SOURCES)]
        extra.update(source=source, regulator_ref=f"{texts.TRANSFER_PREFIXES[source]}-{received:%Y%m%d-%H%M}",
                     transferred_on=received.date() - timedelta(days=received.hour % 3))
    if received.minute % 25 == 11:
        extra.update(agent_name=texts.AGENTS[received.day % len(texts.AGENTS)],
                     agent_authorisation=f"授权委托书 {received:%Y%m%d}-{received.hour:02d}")
    if received.minute == 58 and received.day % 3 == 0 and received.hour in (10, 15):
        extra["major_cause"] = "accident"
    return extra


def _office(at: datetime, rng: random.Random, back: bool = False) -> datetime:
    """Move a time outside 08:00–19:00 to the next morning (back: to the end of the working day before)."""
    if 8 <= at.hour < 19:
        return at
    if back:
        day = at.date() - timedelta(days=1 if at.hour < 8 else 0)
        return datetime(day.year, day.month, day.day, 17, rng.randrange(60), tzinfo=at.tzinfo)
    day = at.date() + timedelta(days=1 if at.hour >= 19 else 0)
    return datetime(day.year, day.month, day.day, 9, rng.randrange(60), tzinfo=at.tzinfo)


class _Runner:
    """Decides each step's values (who, what text, how much) and has a writer take it, as the staff would."""

    def __init__(self, policy: Policy, ids: dict[str, list[int]], rng: random.Random, fake: Faker) -> None:
        self.policy, self.ids, self.rng, self.fake = policy, ids, rng, fake
        self.turns: dict[str, int] = {}  # department → how many open cases it has handed out so far

    def run(self, plan: _Plan, writer: Writer) -> None:
        rng, facts = self.rng, plan.facts
        self.plan, self.writer = plan, writer
        self.words = texts.words(self.fake, rng, self.policy.code, self.policy.label("category", facts["category"]),
                                 facts["compensation_claim"], plan.received_at)
        if plan.parent is not None:
            plan.first_responder = plan.parent.first_responder  # the case is in their scope
            content = self.say(texts.RE_COMPLAINTS, case_no=plan.parent.case_no)
            ref = writer.re_complaint(plan.first_responder, plan.parent.case_no, {
                "received_at": plan.received_at, "content": content,
                "compensation_claim": plan.facts["compensation_claim"]})
        else:
            plan.first_responder = rng.choice(self.ids["intake"])
            ref = writer.intake(plan.first_responder, self.intake_form())
        plan.case_no = ref.case_no
        staff = self.ids[f"handler@{plan.department}"]
        if plan.final_state in ("forwarded", "in_progress"):  # open cases in turn: every handler has work waiting
            turn = self.turns.get(plan.department, 0)
            self.handler, self.turns[plan.department] = staff[turn % len(staff)], turn + 1
        else:
            self.handler = rng.choice(staff + self.ids[f"dept_head@{plan.department}"])
        for kind, at in plan.steps:
            ref = self.step(kind, ref, at)
        if ref.state != plan.final_state:
            raise RuntimeError(f"demo case {ref.case_no} ended {ref.state}, planned {plan.final_state}")

    def say(self, choices: tuple[str, ...], **extra: Any) -> str:
        return self.rng.choice(choices).format(**self.words, **extra)

    def intake_form(self) -> dict[str, Any]:
        plan = self.plan
        form = {**plan.facts, **texts.customer(self.fake, self.rng), "received_at": plan.received_at,
                "content": self.say(texts.COMPLAINTS[self.policy.code][plan.facts["category"]])}
        if plan.facts["channel"] == OTHER_CHANNEL:  # what it was, without drawing from the demo's random stream
            form["channel_note"] = texts.OTHER_CHANNEL_NOTES[plan.received_at.minute % len(texts.OTHER_CHANNEL_NOTES)]
        form.update(_statutory(plan.received_at))
        if plan.fate == "at_intake":
            form.update(resolved_at_intake=True, explanation=self.say(texts.AT_INTAKE_EXPLANATIONS),
                        satisfaction=plan.satisfaction)
        return form

    def step(self, kind: str, ref: svc.CaseRef, at: datetime) -> svc.CaseRef:
        """One step, done by whoever does it: the first responder, the case's handler or the department head."""
        plan, say, pick, take = self.plan, self.say, self.rng.choice, self.writer.step
        clerk = plan.first_responder
        match kind:
            case "forward":
                return take("forward", clerk, ref, department=plan.department, handler_id=self.handler,
                            handling_form=say(texts.HANDLING_FORMS), at=at)
            case "first_contact":
                return take("first_contact", self.handler, ref, note=say(texts.FIRST_CONTACTS), at=at)
            case "escalate":
                head = self.ids[f"dept_head@{plan.department}"][0]
                return take("escalate", head, ref, to_role=pick(list(self.policy.roles)),
                            reason=say(texts.ESCALATION_REASONS), at=at)
            case "extend":
                return self.extend(ref, at)
            case "resolve":
                return self.resolve(ref, at)
            case "invalid":  # closed as invalid by the first responder, still explained (seed 002 art. 18(3))
                return take("mark_invalid", clerk, ref, explanation=say(texts.INVALID_EXPLANATIONS), at=at)
            case "feedback":
                return take("feedback", clerk, ref, method=pick(texts.FEEDBACK_METHODS),
                            satisfaction=plan.satisfaction, note=say(texts.FEEDBACK_NOTES), at=at,
                            **self.proof(ref, at))
            case "return_visit":
                return take("return_visit", clerk, ref, method=pick(texts.FEEDBACK_METHODS[:3]),
                            satisfaction=plan.satisfaction, note=say(texts.RETURN_VISITS), at=at)
            case "archive":
                if self.policy.jrt is not None and self.policy.jrt.required:  # codes before filing (RULES.md §7.4)
                    ref = self.writer.classify(clerk, ref, at=at, **self.jrt_codes())
                return take("archive", clerk, ref, at=at)
        return take("withdraw", clerk, ref, reason=say(texts.WITHDRAW_REASONS), at=at)

    def proof(self, ref: svc.CaseRef, at: datetime) -> dict[str, str]:
        """How the complainant was told, with its evidence: required by the statutory layer (RULES.md §7.2)."""
        if not self.policy.statutory_on:
            return {}
        number = ref.case_no[-6:]
        method = NOTIFICATION_METHODS[int(number) % len(NOTIFICATION_METHODS)]  # the random stream stays as it was
        ref_text = {"written_handed": f"签收回执 {number}", "written_posted": f"挂号信 XA{at:%m%d}{number}CN",
                    "sms": f"短信发送记录 {at:%Y%m%d}-{number}", "email": f"邮件 {at:%Y%m%d}-{number}",
                    "recorded_call": f"录音编号 REC{at:%Y%m%d}{number}"}[method]
        return {"notification_method": method, "notification_ref": ref_text}

    def jrt_codes(self) -> dict[str, str | None]:
        """The codes the facts suggest; a cause they leave open, the category's usual one (demo/texts.py)."""
        facts = self.plan.facts
        codes = jrt.suggest(self.policy.jrt, facts["channel"], facts["category"], facts.get("flags", ()))
        return {**codes, "cause": codes["cause"] or texts.JRT_CAUSES.get(facts["category"], "C13")}

    def extend(self, ref: svc.CaseRef, at: datetime) -> svc.CaseRef:
        milestone = self.policy.extension.milestones[0]
        row = self.writer.open_deadline(ref, milestone)
        if row is None:
            return ref
        latest = latest_extension(self.policy, self.writer.calendar, milestone, row.starts_at, row.due_at,
                                  row.extensions)
        return self.writer.step("extend", self.handler, ref, milestone=milestone, new_due=latest,
                                reason=self.say(texts.EXTENSION_REASONS), customer_informed_at=at,
                                informed_method=self.rng.choice(texts.FEEDBACK_METHODS[:2]), at=at)

    def resolve(self, ref: svc.CaseRef, at: datetime) -> svc.CaseRef:
        claim = self.plan.facts["compensation_claim"]
        paid = (claim * Decimal(self.rng.choice(("0.3", "0.5", "1")))).quantize(Decimal("0.01")) \
            if claim and self.rng.random() < 0.4 else Decimal(0)
        return self.writer.step("resolve", self.handler, ref, fact_finding=self.say(texts.FACT_FINDINGS),
                                measures=self.say(texts.MEASURES), accountability=self.say(texts.ACCOUNTABILITY),
                                compensation_paid=paid, signed_confirmation=self.say(texts.SIGNED) if paid else None,
                                at=at)
