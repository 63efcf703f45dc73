"""A case's milestone deadlines: stored from the assessment, met by events, extended, recomputed.

RULES.md §3: a deadline is an exclusive instant; a milestone is met when its event happens
before it; an open milestone past it is overdue, and inside the pack's warning window at risk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol, TypedDict

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Row,
    Select,
    any_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy import case as sql_case
from sqlalchemy.orm import InstrumentedAttribute, aliased

from db.models import Case, CaseDeadline, CaseEvent
from services.rules import statutory
from services.rules.assess import Assessment, Facts, assess
from services.rules.calendar import WorkingCalendar, at_risk_from, iso
from services.rules.policy import EVENTS, PACK_CODES, Policy
from services.rules.transitions import CLOSED_STATES, OPEN_STATES
from services.unit_of_work import UnitOfWork

FACT_COLUMNS = ("received_at", "channel", "category", "compensation_claimed", "cause", "flags", "forwarded_at",
                "resolved_at", "clock_started_at", "paused_days")  # what `case_facts` reads of a case


def case_facts(case: Case | Row[Any]) -> Facts:
    """The facts `assess` reads, from a case or a row of its `FACT_COLUMNS`."""
    return Facts(received_at=case.received_at, channel=case.channel, category=case.category,
                 compensation_claim=Decimal(case.compensation_claimed), cause=case.cause,
                 flags=frozenset(case.flags), forwarded_at=case.forwarded_at, resolved_at=case.resolved_at,
                 clock_started_at=case.clock_started_at, paused_days=case.paused_days)


class DeadlineChange(TypedDict):
    """A moved deadline as the timeline records it (ISO instants)."""

    milestone: str
    old: str
    new: str


def sync_deadlines(uow: UnitOfWork, case: Case, assessment: Assessment, *, new: bool = False) -> list[DeadlineChange]:
    """Add the milestones the assessment now knows and move open, never-extended ones.

    Returns the changes (milestone, old, new) so the caller records them on the timeline. `new`: the case was
    registered just now and has no deadline yet, so there is nothing to read back (issue 10 §4).
    """
    rows = {} if new else {d.milestone: d for d in uow.session.scalars(
        select(CaseDeadline).where(CaseDeadline.case_id == case.id))}
    added, changes = reconcile(rows, assessment)
    for row in added:
        row.case_id = case.id
    uow.session.add_all(added)
    uow.flush()
    return changes


class DeadlineRow(Protocol):
    """What `reconcile` reads and moves of a deadline row."""

    milestone: str
    status: str
    extensions: int
    starts_at: datetime
    due_at: datetime
    original_due_at: datetime


def reconcile(rows: Mapping[str, DeadlineRow], assessment: Assessment
              ) -> tuple[list[CaseDeadline], list[DeadlineChange]]:
    """`sync_deadlines` in memory, shared with the demo's set-based writer: the rows for milestones new to the
    case (without their case id), and the changes made to `rows` (by milestone)."""
    added: list[CaseDeadline] = []
    changes: list[DeadlineChange] = []
    for milestone in assessment.milestones:
        row = rows.get(milestone.code)
        if row is None:
            added.append(CaseDeadline(milestone=milestone.code, starts_at=milestone.starts_at, due_at=milestone.due,
                                      original_due_at=milestone.due, period=str(milestone.period),
                                      source=milestone.source, status="open", extensions=0))
        elif row.status == "open" and row.extensions == 0 and row.due_at != milestone.due:
            changes.append(DeadlineChange(milestone=row.milestone, old=iso(row.due_at),
                                          new=iso(milestone.due)))
            row.starts_at, row.due_at, row.original_due_at = milestone.starts_at, milestone.due, milestone.due
    return added, changes


# A case closed as invalid or at intake is resolved (seed 002 art. 18(3), seed 000 art. 17(1)).
_COMPLETES = {"invalid": "resolve", "resolve_at_intake": "resolve"}


def pack_events(event_type: str) -> frozenset[str]:
    """The pack events (a milestone's `met_by`, RULES.md §3) a case event completes; none for the others."""
    return frozenset({_COMPLETES.get(event_type, event_type)}) & frozenset(EVENTS)


def milestones_met(policy: Policy, event_type: str) -> list[str]:
    """The pack's milestones a case event meets: the one reader of `met_by` (issue 9 §2)."""
    events = pack_events(event_type)
    met = [m.code for m in policy.milestones if events & set(m.met_by)]
    if policy.statutory_on and events & set(statutory.MET_BY):  # the regulator's clock (RULES.md §7.1)
        met.append(statutory.MILESTONE)
    return met


RUNNING = ("open", "paused")  # a deadline still owed; a paused one stands still (RULES.md §7.1)


def mark_met(uow: UnitOfWork, case: Case, policy: Policy, event_type: str, at: datetime) -> None:
    """Close every open milestone the case event `event_type` meets, on time or late (RULES.md §3)."""
    met_codes = milestones_met(policy, event_type)
    if not met_codes:  # archive, escalate, withdraw…: nothing to read back (issue 10 §4, the demo's load time)
        return
    for row in uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id, CaseDeadline.status.in_(RUNNING),
            CaseDeadline.milestone.in_(met_codes))):
        meet(row, at)


