"""A large synthetic institution for the benchmarks, in a throw-away embedded PostgreSQL.

Departments and staff go through the services (activate_pack, create_user); the complaints are
set-based SQL (INSERT … SELECT over generate_series) through session temp tables:
  templates   ~400 fact combinations drawn like the demo's, each assessed by `services.rules.assess.assess`
              (grade, level, department, escalations, and which milestone rules apply)
  due lookup  `services.rules.calendar.due` for every period of the pack and every day of the span, so a
              deadline computed in SQL is the engine's own, on the institution's calendar
  plan/life   per case: receipt (weekdays, office hours), fate, step times aimed at the resolve
              deadline (8 % late, half of those extended), cut at `now`; some recent cases stall open
then cases, customers, case_deadlines (met / met_late / waived / open, overdue), extensions,
escalations (the pack's rules at intake, `overdue:<milestone>` as the automatic run would have
recorded, a few by hand, most acknowledged) and the timeline of every step. `check` compares a
sample of deadlines with `assess` and every foreign key (checked at the end, not row by row).
"""

from __future__ import annotations

import atexit
import json
import os
import random
import shutil
import time as clock
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker
from sqlalchemy import Connection, Engine, select, text

from db import embedded
from db.engine import embedded_server_url, make_engine, migrate
from db.models import Case, CaseDeadline
from demo import texts
from services.casework.deadlines import case_facts, next_due_differences
from services.institution.directory import create_user
from services.institution.settings import activate_pack
from services.rules import statutory
from services.rules.assess import Facts, assess
from services.rules.calendar import SHANGHAI, Period, WorkingCalendar, due
from services.rules.packs import load_policy
from services.rules.policy import Policy
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork

CASES_PER_HANDLER = 5000  # a year's cases per handler; 300k a year → ~60 handlers in the busiest department
CASES_PER_CLERK = 15000
TEMPLATES = 400
TEXTS = 16  # variants of each kind of text


@dataclass(frozen=True)
class Institution:
    """What the benchmarks act as and on."""

    engine: Engine
    pack: str
    now: datetime  # the data's "now": every read is timed as of this instant
    cases: int
    years: int
    supervisor: int
    clerk: int
    head: int  # head of the department with the most open cases
    handler: int  # that department's handler with the most open assigned cases
    department: str
    sample: list[str]  # case numbers for case_detail, open and closed
    seconds: float
    rows: dict[str, int]


def temporary_engine() -> Engine:
    """A migrated database on a fresh embedded server; the server and its files go at exit."""
    folder = embedded.scratch_dir("complaints-bench-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # registered first: runs after the server stops
    engine = make_engine(embedded_server_url(folder / "pg", "bench", keep_running=False))
    atexit.register(engine.dispose)
    migrate(engine)
    return engine


def build(engine: Engine, *, cases: int, years: int, pack: str = "bank", seed: int = 2026,
          now: datetime | None = None, log: Any = print) -> Institution:
    started = clock.perf_counter()
    now = (now or datetime.now(SHANGHAI)).astimezone(SHANGHAI).replace(second=0, microsecond=0)
    rng, fake = random.Random(seed), Faker("zh_CN")
    fake.seed_instance(seed)
    policy = load_policy(pack)
    with UnitOfWork(engine) as uow:
        activate_pack(uow, pack)
        uow.commit()
        calendar = uow.calendar()
    templates = _templates(policy, calendar, rng, now)
    staff = _staff(engine, policy, fake, templates, cases / years)
    log(f"  institution: {len(staff['people'])} users, {len(templates)} fact templates "
        f"({clock.perf_counter() - started:.1f} s)")
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text("SET temp_buffers = '2GB'"))
        _stage(conn, policy, calendar, templates, staff, now, years, rng, fake)
        _plan(conn, policy, cases, years, now, seed, log)
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # FKs are checked once, by `check`
        params = _params(policy, staff, now, fake, rng)
        for step, statement in LOAD:
            done = clock.perf_counter()
            conn.execute(text(statement), params)
            log(f"  {step} ({clock.perf_counter() - done:.1f} s)")
        conn.execute(text(SEQUENCES))
    engine.dispose()  # the loader's session (temp_buffers, its temp function) is not for the benchmarks
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        done = clock.perf_counter()
        conn.execute(text("VACUUM ANALYZE"))
        log(f"  vacuum analyze ({clock.perf_counter() - done:.1f} s)")
    return _institution(engine, pack, now, cases, years, staff, clock.perf_counter() - started)


# --- what the SQL works from ----------------------------------------------------------------------


def _templates(policy: Policy, calendar: WorkingCalendar, rng: random.Random, now: datetime) -> list[dict[str, Any]]:
    """Fact combinations drawn like real intake (channel mix, few flags, claims mostly small), assessed."""
    channels = list(policy.channels)
    flags = [f for f in policy.flags if f != "invalid"]  # invalid cases are a fate, not a template
    received = now - timedelta(days=30)
    full = {"forwarded_at": received + timedelta(minutes=30), "resolved_at": received + timedelta(days=2)}
    single = [replace(policy, milestones=(rule,)) for rule in policy.milestones]
    out = []
    for number in range(1, TEMPLATES + 1):
        claim = (0, round(rng.uniform(100, 48000), -1), round(rng.uniform(50001, 100000), -2),
                 round(rng.uniform(100001, 600000), -3))[rng.choices((0, 1, 2, 3), (60, 33, 4, 3))[0]]
        facts = Facts(received_at=received, category=rng.choice(list(policy.categories)),
                      channel=rng.choices(channels, [texts.CHANNEL_MIX.get(c, 1) for c in channels])[0],
                      compensation_claim=Decimal(claim), cause="company" if rng.random() < 0.2 else "branch",
                      flags=frozenset(rng.sample(flags, min(len(flags), rng.choices((0, 1, 2), (95, 4.5, 0.5))[0]))))
        at_intake = assess(policy, facts, calendar)
        rules = [index for index, one in enumerate(single)
                 if assess(one, replace(facts, **full), calendar).milestones]
        intake_json = {k: v for k, v in at_intake.to_json().items() if k != "deadlines"}
        out.append({"t": number, "category": facts.category, "channel": facts.channel, "flags": sorted(facts.flags),
                    "claim": facts.compensation_claim, "cause": facts.cause, "grade": at_intake.grade,
                    "handling_level": at_intake.handling_level, "department": at_intake.responsible_department,
                    "escalate_to": list(at_intake.escalate_to),
                    "assessment": json.dumps(intake_json, ensure_ascii=False),
                    "explanation": "; ".join(at_intake.explanation), "rules": rules})
    return out


