"""The floors of issue 13 §4: for the queue (own and department), the board, the KPIs and the sample draw, the
bare SQL that returns the same rows as the service — hand-written over the schema's indexes, no ORM, one
statement, the same page size and filters — so the bench can say how far a service is from what the database
needs. Each floor comes with a comparison that says where its rows differ from the service's: a floor that
returns other rows measures nothing, so a difference is one of the run's data problems.

The SQL keeps to the services' meaning as it stands (board: an open deadline of the case inside its pack's
warning window is at risk, RULES.md §3; KPIs: RULES.md §5; draw: RULES.md §6, md5 of seed and id). When a
service's meaning changes, its floor changes with it, or the comparison reports the difference.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from services.casework.escalation import MAJOR_GRADES
from services.rules import statutory
from services.rules.calendar import end_of_day, start_of_day
from services.rules.transitions import OPEN_STATES
from services.supervision.kpi import COLUMNS, RATES
from services.supervision.sampling import CENSUS_GRADES

# Written into the statement, so the partial indexes of open cases (db.models.OPEN_CASE) serve it.
OPEN = "(" + ", ".join(f"'{state}'" for state in OPEN_STATES) + ")"
QUEUE_COLUMNS = {"assigned": "assignee_id", "department": "responsible_department_id"}


def _queue_sql(column: str) -> str:
    return f"""
SELECT p.id, p.case_no, p.version, p.pack, p.state, p.grade, p.category, p.channel, cu.name AS customer_name,
       p.received_at, u.display_name AS assignee_name, d.milestone, d.due_at, d.starts_at, d.period, d.status,
       s.due_at AS statutory_due_at, s.status AS statutory_status, p.source, p.major_cause,
       (SELECT count(*) FROM cases WHERE {column} = :who AND state IN {OPEN}) AS total
FROM (SELECT id, case_no, version, pack, state, grade, category, channel, customer_id, assignee_id, received_at,
             next_due_at, next_milestone, source, major_cause
      FROM cases WHERE {column} = :who AND state IN {OPEN}
      ORDER BY next_due_at NULLS LAST, received_at, id LIMIT :size OFFSET :skip) p
JOIN customers cu ON cu.id = p.customer_id
LEFT JOIN users u ON u.id = p.assignee_id
LEFT JOIN case_deadlines d ON d.case_id = p.id AND d.milestone = p.next_milestone AND d.status = 'open'
LEFT JOIN case_deadlines s ON s.case_id = p.id AND s.milestone = '{statutory.MILESTONE}'
ORDER BY p.next_due_at NULLS LAST, p.received_at, p.id
"""


QUEUE = {view: _queue_sql(column) for view, column in QUEUE_COLUMNS.items()}


def queue(conn: Connection, view: str, who: int, page: int = 1, page_size: int = 25) -> list[Any]:
    """`my_queue(view=assigned|department)`'s open cases, nearest deadline first: `who` is the user (assigned) or
    the department's id (department)."""
    return list(conn.execute(text(QUEUE[view]), {"who": who, "size": page_size, "skip": (page - 1) * page_size}).all())


def queue_differences(service: Any, floor: Sequence[Any]) -> list[str]:
    """Where a `QueuePage` and the floor's rows disagree: the cases listed, their order, and the total."""
    problems = []
    total = floor[0].total if floor else 0
    if service.total != total:
        problems.append(f"total {service.total}, floor {total}")
    mine, theirs = [r.case_no for r in service.rows], [r.case_no for r in floor]
    if mine != theirs:
        problems.append(first_difference(mine, theirs))
    due = [r.deadline.due_at if r.deadline else None for r in service.rows]
    if mine == theirs and due != [r.due_at for r in floor]:
        problems.append("nearest deadlines differ")
    return problems