def meet(row: CaseDeadline, at: datetime) -> None:
    """On time when the event happens before the (exclusive) deadline, late otherwise (RULES.md §3); while the
    clock stands still it cannot run late (RULES.md §7.1)."""
    row.met_at, row.status = at, ("met" if row.status == "paused" or at < row.due_at else "met_late")


def waive_open(uow: UnitOfWork, case: Case) -> None:
    """A withdrawn or resolved-at-intake case owes no further milestone."""
    for row in uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id, CaseDeadline.status.in_(RUNNING))):
        row.status = "waived"


def recompute_open_deadlines(uow: UnitOfWork, actor_id: int, reason: str) -> int:
    """After a calendar edit, re-assess every open case and record each change on its timeline; returns how many
    cases changed.

    Set-based (issue 13 §3): one read of the open cases' facts, one of their deadline rows, `assess` and
    `reconcile` in memory as `sync_deadlines` does per case, then one statement a table (moved rows, added rows,
    the timeline entries, the stored nearest deadline) — ~1 ms a case instead of ~10 (20k open cases).
    """
    calendar: WorkingCalendar = uow.calendar()
    uow.flush()
    owing = Case.state.not_in(CLOSED_STATES) & Case.id.in_(
        select(CaseDeadline.case_id).where(CaseDeadline.status == "open"))
    facts = uow.session.execute(select(Case.id, Case.pack, *(getattr(Case, c) for c in FACT_COLUMNS))
                                .where(owing).order_by(Case.id)).all()
    rows: dict[int, dict[str, _Held]] = {}
    for row in uow.session.execute(select(*(getattr(CaseDeadline, c) for c in _ROW_COLUMNS))
                                   .where(CaseDeadline.case_id.in_(select(Case.id).where(owing)))):
        rows.setdefault(row.case_id, {})[row.milestone] = _Held(**row._asdict())
    moved: list[_Held] = []
    added: list[CaseDeadline] = []
    events: list[dict[str, Any]] = []
    now = uow.now()
    for case in facts:
        deadlines = rows.get(case.id, {})
        new, changes = reconcile(deadlines, assess(uow.policy(case.pack), case_facts(case), calendar, prose=False))
        added += (_for_case(row, case.id) for row in new)
        if changes:
            moved += (deadlines[change["milestone"]] for change in changes)
            events.append({"case_id": case.id, "at": now, "actor_id": actor_id, "event_type": "deadlines_recomputed",
                           "note": reason, "data": {"changes": changes}})
    if moved:
        uow.session.execute(text(
            "UPDATE case_deadlines d SET starts_at = v.starts_at, due_at = v.due_at, original_due_at = v.due_at "
            "FROM unnest(CAST(:ids AS bigint[]), CAST(:starts AS timestamptz[]), CAST(:dues AS timestamptz[])) "
            "AS v(id, starts_at, due_at) WHERE d.id = v.id"),
            {"ids": [r.id for r in moved], "starts": [r.starts_at for r in moved], "dues": [r.due_at for r in moved]})
        for held in list(uow.session.identity_map.values()):  # a row loaded before now reads the moved one again
            if isinstance(held, CaseDeadline):
                uow.session.expire(held)
    if added:
        uow.session.execute(insert(CaseDeadline), [{c: getattr(r, c) for c in _ADDED_COLUMNS} for r in added])
    if events:
        uow.session.execute(insert(CaseEvent), events)
    # only a case whose rows moved or grew can have another nearest deadline (all 20k open ones: 13 s of 18)
    store_next_due(uow, case_among({r.case_id for r in moved} | {r.case_id for r in added}))
    return len(events)