def _staff(engine: Engine, policy: Policy, fake: Faker, templates: list[dict[str, Any]],
           per_year: float) -> dict[str, Any]:
    """Clerks, a head and handlers per department (sized by its share of cases), supervisor, executive."""
    os.environ.setdefault("COMPLAINTS_BCRYPT_ROUNDS", "4")  # hashing speed only, as in the tests
    share = {code: sum(t["department"] == code for t in templates) / len(templates) for code in policy.departments}
    first = next(iter(policy.departments))
    people = [(f"bench.clerk{i}", "intake", first) for i in range(1, max(2, round(per_year / CASES_PER_CLERK)) + 1)]
    for code in policy.departments:
        people.append((f"bench.{code}.head", "dept_head", code))
        count = max(2, round(per_year * share[code] / CASES_PER_HANDLER))
        people += [(f"bench.{code}.handler{i}", "handler", code) for i in range(1, count + 1)]
    people += [("bench.supervisor", "supervisor", None), ("bench.executive", "executive", None),
               ("bench.admin", "admin", None)]
    ids: dict[str, int] = {}
    with UnitOfWork(engine) as uow:
        for username, role, department in people:
            ids[username] = create_user(uow, username, fake.name(), "bench-password", [role], department).id
        uow.commit()
        departments = {d: i for d, i in uow.session.execute(text("SELECT code, id FROM departments")).tuples()}
    return {"people": people, "ids": ids, "departments": departments}


def _stage(conn: Connection, policy: Policy, calendar: WorkingCalendar, templates: list[dict[str, Any]],
           staff: dict[str, Any], now: datetime, years: int, rng: random.Random, fake: Faker) -> None:
    conn.execute(text(STAGING))
    departments, ids = staff["departments"], staff["ids"]
    conn.execute(text(
        "INSERT INTO bench_templates VALUES (:t, :category, :channel, :flags, :claim, :cause, :grade, :handling_level, "
        ":department_id, :escalate_to, CAST(:assessment AS jsonb), :explanation, :extendable)"),
        [{**t, "department_id": departments[t["department"]],
          "extendable": any(policy.milestones[r].code == policy.extension.milestones[0]
                            and policy.milestones[r].start != "resolved" for r in t["rules"])} for t in templates])
    conn.execute(text("INSERT INTO bench_rules VALUES (:t, :r, :code, :anchor, :period, :source, :met_by)"), [
        {"t": t["t"], "r": r, "code": policy.milestones[r].code, "anchor": policy.milestones[r].start,
         "period": str(policy.milestones[r].period), "source": policy.milestones[r].cite.source,
         "met_by": list(policy.milestones[r].met_by)} for t in templates for r in t["rules"]] + [
        {"t": t["t"], "r": len(policy.milestones), **rule} for t in templates for rule in _statutory_rule(policy)])
    conn.execute(text("INSERT INTO bench_due_days SELECT * FROM unnest(CAST(:p AS text[]), CAST(:d AS date[]), "
                      "CAST(:l AS boolean[]), CAST(:a AS timestamptz[]))"), _due_days(policy, calendar, now, years))
    staffed = [(username, role, department) for username, role, department in staff["people"]
               if role in ("handler", "dept_head")]
    rows = [{"department_id": departments[d], "k": k, "user_id": ids[u], "username": u, "head": role == "dept_head"}
            for code in departments
            for k, (u, role, d) in enumerate([p for p in staffed if p[2] == code])]
    conn.execute(text("INSERT INTO bench_staff VALUES (:department_id, :k, :user_id, :username, :head)"), rows)
    clerks = [ids[u] for u, role, _ in staff["people"] if role == "intake"]
    conn.execute(text("INSERT INTO bench_clerks SELECT k - 1, u FROM unnest(CAST(:u AS int[])) "
                      "WITH ORDINALITY AS x(u, k)"), {"u": clerks})
    written = texts.COMPLAINTS.get(policy.code, {})
    bodies = [(category, k, rng.choice(written.get(category) or ("客户投诉{topic}问题。",)).format(
        **texts.words(fake, rng, policy.code, policy.label("category", category), Decimal(0), now)))
        for category in policy.categories for k in range(TEXTS)]
    conn.execute(text("INSERT INTO bench_content SELECT * FROM unnest(CAST(:c AS text[]), CAST(:k AS int[]), "
                      "CAST(:b AS text[]))"), {"c": [b[0] for b in bodies], "k": [b[1] for b in bodies],
                                                "b": [b[2] for b in bodies]})
    conn.execute(text("ANALYZE bench_templates; ANALYZE bench_rules; ANALYZE bench_due_days; ANALYZE bench_staff"))


def _statutory_rule(policy: Policy) -> list[dict[str, Any]]:
    """The regulator's decision clock beside the pack's own milestones, as `assess` adds it (RULES.md §7.1): from
    receipt, met by the feedback; none for a pack without the layer. Only its rolling-forward form is a `due` of
    calendar days, which every pack with the layer uses."""
    layer = policy.statutory
    if layer is None or not layer.enabled:
        return []
    assert layer.roll_forward, "bench: a statutory layer without roll-forward is not generated"
    return [{"code": statutory.MILESTONE, "anchor": "received", "period": str(layer.decision),
             "source": layer.cite.source, "met_by": list(statutory.MET_BY)}]


def _due_days(policy: Policy, calendar: WorkingCalendar, now: datetime, years: int) -> dict[str, list[Any]]:
    """`due(period, start)` for every day of the span: day-based periods depend on the start's date only,
    a same-day cutoff also on whether the start is after the cutoff; hours are added in SQL."""
    periods = {m.period for m in policy.milestones} | set(policy.extension.steps)
    periods |= {Period.parse(rule["period"]) for rule in _statutory_rule(policy)}
    first, last = now.date() - timedelta(days=366 * years + 3), now.date() + timedelta(days=400)
    out: dict[str, list[Any]] = {"p": [], "d": [], "l": [], "a": []}
    for period in sorted((p for p in periods if p.kind != "hours"), key=str):
        day = first
        while day <= last:
            for late in (False, True) if period.kind == "same_day_cutoff" else (False,):
                start = datetime.combine(day, time(23, 59, 59) if late else time(0), SHANGHAI)
                for key, value in zip("pdla", (str(period), day, late, due(calendar, period, start).at), strict=True):
                    out[key].append(value)
            day += timedelta(days=1)
    return out


def _plan(conn: Connection, policy: Policy, cases: int, years: int, now: datetime, seed: int, log: Any) -> None:
    """Who complains when, and how each case goes; 3 % are re-complaints of an earlier case."""
    children = round(cases * 0.03)
    base = cases - children
    params = {"now": now, "today": now.date(), "days": 365 * years, "n": base, "children": children,
              "templates": TEMPLATES, "main": _main_milestone(policy),
              "contact_always": any("first_contact" in m.met_by for m in policy.milestones),
              "visit_required": policy.return_visit_required}
    conn.execute(text("SELECT setseed(:s)"), {"s": (seed % 1000) / 1000})
    steps = (("plan", BASE_PLAN, {}), ("life", LIFE.replace("{into}", "CREATE TEMP TABLE bench_life ON COMMIT DROP AS"),
                                        {"lo": 0, "hi": base}),
             ("re-complaints", CHILD_PLAN, {"lo": base}),
             ("life", LIFE.replace("{into}", "INSERT INTO bench_life"), {"lo": base, "hi": cases}))
    for step, statement, extra in steps:
        done = clock.perf_counter()
        conn.execute(text(statement), {**params, **extra})
        log(f"  {step} ({clock.perf_counter() - done:.1f} s)")


