"""KPIs of complaint handling (RULES.md §5; seed 003 §6, 004 art. 8, 000 art. 11), computed in SQL.

Every KPI counts one set of rows anchored on one instant, so "in the period" and "in the month" mean
the same for all figures, and the cases behind any figure can be listed (`kpi_cases`):
  volume, repeat, compensation   cases received in the period (received_at)
  timeliness, first_deadline     `resolve` deadlines due in the period that have fallen due: met, met
                                 late, or still open past due at `now` (open ones are not timely)
  first_contact                  `first_contact` / `first_reply` deadlines, counted the same way
  statutory                      the regulator's `statutory_decision` deadlines, counted the same way, apart from
                                 the pack's own (RULES.md §7.1): a case may meet one and miss the other
  satisfaction                   cases whose feedback was recorded in the period, with a satisfaction
  handling_time                  cases resolved in the period: received → resolved, in hours
  overdue_backlog                `resolve` deadlines past due and unmet at the end of the period (or of
                                 each month with by="month"; `now` if earlier)
  extensions, escalations        timeline events in the period
Periods are whole days in Asia/Shanghai (RULES.md §3), both ends included.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from db.models import Setting
from services.errors import InvalidInput, Listing, NotPermitted, Phrase
from services.institution import audit
from services.institution.access import SEES_ALL, headed_department, load_actor, require_role
from services.institution.directory import department_by_code
from services.rules.calendar import SHANGHAI, end_of_day, start_of_day
from services.unit_of_work import UnitOfWork
from services.words import text as text_of

DIMENSIONS = ("department", "person", "category", "channel", "grade", "month", "all")
KPIS = ("volume", "repeat", "compensation", "timeliness", "first_deadline", "first_contact", "statutory",
        "satisfaction", "handling_time", "overdue_backlog", "extensions", "escalations")
WEIGHTS_KEY = "kpi_weights"
TIME_COLUMNS = frozenset({"received_at", "original_due_at", "due_at", "met_at", "feedback_at", "resolved_at", "as_of",
                          "event_at"})
HOURS = "(EXTRACT(EPOCH FROM c.resolved_at - c.received_at) / 3600)::float8"
_FELL_DUE = ("cd.due_at >= :start AND cd.due_at < :end "
             "AND (cd.status IN ('met', 'met_late') OR (cd.status = 'open' AND cd.due_at <= :now))")

# The `resolve` deadlines that can be in the backlog at a snapshot (issue 13 §2), in three disjoint parts, each
# read from an index: open ones; those met since the period began and since the earliest snapshot (a met one
# counts when met after its snapshot); waived ones of the cases closed since the earliest snapshot (a waived one
# counts while its case was not yet closed; cases and waived deadlines are matched index only). Not every waived
# deadline of the history, which the backlog condition alone would read; that condition still decides.
# :backlog_from is the earliest snapshot, :backlog_met the later of it and the period's start (`_params`).
_BACKLOG_ROWS = (
    "SELECT * FROM case_deadlines WHERE milestone = 'resolve' AND due_at < :end AND status = 'open' "
    "UNION ALL SELECT * FROM case_deadlines WHERE milestone = 'resolve' AND due_at < :end AND status <> 'open' "
    "AND met_at >= :backlog_met "
    "UNION ALL SELECT * FROM case_deadlines WHERE id IN (SELECT k.id FROM case_deadlines k JOIN cases x "
    "ON x.id = k.case_id WHERE k.milestone = 'resolve' AND k.status = 'waived' AND x.closed_at >= :backlog_from) "
    "AND due_at < :end AND (met_at IS NULL OR met_at < :backlog_met)")


@dataclass(frozen=True)
class _Family:
    """Rows of one kind (cases, deadlines, events) and what is counted over them."""

    join: str
    where: str
    anchor: str  # the instant that puts a row in a period and a month
    measures: str
    detail: str  # per-row columns of the drill-down
    order: str = ""  # drill-down order after the anchor
    row_id: str = "c.id"  # last in that order: rows of one instant and case are listed alike on every run


# Deadline families: milestones, and each figure's predicate over their rows (None: every row). No pack defines both
# first_contact and first_reply (RULES.md §4).
_MILESTONES = {"resolve": "'resolve'", "contact": "'first_contact', 'first_reply'", "statutory": "'statutory_decision'"}
_DEADLINE_COUNTS: dict[str, dict[str, str | None]] = {
    "resolve": {"resolve_due": None, "resolve_met": "cd.status = 'met'",
                "resolved_within_first_deadline": "cd.met_at < cd.original_due_at"},
    "contact": {"first_contact_due": None, "first_contact_met": "cd.status = 'met'"},
    "statutory": {"statutory_due": None, "statutory_met": "cd.status = 'met'"}}
_EVENT_COUNTS = {"extension": "extensions", "escalation": "escalations"}  # event type → its figure


def _counts(predicates: Mapping[str, str | None]) -> str:
    return ", ".join(f"count(*) FILTER (WHERE {predicate}) AS {column}" if predicate else f"count(*) AS {column}"
                     for column, predicate in predicates.items())


def _deadline_family(milestones: str, measures: str) -> _Family:
    return _Family(f"JOIN case_deadlines cd ON cd.case_id = c.id AND cd.milestone IN ({milestones})",
                   _FELL_DUE, "cd.due_at", measures,
                   "cd.milestone, cd.original_due_at, cd.due_at, cd.met_at, cd.status AS deadline_status, "
                   "cd.extensions", row_id="cd.id")


def _event_family(event_types: tuple[str, ...], measures: str, detail: str) -> _Family:
    return _Family(f"JOIN case_events e ON e.case_id = c.id AND e.event_type IN ({', '.join(map(repr, event_types))})",
                   "e.at >= :start AND e.at < :end", "e.at", measures, detail, row_id="e.id")


FAMILIES: dict[str, _Family] = {
    "received": _Family(
        "LEFT JOIN cases p ON p.id = c.parent_case_id", "c.received_at >= :start AND c.received_at < :end",
        "c.received_at",
        "count(*) AS volume, count(*) FILTER (WHERE c.parent_case_id IS NOT NULL) AS repeat_complaints, "
        "sum(c.compensation_claimed)::float8 AS compensation_claimed, "
        "sum(c.compensation_paid)::float8 AS compensation_paid",
        "p.case_no AS parent_case_no, c.compensation_claimed::float8 AS compensation_claimed, "
        "c.compensation_paid::float8 AS compensation_paid"),
    **{name: _deadline_family(_MILESTONES[name], _counts(counts)) for name, counts in _DEADLINE_COUNTS.items()},
    "rated": _Family(
        "", "c.feedback_at >= :start AND c.feedback_at < :end AND c.satisfaction IS NOT NULL", "c.feedback_at",
        "count(*) AS rated, count(*) FILTER (WHERE c.satisfaction >= 4) AS satisfied",
        "c.feedback_at, c.satisfaction"),
    "resolved": _Family(
        "", "c.resolved_at >= :start AND c.resolved_at < :end", "c.resolved_at",
        f"count(*) AS resolved, avg({HOURS}) AS avg_handling_hours, "
        f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {HOURS}) AS p90_handling_hours",
        f"c.resolved_at, {HOURS} AS handling_hours"),
    "backlog": _Family(
        f"JOIN ({_BACKLOG_ROWS}) cd ON cd.case_id = c.id CROSS JOIN snapshots s",
        "cd.due_at <= s.as_of AND (cd.status = 'open' OR cd.met_at >= s.as_of "
        "OR (cd.status = 'waived' AND c.closed_at >= s.as_of))"  # still unmet at the snapshot
        " AND cd.due_at < :end AND (cd.met_at IS NULL OR cd.met_at >= :start)",  # the same, sargable

        "s.month_start", "count(*) AS overdue_backlog",
        "s.as_of, cd.due_at, cd.met_at, cd.status AS deadline_status", "cd.due_at, "),
    "extension": _event_family(("extension",), _counts({_EVENT_COUNTS["extension"]: None}),
                               "e.at AS event_at, e.data->>'milestone' AS milestone, e.note AS reason"),
    "escalation": _event_family(("escalation",), _counts({_EVENT_COUNTS["escalation"]: None}),
                                "e.at AS event_at, e.data->>'to_role' AS to_role, e.note AS reason, "
                                "e.data->>'rule' AS rule_key"),
}

# What the KPI statement reads (issue 13 §2): FAMILIES, but the three deadline families in one pass over their index
# and one join to cases, and the two event families likewise, as the floor reads them: apart, each family paid its
# own scan, its look-ups of cases and its parallel workers. Each figure still counts its family's rows (a FILTER on
# the milestone or event type), month by each row's own anchor; the drill-downs read FAMILIES.
READS: dict[str, _Family] = {
    "received": FAMILIES["received"],
    "deadline": _deadline_family(", ".join(_MILESTONES.values()), _counts({
        column: " AND ".join([f"cd.milestone IN ({_MILESTONES[name]})", *([predicate] if predicate else [])])
        for name, counts in _DEADLINE_COUNTS.items() for column, predicate in counts.items()})),
    "rated": FAMILIES["rated"], "resolved": FAMILIES["resolved"], "backlog": FAMILIES["backlog"],
    "event": _event_family(tuple(_EVENT_COUNTS), _counts({
        column: f"e.event_type = '{event_type}'" for event_type, column in _EVENT_COUNTS.items()}), ""),
}

# KPI → its family and the predicate of its numerator (None: a count or an average).
KPI_SETS: dict[str, tuple[str, str | None]] = {
    "volume": ("received", None), "repeat": ("received", "c.parent_case_id IS NOT NULL"),
    "compensation": ("received", "c.compensation_claimed > 0 OR c.compensation_paid > 0"),
    "timeliness": ("resolve", "cd.status = 'met'"), "first_deadline": ("resolve", "cd.met_at < cd.original_due_at"),
    "first_contact": ("contact", "cd.status = 'met'"), "statutory": ("statutory", "cd.status = 'met'"),
    "satisfaction": ("rated", "c.satisfaction >= 4"),
    "handling_time": ("resolved", None), "overdue_backlog": ("backlog", None),
    "extensions": ("extension", None), "escalations": ("escalation", None),
}
# rate column ← (numerator, denominator)
RATES = {"repeat_rate": ("repeat_complaints", "volume"), "timeliness_rate": ("resolve_met", "resolve_due"),
         "first_deadline_rate": ("resolved_within_first_deadline", "resolve_due"),
         "first_contact_rate": ("first_contact_met", "first_contact_due"),
         "statutory_rate": ("statutory_met", "statutory_due"),
         "satisfaction_rate": ("satisfied", "rated")}
# Headers in the reader's language are `kpi.column.<name>` in the catalogue (issue 9 §6).
COLUMNS = ("volume", "repeat_complaints", "repeat_rate", "resolve_due", "resolve_met", "timeliness_rate",
           "resolved_within_first_deadline", "first_deadline_rate", "first_contact_due", "first_contact_met",
           "first_contact_rate", "statutory_due", "statutory_met", "statutory_rate", "rated", "satisfied",
           "satisfaction_rate", "resolved", "avg_handling_hours", "p90_handling_hours", "overdue_backlog",
           "extensions", "escalations", "compensation_claimed", "compensation_paid")


@dataclass(frozen=True)
class Scope:
    """The cases a figure may count: one department and/or category, or everything."""

    department_id: int | None = None
    category: str | None = None


SYSTEM = Scope()  # the command line acts as the system: no user, every department (an operator with DB access)


def scope_for(session: Session, actor_id: int) -> Scope:
    """Department heads see their department; supervisors, executives and admins all (issue 5 §2)."""
    actor = load_actor(session, actor_id)
    if actor.roles & SEES_ALL:
        return Scope()
    if headed_department(actor) is not None:
        return Scope(department_id=headed_department(actor))
    raise NotPermitted("error.kpi.not_permitted")


def window(date_from: date, date_to: date, now: datetime) -> dict[str, Any]:
    """SQL parameters of a period of whole Shanghai days, both ends included."""
    if date_to < date_from:
        raise InvalidInput("error.period.end_before_start", field="date_to")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidInput("error.time.zone_missing", field="now")
    return {"start": start_of_day(date_from), "end": end_of_day(date_to),
            "first_day": date_from, "last_day": date_to, "now": now}


_SNAPSHOTS = {
    False: "snapshots AS MATERIALIZED (SELECT CAST(:start AS timestamptz) AS month_start, LEAST(:now, :end) AS as_of)",
    True: ("snapshots AS MATERIALIZED (SELECT m AT TIME ZONE 'Asia/Shanghai' AS month_start, "
           "LEAST(:now, :end, (m + interval '1 month') AT TIME ZONE 'Asia/Shanghai') AS as_of "
           "FROM generate_series(date_trunc('month', CAST(:first_day AS timestamp)), CAST(:last_day AS timestamp), "
           "interval '1 month') AS m WHERE m AT TIME ZONE 'Asia/Shanghai' <= :now)"),
}
_BASE = "FROM cases c JOIN departments d ON d.id = c.responsible_department_id"
_PEOPLE = " LEFT JOIN users u ON u.id = c.assignee_id"


def _base(bys: tuple[str, ...]) -> str:
    """The cases and their departments, and their handlers for the person dimension only: the join, even removed by
    the planner, kept the cases' indexes of each anchor from answering alone (issue 13 §2)."""
    return _BASE + (_PEOPLE if "person" in bys else "")