BOARD = f"""
WITH windows (pack, share) AS (SELECT * FROM unnest(CAST(:packs AS text[]), CAST(:shares AS float8[]))),
candidates AS MATERIALIZED (
  SELECT id, bool_or(at_risk) AS at_risk, bool_or(escalated) AS escalated FROM (
    SELECT id, false AS at_risk, false AS escalated FROM cases
    WHERE state IN {OPEN} AND (next_due_at <= :now OR grade IN :major OR major_cause IS NOT NULL)
    UNION ALL
    SELECT d.case_id, true, false FROM case_deadlines d JOIN cases c ON c.id = d.case_id
    JOIN windows w ON w.pack = c.pack
    WHERE d.status = 'open' AND d.due_at > :now AND d.due_at - (d.due_at - d.starts_at) * w.share <= :now
      AND c.state IN {OPEN}
    UNION ALL
    SELECT case_id, false, true FROM escalations WHERE acknowledged_at IS NULL) x
  GROUP BY id),
page AS (
  SELECT c.id, c.case_no, c.pack, c.state, c.grade, c.handling_level, dep.code AS department_code,
         dep.name AS department_name, c.assignee_id, c.first_responder_id, c.next_due_at, c.next_milestone,
         c.source, c.major_cause, k.at_risk, k.escalated
  FROM candidates k JOIN cases c ON c.id = k.id JOIN departments dep ON dep.id = c.responsible_department_id
  ORDER BY c.handling_level NULLS LAST, dep.name, c.next_due_at NULLS LAST, c.id LIMIT :limit)
SELECT p.*, coalesce(a.display_name, r.display_name) AS responsible_person, d.milestone, d.due_at, d.starts_at,
       d.period, d.status,
       (SELECT json_agg(json_build_object('id', e.id, 'to_role', e.to_role, 'rule_key', e.rule_key,
                                          'reason', e.reason, 'created_at', e.created_at, 'by', b.display_name,
                                          'acknowledged_at', e.acknowledged_at, 'acknowledged_by', q.display_name)
                        ORDER BY e.created_at, e.id)
        FROM escalations e LEFT JOIN users b ON b.id = e.created_by_id
        LEFT JOIN users q ON q.id = e.acknowledged_by_id WHERE e.case_id = p.id) AS escalations
FROM page p JOIN users r ON r.id = p.first_responder_id LEFT JOIN users a ON a.id = p.assignee_id
LEFT JOIN case_deadlines d ON d.case_id = p.id AND d.milestone = p.next_milestone AND d.status = 'open'
ORDER BY p.handling_level NULLS LAST, p.department_name, p.next_due_at NULLS LAST, p.id
"""


def board(conn: Connection, now: datetime, windows: dict[str, float], limit: int = 500) -> list[Any]:
    """The supervisor's board (every department): its cases, reasons, nearest deadline and escalations.
    `windows`: each pack's warning window (`deadlines.warning_windows`)."""
    return list(conn.execute(text(BOARD), {"now": now, "major": MAJOR_GRADES, "limit": limit, "packs": list(windows),
                                      "shares": list(windows.values())}).all())


def _floor_reasons(row: Any, now: datetime) -> tuple[str, ...]:
    if row.state not in OPEN_STATES:
        return ("escalated", "closed_unacknowledged")
    held = {"major_complaint": row.major_cause is not None,
            "overdue": row.next_due_at is not None and row.next_due_at <= now, "at_risk": row.at_risk,
            "major": row.grade in MAJOR_GRADES, "escalated": row.escalated}
    return tuple(reason for reason, on in held.items() if on)


def board_differences(service: Sequence[Any], floor: Sequence[Any], now: datetime) -> list[str]:
    """Where the board's rows and the floor's disagree: the cases, their order, reasons and escalations."""
    mine = [(r.case_no, r.reasons, len(r.escalations)) for r in service]
    theirs = [(r.case_no, _floor_reasons(r, now), len(r.escalations or ())) for r in floor]
    return [] if mine == theirs else [first_difference(mine, theirs)]


def first_difference(mine: Sequence[Any], theirs: Sequence[Any]) -> str:
    """`12 rows, floor 12; row 3: <service's> vs <floor's>`."""
    at = next(i for i, (a, b) in enumerate(zip([*mine, None], [*theirs, None], strict=False)) if a != b)
    return (f"{len(mine)} rows, floor {len(theirs)}; row {at + 1}: {mine[at] if at < len(mine) else '—'} vs "
            f"{theirs[at] if at < len(theirs) else '—'}")


