"""Training mode (培训, issue 5 §4): a separate training database holding a scenario library written from
the seeds, trainees' own practice copies, and (services.training.walkthrough) the step-by-step walkthrough and the
judge of a trainee's next action.

The training database is the main database's name + `_training` on the same server (db.engine.training_engine).
Every write here goes to an engine or unit of work on it; the main database is only read for the trainer's
roles and written for the reset's audit event. Users of the training database mirror main users by username
and never sign in there (their password is random and unknown): the app signs in against the main database.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import bcrypt
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from db.engine import recreate_database, training_engine
from db.models import ROLES, Case, CaseDeadline, Department, Setting, User
from services.casework import cases, classification
from services.errors import Conflict, DomainError, InvalidInput, NotFound, NotPermitted, PolicyError
from services.institution import audit
from services.institution.access import PRACTICE_ROLES, load_actor, may, require_page
from services.institution.directory import USERNAME
from services.institution.settings import activate_pack
from services.rules.assess import latest_extension
from services.rules.policy import PACK_CODES, Policy
from services.training.scenarios import LIBRARY, Scenario, Step, load_scenarios, parse_duration
from services.training.walkthrough import WalkStep, judge, walkthrough
from services.unit_of_work import UnitOfWork, active_pack_code, transaction

__all__ = ["PracticeCase", "ScenarioEntry", "TrainingLibrary", "WalkStep", "judge", "library",
           "mirror_roles", "practice_cases", "reset_training", "seed_training", "start_practice",
           "training_engine_for", "training_uow", "training_user", "walkthrough"]

_SEED_LOCK = 0x7EA1_0001  # pg advisory lock: two first visits do not seed the library twice


@dataclass(frozen=True)
class TrainingLibrary:
    pack: str
    scenarios: dict[str, list[str]]  # scenario code → its case numbers (a re-complaint's new case second)
    seconds: float  # time the seeding took (0 when the library already existed)


@dataclass(frozen=True)
class ScenarioEntry:
    code: str
    title: str
    goal: str
    source: str  # the seed article the goal teaches
    category: str
    kinds: list[str]  # special kinds (services.training.scenarios.KINDS), sorted
    case_nos: list[str]


@dataclass(frozen=True)
class PracticeCase:
    case_no: str
    scenario: str
    state: str
    received_at: datetime


# --- the training database ---------------------------------------------------------------------------


def training_uow() -> UnitOfWork:
    """A unit of work on the training database (created and migrated on first use)."""
    return UnitOfWork(training_engine())


def training_engine_for(main: Engine) -> Engine:
    """The training database beside `main` (`<its name>_training` on the same server); tests use this."""
    return training_engine(main.url.render_as_string(hide_password=False))


def _recreate(main: Engine, training: Engine) -> None:
    """Drop and recreate the training database: case events refuse DELETE, so a reset starts afresh."""
    name, main_name = training.url.database, main.url.database
    if not name or name == main_name or not name.endswith("_training"):  # never drop the real cases
        raise Conflict("error.training.not_a_training_database", name=name)
    recreate_database(training, beside=main)  # through the owner: the app's role may not drop databases


# --- users -------------------------------------------------------------------------------------------


def mirror_roles(roles: Iterable[str]) -> list[str]:
    """A user's roles in the training database: their own plus every role a case action needs."""
    return sorted(set(roles) | PRACTICE_ROLES)


def _unusable_password() -> str:
    # Mirrors and personas never sign in to the training database: a random password nobody knows.
    return bcrypt.hashpw(secrets.token_urlsafe(24).encode(), bcrypt.gensalt(4)).decode()


def _ensure_user(session: Session, username: str, display_name: str, roles: Iterable[str],
                 department_id: int | None = None) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        user = User(username=username, password_hash=_unusable_password())
        session.add(user)
    user.display_name, user.roles, user.active = display_name, sorted(set(roles)), True
    user.department_id = department_id
    session.flush()
    return user