def _main_milestone(policy: Policy) -> str:
    """The milestone whose deadline the case's pace is aimed at (the extendable one: resolve)."""
    return policy.extension.milestones[0] if policy.extension.milestones else "resolve"


def _params(policy: Policy, staff: dict[str, Any], now: datetime, fake: Faker, rng: random.Random) -> dict[str, Any]:
    def variants(choices: tuple[str, ...]) -> list[str]:
        return [rng.choice(choices).format(**texts.words(fake, rng, policy.code, "业务", Decimal(0), now))
                for _ in range(TEXTS)]

    extension = policy.extension
    return {
        "now": now, "pack": policy.code, "n_texts": TEXTS, "supervisor": staff["ids"]["bench.supervisor"],
        "executive": staff["ids"]["bench.executive"], "ext_milestone": _main_milestone(policy),
        "ext_from_start": extension.limit == "from_start", "warning_window": policy.warning_window,
        "ext_step": str(extension.steps[0]) if extension.steps else "1 hours",
        "roles": list(policy.roles), "labels": json.dumps({m: policy.label("milestone", m) for m in
                                                           (*policy.milestone_codes(), statutory.MILESTONE)},
                                                          ensure_ascii=False),
        "names": [fake.name() for _ in range(2000)], "recomplaints": list(texts.RE_COMPLAINTS),
        **{key: variants(choices) for key, choices in (
            ("handling_forms", texts.HANDLING_FORMS), ("first_contacts", texts.FIRST_CONTACTS),
            ("fact_findings", texts.FACT_FINDINGS), ("measures", texts.MEASURES),
            ("accountability", texts.ACCOUNTABILITY), ("signed", texts.SIGNED),
            ("feedback_notes", tuple(n for n in texts.FEEDBACK_NOTES if n)), ("visits", texts.RETURN_VISITS),
            ("extension_reasons", texts.EXTENSION_REASONS), ("escalation_reasons", texts.ESCALATION_REASONS),
            ("withdraw_reasons", texts.WITHDRAW_REASONS), ("invalid", texts.INVALID_EXPLANATIONS),
            ("at_intake", texts.AT_INTAKE_EXPLANATIONS), ("methods", texts.FEEDBACK_METHODS))},
    }


def _institution(engine: Engine, pack: str, now: datetime, cases: int, years: int, staff: dict[str, Any],
                 seconds: float) -> Institution:
    open_states = {"open": list(OPEN_STATES)}
    with engine.connect() as conn:
        department_id, code = conn.execute(text(
            "SELECT c.responsible_department_id, d.code FROM cases c "
            "JOIN departments d ON d.id = c.responsible_department_id WHERE c.state = ANY(:open) "
            "GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1"), open_states).one()
        handler = conn.scalar(text(
            "SELECT c.assignee_id FROM cases c JOIN users u ON u.id = c.assignee_id WHERE c.state = ANY(:open) "
            "AND c.responsible_department_id = :d AND 'handler' = ANY(u.roles) "
            "GROUP BY 1 ORDER BY count(*) DESC LIMIT 1"),
            {**open_states, "d": department_id})
        sample = list(conn.scalars(text(
            "(SELECT case_no FROM cases WHERE state = ANY(:open) ORDER BY md5(case_no) LIMIT 20) UNION ALL "
            "(SELECT case_no FROM cases WHERE NOT state = ANY(:open) ORDER BY md5(case_no) LIMIT 20)"), open_states))
        rows = {table: conn.scalar(text(f"SELECT count(*) FROM {table}")) for table in (
            "cases", "customers", "case_deadlines", "case_events", "escalations", "extensions", "users")}
    ids = staff["ids"]
    return Institution(engine, pack, now, cases, years, ids["bench.supervisor"], ids["bench.clerk1"],
                       ids[f"bench.{code}.head"], handler, code, sample, seconds, rows)


# --- checks ---------------------------------------------------------------------------------------


def check(engine: Engine, sample: int = 300) -> list[str]:
    """Problems with the data: foreign keys not found, and sampled deadlines that `assess` disagrees with."""
    problems = []
    with engine.connect() as conn:
        for child, column, parent in FOREIGN_KEYS:
            missing = conn.scalar(text(f"SELECT count(*) FROM {child} c WHERE c.{column} IS NOT NULL AND NOT EXISTS "
                                       f"(SELECT 1 FROM {parent} p WHERE p.id = c.{column})"))
            if missing:
                problems.append(f"{child}.{column}: {missing} rows without their {parent} row")
        marked_wrong = conn.scalar(text(  # as the automatic run marks them (migration 0026)
            "SELECT count(*) FROM case_deadlines d LEFT JOIN escalations e ON e.case_id = d.case_id "
            "AND e.rule_key = 'overdue:' || d.milestone WHERE d.overdue_escalated <> (e.id IS NOT NULL)"))
        if marked_wrong:
            problems.append(f"case_deadlines.overdue_escalated: {marked_wrong} rows disagree with the escalations")
    with UnitOfWork(engine) as uow:
        calendar = uow.calendar()
        for case in uow.session.scalars(select(Case).order_by(text("random()")).limit(sample)):
            facts = case_facts(case)
            if case.outcome != "resolved":  # only `resolve` adds the milestones that start at resolution
                facts = replace(facts, resolved_at=None)
            expected = assess(load_policy(case.pack), facts, calendar).deadlines
            rows = uow.session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id)).all()
            found = {d.milestone: d.original_due_at for d in rows}
            if found != expected:
                problems.append(f"{case.case_no}: deadlines {found} but assess gives {expected}")
        # every case's stored nearest deadline recomputed from its rows (issue 13 §1)
        problems += [f"{d.case_no}: stored next deadline {d.stored} but its rows give {d.fresh}"
                     for d in next_due_differences(uow)]
    return problems


def distribution(engine: Engine) -> list[str]:
    """One line per dimension: how the cases and deadlines came out."""
    lines = []
    with engine.connect() as conn:
        for label, query in DISTRIBUTIONS:
            rows = conn.execute(text(query)).all()
            total = sum(n for _, n in rows) or 1
            lines.append(f"  {label}: " + ", ".join(f"{key} {n} ({n / total:.1%})" for key, n in rows))
    return lines


def month_before(now: datetime) -> tuple[date, date]:
    """The last whole month before `now`: what a monthly report and a KPI page look at."""
    first_this = now.date().replace(day=1)
    last = first_this - timedelta(days=1)
    return last.replace(day=1), last