def _month(anchor: str) -> str:
    return f"to_char(({anchor}) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM')"


def _key(by: str, anchor: str) -> tuple[str, str]:
    """SQL of a dimension's group key and its label."""
    if by not in DIMENSIONS:
        raise InvalidInput("error.kpi.unknown_dimension", field="by", by=by, choices=Listing(DIMENSIONS))
    return {"department": ("d.code", "d.name"),
            "person": ("COALESCE(u.username, '-')", "COALESCE(u.display_name, '（未分派）')"),
            "category": ("c.category", "c.category"), "channel": ("c.channel", "c.channel"),
            "grade": ("c.grade", "c.grade"), "month": (_month(anchor), _month(anchor)),
            "all": ("'all'", "'全部'")}[by]


def _where(scope: Scope, family: _Family) -> str:
    parts = [family.where]
    if scope.department_id is not None:
        parts.append("c.responsible_department_id = :scope_department")
    if scope.category is not None:
        parts.append("c.category = :scope_category")
    return " AND ".join(parts)


def _params(scope: Scope, period: dict[str, Any], monthly: bool) -> dict[str, Any]:
    """The SQL parameters; `monthly`: the backlog has a snapshot per month (`_SNAPSHOTS[True]`)."""
    as_of = min(period["now"], period["end"])  # the earliest snapshot, as `_SNAPSHOTS` computes it
    if monthly:  # the first month's: at its end or earlier
        first = period["first_day"].replace(day=1)
        as_of = min(as_of, start_of_day((first.replace(day=28) + timedelta(days=4)).replace(day=1)))
    return {**period, "scope_department": scope.department_id, "scope_category": scope.category,
            "backlog_from": as_of, "backlog_met": max(as_of, period["start"])}


