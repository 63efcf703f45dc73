"""Complaint statistics by JR/T 0169-2018 (RULES.md §7.4, order 3 art. 26; issue 11 §6): a quarter's cases by
channel × business × cause and by source (own channels vs regulator transfers), with the statutory on-time rate,
average handling days, extension rate and repeat rate; the workbook; the annual report's disclosure paragraph.

Every figure counts the cases received in the period (Asia/Shanghai days, both ends included):
  on-time rate     statutory_decision deadlines met / (met + met late); "—" when none was decided
  average days     receipt → feedback in calendar days, over the cases answered
  extension rate   share of the cases with an extension
  repeat rate      share of the cases that are a re-complaint (parent case) or had a repeat merged into them
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, BinaryIO

import pandas as pd
from sqlalchemy import text as sql

from services import export
from services.errors import InvalidInput
from services.institution.access import load_actor, require_role
from services.rules import jrt
from services.rules.calendar import end_of_day, start_of_day
from services.unit_of_work import UnitOfWork
from services.words import N_, text
from services.words import joined as joined_words

QUARTER = re.compile(r"(\d{4})Q([1-4])")
NONE = "—"  # a rate with nothing to count
MAIN_CATEGORIES = 3  # the disclosure names the largest three
DIMENSION_HEADERS = {"channel": N_("jrt.dimension.channel"), "business": N_("jrt.dimension.business"),
                     "cause": N_("jrt.dimension.cause")}
SOURCE_WORDS = {"own": N_("stats.source.own"), "nfra_12378": N_("stats.source.nfra_12378"),
                "pboc_12363": N_("stats.source.pboc_12363"), "csrc_12386": N_("stats.source.csrc_12386"),
                "petition": N_("stats.source.petition"), "other_regulator": N_("stats.source.other_regulator")}
BY_DIMENSION_SHEETS = {"channel": N_("stats.sheet.by_channel"), "business": N_("stats.sheet.by_business"),
                       "cause": N_("stats.sheet.by_cause")}
MEASURES = {"cases": N_("stats.col.cases"), "on_time": N_("stats.col.on_time"),
            "avg_days": N_("stats.col.avg_days"), "extension_rate": N_("stats.col.extension_rate"),
            "repeat_rate": N_("stats.col.repeat_rate")}

_CASES = sql("""
SELECT c.jrt_channel AS channel, c.jrt_business AS business, c.jrt_cause AS cause, c.source, c.category, c.pack,
       EXTRACT(EPOCH FROM c.feedback_at - c.received_at)::float8 / 86400 AS days,
       sd.status AS statutory,
       EXISTS (SELECT 1 FROM extensions x WHERE x.case_id = c.id) AS extended,
       (c.parent_case_id IS NOT NULL OR EXISTS (
           SELECT 1 FROM case_events e WHERE e.case_id = c.id AND e.event_type = 'repeat_merged')) AS repeat
FROM cases c
LEFT JOIN case_deadlines sd ON sd.case_id = c.id AND sd.milestone = 'statutory_decision'
WHERE c.received_at >= :start AND c.received_at < :end
ORDER BY c.id
""")


@dataclass(frozen=True)
class Statistics:
    period: str  # 2026Q3
    title: str
    generated_at: datetime
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # sheet name → table, in order


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of "YYYYQn"."""
    found = QUARTER.fullmatch(quarter.strip()) if isinstance(quarter, str) else None
    if found is None or not 1900 < int(found[1]) < 3000:
        raise InvalidInput("error.stats.bad_quarter", field="quarter", quarter=quarter)
    year, n = int(found[1]), int(found[2])
    last_month = 3 * n
    following = date(year + 1, 1, 1) if n == 4 else date(year, last_month + 1, 1)
    return date(year, last_month - 2, 1), date.fromordinal(following.toordinal() - 1)


def _cases(uow: UnitOfWork, first: date, last: date) -> pd.DataFrame:
    rows = uow.session.execute(_CASES, {"start": start_of_day(first), "end": end_of_day(last)}).mappings().all()
    columns = ["channel", "business", "cause", "source", "category", "pack", "days", "statutory", "extended",
               "repeat"]
    return pd.DataFrame([dict(r) for r in rows], columns=columns)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def measures(cases: pd.DataFrame) -> dict[str, Any]:
    """The figures of one group of cases, as numbers (None: nothing to count)."""
    decided = cases["statutory"].isin(["met", "met_late"])
    answered = cases["days"].dropna()
    total = len(cases)
    return {"cases": total,
            "on_time": _rate(int((cases["statutory"] == "met").sum()), int(decided.sum())),
            "avg_days": float(answered.mean()) if len(answered) else None,
            "extension_rate": _rate(int(cases["extended"].sum()), total),
            "repeat_rate": _rate(int(cases["repeat"].sum()), total)}


def _shown(figures: dict[str, Any]) -> dict[str, Any]:
    """Rates as percentages and days to one decimal, "—" where there was nothing to count."""
    out: dict[str, Any] = {"cases": figures["cases"]}
    for key in ("on_time", "extension_rate", "repeat_rate"):
        out[key] = NONE if figures[key] is None else f"{figures[key] * 100:.1f}%"
    out["avg_days"] = NONE if figures["avg_days"] is None else round(figures["avg_days"], 1)
    return out


