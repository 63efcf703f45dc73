"""My queue (我的待办), the intake page's live preview and its "complained before" warning (issue 4 §1–2).

Every read is one SQL query, filtered and paged in the database; SLA badges count working days on
the institution's calendar from the database (RULES.md §3).
"""

from __future__ import annotations

from calendar import monthrange
from collections import namedtuple
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from math import ceil
from typing import Any, Protocol

from sqlalchemy import ColumnElement, DateTime, Float, Result, Select, and_, any_, bindparam, func, literal, or_, select
from sqlalchemy.orm import aliased

from db.models import Case, CaseDeadline, Customer, User
from services import words
from services.casework.deadlines import at_risk_cases, overdue_sql, sla, warning_windows
from services.errors import InvalidInput, NotPermitted
from services.institution.access import Actor, case_scope, headed_department, load_actor, may, require_role
from services.rules import statutory
from services.rules.assess import FACT_KEYS, Assessment, assess, parse_facts
from services.rules.calendar import SHANGHAI, Period, WorkingCalendar, deadline_day, format_deadline
from services.rules.policy import PACK_CODES
from services.rules.transitions import OPEN_STATES, RE_COMPLAINT_FROM
from services.unit_of_work import UnitOfWork

MAX_PAGE_SIZE = 200
_DAY_KINDS = ("working_days", "calendar_days")
_INTAKE_FACTS = tuple(k for k in FACT_KEYS if k not in ("forwarded_at", "resolved_at"))  # set later, not at intake


# --- SLA badge ------------------------------------------------------------------------------------


class DeadlineLike(Protocol):
    milestone: str
    status: str
    starts_at: datetime
    due_at: datetime
    period: str


@dataclass(frozen=True)
class SlaBadge:
    """A milestone's SLA: status plus the time left (on time / at risk) or overdue.

    unit is `working_days` for day-based milestones (RULES.md §3), `hours` otherwise and for the
    last part-day; None for a closed milestone (met, met late, waived).
    """

    milestone: str
    status: str  # on_time | at_risk | overdue | met | met_late | waived
    due_at: datetime
    unit: str | None = None
    amount: float | None = None

    @property
    def due_text(self) -> str:
        return format_deadline(self.due_at)

    def label(self, lang: str = "zh") -> str:
        return words.text(f"sla.badge.{self.status}", lang)

    def countdown(self, lang: str = "zh") -> str:
        """`剩余 2 个工作日` / `3.5 hours overdue`; empty for a closed milestone."""
        if self.amount is None:
            return ""
        way = "overdue_by" if self.status == "overdue" else "left"
        unit = ("working_days" if self.unit == "working_days" else "hours") + ("_one" if self.amount == 1 else "")
        return words.text(f"sla.badge.{way}.{unit}", lang, n=f"{self.amount:g}")

    def text(self, lang: str = "zh") -> str:
        """`临近到期 · 剩余 1 个工作日`, `已超期 2 个工作日`, `按时完成`."""
        countdown = self.countdown(lang)
        if not countdown or self.status == "overdue":  # an overdue countdown already says so
            return countdown or self.label(lang)
        return f"{self.label(lang)} · {countdown}"


@cache
def _day_based(period: str) -> bool:
    """Whether a stored period counts days (a pack has a handful; a board parses each once, issue 13 §1)."""
    try:
        return Period.parse(period).kind in _DAY_KINDS
    except ValueError:
        return False


def _badge(row: DeadlineLike, now: datetime, warning_window: float, today: date, last_day: date,
           calendar: WorkingCalendar) -> SlaBadge:
    status = sla(row, now, warning_window).status  # type: ignore[arg-type]  # duck-typed row
    if status not in ("on_time", "at_risk", "overdue"):
        return SlaBadge(row.milestone, status, row.due_at)
    if _day_based(row.period):
        if status == "overdue":  # working days since the last day, today included
            days = calendar.working_days(last_day + timedelta(days=1), today)
        else:  # working days still to come after today, as a period counts them (RULES.md §3)
            days = calendar.working_days(today + timedelta(days=1), last_day)
        if days:
            return SlaBadge(row.milestone, status, row.due_at, "working_days", days)
    hours = abs(row.due_at - now).total_seconds() / 3600  # hour-based, or the last part-day
    return SlaBadge(row.milestone, status, row.due_at, "hours", ceil(hours * 10) / 10)