def _grouping(bys: tuple[str, ...], anchor: str, per_month: bool) -> tuple[str, str, str, str]:
    """SQL of a family's dimension tag, group key, label and GROUP BY for each of `bys` at once: one by groups as
    it always did; several by GROUPING SETS, so each row is read once for all of them (issue 13 §2)."""
    month = [_month(anchor)] if per_month else []
    pairs = {by: _key(by, anchor) for by in bys}
    if len(bys) == 1:
        key, label = pairs[bys[0]]
        return f"'{bys[0]}'", key, f"min({label})", ", ".join(["grp", "month"] if per_month else ["grp"])
    grouped = [key for by, (key, _) in pairs.items() if by != "all"]
    if len(set(grouped)) != len(grouped) or "month" in bys:
        raise ValueError(f"dimensions {bys} cannot be grouped in one statement")
    tag = f"GROUPING({', '.join(grouped)})"
    full = (1 << len(grouped)) - 1
    masks = {by: full if by == "all" else full & ~(1 << (len(grouped) - 1 - grouped.index(pairs[by][0])))
             for by in bys}

    def case(value: Callable[[str], str]) -> str:
        return f"CASE {tag} " + " ".join(f"WHEN {masks[by]} THEN {value(by)}" for by in bys) + " END"

    sets = ", ".join("(" + ", ".join(([] if by == "all" else [pairs[by][0]]) + month) + ")" for by in bys)
    return (case(lambda by: f"'{by}'"), case(lambda by: f"CAST({pairs[by][0]} AS text)"),
            case(lambda by: f"min({pairs[by][1]})"), f"GROUPING SETS ({sets}) HAVING count(*) > 0")