# --- SQL ------------------------------------------------------------------------------------------


def _local(at: str) -> str:
    return f"({at} AT TIME ZONE 'Asia/Shanghai')"


def _iso(at: str) -> str:
    """Python's isoformat of a Shanghai instant (whole seconds)."""
    return f"""to_char({_local(at)}, 'YYYY-MM-DD"T"HH24:MI:SS') || '+08:00'"""


def _shown(at: str) -> str:
    """services.rules.calendar.format_deadline: an exclusive 00:00 is the previous day's 24:00."""
    return (f"CASE WHEN {_local(at)}::time = '00:00' THEN to_char({_local(at)} - interval '1 day', 'YYYY-MM-DD') "
            f"|| ' 24:00' ELSE to_char({_local(at)}, 'YYYY-MM-DD HH24:MI') END")


def _state_at(c: str, at: str) -> str:
    """The state of case row `c` at instant `at` (its step times are NULL for steps not taken)."""
    return (f"CASE WHEN {c}.closed_at <= {at} THEN CASE WHEN {c}.fate = 'withdrawn' THEN 'withdrawn' "
            "ELSE 'archived' END "
            f"WHEN {c}.return_visit_at <= {at} THEN 'return_visit' WHEN {c}.feedback_at <= {at} THEN 'feedback_given' "
            f"WHEN {c}.resolved_at <= {at} THEN 'resolved' WHEN {c}.first_contact_at <= {at} THEN 'in_progress' "
            f"WHEN {c}.forwarded_at <= {at} THEN 'forwarded' ELSE 'registered' END")


def _pick(name: str, key: str = "c.id") -> str:
    return f"(CAST(:{name} AS text[]))[1 + {key} % :n_texts]"


NOW = "CAST(:now AS timestamptz)"
UNIFORMS = ", ".join(["random()"] * 12)  # uf (fate), us (stall), ul (late), u1 … u9 (step times)

STAGING = """
CREATE TEMP TABLE bench_templates (t int PRIMARY KEY, category text, channel text, flags varchar[], claim numeric,
    cause text, grade text, handling_level text, department_id int, escalate_to text[], assessment jsonb,
    explanation text, extendable boolean) ON COMMIT DROP;
CREATE TEMP TABLE bench_rules (t int, r int, code text, anchor text, period text, source text, met_by text[]) ON
    COMMIT DROP;
CREATE TEMP TABLE bench_due_days (period text, day date, late boolean, due_at timestamptz NOT NULL,
    PRIMARY KEY (period, day, late)) ON COMMIT DROP;
CREATE TEMP TABLE bench_staff (department_id int, k int, user_id int, username text, head boolean,
    PRIMARY KEY (department_id, k)) ON COMMIT DROP;
CREATE TEMP TABLE bench_clerks (k int PRIMARY KEY, user_id int) ON COMMIT DROP;
CREATE TEMP TABLE bench_content (category text, k int, body text) ON COMMIT DROP;
CREATE TEMP TABLE bench_plan (k bigint PRIMARY KEY, parent_k bigint, t int, customer_id bigint,
    received_at timestamptz, uf float8, us float8, ul float8, u1 float8, u2 float8, u3 float8, u4 float8,
    u5 float8, u6 float8, u7 float8, u8 float8, u9 float8) ON COMMIT DROP;
CREATE FUNCTION pg_temp.bench_due(p text, s timestamptz) RETURNS timestamptz LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p LIKE '% hours' THEN s + split_part(p, ' ', 1)::int * interval '1 hour'
    ELSE (SELECT d.due_at FROM pg_temp.bench_due_days d WHERE d.period = p
          AND d.day = (s AT TIME ZONE 'Asia/Shanghai')::date
          AND d.late = (p LIKE 'same_day_cutoff%' AND (s AT TIME ZONE 'Asia/Shanghai')::time > split_part(p, ' ',
              2)::time))
    END $$;
"""

# Receipt: a day of the span (weekend days mostly moved to Friday), an hour between 8 and 20 peaking at 10.
BASE_PLAN = f"""
INSERT INTO bench_plan
WITH d AS (SELECT g, CAST(:today AS date) - floor(random() * :days)::int AS day0, random() AS uh, random() AS uw
           FROM generate_series(1, :n) g),
w AS (SELECT g, CASE WHEN extract(isodow FROM day0) >= 6 AND uw < 0.6
                     THEN day0 - (extract(isodow FROM day0)::int - 5) ELSE day0 END AS day,
             CASE WHEN uh < 1.0 / 6 THEN 8 + sqrt(uh * 24) ELSE 20 - sqrt((1 - uh) * 120) END AS hr FROM d),
r AS (SELECT g, date_trunc('second', (day + hr * interval '1 hour') AT TIME ZONE 'Asia/Shanghai') AS at FROM w)
SELECT g, NULL, 1 + floor(random() * :templates)::int,
       CASE WHEN random() < 0.1 THEN 1 + floor(random() * g)::bigint ELSE g END,  -- one in ten complained before
       CASE WHEN at > {NOW} THEN at - interval '1 day' ELSE at END, {UNIFORMS}
FROM r
"""

# A dissatisfied customer of a case fed back at least two days ago complains again 1–20 days later.
CHILD_PLAN = f"""
INSERT INTO bench_plan
SELECT :lo + row_number() OVER (), l.k, l.t, l.customer_id,
       date_trunc('second', least(l.feedback_at + (1 + 19 * random()) * interval '1 day', {NOW} - interval
           '30 minutes')),
       {UNIFORMS}
FROM (SELECT k, t, customer_id, feedback_at FROM bench_life WHERE feedback_at < {NOW} - interval '2 days'
      ORDER BY random() LIMIT :children) l
"""