# KPIs by department for a period: each family of RULES.md §5 from its own rows over its index, grouped by the
# responsible department; a row per (family, department) with up to three counts and two figures.
KPIS = """
WITH kpi (family, department_id, n1, n2, n3, x1, x2) AS (
  SELECT 'received', responsible_department_id, count(*), count(*) FILTER (WHERE parent_case_id IS NOT NULL), 0,
         sum(compensation_claimed)::float8, sum(compensation_paid)::float8
  FROM cases WHERE received_at >= :start AND received_at < :end GROUP BY 2
  UNION ALL
  SELECT CASE cd.milestone WHEN 'resolve' THEN 'resolve' WHEN 'statutory_decision' THEN 'statutory'
         ELSE 'contact' END, c.responsible_department_id, count(*), count(*) FILTER (WHERE cd.status = 'met'),
         count(*) FILTER (WHERE cd.met_at < cd.original_due_at), NULL, NULL
  FROM case_deadlines cd JOIN cases c ON c.id = cd.case_id
  WHERE cd.milestone IN ('resolve', 'first_contact', 'first_reply', 'statutory_decision')
    AND cd.due_at >= :start AND cd.due_at < :end
    AND (cd.status IN ('met', 'met_late') OR (cd.status = 'open' AND cd.due_at <= :now))
  GROUP BY 1, 2
  UNION ALL
  SELECT 'rated', responsible_department_id, count(*), count(*) FILTER (WHERE satisfaction >= 4), 0, NULL, NULL
  FROM cases WHERE feedback_at >= :start AND feedback_at < :end AND satisfaction IS NOT NULL GROUP BY 2
  UNION ALL
  SELECT 'resolved', responsible_department_id, count(*), 0, 0,
         avg(EXTRACT(EPOCH FROM resolved_at - received_at) / 3600)::float8,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY (EXTRACT(EPOCH FROM resolved_at - received_at) / 3600)::float8)
  FROM cases WHERE resolved_at >= :start AND resolved_at < :end GROUP BY 2
  UNION ALL
  SELECT 'backlog', department_id, count(*), 0, 0, NULL, NULL FROM (  -- due_at < :end as the service has it
    SELECT c.responsible_department_id AS department_id FROM case_deadlines cd JOIN cases c ON c.id = cd.case_id
    WHERE cd.status = 'open' AND cd.due_at <= :as_of AND cd.due_at < :end AND cd.milestone = 'resolve'
    UNION ALL
    SELECT c.responsible_department_id FROM case_deadlines cd JOIN cases c ON c.id = cd.case_id
    WHERE cd.milestone = 'resolve' AND cd.met_at >= :as_of AND cd.due_at <= :as_of AND cd.due_at < :end
    UNION ALL
    SELECT c.responsible_department_id FROM cases c JOIN case_deadlines cd ON cd.case_id = c.id
    WHERE c.closed_at >= :as_of AND cd.milestone = 'resolve' AND cd.status = 'waived' AND cd.met_at IS NULL
      AND cd.due_at <= :as_of AND cd.due_at < :end) b
  GROUP BY 2
  UNION ALL
  SELECT e.event_type, c.responsible_department_id, count(*), 0, 0, NULL, NULL
  FROM case_events e JOIN cases c ON c.id = e.case_id
  WHERE e.event_type IN ('extension', 'escalation') AND e.at >= :start AND e.at < :end GROUP BY 1, 2)
SELECT kpi.family, d.code AS department, kpi.n1, kpi.n2, kpi.n3, kpi.x1, kpi.x2
FROM kpi JOIN departments d ON d.id = kpi.department_id
"""
# floor family → the service's columns its n1, n2, n3, x1, x2 are
KPI_FIGURES = {
    "received": ("volume", "repeat_complaints", None, "compensation_claimed", "compensation_paid"),
    "resolve": ("resolve_due", "resolve_met", "resolved_within_first_deadline", None, None),
    "contact": ("first_contact_due", "first_contact_met", None, None, None),
    "statutory": ("statutory_due", "statutory_met", None, None, None),
    "rated": ("rated", "satisfied", None, None, None),
    "resolved": ("resolved", None, None, "avg_handling_hours", "p90_handling_hours"),
    "backlog": ("overdue_backlog", None, None, None, None),
    "extension": ("extensions", None, None, None, None),
    "escalation": ("escalations", None, None, None, None),
}