def training_user(target: UnitOfWork | Engine, username: str, display_name: str, roles: Iterable[str]) -> int:
    """Make sure the mirror of a main-database user exists in the training database; its id there.

    Same username; roles re-synced each call (mirror_roles: a trainee can practise every action).
    """
    if isinstance(target, Engine):
        with transaction(target) as uow:
            return training_user(uow, username, display_name, roles)
    roles = list(roles)
    if not USERNAME.match(username):
        raise InvalidInput("error.user.bad_username", field="username")
    if not roles or set(roles) - set(ROLES):
        raise InvalidInput("error.user.bad_roles", field="roles", roles=roles)
    target.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"training_user:{username}"})
    user = _ensure_user(target.session, username, display_name.strip() or username, mirror_roles(roles))
    target.flush()
    return user.id


@dataclass(frozen=True)
class _Staff:
    """The library's personas: who recorded, handled and supervised the scenario cases."""

    clerk: int
    supervisor: int
    handlers: dict[str, int]  # department code → user id
    heads: dict[str, int]

    def who(self, persona: str, department: str) -> int:
        return {"clerk": self.clerk, "supervisor": self.supervisor,
                "handler": self.handlers[department], "head": self.heads[department]}[persona]


def _personas(session: Session, policy: Policy) -> _Staff:
    departments = {d.code: d.id for d in session.scalars(select(Department))}
    first = next(iter(policy.departments))
    clerk = _ensure_user(session, "training.clerk", "周敏（受理员）", ["intake"], departments[first])
    supervisor = _ensure_user(session, "training.supervisor", "陈静（监督）", ["supervisor"])
    handlers, heads = {}, {}
    for code, term in policy.departments.items():
        handlers[code] = _ensure_user(session, f"training.{code}.handler", f"{term.zh}·处理人", ["handler"],
                                      departments[code]).id
        heads[code] = _ensure_user(session, f"training.{code}.head", f"{term.zh}·负责人", ["dept_head"],
                                   departments[code]).id
    return _Staff(clerk.id, supervisor.id, handlers, heads)


# --- the scenario library ----------------------------------------------------------------------------


def seed_training(engine: Engine, pack: str) -> TrainingLibrary:
    """The pack's departments, personas and every scenario replayed through services.casework.cases, in one
    transaction. Already seeded for this pack: nothing to do; for another pack: reset first."""
    if pack not in PACK_CODES:
        raise InvalidInput("error.pack.unknown", field="pack", pack=pack)
    started = time.perf_counter()
    scenarios = load_scenarios(pack)
    with transaction(engine) as uow:  # seeding is a caller: it owns (and commits) its transaction
        uow.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SEED_LOCK})
        existing = uow.session.get(Setting, LIBRARY)
        if existing is not None:
            if existing.value["pack"] != pack:
                raise Conflict("error.training.library_of_other_pack", field="pack", pack=existing.value['pack'])
            return TrainingLibrary(pack, existing.value["scenarios"], 0.0)
        activate_pack(uow, pack)
        # training cases number PX-…: never the same as a real case's TS-… (issue 10 §6)
        uow.session.add(Setting(key=cases.CASE_NO_PREFIX, value=cases.TRAINING_PREFIX))
        policy = uow.policy()
        staff = _personas(uow.session, policy)
        replayed = {s.code: _replay(uow, policy, staff, s) for s in sorted(scenarios, key=lambda s: s.received_at)}
        uow.session.add(Setting(key=LIBRARY, value={"pack": pack, "scenarios": replayed,
                                                    "seeded_at": uow.now().isoformat()}))
    return TrainingLibrary(pack, replayed, time.perf_counter() - started)


def _replay(uow: UnitOfWork, policy: Policy, staff: _Staff, scenario: Scenario) -> list[str]:
    """Intake, then each step at its time as its persona; steps after a re-complaint act on the new case."""
    ref = cases.intake(uow, staff.clerk, {**scenario.intake_form(), **_at_intake(scenario),
                                          "intake_key": f"scenario:{scenario.code}"})
    numbers, at = [ref.case_no], scenario.received_at
    for step in scenario.steps:
        at = step.when(at)
        try:
            ref = _act(uow, policy, staff, scenario, step, ref, at)
        except DomainError as exc:  # the file, the key and the service's own words
            raise PolicyError("error.file.at_key", field=step.path, origin=scenario.origin, path=step.path,
                              problem=exc) from exc
        if step.action == "re_complaint":
            numbers.append(ref.case_no)
    return numbers