# Fates: 8 % resolved at intake, 4 % invalid, 3 % withdrawn, the rest the full path. Step times are shares
# of `span` (receipt → the main milestone's deadline): 8 % resolve late (half of those extend first).
# Full-path cases stall open (3 % of the last 90 days, 0.1 % before); every step after `now` is not taken.
LIFE = f"""
{{into}}
SELECT p.k, p.parent_k, p.t, p.customer_id, p.received_at, v.fate, s.span,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 2 AND a.fwd <= {NOW} THEN a.fwd END) AS forwarded_at,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 3 AND b.contact <= {NOW} THEN b.contact END) AS
      first_contact_at,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 4 AND c.resolved <= {NOW} THEN c.resolved END) AS resolved_at,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 5 AND d.feedback <= {NOW} THEN d.feedback END) AS feedback_at,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 6 AND e.visit <= {NOW} THEN e.visit END) AS return_visit_at,
  date_trunc('second', CASE WHEN coalesce(st.stall, 9) >= 7 AND f.closed <= {NOW} THEN f.closed END) AS closed_at,
  date_trunc('second', CASE WHEN st.stall IS NULL AND g.ext <= {NOW} THEN g.ext END) AS ext_at
FROM bench_plan p JOIN bench_templates tp ON tp.t = p.t
CROSS JOIN LATERAL (SELECT CASE WHEN p.uf < 0.08 THEN 'at_intake' WHEN p.uf < 0.12 THEN 'invalid'
                                WHEN p.uf < 0.15 THEN 'withdrawn' ELSE 'full' END AS fate, p.ul < 0.08 AS late) v
CROSS JOIN LATERAL (SELECT coalesce(min(pg_temp.bench_due(r.period, p.received_at + CASE WHEN r.anchor = 'forwarded'
                                    THEN interval '30 minutes' ELSE interval '0' END)) - p.received_at, interval
                                        '5 days') AS span
                    FROM bench_rules r WHERE r.t = p.t AND r.code = :main AND r.anchor <> 'resolved') s
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'full' AND p.us < CASE WHEN p.received_at > {NOW} - interval '90 days'
                                THEN 0.03 ELSE 0.001 END THEN (ARRAY[1, 2, 3, 5])[1 + floor(p.u8 * 4)::int] END AS
                                    stall) st
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'full' OR (v.fate = 'withdrawn' AND p.u5 < 0.5)
                                THEN p.received_at + (5 + 45 * p.u1) * interval '1 minute' END AS fwd) a
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'full' AND (:contact_always OR p.u6 < 0.7)
                                THEN a.fwd + s.span * (0.02 + 0.15 * p.u2) END AS contact) b
CROSS JOIN LATERAL (SELECT CASE v.fate
    WHEN 'full' THEN greatest(p.received_at + s.span * CASE WHEN v.late THEN 1.05 + 0.6 * p.u3 ELSE 0.15 + 0.8 *
        p.u3 END,
                              coalesce(b.contact, a.fwd) + interval '10 minutes')
    WHEN 'invalid' THEN p.received_at + s.span * (0.05 + 0.3 * p.u2)
    WHEN 'at_intake' THEN p.received_at END AS resolved) c
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate IN ('full', 'invalid') THEN c.resolved + s.span * (0.01 + 0.08 * p.u4)
                                WHEN v.fate = 'at_intake' THEN p.received_at END AS feedback) d
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'full' AND (:visit_required OR p.u9 < 0.3) THEN d.feedback
                                + CASE WHEN :visit_required THEN 30 + 25 * p.u5 ELSE 2 + 28 * p.u5 END * interval
                                    '1 day'
                           END AS visit) e
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'withdrawn'
    THEN greatest(p.received_at + s.span * (0.05 + 0.6 * p.u4), coalesce(a.fwd, p.received_at) + interval '10 minutes')
    ELSE coalesce(e.visit, d.feedback) + (1 + 14 * p.u1) * interval '1 day' END AS closed) f
CROSS JOIN LATERAL (SELECT CASE WHEN v.fate = 'full' AND v.late AND p.u7 < 0.5 AND tp.extendable
                                THEN p.received_at + s.span * 0.7 END AS ext) g
WHERE p.k > :lo AND p.k <= :hi
"""

CASES_STAGED = f"""
CREATE TEMP TABLE bench_case ON COMMIT DROP AS
SELECT n.*, h.user_id AS handler_id, h.username AS handler_username, cl.user_id AS clerk_id, hd.user_id AS head_id,
  {_state_at('n', "'infinity'::timestamptz")} AS state,
  CASE WHEN n.fate = 'withdrawn' AND n.closed_at IS NOT NULL THEN 'withdrawn' WHEN n.fate = 'at_intake' THEN
      'resolved_at_intake'
       WHEN n.fate = 'invalid' AND n.resolved_at IS NOT NULL THEN 'invalid'
       WHEN n.fate = 'full' AND n.resolved_at IS NOT NULL THEN 'resolved' END AS outcome
FROM (SELECT row_number() OVER (ORDER BY l.received_at, l.k) AS id,
             'TS-' || to_char({_local('l.received_at')}, 'YYYYMMDD') || '-' || lpad((row_number() OVER (
                 PARTITION BY {_local('l.received_at')}::date ORDER BY l.received_at, l.k))::text, 6, '0') AS case_no,
             l.*, tp.department_id, floor(random() * dep.n)::int AS handler_k,
             floor(random() * (SELECT count(*) FROM bench_clerks))::int AS clerk_k,
             random() AS u_sat, random() AS u_paid, random() AS u_esc
      FROM bench_life l JOIN bench_templates tp ON tp.t = l.t
      JOIN (SELECT department_id, count(*) AS n FROM bench_staff GROUP BY 1) dep ON dep.department_id =
          tp.department_id) n
JOIN bench_staff h ON h.department_id = n.department_id AND h.k = n.handler_k
JOIN bench_staff hd ON hd.department_id = n.department_id AND hd.head
JOIN bench_clerks cl ON cl.k = n.clerk_k;
CREATE INDEX ON bench_case (k);
CREATE INDEX ON bench_case (id);
UPDATE bench_case SET u_sat = u_sat * 0.1 WHERE k IN (SELECT parent_k FROM bench_case);  -- the dissatisfied come back
ANALYZE bench_case;
"""