def sla_badges(deadlines: Sequence[tuple[DeadlineLike, float]], now: datetime,
               calendar: WorkingCalendar) -> list[SlaBadge]:
    """RULES.md §3 status of each (deadline, pack warning window), with working days (or hours) left or overdue."""
    today = now.astimezone(SHANGHAI).date()
    # each instant's day once: a board's ~440 deadlines fall on ~130 instants (issue 13 §1)
    last_days = {due_at: deadline_day(due_at) for due_at in {row.due_at for row, _ in deadlines}}
    return [_badge(row, now, window, today, last_days[row.due_at], calendar) for row, window in deadlines]


def stored_nearest(page: Any) -> ColumnElement[bool]:
    """Join condition of the open deadline a page's stored `next_milestone` names (issue 13 §1): the deadline's
    columns for the rows shown, not for every case before paging."""
    return and_(CaseDeadline.case_id == page.c.id, CaseDeadline.milestone == page.c.next_milestone,
                CaseDeadline.status == "open")


def open_case() -> ColumnElement[bool]:
    """The case is still handled; its states written into the statement, so the partial indexes of open cases
    (db.models.OPEN_CASE) serve it however the statement is prepared (issue 13 §1)."""
    return Case.state.in_([literal(state, literal_execute=True) for state in OPEN_STATES])


def row_badges(uow: UnitOfWork, rows: Sequence[Any], now: datetime) -> list[SlaBadge | None]:
    """Badges of query rows carrying `pack` and the deadline columns (milestone, due_at, starts_at, period, status)
    of their nearest open deadline (`stored_nearest`); None: nothing open."""
    windows = warning_windows(uow)
    open_rows = [(r, windows[r.pack]) for r in rows if r.milestone]
    badges = iter(sla_badges(open_rows, now, uow.calendar()))
    return [next(badges) if r.milestone else None for r in rows]


def plain_rows(result: Result[Any]) -> list[Any]:
    """A result's rows as named tuples: a Row finds a name through `__getattr__` (~0.5 µs), and the board reads ~20
    names of each of its 500 rows (issue 13 §1: 8 of its ~38 ms of Python at 300k cases)."""
    return list(map(_named_row(tuple(result.keys()))._make, result.all()))


@cache
def _named_row(fields: tuple[str, ...]) -> Any:
    return namedtuple("PlainRow", fields)


# --- my queue -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    case_no: str
    pack: str
    state: str
    grade: str
    category: str
    channel: str
    customer_name: str
    received_at: datetime
    assignee_name: str | None
    deadline: SlaBadge | None  # the nearest open deadline, None when nothing is open
    version: int = 0  # as loaded: a bulk action on the selected rows states what the user saw (issue 10 §2)
    statutory: SlaBadge | None = None  # the regulator's clock beside it (RULES.md §7.1), None without one
    source: str = "own"  # a regulator's transfer is marked in every list (issue 11 §3)
    major_cause: str | None = None  # order 3 art. 29 (issue 11 §5)


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.page_size))


_VIEWS = {"assigned": Case.assignee_id, "first_responder": Case.first_responder_id,
          "department": Case.responsible_department_id}  # each view: the column naming its user or department


def _view_of(view: str, actor: Actor) -> int | None:
    """Whom a view's column names: the user (assigned; first_responder, who tracks the case to the end, seed 002
    art. 3), or the department they head — None for a head of none, which `= NULL` holds for no case."""
    if view not in _VIEWS:
        raise InvalidInput("error.queue.unknown_view", field="view", view=view)
    if view != "department":
        return actor.id
    if not may(actor, "view_department"):
        raise NotPermitted("error.queue.department_view_for_heads")
    return headed_department(actor)


DUE = ("overdue", "at_risk")  # a deadline filter: the home tiles' 已超期 and 即将超期 (issue 10 §4)
_LISTS = {"states": Case.state, "grades": Case.grade, "categories": Case.category, "channels": Case.channel}


def _due_condition(due: str, now: datetime | ColumnElement[datetime],
                   windows: Mapping[str, Any]) -> ColumnElement[bool]:
    if due == "overdue":
        return overdue_sql(now)
    if due == "at_risk":  # any state: checked on the candidates alone, not on all the user's cases (issue 13 §1)
        return Case.id == any_(func.array(at_risk_cases(now, windows).scalar_subquery()))
    raise InvalidInput("error.queue.unknown_due", field="due", due=due)


def due_filter(uow: UnitOfWork, due: str, now: datetime) -> ColumnElement[bool]:
    """The cases a deadline filter shows; a home tile counts the same (issue 10 §4)."""
    return _due_condition(due, now, warning_windows(uow))