def _at_intake(scenario: Scenario) -> dict[str, Any]:
    if scenario.at_intake is None:
        return {}
    return {"resolved_at_intake": True, **scenario.at_intake}  # seed 000 art. 17(1)


def _act(uow: UnitOfWork, policy: Policy, staff: _Staff, scenario: Scenario, step: Step, ref: cases.CaseRef,
         at: datetime) -> cases.CaseRef:
    v, no, version = step.values, ref.case_no, ref.version
    case = cases.case_by_number(uow, no)
    responsible = uow.session.get(Department, case.responsible_department_id)
    assert responsible is not None  # cases.responsible_department_id is a NOT NULL foreign key
    department = v.get("department") or responsible.code
    who = staff.who(step.by, department)
    match step.action:
        case "forward":
            return cases.forward(uow, who, no, version, department=department, handler_id=staff.handlers[department],
                                 handling_form=v["handling_form"], at=at)
        case "first_contact":
            return cases.first_contact(uow, who, no, version, note=v["note"], at=at)
        case "resolve":
            return cases.resolve(uow, who, no, version, fact_finding=v["fact_finding"], measures=v["measures"],
                                 accountability=v["accountability"], compensation_paid=v.get("compensation_paid", 0),
                                 signed_confirmation=v.get("signed_confirmation"), at=at)
        case "invalid":
            return cases.mark_invalid(uow, who, no, version, explanation=v["explanation"], at=at)
        case "feedback" | "return_visit":
            if step.action == "feedback":
                return cases.feedback(uow, who, no, version, method=v["method"], satisfaction=v["satisfaction"],
                                      note=v.get("note", ""), notification_method=v.get("notification_method"),
                                      notification_ref=v.get("notification_ref"), at=at)
            return cases.return_visit(uow, who, no, version, method=v["method"], satisfaction=v["satisfaction"],
                                      note=v.get("note", ""), at=at)
        case "archive":
            return cases.archive(uow, who, no, version, at=at)
        case "withdraw":
            return cases.withdraw(uow, who, no, version, reason=v["reason"], at=at)
        case "escalate":
            return cases.escalate(uow, who, no, version, to_role=v["to_role"], reason=v["reason"], at=at)
        case "classify":  # a code the step leaves out: the one the facts suggest (RULES.md §7.4)
            codes = {**classification.suggested(case, policy), **v}
            return classification.classify(uow, who, no, version, channel=codes["channel"],
                                           business=codes["business"], cause=codes["cause"], at=at)
        case "extend":
            milestone = v.get("milestone", policy.extension.milestones[0])
            return cases.extend(uow, who, no, version, milestone=milestone,
                                new_due=_new_due(uow, policy, case, milestone, v.get("new_due", "latest"), step),
                                reason=v["reason"], customer_informed_at=at, informed_method=v["informed_method"],
                                at=at)
        case _:  # re_complaint: the returning customer's new case (seed 000 art. 17(7))
            return cases.re_complaint(uow, who, no, version, {
                "received_at": at, "content": v["content"], "intake_key": f"scenario:{scenario.code}:2",
                "compensation_claim": v.get("compensation_claim", case.compensation_claimed)})


def _new_due(uow: UnitOfWork, policy: Policy, case: Case, milestone: str, new_due: str, step: Step) -> datetime:
    """`latest`: as far as the pack allows (RULES.md §3); else a duration after the current deadline."""
    row = uow.session.scalar(select(CaseDeadline).where(
        CaseDeadline.case_id == case.id, CaseDeadline.milestone == milestone, CaseDeadline.status == "open"))
    if row is None:
        raise InvalidInput("error.training.no_open_deadline", field="milestone", milestone=milestone)
    if new_due == "latest":
        return latest_extension(policy, uow.calendar(), milestone, row.starts_at, row.due_at,
                                row.extensions)
    step_by = parse_duration(new_due)
    assert step_by is not None  # the scenario loader refuses any other text
    return row.due_at + step_by