def _kpi_sql(scope: Scope, bys: tuple[str, ...], per_month: bool) -> str:
    keys = ["dim", "grp", "month"] if per_month else ["dim", "grp"]
    ctes = [_SNAPSHOTS[per_month or "month" in bys]]
    for name, family in READS.items():
        dim, key, label, group_by = _grouping(bys, family.anchor, per_month)
        month = f", {_month(family.anchor)} AS month" if per_month else ""
        ctes.append(f"k_{name} AS (SELECT {dim} AS dim, {key} AS grp{month}, {label} AS label, {family.measures} "
                    f"{_base(bys)} {family.join} WHERE {_where(scope, family)} GROUP BY {group_by})")
    union = " UNION ALL ".join(f"SELECT {', '.join(keys)}, label FROM k_{name}" for name in READS)
    listed = ", ".join(keys)
    ctes.append(f"keyset AS (SELECT {listed}, min(label) AS label FROM ({union}) k GROUP BY {listed})")
    joins = " ".join(f"LEFT JOIN k_{name} USING ({', '.join(keys)})" for name in READS)
    averages = ("avg_handling_hours", "p90_handling_hours")
    figures = [f"{c}" if c in averages else f"COALESCE({c}, 0) AS {c}" for c in COLUMNS if c not in RATES]
    rates = [f"COALESCE({n}, 0)::float8 / NULLIF({d}, 0) AS {r}" for r, (n, d) in RATES.items()]
    order = ["dim", *reversed(keys[1:])]
    return (f"WITH {', '.join(ctes)} SELECT {', '.join(keys)}, keyset.label, {', '.join(figures + rates)} "
            f"FROM keyset {joins} ORDER BY {', '.join(order)}")