# Each milestone: the earliest deadline of the rules that apply (RULES.md §4.3), started as the services start it.
DEADLINES_STAGED = f"""
CREATE TEMP TABLE bench_dl0 ON COMMIT DROP AS
SELECT DISTINCT ON (c.id, r.code) c.id AS case_id, r.code AS milestone, r.anchor, r.period, r.source, r.met_by,
       s.starts_at, pg_temp.bench_due(r.period, s.starts_at) AS due_at
FROM bench_case c JOIN bench_rules r ON r.t = c.t
CROSS JOIN LATERAL (SELECT CASE r.anchor WHEN 'received' THEN c.received_at
    WHEN 'forwarded' THEN coalesce(c.forwarded_at, c.received_at)
    WHEN 'resolved' THEN CASE WHEN c.outcome = 'resolved' THEN c.resolved_at END END AS starts_at) s
WHERE s.starts_at IS NOT NULL
ORDER BY c.id, r.code, due_at, r.r;
CREATE TEMP TABLE bench_dl ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY d.case_id, d.due_at, d.milestone) AS id, d.*, m.met_at, x.ext_due, h.report_at,
       coalesce(x.ext_due, d.due_at) AS final_due,
       CASE WHEN m.met_at IS NOT NULL THEN CASE WHEN m.met_at < coalesce(x.ext_due, d.due_at) THEN 'met' ELSE
           'met_late' END
            WHEN c.outcome IN ('withdrawn', 'resolved_at_intake') THEN 'waived' ELSE 'open' END AS status,
       CASE WHEN x.ext_due IS NOT NULL THEN c.ext_at END AS ext_at
FROM bench_dl0 d JOIN bench_case c ON c.id = d.case_id
CROSS JOIN LATERAL (SELECT CASE WHEN 'report_hq' = ANY(d.met_by) THEN date_trunc('second', d.starts_at + (d.due_at
    - d.starts_at) * CASE WHEN random() < 0.05 THEN 1.1 + 0.4 * random() ELSE 0.1 + 0.8 * random() END) END AS report) r
CROSS JOIN LATERAL (SELECT CASE WHEN r.report <= {NOW} THEN r.report END AS report_at) h  -- cases.report_hq
CROSS JOIN LATERAL (SELECT least(h.report_at,
    CASE WHEN 'forward' = ANY(d.met_by) THEN c.forwarded_at END,
    CASE WHEN 'first_contact' = ANY(d.met_by) THEN c.first_contact_at END,
    CASE WHEN 'resolve' = ANY(d.met_by) AND d.anchor <> 'resolved' AND c.outcome IN ('resolved', 'invalid',
        'resolved_at_intake')
         THEN c.resolved_at END,
    CASE WHEN 'feedback' = ANY(d.met_by) THEN c.feedback_at END,
    CASE WHEN 'return_visit' = ANY(d.met_by) THEN c.return_visit_at END) AS met_at) m
CROSS JOIN LATERAL (SELECT CASE WHEN d.milestone = :ext_milestone AND c.ext_at < d.due_at
                                 AND c.ext_at < coalesce(m.met_at, 'infinity')
    THEN nullif(greatest(CASE WHEN :ext_from_start THEN pg_temp.bench_due(:ext_step, d.starts_at)
        ELSE pg_temp.bench_due(d.period, d.due_at + CASE WHEN d.period LIKE '%days' THEN interval '-1 microsecond'
                                                         WHEN d.period LIKE 'same_day_cutoff%' THEN interval
                                                             '1 microsecond'
                                                         ELSE interval '0' END) END, d.due_at), d.due_at) END AS
                                                             ext_due) x;
ANALYZE bench_dl;
"""

# Escalations: the pack's rules at intake; `overdue:<milestone>` when the automatic run (a few hours after the
# deadline, at the latest `now`) found it open; 2 % by hand; most acknowledged within three days.
ESCALATIONS_STAGED = f"""
CREATE TEMP TABLE bench_esc ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY e.at, e.case_id, e.rule_key) AS id, e.*,
       CASE WHEN e.ack <= {NOW} AND e.u < CASE WHEN e.at > {NOW} - interval '30 days' THEN 0.8 ELSE 0.99 END
            THEN e.ack END AS acknowledged_at
FROM (SELECT c.id AS case_id, 'rule' AS kind, role AS to_role, 'rule:' || role AS rule_key, tp.explanation AS reason,
             c.clerk_id AS created_by, c.received_at AS at, :supervisor AS ack_by,
             date_trunc('second', c.received_at + (1 + 71 * random()) * interval '1 hour') AS ack, random() AS u
      FROM bench_case c JOIN bench_templates tp ON tp.t = c.t CROSS JOIN unnest(tp.escalate_to) AS role
      UNION ALL
      SELECT c.id, 'overdue', 'dept_head', 'overdue:' || d.milestone,
             '“' || (CAST(:labels AS jsonb) ->> d.milestone) || '”期限 ' || {_shown('d.final_due')}
             || ' 已过仍未完成，上报' || dep.name || '负责人', NULL, z.at, c.head_id,
             date_trunc('second', z.at + (1 + 71 * random()) * interval '1 hour'), random()
      FROM bench_dl d JOIN bench_case c ON c.id = d.case_id JOIN departments dep ON dep.id = c.department_id
      CROSS JOIN LATERAL (SELECT date_trunc('second', least(d.final_due + random() * interval '6 hours', {NOW}))
          AS at) z
      WHERE d.final_due <= {NOW} AND z.at < coalesce(d.met_at, 'infinity') AND z.at < coalesce(c.closed_at, 'infinity')
      UNION ALL
      SELECT c.id, 'manual', (CAST(:roles AS text[]))[1 + c.id % cardinality(CAST(:roles AS text[]))], NULL,
             {_pick('escalation_reasons')}, c.head_id, z.at, :executive,
             date_trunc('second', z.at + (1 + 71 * random()) * interval '1 hour'), random()
      FROM bench_case c CROSS JOIN LATERAL (SELECT date_trunc('second', c.received_at + c.span * 0.4) AS at) z
      WHERE c.u_esc < 0.02 AND z.at <= {NOW} AND z.at < coalesce(c.closed_at, c.resolved_at, 'infinity')) e;
"""

CUSTOMERS = f"""
INSERT INTO customers (id, name, phone, id_number, account_no, created_at)
SELECT g, (CAST(:names AS text[]))[1 + g % 2000],
       '1' || (ARRAY['3', '5', '8', '9'])[1 + g % 4] || lpad(((g * 48271) % 1000000000)::text, 9, '0'),
       CASE WHEN g % 10 < 7 THEN lpad((110000 + (g * 7919) % 550000)::text, 6, '0')
            || to_char(date '1950-01-01' + (g * 37 % 20000)::int, 'YYYYMMDD') || lpad((g % 10000)::text, 4, '0') END,
       CASE WHEN g % 10 >= 4 THEN '6222' || lpad(((g * 2654435761) % 1000000000000)::text, 12, '0') END, {NOW}
FROM (SELECT DISTINCT customer_id AS g FROM bench_case) x
"""