@dataclass
class _Held:
    """A deadline row as `reconcile` reads and moves it, without the ORM's bookkeeping (0.2 ms an instance)."""

    id: int
    case_id: int
    milestone: str
    starts_at: datetime
    due_at: datetime
    original_due_at: datetime
    status: str
    extensions: int


_ROW_COLUMNS = ("id", "case_id", "milestone", "starts_at", "due_at", "original_due_at", "status", "extensions")
_ADDED_COLUMNS = ("case_id", "milestone", "starts_at", "due_at", "original_due_at", "period", "source", "status",
                  "extensions")


def _for_case(row: CaseDeadline, case_id: int) -> CaseDeadline:
    row.case_id = case_id
    return row


# --- the stored nearest deadline (issue 13 §1) ----------------------------------------------------------------


def next_due_query(uow: UnitOfWork) -> Select[Any]:
    """Each case's nearest open deadline from its rows (case id, due_at, milestone, at_risk_at; NULLs when nothing
    is open — a paused deadline stands still, RULES.md §7.1): what `cases.next_*` must say. Filter it with
    `.where(...)` on `Case`."""
    nearest = (select(CaseDeadline.due_at, CaseDeadline.milestone,
                      at_risk_from(CaseDeadline.starts_at, CaseDeadline.due_at,
                                   warning_window_sql(warning_windows(uow))).label("at_risk_at"))
               .where(CaseDeadline.case_id == Case.id, CaseDeadline.status == "open")
               .order_by(CaseDeadline.due_at, CaseDeadline.id).limit(1).lateral("nearest"))
    return (select(Case.id, nearest.c.due_at, nearest.c.milestone, nearest.c.at_risk_at)
            .outerjoin(nearest, true()))


def _differs(fresh: Any) -> ColumnElement[bool]:
    return or_(Case.next_due_at.is_distinct_from(fresh.c.due_at),
               Case.next_milestone.is_distinct_from(fresh.c.milestone),
               Case.next_at_risk_at.is_distinct_from(fresh.c.at_risk_at))


def store_next_due(uow: UnitOfWork, which: ColumnElement[bool]) -> None:
    """Recompute the stored nearest deadline of the cases `which` selects from their deadline rows, in the caller's
    transaction: every use case that moves a deadline ends here (cases.finish). One statement; neither the
    case's version nor its updated_at move (the deadline rows already did, issue 13 §1)."""
    uow.flush()
    fresh = next_due_query(uow).where(which).cte("fresh")
    uow.session.execute(
        update(Case).where(Case.id == fresh.c.id, _differs(fresh))
        .values(next_due_at=fresh.c.due_at, next_milestone=fresh.c.milestone, next_at_risk_at=fresh.c.at_risk_at,
                updated_at=Case.updated_at)
        .execution_options(synchronize_session="fetch"))


def case_among(ids: Iterable[int], case_id: InstrumentedAttribute[int] = Case.id) -> ColumnElement[bool]:
    """`case_id` (a case's id, by default `Case.id`) is one of `ids`: one array parameter, however many (an IN list
    binds one parameter each)."""
    return case_id == any_(bindparam("case_ids", sorted(ids), type_=ARRAY(BigInteger)))