def queue_query(view: str, *, due: str | None = None, **lists: Sequence[str]) -> dict[str, str]:
    """The query string of a link to the queue filtered as given (a home tile's count, issue 10 §4)."""
    return {"view": view, **({"due": due} if due else {}),
            **{name: ",".join(values) for name, values in lists.items() if values}}


def filters_from_query(query: Mapping[str, str]) -> dict[str, Any]:
    """`my_queue`'s filters from a link's query string (the inverse of `queue_query`); other keys ignored."""
    out: dict[str, Any] = {name: query[name] for name in ("view", "due") if query.get(name)}
    return out | {name: [v for v in query[name].split(",") if v] for name in _LISTS if query.get(name)}


def my_queue(uow: UnitOfWork, actor_id: int, *, view: str = "assigned", states: Sequence[str] | None = None,
             grades: Sequence[str] | None = None, categories: Sequence[str] | None = None,
             channels: Sequence[str] | None = None, due: str | None = None, page: int = 1,
             page_size: int = 25, now: datetime | None = None) -> QueuePage:
    """The user's cases (open ones unless `states` says otherwise), nearest open deadline first.
    `due` keeps the cases with an overdue or at-risk open deadline, whatever their state unless `states`
    is given: the home tiles count them so (issue 10 §4)."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "view_case")
    if page < 1:
        raise InvalidInput("error.queue.pages_start_at_one", field="page")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput("error.queue.page_size_range", field="page_size", most=MAX_PAGE_SIZE)
    who = _view_of(view, actor)
    now = uow.at(now)
    lists = {"states": states, "grades": grades, "categories": categories, "channels": channels}
    given = {name: list(values) for name, values in lists.items() if values}
    counted, query = _queue_statements(view, tuple(given), due)
    params = {"who": who, "now": now, "size": page_size, "skip": (page - 1) * page_size, **given,
              **{_WINDOW.format(code): share for code, share in warning_windows(uow).items()}}
    # through the connection, as the board's: the ORM's loading of columns alone cost ~0.5 ms (issue 13 §4)
    rows = plain_rows(uow.session.connection().execute(query, params))
    total = rows[0].total if rows else (uow.session.scalar(counted, params) or 0) if page > 1 else 0
    badges = row_badges(uow, rows, now)
    # the statutory deadline of each listed case that has one, whatever its status: both clocks shown (RULES.md §7.1)
    clocks = row_badges(uow, [_Clock(r.pack, *(getattr(r, f"statutory_{c}") for c in _CLOCK)) for r in rows], now)
    return QueuePage([QueueRow(
        r.case_no, r.pack, r.state, r.grade, r.category, r.channel, r.customer_name, r.received_at,
        r.assignee_name, badge, r.version, clock, r.source, r.major_cause)
        for r, badge, clock in zip(rows, badges, clocks, strict=True)],
        total, page, page_size)


_CLOCK = ("milestone", "due_at", "starts_at", "period", "status")
_WINDOW = "window_{}"  # the bound parameter of a pack's warning window


@cache
def _queue_statements(view: str, lists: tuple[str, ...], due: str | None) -> tuple[Select[Any], Select[Any]]:
    """The count and the page of one shape of the queue, built once: the user, the lists, the page and the time
    are bound parameters (who, states…, size, skip, now, window_<pack>). Built and keyed per view, the statement
    cost ~3 ms of a 10 ms view (issue 13 §4). Each view lies inside the user's scope (issue 3 §3), and the scope's
    OR beside it only cost the planner ~1.5 ms; a test holds every view to it."""
    filters = [_VIEWS[view] == bindparam("who"), *(_LISTS[name].in_(bindparam(name, expanding=True)) for name in lists)]
    now = bindparam("now", type_=DateTime(timezone=True))
    filters += [_due_condition(due, now, {code: bindparam(_WINDOW.format(code), type_=Float) for code in PACK_CODES})
                ] if due else []
    filters += [] if due or "states" in lists else [open_case()]
    counted = select(func.count()).select_from(Case).where(*filters)
    # a page of ids from the index of open cases by their stored nearest deadline; people and deadlines joined
    # for those rows only (issue 13 §1); the count and the regulator's clock in the same statement (issue 13 §4)
    page_rows = (select(Case.id, Case.case_no, Case.version, Case.pack, Case.state, Case.grade, Case.category,
                        Case.channel, Case.customer_id, Case.assignee_id, Case.received_at, Case.next_due_at,
                        Case.next_milestone, Case.source, Case.major_cause)
                 .where(*filters)
                 .order_by(Case.next_due_at.asc().nulls_last(), Case.received_at, Case.id)
                 .limit(bindparam("size")).offset(bindparam("skip"))).subquery("page")
    assignee, regulator = aliased(User, name="assignee"), aliased(CaseDeadline, name="regulator")
    query = (
        select(page_rows.c.id, page_rows.c.case_no, page_rows.c.version, page_rows.c.pack, page_rows.c.state,
               page_rows.c.grade, page_rows.c.category, page_rows.c.channel, Customer.name.label("customer_name"),
               page_rows.c.received_at, assignee.display_name.label("assignee_name"),
               CaseDeadline.milestone, CaseDeadline.due_at, CaseDeadline.starts_at, CaseDeadline.period,
               CaseDeadline.status, page_rows.c.source, page_rows.c.major_cause,
               *(getattr(regulator, c).label(f"statutory_{c}") for c in _CLOCK),
               counted.scalar_subquery().label("total"))
        .join(Customer, Customer.id == page_rows.c.customer_id)
        .outerjoin(assignee, assignee.id == page_rows.c.assignee_id)
        .outerjoin(CaseDeadline, stored_nearest(page_rows))
        .outerjoin(regulator, and_(regulator.case_id == page_rows.c.id, regulator.milestone == statutory.MILESTONE))
        .order_by(page_rows.c.next_due_at.asc().nulls_last(), page_rows.c.received_at, page_rows.c.id))
    return counted, query


@dataclass(frozen=True)
class _Clock:
    """A listed case's statutory deadline as `row_badges` reads a row; no milestone: the case has none."""

    pack: str
    milestone: str | None
    due_at: datetime | None
    starts_at: datetime | None
    period: str | None
    status: str | None