CASES = f"""
INSERT INTO cases (id, case_no, pack, channel, category, grade, handling_level, cause, flags, state, outcome,
    received_at, content, customer_id, first_responder_id, assignee_id, responsible_department_id, parent_case_id,
    compensation_claimed, compensation_paid, handling_form, fact_finding, measures, accountability,
    signed_confirmation, satisfaction, forwarded_at, first_contact_at, resolved_at, feedback_at, return_visit_at,
    closed_at, assessment, version, created_at, updated_at, next_due_at, next_milestone, next_at_risk_at)
SELECT c.id, c.case_no, :pack, tp.channel, tp.category, tp.grade, tp.handling_level, tp.cause, tp.flags, c.state,
  c.outcome, c.received_at,
  CASE WHEN par.id IS NULL THEN ct.body ELSE replace({_pick('recomplaints', 'c.id % 3')}, '{{case_no}}',
      par.case_no) END,
  c.customer_id, c.clerk_id, CASE WHEN c.forwarded_at IS NOT NULL THEN c.handler_id END, c.department_id, par.id,
  tp.claim, z.paid, CASE WHEN c.forwarded_at IS NOT NULL THEN {_pick('handling_forms')} END,
  CASE c.outcome WHEN 'resolved' THEN {_pick('fact_findings')} WHEN 'invalid' THEN {_pick('invalid')}
                 WHEN 'resolved_at_intake' THEN {_pick('at_intake')} END,
  CASE c.outcome WHEN 'resolved' THEN {_pick('measures')} WHEN 'invalid' THEN '解释说明'
                 WHEN 'resolved_at_intake' THEN '当场解释' END,
  CASE c.outcome WHEN 'resolved' THEN {_pick('accountability')} WHEN 'invalid' THEN '无' WHEN 'resolved_at_intake'
      THEN '无' END,
  CASE WHEN z.paid > 0 THEN {_pick('signed')} END,
  CASE WHEN c.feedback_at IS NOT NULL THEN CASE WHEN c.u_sat < 0.05 THEN 1 WHEN c.u_sat < 0.15 THEN 2
       WHEN c.u_sat < 0.3 THEN 3 WHEN c.u_sat < 0.65 THEN 4 ELSE 5 END END,
  c.forwarded_at, c.first_contact_at, c.resolved_at, c.feedback_at, c.return_visit_at, c.closed_at,
  tp.assessment || jsonb_build_object('deadlines', coalesce(dj.deadlines, '{{}}'::jsonb)),
  1 + (c.forwarded_at IS NOT NULL)::int + (c.first_contact_at IS NOT NULL)::int + (c.return_visit_at IS NOT NULL)::int
    + (c.closed_at IS NOT NULL)::int + (c.ext_at IS NOT NULL)::int
    + CASE WHEN c.fate = 'at_intake' THEN 0 ELSE (c.resolved_at IS NOT NULL)::int + (c.feedback_at IS NOT
        NULL)::int END,
  c.received_at, greatest(c.received_at, c.forwarded_at, c.first_contact_at, c.resolved_at, c.feedback_at,
                          c.return_visit_at, c.closed_at, c.ext_at),
  nd.final_due, nd.milestone, nd.final_due - (nd.final_due - nd.starts_at) * CAST(:warning_window AS float8)
FROM bench_case c JOIN bench_templates tp ON tp.t = c.t
LEFT JOIN (SELECT DISTINCT ON (case_id) case_id, final_due, milestone, starts_at FROM bench_dl WHERE status = 'open'
           ORDER BY case_id, final_due, id) nd ON nd.case_id = c.id  -- the stored nearest deadline (issue 13 §1)
LEFT JOIN bench_case par ON par.k = c.parent_k
LEFT JOIN bench_content ct ON ct.category = tp.category AND ct.k = c.id % :n_texts
LEFT JOIN (SELECT case_id, jsonb_object_agg(milestone, {_iso('due_at')}) AS deadlines FROM bench_dl
           WHERE anchor <> 'resolved' GROUP BY case_id) dj ON dj.case_id = c.id
CROSS JOIN LATERAL (SELECT CASE WHEN c.outcome = 'resolved' AND tp.claim > 0 AND c.u_paid < 0.4
    THEN round(tp.claim * (ARRAY[0.3, 0.5, 1])[1 + floor(c.u_paid * 7.5)::int], 2) ELSE 0 END AS paid) z
"""

DEADLINES = """
INSERT INTO case_deadlines (id, case_id, milestone, starts_at, due_at, original_due_at, met_at, status, period, source,
    extensions, overdue_escalated)
SELECT id, case_id, milestone, starts_at, final_due, due_at, met_at, status, period, source,
       (ext_due IS NOT NULL)::int,
       EXISTS (SELECT 1 FROM bench_esc e WHERE e.case_id = d.case_id AND e.rule_key = 'overdue:' || d.milestone)
FROM bench_dl d
"""

EXTENSIONS = f"""
INSERT INTO extensions (case_id, milestone, old_due_at, new_due_at, reason, customer_informed_at,
    customer_informed_method, requested_by_id, created_at)
SELECT d.case_id, d.milestone, d.due_at, d.ext_due, {_pick('extension_reasons')}, d.ext_at, {_pick('methods')},
       CASE WHEN c.forwarded_at <= d.ext_at THEN c.handler_id ELSE c.head_id END, d.ext_at
FROM bench_dl d JOIN bench_case c ON c.id = d.case_id WHERE d.ext_due IS NOT NULL
"""

ESCALATIONS = """
INSERT INTO escalations (id, case_id, to_role, rule_key, reason, created_by_id, created_at, acknowledged_by_id,
    acknowledged_at)
SELECT id, case_id, to_role, rule_key, reason, created_by, at, CASE WHEN acknowledged_at IS NOT NULL THEN ack_by END,
       acknowledged_at FROM bench_esc
"""