def _grouped(cases: pd.DataFrame, keys: list[str], label: Any, lang: str) -> pd.DataFrame:
    """One row per group present (in code order, the unclassified last), then the total."""
    rows = []
    if len(cases):
        filled = cases.assign(**{k: cases[k].fillna("") for k in keys})
        for group, part in filled.groupby(keys, sort=True):
            codes = group if isinstance(group, tuple) else (group,)
            rows.append({**{k: label(k, c) for k, c in zip(keys, codes, strict=True)}, **_shown(measures(part))})
    rows.sort(key=lambda r: tuple(r[k] == text("stats.unclassified", lang) for k in keys))
    rows.append({**{k: "" for k in keys}, **_shown(measures(cases))})
    rows[-1][keys[0]] = text("stats.total", lang)
    return _headed(pd.DataFrame(rows, columns=[*keys, *MEASURES]), lang)


def _headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    names = {**{k: text(v, lang) for k, v in DIMENSION_HEADERS.items()}, **{k: text(v, lang) for k, v in
                                                                            MEASURES.items()},
             "source": text("stats.col.source", lang)}
    return frame.rename(columns=names)


def _by_source(cases: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Own channels, each regulator's transfers, all transfers, the total (RULES.md §7.3, §7.4)."""
    rows = []
    for source, words_key in SOURCE_WORDS.items():
        part = cases[cases["source"] == source]
        if len(part) or source == "own":
            rows.append({"source": text(words_key, lang), **_shown(measures(part))})
    transfers = cases[cases["source"] != "own"]
    rows.append({"source": text("stats.source.transfers", lang), **_shown(measures(transfers))})
    rows.append({"source": text("stats.total", lang), **_shown(measures(cases))})
    return _headed(pd.DataFrame(rows, columns=["source", *MEASURES]), lang)


def build_statistics(uow: UnitOfWork, quarter: str, lang: str = "zh") -> Statistics:
    first, last = quarter_bounds(quarter)
    cases = _cases(uow, first, last)

    def label(dimension: str, code: str) -> str:
        return jrt.label(dimension, code, lang) if code else text("stats.unclassified", lang)

    tables = {
        text("stats.sheet.notes", lang): pd.DataFrame({
            text("stats.col.item", lang): [text("stats.note.period", lang), text("stats.note.codes", lang),
                                           text("stats.note.rates", lang)],
            text("stats.col.value", lang): [f"{first.isoformat()} – {last.isoformat()}",
                                            text("stats.note.codes_value", lang),
                                            text("stats.note.rates_value", lang)]}),
        text("stats.sheet.classified", lang): _grouped(cases, list(jrt.DIMENSIONS), label, lang),
        text("stats.sheet.by_source", lang): _by_source(cases, lang),
    }
    for dimension in jrt.DIMENSIONS:
        tables[text(BY_DIMENSION_SHEETS[dimension], lang)] = _grouped(cases, [dimension], label, lang)
    return Statistics(quarter, text("stats.title", lang, quarter=quarter), uow.now(), tables)


def quarterly_statistics(uow: UnitOfWork, actor_id: int, quarter: str, lang: str = "zh") -> Statistics:
    """The statistics for supervision, the executives and the admin (access: view_statistics)."""
    require_role(load_actor(uow.session, actor_id), "view_statistics")
    return build_statistics(uow, quarter, lang)


def system_statistics(uow: UnitOfWork, quarter: str, lang: str = "zh") -> Statistics:
    """The whole institution's statistics for the command line, which runs as the system, not as a user."""
    return build_statistics(uow, quarter, lang)


def to_xlsx(statistics: Statistics, out: str | BinaryIO) -> None:
    export.write_xlsx(statistics.tables, out)  # every text cell inert, no formulas (issue 8 §5)


def annual_disclosure(uow: UnitOfWork, actor_id: int, year: int, lang: str = "zh") -> str:
    """The annual report's paragraph on complaints (RULES.md §7.4): how many, the main categories, how handled."""
    require_role(load_actor(uow.session, actor_id), "view_statistics")
    if isinstance(year, bool) or not isinstance(year, int) or not 1900 < year < 3000:
        raise InvalidInput("error.stats.bad_year", field="year", year=year)
    cases = _cases(uow, date(year, 1, 1), date(year, 12, 31))
    figures = measures(cases)
    total = figures["cases"]
    policy = uow.policy()
    counts = cases["category"].value_counts() if total else pd.Series(dtype=int)
    main = [text("stats.disclosure.item", lang, category=policy.label("category", str(c), lang), count=int(n),
                 share=f"{n / total * 100:.1f}%") for c, n in list(counts.items())[:MAIN_CATEGORIES]]
    paragraph = text("stats.disclosure", lang, year=year, total=total,
                     transfers=int((cases["source"] != "own").sum()) if total else 0,
                     main=joined_words(main, lang) if main else NONE,
                     answered=int(cases["days"].notna().sum()) if total else 0,
                     days=NONE if figures["avg_days"] is None else f"{figures['avg_days']:.1f}")
    if figures["on_time"] is not None:
        paragraph += text("stats.disclosure.on_time", lang, rate=f"{figures['on_time'] * 100:.1f}%")
    return paragraph