def kpi_window(first: date, last: date, now: datetime) -> dict[str, Any]:
    start, end = start_of_day(first), end_of_day(last)
    return {"start": start, "end": end, "now": now, "as_of": min(now, end)}


def kpis(conn: Connection, first: date, last: date, now: datetime) -> list[Any]:
    """Every KPI of RULES.md §5 for the period by department (the rates follow from these counts)."""
    return list(conn.execute(text(KPIS), kpi_window(first, last, now)).all())


def kpi_differences(frame: Any, floor: Sequence[Any]) -> list[str]:
    """Where the service's KPI frame (by department) and the floor's figures disagree."""
    found: dict[tuple[str, str], Any] = {}
    for row in floor:
        for column, value in zip(KPI_FIGURES[row.family], (row.n1, row.n2, row.n3, row.x1, row.x2), strict=True):
            if column:
                found[(row.department, column)] = value
    problems = []
    for record in frame.to_dict("records"):
        for column in COLUMNS:
            if column in RATES:
                continue  # a rate is its two counts' quotient
            mine, theirs = record[column], found.get((record["group"], column))
            if theirs is None and column not in ("avg_handling_hours", "p90_handling_hours"):
                theirs = 0
            if not _same(mine, theirs):
                problems.append(f"{record['group']} {column}: {mine}, floor {theirs}")
    groups = {department for department, _ in found}
    problems += [f"{department}: only in the floor" for department in sorted(groups - set(frame["group"]))]
    return problems


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)):
        return (a is None or (isinstance(a, float) and math.isnan(a))) and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


# The stratified draw of `sampling.draw` (rate per stratum; strata department/grade; major/L1 in full; the
# order inside a stratum md5(seed || ':' || id), RULES.md §6): the cases it takes.
DRAW = """
WITH population AS (
  SELECT c.id, c.case_no, concat_ws('/', d.code, c.grade) AS stratum, c.grade IN :census AS census,
         md5(:seed || ':' || c.id) AS draw_key
  FROM cases c JOIN departments d ON d.id = c.responsible_department_id
  WHERE c.closed_at >= :start AND c.closed_at < :end AND c.state IN :states),
ranked AS (
  SELECT *, row_number() OVER (PARTITION BY stratum, census ORDER BY draw_key, id) AS rank,
         count(*) FILTER (WHERE NOT census) OVER (PARTITION BY stratum) AS drawable
  FROM population)
SELECT id, case_no, stratum, census, draw_key FROM ranked
WHERE census OR rank <= least(greatest(ceil(CAST(:rate AS numeric) * drawable), :least), drawable)
ORDER BY stratum, census DESC, rank
"""


def draw(conn: Connection, first: date, last: date, seed: str, *, rate: float, states: Sequence[str],
         least: int) -> list[Any]:
    """The cases a rate plan over cases closed in [first, last] draws with `seed` (before reviewers): strata
    department/grade, major/L1 in full, at least `least` a stratum."""
    return list(conn.execute(text(DRAW), {"start": start_of_day(first), "end": end_of_day(last), "seed": seed,
                                     "rate": Decimal(str(rate)), "states": tuple(states), "least": least,
                                     "census": CENSUS_GRADES}).all())


def run(engine: Engine, floor: Any, *args: Any, **kwargs: Any) -> list[Any]:
    """One floor statement in its own transaction on a pooled connection, as a service call gets one."""
    with engine.connect() as conn:
        rows: list[Any] = floor(conn, *args, **kwargs)
        conn.rollback()
        return rows