# Every step on the timeline, as the services record it (actor, from → to state, note, data).
EVENTS = f"""
INSERT INTO case_events (case_id, at, recorded_at, actor_id, event_type, from_state, to_state, note, data)
SELECT case_id, at, at, actor_id, event_type, from_state, to_state, note, data FROM (
  SELECT c.id AS case_id, c.received_at AS at, c.clerk_id AS actor_id, 'intake' AS event_type,
         'registered' AS from_state, 'registered' AS to_state, k.content AS note,
         jsonb_build_object('assessment', k.assessment, 'parent_case', par.case_no) AS data
  FROM bench_case c JOIN cases k ON k.id = c.id LEFT JOIN bench_case par ON par.k = c.parent_k
  UNION ALL
  SELECT e.case_id, e.at, e.created_by, 'escalation', s.st, s.st, e.reason,
         jsonb_build_object('to_role', e.to_role, 'rule', e.rule_key)
         || CASE WHEN e.kind = 'overdue' THEN jsonb_build_object('escalation_id', e.id) ELSE '{{}}' END
  FROM bench_esc e JOIN bench_case c ON c.id = e.case_id
  CROSS JOIN LATERAL (SELECT CASE WHEN e.kind = 'rule' THEN 'registered' ELSE {_state_at('c', 'e.at')} END AS st) s
  UNION ALL
  SELECT e.case_id, e.acknowledged_at, e.ack_by, 'escalation_ack', s.st, s.st, e.reason,
         jsonb_build_object('escalation_id', e.id, 'to_role', e.to_role, 'rule', e.rule_key)
  FROM bench_esc e JOIN bench_case c ON c.id = e.case_id
  CROSS JOIN LATERAL (SELECT {_state_at('c', 'e.acknowledged_at')} AS st) s WHERE e.acknowledged_at IS NOT NULL
  UNION ALL
  SELECT c.id, c.received_at, c.clerk_id, 'resolve_at_intake', 'registered', 'resolved', k.fact_finding, '{{}}'
  FROM bench_case c JOIN cases k ON k.id = c.id WHERE c.fate = 'at_intake'
  UNION ALL
  SELECT c.id, c.received_at, c.clerk_id, 'feedback', 'resolved', 'feedback_given',
         '客户当场接受解释，表示不再就同一事项投诉',
         jsonb_build_object('method', '当面/电话', 'satisfaction', k.satisfaction)
  FROM bench_case c JOIN cases k ON k.id = c.id WHERE c.fate = 'at_intake'
  UNION ALL
  SELECT c.id, c.forwarded_at, c.clerk_id, 'forward', 'registered', 'forwarded', k.handling_form,
         jsonb_build_object('department', dep.code, 'handler', c.handler_username)
  FROM bench_case c JOIN cases k ON k.id = c.id JOIN departments dep ON dep.id = c.department_id
  WHERE c.forwarded_at IS NOT NULL
  UNION ALL
  SELECT c.id, c.first_contact_at, c.handler_id, 'first_contact', 'forwarded', 'in_progress',
      {_pick('first_contacts')}, '{{}}'
  FROM bench_case c WHERE c.first_contact_at IS NOT NULL
  UNION ALL
  SELECT c.id, c.resolved_at, CASE WHEN c.fate = 'full' THEN c.handler_id ELSE c.clerk_id END,
         CASE WHEN c.fate = 'full' THEN 'resolve' ELSE 'invalid' END,
         CASE WHEN c.first_contact_at IS NOT NULL THEN 'in_progress' WHEN c.forwarded_at IS NOT NULL THEN 'forwarded'
              ELSE 'registered' END, 'resolved', k.fact_finding,
         CASE WHEN c.fate = 'full' THEN jsonb_build_object('measures', k.measures, 'accountability', k.accountability,
                                                           'compensation_paid', k.compensation_paid::text) ELSE
                                                               '{{}}' END
  FROM bench_case c JOIN cases k ON k.id = c.id WHERE c.resolved_at IS NOT NULL AND c.fate IN ('full', 'invalid')
  UNION ALL
  SELECT c.id, c.feedback_at, c.clerk_id, 'feedback', 'resolved', 'feedback_given', {_pick('feedback_notes')},
         jsonb_build_object('method', {_pick('methods')}, 'satisfaction', k.satisfaction)
  FROM bench_case c JOIN cases k ON k.id = c.id WHERE c.feedback_at IS NOT NULL AND c.fate IN ('full', 'invalid')
  UNION ALL
  SELECT c.id, c.return_visit_at, c.clerk_id, 'return_visit', 'feedback_given', 'return_visit', {_pick('visits')},
         jsonb_build_object('method', {_pick('methods', 'c.id % 3')}, 'satisfaction', k.satisfaction)
  FROM bench_case c JOIN cases k ON k.id = c.id WHERE c.return_visit_at IS NOT NULL
  UNION ALL
  SELECT c.id, c.closed_at, c.clerk_id, CASE WHEN c.fate = 'withdrawn' THEN 'withdraw' ELSE 'archive' END,
         CASE WHEN c.fate = 'withdrawn' THEN CASE WHEN c.forwarded_at IS NOT NULL THEN 'forwarded' ELSE 'registered' END
              WHEN c.return_visit_at IS NOT NULL THEN 'return_visit' ELSE 'feedback_given' END,
         CASE WHEN c.fate = 'withdrawn' THEN 'withdrawn' ELSE 'archived' END,
         CASE WHEN c.fate = 'withdrawn' THEN {_pick('withdraw_reasons')} END, '{{}}'
  FROM bench_case c WHERE c.closed_at IS NOT NULL
  UNION ALL
  SELECT d.case_id, d.ext_at, CASE WHEN c.forwarded_at <= d.ext_at THEN c.handler_id ELSE c.head_id END, 'extension',
         s.st, s.st, {_pick('extension_reasons')},
         jsonb_build_object('milestone', d.milestone, 'old_due', {_iso('d.due_at')}, 'new_due', {_iso('d.ext_due')},
                            'customer_informed_at', {_iso('d.ext_at')}, 'informed_method', {_pick('methods')})
  FROM bench_dl d JOIN bench_case c ON c.id = d.case_id CROSS JOIN LATERAL (SELECT {_state_at('c', 'd.ext_at')} AS st) s
  WHERE d.ext_due IS NOT NULL
  UNION ALL
  SELECT d.case_id, d.report_at, c.handler_id, 'report_hq', s.st, s.st, '已向总部报备处理结果及整改情况', '{{}}'
  FROM bench_dl d JOIN bench_case c ON c.id = d.case_id CROSS JOIN LATERAL (SELECT {_state_at('c', 'd.report_at')}
      AS st) s
  WHERE d.report_at IS NOT NULL
  UNION ALL
  SELECT par.id, c.received_at, c.clerk_id, 're_complaint', s.st, s.st, c.case_no, jsonb_build_object('new_case',
      c.case_no)
  FROM bench_case c JOIN bench_case par ON par.k = c.parent_k
  CROSS JOIN LATERAL (SELECT {_state_at('par', 'c.received_at')} AS st) s
) ev
"""

COUNTERS = f"""
INSERT INTO case_counters (day, last_no) SELECT {_local('received_at')}::date, count(*) FROM bench_case GROUP BY 1
"""

LOAD = (("cases planned", CASES_STAGED), ("deadlines planned", DEADLINES_STAGED),
        ("escalations planned", ESCALATIONS_STAGED), ("customers", CUSTOMERS), ("cases", CASES),
        ("case_deadlines", DEADLINES), ("extensions", EXTENSIONS), ("escalations", ESCALATIONS),
        ("case_events", EVENTS), ("case_counters", COUNTERS))

SEQUENCES = "; ".join(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
                      for table in ("cases", "customers", "case_deadlines", "escalations"))

FOREIGN_KEYS = (("cases", "customer_id", "customers"), ("cases", "first_responder_id", "users"),
                ("cases", "assignee_id", "users"), ("cases", "responsible_department_id", "departments"),
                ("cases", "parent_case_id", "cases"), ("case_deadlines", "case_id", "cases"),
                ("case_events", "case_id", "cases"), ("case_events", "actor_id", "users"),
                ("escalations", "case_id", "cases"), ("escalations", "created_by_id", "users"),
                ("escalations", "acknowledged_by_id", "users"), ("extensions", "case_id", "cases"),
                ("extensions", "requested_by_id", "users"))

DISTRIBUTIONS = (
    ("states", "SELECT state, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC"),
    ("outcomes", "SELECT coalesce(outcome, '(open)'), count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC"),
    ("grades", "SELECT grade, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC"),
    ("channels", "SELECT channel, count(*) FROM cases GROUP BY 1 ORDER BY 2 DESC"),
    ("deadlines", "SELECT milestone || ' ' || status || CASE WHEN status = 'open' "
                  "AND due_at < (SELECT max(received_at) FROM cases) THEN ' overdue' ELSE '' END, count(*) "
                  "FROM case_deadlines GROUP BY 1 ORDER BY 2 DESC"),
    ("escalations", "SELECT coalesce(split_part(rule_key, ':', 1), 'by hand') || CASE WHEN acknowledged_at IS NULL "
                    "THEN ' unacknowledged' ELSE '' END, count(*) FROM escalations GROUP BY 1 ORDER BY 2 DESC"),
)