def library(uow: UnitOfWork, lang: str = "zh") -> list[ScenarioEntry]:
    """The scenarios of the training database's library, in file order, with their case numbers."""
    setting = uow.session.get(Setting, LIBRARY)
    if setting is None:
        return []
    numbers = setting.value["scenarios"]
    return [ScenarioEntry(s.code, s.title.text(lang), s.goal.text(lang), s.source, s.facts.category,
                          sorted(s.kinds), numbers.get(s.code, []))
            for s in load_scenarios(setting.value["pack"])]


# --- reset and practice ------------------------------------------------------------------------------


def reset_training(actor_id: int, main_uow: UnitOfWork, pack: str | None = None, *,
                   training: Engine | None = None) -> TrainingLibrary:
    """A trainer (admin or supervisor in the main database) drops the training database and seeds it
    afresh: every practice case goes, the library comes back. Audited in the main database."""
    actor = load_actor(main_uow.session, actor_id)
    if not may(actor, "train_others"):
        raise NotPermitted("error.training.reset_not_permitted")
    pack = pack or active_pack_code(main_uow.session)
    if pack not in PACK_CODES:
        raise InvalidInput("error.pack.unknown", field="pack", pack=pack)
    engine = training or training_engine()
    _recreate(main_uow.session.get_bind().engine, engine)
    seeded = seed_training(engine, pack)
    training_user(engine, actor.username, actor.display_name, actor.roles)
    audit.record(main_uow.session, actor.id, "training_reset", pack=pack, database=engine.url.database,
                 scenarios=len(seeded.scenarios))
    main_uow.flush()
    return seeded


def start_practice(engine: Engine, trainee_username: str, scenario_code: str, *,
                   received_at: datetime | None = None) -> str:
    """The trainee's own copy of a scenario case: intake only, recorded by the trainee's mirror (so they are
    its first responder), received now unless told otherwise. Returns its case number."""
    with transaction(engine) as uow:
        user = uow.session.scalar(select(User).where(User.username == trainee_username, User.active.is_(True)))
        if user is None:
            raise NotFound("error.training.no_trainee_account", field="username")
        setting = uow.session.get(Setting, LIBRARY)
        scenario = next((s for s in load_scenarios(setting.value["pack"]) if s.code == scenario_code),
                        None) if setting else None
        if scenario is None:
            raise NotFound("error.training.no_such_scenario", field="scenario", scenario_code=scenario_code)
        received = received_at or uow.now().replace(second=0, microsecond=0)
        key = f"practice:{scenario.code}:{user.id}:{secrets.token_hex(4)}"  # marks the trainee's own copy
        return cases.intake(uow, user.id, {**scenario.intake_form(received), "intake_key": key}).case_no


def practice_cases(uow: UnitOfWork, actor_id: int) -> list[PracticeCase]:
    """The user's own practice copies, newest first."""
    actor = load_actor(uow.session, actor_id)
    rows = uow.session.execute(select(Case.case_no, Case.intake_key, Case.state, Case.received_at).where(
        Case.first_responder_id == actor.id, Case.intake_key.like("practice:%")).order_by(Case.id.desc()))
    return [PracticeCase(no, key.split(":")[1], state, received) for no, key, state, received in rows]


def enter_training(main_uow: UnitOfWork, actor_id: int, training: Engine | None = None) -> int:
    """Switch a user to practice: the library for the active pack exists, and so does their mirror user.

    Returns the mirror's id in the training database; everything the user then does touches only it.
    """
    actor = load_actor(main_uow.session, actor_id)
    require_page(actor, "training")
    engine = training or training_engine_for(main_uow.session.get_bind().engine)
    seed_training(engine, active_pack_code(main_uow.session) or "")
    return training_user(engine, actor.username, actor.display_name, actor.roles)