def kpi_frame(uow: UnitOfWork, scope: Scope, *, date_from: date, date_to: date, by: str,
              per_month: bool = False, now: datetime | None = None, lang: str = "zh") -> pd.DataFrame:
    """The KPIs of `scope` by one dimension (and month); no permission check: callers resolve the scope."""
    return kpi_frames(uow, scope, date_from=date_from, date_to=date_to, bys=(by,), per_month=per_month, now=now,
                      lang=lang)[by]


def kpi_frames(uow: UnitOfWork, scope: Scope, *, date_from: date, date_to: date, bys: tuple[str, ...],
               per_month: bool = False, now: datetime | None = None, lang: str = "zh") -> dict[str, pd.DataFrame]:
    """`kpi_frame` by each of `bys` (distinct; "month" only alone) from one statement: the report's tables."""
    period = window(date_from, date_to, uow.at(now, "now"))
    result = uow.session.execute(text(_kpi_sql(scope, bys, per_month)),
                                 _params(scope, period, per_month or "month" in bys))
    columns, rows = list(result.keys()), result.fetchall()
    return {by: _frame(uow, pd.DataFrame([r for r in rows if r[0] == by], columns=columns), by, per_month, lang)
            for by in bys}


def _frame(uow: UnitOfWork, frame: pd.DataFrame, by: str, per_month: bool, lang: str) -> pd.DataFrame:
    frame = frame.rename(columns={"grp": "group"})[(["month"] if per_month else []) + ["group", "label", *COLUMNS]]
    if frame.empty and by == "all" and not per_month:  # a period without cases still has its figures
        frame = pd.DataFrame([{"group": "all", "label": "全部", **dict.fromkeys(COLUMNS, 0)}])
        frame[[*RATES, "avg_handling_hours", "p90_handling_hours"]] = None
    for column in (*RATES, "avg_handling_hours", "p90_handling_hours"):
        frame[column] = frame[column].astype(float)
    if by in ("category", "channel", "grade"):
        label = code_labels(uow, lang)
        frame["label"] = [label(by, code) for code in frame["group"]]
    elif lang != "zh":  # the directory's names are Chinese: a pack department by its pack label
        frame["label"] = _labels_in(uow, by, frame, lang)
    return frame