# --- intake helpers -------------------------------------------------------------------------------


def intake_preview(uow: UnitOfWork, actor_id: int, form: Mapping[str, Any], lang: str = "zh") -> Assessment:
    """What the rules decide for unsaved intake input: grade, level, department, escalation, deadlines."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "intake")
    policy = uow.policy()
    facts = parse_facts({key: form[key] for key in _INTAKE_FACTS if key in form}, policy)
    return assess(policy, facts, uow.calendar(), lang)


@dataclass(frozen=True)
class RecentComplaint:
    case_no: str
    version: int
    received_at: datetime
    state: str
    excerpt: str
    re_complaint: bool  # the result was fed back: a new complaint about it is a re-complaint (seed 000 art. 17(7))


@dataclass(frozen=True)
class RepeatCheck:
    """The customer's recent cases: those the user may see, and only a count of the others (issue 8 §1)."""

    visible: list[RecentComplaint]
    elsewhere: int


def months_before(at: datetime, months: int) -> datetime:
    """The same Shanghai wall-clock time `months` calendar months earlier (clamped to the month's end)."""
    local = at.astimezone(SHANGHAI)
    year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
    return local.replace(year=year, month=month + 1, day=min(local.day, monthrange(year, month + 1)[1]))


def recent_complaints(uow: UnitOfWork, actor_id: int, customer_phone: str | None = None,
                      customer_id_number: str | None = None, now: datetime | None = None,
                      months: int = 12, limit: int = 20) -> RepeatCheck:
    """Cases of the same customer (same phone or ID number) received in the last `months` months."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "intake")
    now = uow.at(now)
    match = [column == value.strip() for column, value in ((Customer.phone, customer_phone),
                                                           (Customer.id_number, customer_id_number))
             if value and value.strip()]
    if not match:
        return RepeatCheck([], 0)
    same_customer = (select(Case).join(Customer, Customer.id == Case.customer_id)
                     .where(or_(*match), Case.received_at >= months_before(now, months), Case.received_at <= now))
    rows = uow.session.execute(
        same_customer.with_only_columns(Case.case_no, Case.version, Case.received_at, Case.state,
                                        func.left(Case.content, 60).label("excerpt"))
        .where(case_scope(actor)).order_by(Case.received_at.desc()).limit(limit)).all()
    # IS NOT TRUE: a case with no assignee makes the scope test NULL, and such a case is still elsewhere.
    elsewhere = uow.session.scalar(same_customer.with_only_columns(func.count())
                                   .where(case_scope(actor).is_not(True))) or 0
    return RepeatCheck([RecentComplaint(r.case_no, r.version, r.received_at, r.state, r.excerpt,
                                        r.state in RE_COMPLAINT_FROM) for r in rows], elsewhere)