@dataclass(frozen=True)
class NextDueDifference:
    case_no: str
    stored: tuple[datetime | None, str | None, datetime | None]  # next_due_at, next_milestone, next_at_risk_at
    fresh: tuple[datetime | None, str | None, datetime | None]


def next_due_differences(uow: UnitOfWork, limit: int = 100) -> list[NextDueDifference]:
    """The consistency check (issue 13 §1): every open case, and every case with a stored or an open deadline,
    recomputed from its rows; the first `limit` whose stored nearest deadline says otherwise. Empty: none."""
    fresh = next_due_query(uow).where(or_(
        Case.state.in_(OPEN_STATES), Case.next_due_at.is_not(None),
        exists().where(CaseDeadline.case_id == Case.id, CaseDeadline.status == "open"))).subquery("fresh")
    rows = uow.session.execute(
        select(Case.case_no, Case.next_due_at, Case.next_milestone, Case.next_at_risk_at,
               fresh.c.due_at, fresh.c.milestone, fresh.c.at_risk_at)
        .join(fresh, fresh.c.id == Case.id).where(_differs(fresh)).order_by(Case.case_no).limit(limit))
    return [NextDueDifference(r.case_no, (r.next_due_at, r.next_milestone, r.next_at_risk_at),
                              (r.due_at, r.milestone, r.at_risk_at)) for r in rows]


@dataclass(frozen=True)
class Sla:
    status: str  # on_time | at_risk | overdue | met | met_late | waived
    due_at: datetime


def sla(row: CaseDeadline, now: datetime, warning_window: float) -> Sla:
    """RULES.md §3: at risk inside the last `warning_window` share of the period; its SQL twins follow."""
    if row.status != "open":
        return Sla(row.status, row.due_at)
    if now >= row.due_at:
        return Sla("overdue", row.due_at)
    return Sla("at_risk" if now >= at_risk_from(row.starts_at, row.due_at, warning_window) else "on_time", row.due_at)


def warning_windows(uow: UnitOfWork) -> dict[str, float]:
    """Each pack's at-risk share of a period as the institution runs it, by pack code (cases keep the pack
    they were assessed by)."""
    return {code: uow.policy(code).warning_window for code in PACK_CODES}


def warning_window_sql(windows: Mapping[str, Any], pack: Any = Case.pack) -> Any:
    """SQL twin of `warning_windows`: the at-risk share of the row's case's pack (RULES.md §3). `windows` holds each
    pack's share, as a value or as a bound parameter of a statement built once (issue 13 §4)."""
    return sql_case(*((pack == code, share) for code, share in windows.items()))


def at_risk_cases(now: datetime | ColumnElement[datetime], windows: Mapping[str, Any]) -> Select[tuple[int]]:
    """SQL twin of `sla`'s at_risk: the cases with an open deadline inside its pack's warning window, not yet due.
    Found among the open deadlines inside the widest window of any pack, from their index, then checked by each
    case's own pack; read once, as a set: a correlated EXISTS scanned the index once per case (the board at 3M
    cases: 1.1 of its 2 s, issue 13 §1). `now` and `windows` (`warning_window_sql`) as values or bound parameters."""
    deadline_case = _DEADLINE_CASE
    return (select(CaseDeadline.case_id).join(deadline_case, deadline_case.id == CaseDeadline.case_id)
            .where(CaseDeadline.status == "open", CaseDeadline.due_at > now,
                   at_risk_from(CaseDeadline.starts_at, CaseDeadline.due_at, func.greatest(*windows.values())) <= now,
                   at_risk_from(CaseDeadline.starts_at, CaseDeadline.due_at,
                                warning_window_sql(windows, deadline_case.pack)) <= now))


_DEADLINE_CASE = aliased(Case, name="deadline_case")  # made once (issue 13 §4): a fresh alias adapts its columns anew


def overdue_sql(now: datetime | ColumnElement[datetime]) -> ColumnElement[bool]:
    """SQL twin of `sla`'s overdue: an open deadline of the case is due (RULES.md §3) — so its nearest one is,
    which the case stores (issue 13 §1)."""
    return Case.next_due_at <= now