def _labels_in(uow: UnitOfWork, by: str, frame: pd.DataFrame, lang: str) -> list[str]:
    departments = uow.policy().departments if uow.active_pack_code() else {}
    words = {"all": text_of("kpi.all", lang), "-": text_of("kpi.unassigned", lang)}
    return [words[group] if group in words and by in ("all", "person") else
            departments[group].label.text(lang) if by == "department" and group in departments else label
            for group, label in zip(frame["group"], frame["label"], strict=True)]


def code_labels(uow: UnitOfWork, lang: str = "zh") -> Callable[[str, str], str]:
    """`label(kind, code)`: a code's label in the active pack as edited (the code when none is active)."""
    policy = uow.policy() if uow.active_pack_code() else None
    return lambda kind, code: policy.label(kind, code, lang) if policy else code


def kpis(uow: UnitOfWork, actor_id: int, *, date_from: date, date_to: date, by: str,
         now: datetime | None = None, lang: str = "zh") -> pd.DataFrame:
    """Every KPI for a period by department | person | category | channel | grade | month | all,
    with numerator and denominator next to each rate."""
    return kpi_frame(uow, scope_for(uow.session, actor_id), date_from=date_from, date_to=date_to, by=by,
                     now=now, lang=lang)


def monthly_trend(uow: UnitOfWork, actor_id: int, *, date_from: date, date_to: date, by: str = "all",
                  now: datetime | None = None, lang: str = "zh") -> pd.DataFrame:
    """The KPIs month by month (each figure in the month of its anchor), per group of `by`."""
    return kpi_frame(uow, scope_for(uow.session, actor_id), date_from=date_from, date_to=date_to, by=by,
                     per_month=True, now=now, lang=lang)


def case_frame(uow: UnitOfWork, scope: Scope, *, kpi: str, by: str, group: str | None, date_from: date,
               date_to: date, now: datetime | None = None, limit: int | None = None,
               offset: int = 0) -> pd.DataFrame:
    """The rows behind one figure: `in_numerator` marks those counted in a rate's numerator."""
    if kpi not in KPI_SETS:
        raise InvalidInput("error.kpi.unknown_kpi", field="kpi", kpi=kpi, choices=Listing(KPIS))
    name, numerator = KPI_SETS[kpi]
    family = FAMILIES[name]
    key, _ = _key(by, family.anchor)
    where = _where(scope, family) + ("" if by == "all" else f" AND {key} = :group")
    page = f" LIMIT {int(limit)} OFFSET {int(offset)}" if limit is not None else ""
    # the handler by name, as every list shows people (issue 10 §3); "-": nobody has the case
    sql = (f"WITH {_SNAPSHOTS[by == 'month']} SELECT c.case_no, d.code AS department, "
           f"COALESCE(u.display_name, '-') AS assignee, c.category, c.channel, c.grade, c.state, c.received_at, "
           f"{family.detail}, {f'COALESCE({numerator}, false)' if numerator else 'NULL'} AS in_numerator "
           f"{_BASE}{_PEOPLE} {family.join} WHERE {where} "
           f"ORDER BY {family.anchor}, {family.order}c.case_no, {family.row_id}{page}")
    params = {**_params(scope, window(date_from, date_to, uow.at(now, "now")), by == "month"), "group": group}
    result = uow.session.execute(text(sql), params)
    frame = pd.DataFrame(result.fetchall(), columns=list(result.keys()))
    for column in TIME_COLUMNS.intersection(frame.columns):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.tz_convert(SHANGHAI)
    return frame


def kpi_cases(uow: UnitOfWork, actor_id: int, *, kpi: str, group: str | None, date_from: date, date_to: date,
              by: str = "all", now: datetime | None = None, limit: int | None = None,
              offset: int = 0) -> pd.DataFrame:
    """Drill-down: the cases behind the figure of `kpi` for `group` of dimension `by` (paged in SQL)."""
    return case_frame(uow, scope_for(uow.session, actor_id), kpi=kpi, by=by, group=group,
                      date_from=date_from, date_to=date_to, now=now, limit=limit, offset=offset)


# --- scorecards ------------------------------------------------------------------------------------

# Scored KPI → (rate column, higher is better). Defaults weigh timeliness most (seed 003 §6, 004 art. 8).
SCORED = {"timeliness": ("timeliness_rate", True), "first_contact": ("first_contact_rate", True),
          "satisfaction": ("satisfaction_rate", True), "repeat": ("repeat_rate", False),
          "first_deadline": ("first_deadline_rate", True), "statutory": ("statutory_rate", True)}
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "timeliness": {"weight": 0.4, "target": 0.95}, "first_contact": {"weight": 0.2, "target": 0.95},
    "satisfaction": {"weight": 0.3, "target": 0.90}, "repeat": {"weight": 0.1, "target": 0.05}}
SCORED_ZH = {"timeliness": "处理及时率", "first_contact": "首次联系及时率", "satisfaction": "满意率",
             "repeat": "重复投诉率", "first_deadline": "首个期限内办结率", "statutory": "法定时限内处理率"}


@dataclass(frozen=True)
class Scorecard:
    weights: dict[str, dict[str, float]]
    summary: pd.DataFrame  # group, label, score (0–100)
    breakdown: pd.DataFrame  # group, label, kpi, numerator, denominator, rate, target, met_target, weight, points


def kpi_weights(session: Session) -> dict[str, dict[str, float]]:
    setting = session.get(Setting, WEIGHTS_KEY)
    return dict(setting.value) if setting else {k: dict(v) for k, v in DEFAULT_WEIGHTS.items()}


def set_kpi_weights(uow: UnitOfWork, actor_id: int, weights: Mapping[str, Mapping[str, Any]]) -> None:
    """An admin sets the scorecard: {kpi: {weight ≥ 0, target 0–1}}, weights summing to 1 (RULES.md §5)."""
    actor = load_actor(uow.session, actor_id)
    require_role(actor, "administer")
    clean = _valid_weights(weights)
    setting = uow.session.get(Setting, WEIGHTS_KEY) or Setting(key=WEIGHTS_KEY)
    old = setting.value
    setting.value, setting.updated_by_id = clean, actor.id
    uow.session.add(setting)
    audit.record(uow.session, actor.id, "kpi_weights_set", old=old, new=clean)
    uow.flush()


def _valid_weights(weights: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, float]]:
    unknown = sorted(set(weights) - set(SCORED))
    if not weights or unknown:
        raise InvalidInput("error.kpi.unknown_scored", field="weights",
                           unknown=Listing(unknown) if unknown else Phrase("error.kpi.none_given"),
                           choices=Listing(SCORED))
    clean: dict[str, dict[str, float]] = {}
    for name, entry in weights.items():
        try:
            weight, target = float(entry["weight"]), float(entry["target"])
        except (KeyError, TypeError, ValueError):
            raise InvalidInput("error.kpi.not_numbers", field=name, kpi=Phrase(f"kpi.name.{name}")) from None
        if not weight >= 0:
            raise InvalidInput("error.kpi.weight_negative", field=name, kpi=Phrase(f"kpi.name.{name}"))
        if not 0 <= target <= 1:
            raise InvalidInput("error.kpi.target_range", field=name, kpi=Phrase(f"kpi.name.{name}"))
        clean[name] = {"weight": weight, "target": target}
    total = sum(e["weight"] for e in clean.values())
    if abs(total - 1) > 1e-6:
        raise InvalidInput("error.kpi.weights_sum", field="weights", total=total)
    return clean


def attainment(rate: float, target: float, higher_is_better: bool) -> float:
    """Share of the target reached, capped at 1: rate/target, or target/rate when lower is better."""
    if higher_is_better:
        return 1.0 if target == 0 else min(1.0, rate / target)
    if rate <= target:
        return 1.0
    return target / rate


def scorecard(uow: UnitOfWork, actor_id: int, *, level: str, date_from: date, date_to: date,
              now: datetime | None = None, lang: str = "zh") -> Scorecard:
    """Scores per department or person: 100 × Σ weight × attainment over the KPIs that have cases,
    divided by the weights of those KPIs (a KPI with no case in the period is left out)."""
    if level not in ("department", "person"):
        raise InvalidInput("error.kpi.bad_level", field="level")
    frame = kpis(uow, actor_id, date_from=date_from, date_to=date_to, by=level, now=now, lang=lang)
    frame = frame[frame["group"] != "-"]  # cases nobody was assigned score no person
    weights = kpi_weights(uow.session)
    rows = []
    for _, row in frame.iterrows():
        for name, entry in weights.items():
            rate_column, higher = SCORED[name]
            numerator, denominator = RATES[rate_column]
            rate = row[rate_column]
            has_data = row[denominator] > 0
            reached = attainment(rate, entry["target"], higher) if has_data else None
            rows.append({"group": row["group"], "label": row["label"], "kpi": name, "kpi_zh": SCORED_ZH[name],
                         "numerator": int(row[numerator]), "denominator": int(row[denominator]),
                         "rate": rate, "target": entry["target"], "higher_is_better": higher,
                         "met_target": None if not has_data else (rate >= entry["target"] if higher
                                                                  else rate <= entry["target"]),
                         "weight": entry["weight"], "attainment": reached,
                         "points": None if reached is None else 100 * entry["weight"] * reached})
    columns = ["group", "label", "kpi", "kpi_zh", "numerator", "denominator", "rate", "target", "higher_is_better",
               "met_target", "weight", "attainment", "points"]
    breakdown = pd.DataFrame(rows, columns=columns)
    scored = breakdown[breakdown["points"].notna()]
    sums = scored.groupby(["group", "label"], sort=True)[["points", "weight"]].sum().reset_index()
    sums["score"] = sums["points"] / sums["weight"].where(sums["weight"] > 0)
    summary = frame[["group", "label"]].merge(sums[["group", "score"]], on="group", how="left")
    summary = summary.sort_values("score", ascending=False, na_position="last").reset_index(drop=True)
    return Scorecard(weights, summary, breakdown)


# --- before / after ------------------------------------------------------------------------------

def before_after(uow: UnitOfWork, actor_id: int, scope: Mapping[str, str | None], pivot: date, days: int,
                 now: datetime | None = None) -> pd.DataFrame:
    """The KPIs of a department and/or category in `days` days before and after `pivot` (the pivot
    day itself, e.g. the day a rectification action closed, belongs to neither) (seed 003 §7)."""
    allowed = scope_for(uow.session, actor_id)
    unknown = sorted(set(scope) - {"department", "category"})
    if unknown or not 1 <= days <= 366:
        raise InvalidInput("error.kpi.bad_compare_scope", field="scope")
    department_code = scope.get("department")
    department_id = department_by_code(uow.session, department_code).id if department_code else None
    if allowed.department_id is not None and department_id not in (None, allowed.department_id):
        raise NotPermitted("error.kpi.own_department_only")
    category = scope.get("category") or None
    if category is not None and category not in uow.policy().categories:
        raise InvalidInput("error.kpi.unknown_category", field="category", category=category)
    chosen = Scope(department_id=department_id or allowed.department_id, category=category)
    periods = {"before": (pivot - timedelta(days=days), pivot - timedelta(days=1)),
               "after": (pivot + timedelta(days=1), pivot + timedelta(days=days))}
    frames = []
    for name, (first, last) in periods.items():
        frame = kpi_frame(uow, chosen, date_from=first, date_to=last, by="all", now=now)
        frames.append(frame.assign(period=name, date_from=first, date_to=last))
    both = pd.concat(frames, ignore_index=True).set_index("period")
    by_period = both[list(COLUMNS)].astype(float).T  # a column per period: typed where loc[row, cols] is not
    change = by_period["after"] - by_period["before"]
    return pd.concat([both, change.to_frame("change").T]).drop(columns=["group", "label"])
