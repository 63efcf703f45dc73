"""考核 views: the KPI table with drill-down, the monthly trend against target, scorecards,
before/after, the monthly report and (for admins) the scorecard weights."""

from __future__ import annotations

import io
from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from dashboard.components import tables
from dashboard.components.transfer_panel import transfer_mark
from dashboard.downloads import download
from dashboard.i18n import code, lang, t
from dashboard.session import attempt, in_training, now, uow
from services.export import neutralised
from services.rules.policy import Policy
from services.supervision import kpi, report, transfer_stats

RATE_KPIS = {"timeliness_rate": "timeliness", "first_contact_rate": "first_contact",
             "satisfaction_rate": "satisfaction", "repeat_rate": "repeat", "first_deadline_rate": "first_deadline",
             "statutory_rate": "statutory"}


def _column(name: str) -> str:
    """A KPI column's header in the reader's language (issue 9 §6)."""
    return t(f"kpi.column.{name}")


# issue 10 §4: rates as percentages and scores with one decimal, on screen and in the table's download
PERCENT = frozenset({*kpi.RATES, "rate", "target", "attainment"})
ONE_DECIMAL = frozenset({"avg_handling_hours", "p90_handling_hours", "handling_hours", "score", "points", "weight"})


def figures(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, Any]]:
    """`frame` (raw column names) with rates in percent and scores rounded, and their column formats."""
    shown, config = frame.copy(), {}
    for column in frame.columns:
        if column in PERCENT:
            shown[column] = [None if pd.isna(v) else round(100 * float(v), 1) for v in frame[column]]
            config[_column(column)] = st.column_config.NumberColumn(format="%.1f%%")
        elif column in ONE_DECIMAL:
            shown[column] = [None if pd.isna(v) else round(float(v), 1) for v in frame[column]]
            config[_column(column)] = st.column_config.NumberColumn(format="%.1f")
    return shown.rename(columns=_column), config


def _each(values: Any, label: Any) -> list[str]:
    """`label` of each value, worked out once per distinct value, not once per row (issue 13 §4: 500 rows)."""
    done: dict[Any, str] = {}
    out = []
    for value in values:
        if value not in done:  # a NaN is never found (each is its own object): labelled again, still right
            done[value] = label(value)
        out.append(done[value])
    return out


def _labelled(policy: Policy, frame: pd.DataFrame) -> pd.DataFrame:
    """The drill-down's codes by their labels and its headers in the reader's language (issue 10 §2)."""
    kinds = {"department": "department", "category": "category", "channel": "channel", "grade": "grade",
             "milestone": "milestone", "to_role": "role"}
    shown = frame.drop(columns=[c for c in ("rule_key",) if c in frame.columns])  # a pack key path: internal
    for column, kind in kinds.items():
        if column in shown.columns:
            shown[column] = _each(shown[column], lambda v, kind=kind: code(policy, kind, v) if v else "")
    words = {"state": "state", "deadline_status": "printed.result", "satisfaction": "satisfaction"}
    for column, prefix in words.items():
        if column in shown.columns:
            shown[column] = _each(shown[column], lambda v, prefix=prefix: "" if v is None or pd.isna(v)
                                  else t(f"{prefix}.{v}"))
    if "assignee" in shown.columns:  # the SQL's "-": nobody has it
        shown["assignee"] = [t("kpi.unassigned") if v == "-" else v for v in shown["assignee"]]
    typed = kpi.TIME_COLUMNS | ONE_DECIMAL | {"in_numerator"}  # kept typed: they sort as times, numbers, ticks
    text = [c for c in shown.columns if c not in typed]
    shown[text] = shown[text].astype(object).where(shown[text].notna(), "")  # never the word None
    for column in kpi.TIME_COLUMNS.intersection(shown.columns):
        shown[column] = tables.local_times(shown[column])
    return shown


def _drill_table(policy: Policy, cases: pd.DataFrame) -> None:
    """The cases behind a figure as a table (issue 10 §2): the case number links to the case, codes by
    their labels, times formatted, hours with one decimal, whether each case counts in the rate's numerator."""
    if "in_numerator" in cases.columns and cases["in_numerator"].isna().all():  # not a rate: nothing to tick
        cases = cases.drop(columns=["in_numerator"])
    shown = _labelled(policy, cases)
    for column in ("case_no", "parent_case_no"):  # the case and the one it re-complains about, both links
        if column in cases.columns:
            shown[column] = [tables.case_link(c) for c in cases[column]]
    shown, config = figures(shown)
    for column in ("case_no", "parent_case_no"):
        config[_column(column)] = tables.case_column(_column(column))
    for column in kpi.TIME_COLUMNS.intersection(cases.columns):
        config[_column(column)] = tables.when_column(_column(column))
    if "in_numerator" in cases.columns:
        config[_column("in_numerator")] = st.column_config.CheckboxColumn(_column("in_numerator"))
    # the toolbar's CSV download must not carry a formula (issue 8 §5); an empty cell reads "—", not None
    st.dataframe(neutralised(shown), hide_index=True, column_config=config, placeholder=tables.MISSING)


def period() -> tuple[date, date]:
    today = now().date()
    # last month, the one being assessed, and this month so far: the KPIs' cost follows the period's cases, and
    # six months took 1.2 s at a large bank's volume (issue 13 §4); a longer period is one choice away
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    chosen = st.date_input(t("kpi.period"), (start, today), key="kpi_period")
    if not isinstance(chosen, tuple) or len(chosen) != 2:
        st.stop()
    return chosen


def table(user_id: int, first: date, last: date, by: str) -> None:
    done, frame = attempt(kpi.kpis, user_id, date_from=first, date_to=last, by=by, lang=lang(), reading=True)
    if not done:
        return
    shown, config = figures(frame.drop(columns=["group"]))
    st.dataframe(shown, hide_index=True, column_config=config)
    # Every figure leads to its cases (issue 5 §2): choose a row and a KPI.
    left, right = st.columns(2)
    groups = dict(zip(frame["group"], frame["label"], strict=True))
    # persist_state: a choice made here is kept while another tab is open (only the open tab runs, issue 13 §4)
    group = left.selectbox(t("kpi.drill_group"), list(groups), format_func=lambda g: str(groups[g]), key="kpi_group",
                           persist_state="page")
    name = right.selectbox(t("kpi.drill_kpi"), kpi.KPIS, format_func=lambda k: t(f"kpi.name.{k}"), key="kpi_name",
                           persist_state="page")
    with uow(reading=True) as work:  # the reads that may lag a moment go to the read engine (issue 13 §5)
        policy = work.policy()
        cases = kpi.kpi_cases(work, user_id, kpi=name, group=None if by == "all" else group, date_from=first,
                              date_to=last, by=by, limit=500)
        marks = transfer_stats.case_sources(work, user_id, cases["case_no"]) if "case_no" in cases else {}
    if marks:  # issue 11 §3: a regulator's transfer is marked in every list
        cases = cases.assign(transfer=[transfer_mark(marks.get(c, ("own", None))[0]) for c in cases["case_no"]])
    st.caption(t("kpi.drill_count", count=len(cases)))
    _drill_table(policy, cases)


def trend(user_id: int, first: date, last: date, by: str) -> None:
    rate = st.selectbox(t("kpi.trend_kpi"), list(RATE_KPIS), format_func=_column, key="kpi_trend", persist_state="page")
    with uow(reading=True) as work:
        frame = kpi.monthly_trend(work, user_id, date_from=first, date_to=last, by=by, lang=lang())
        target = kpi.kpi_weights(work.session).get(RATE_KPIS[rate], {}).get("target")
    if frame.empty:
        st.info(t("kpi.no_data"))
        return
    higher = kpi.SCORED[RATE_KPIS[rate]][1]
    frame = frame.assign(missed=False if target is None else
                         (frame[rate] < target) if higher else (frame[rate] > target))
    base = alt.Chart(frame).encode(x=alt.X("month:N", title=t("kpi.month")),
                                   y=alt.Y(f"{rate}:Q", title=_column(rate), axis=alt.Axis(format="%")),
                                   color=alt.Color("label:N", title=t(f"kpi.by.{by}")))
    chart = base.mark_line() + base.mark_point(filled=True, size=80).encode(
        stroke=alt.condition("datum.missed", alt.value("red"), alt.value("transparent")))
    if target is not None:  # the target line, and a red mark where a group misses it (issue 5 §2)
        chart += alt.Chart(pd.DataFrame({"target": [target]})).mark_rule(strokeDash=[6, 3]).encode(y="target:Q")
    st.altair_chart(chart, use_container_width=True)


def scorecards(user_id: int, first: date, last: date) -> None:
    level = st.segmented_control(t("kpi.level"), ["department", "person"], default="department",
                                 format_func=lambda lv: t(f"kpi.by.{lv}"), key="kpi_level",
                                 persist_state="page") or "department"
    done, card = attempt(kpi.scorecard, user_id, level=level, date_from=first, date_to=last, lang=lang(),
                         reading=True)
    if not done:
        return
    summary, config = figures(card.summary.drop(columns=["group"]))
    st.dataframe(summary, hide_index=True, column_config=config)
    st.caption(t("kpi.breakdown"))
    breakdown = card.breakdown.drop(columns=["group", "higher_is_better", "kpi_zh"])
    shown, config = figures(breakdown.assign(kpi=[t(f"kpi.name.{k}") for k in breakdown["kpi"]]))
    st.dataframe(shown, hide_index=True, column_config=config)


def before_after(user_id: int, policy: Policy) -> None:
    left, middle, right = st.columns(3)
    department = left.selectbox(t("field.department"), ["", *policy.departments], key="ba_department",
                                persist_state="page", format_func=lambda d: code(policy, "department", d) if d else "—")
    pivot = middle.date_input(t("kpi.pivot"), key="ba_pivot", persist_state="page")
    days = right.number_input(t("kpi.days"), 7, 366, 30, key="ba_days", persist_state="page")
    done, frame = attempt(kpi.before_after, user_id, {"department": department or None}, pivot, int(days),
                          reading=True)
    if not done:
        return
    shown, config = figures(frame)
    st.dataframe(shown.rename(index=_column), use_container_width=True, column_config=config)


REPORT = "kpi_report"  # the last report built in this session: (whose, month, language), xlsx bytes, printable page


def monthly_report(user_id: int) -> None:
    """Built when asked, not on every run of the tab (issue 13 §4: the report alone outlasts a page's second; a
    click on a download button reruns the page), and kept for the session until another month or language."""
    month = st.text_input(t("kpi.report_month"), (now().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m"),
                          key="report_month", persist_state="page")
    whose = (user_id, in_training(), month, lang())
    kept = st.session_state.get(REPORT)
    if st.button(t("kpi.report_build"), key="report_build"):
        done, built = attempt(report.monthly_report, user_id, month, lang=lang(), reading=True)
        if not done:
            return
        workbook = io.BytesIO()
        report.to_xlsx(built, workbook)
        kept = st.session_state[REPORT] = (whose, workbook.getvalue(), report.to_html(built, lang()))
    if kept is None or kept[0] != whose:
        return
    _, xlsx, page = kept
    download(t("kpi.report_xlsx"), xlsx, f"complaints-{month}.xlsx", what="kpi_report_xlsx", ref=month)
    download(t("kpi.report_html"), page, f"complaints-{month}.html", what="kpi_report_html", ref=month,
             mime="text/html")
    st.html(page)


def weights(user_id: int) -> None:
    with uow() as work:
        current = kpi.kpi_weights(work.session)
    frame = pd.DataFrame(current).T.rename_axis("kpi").reset_index()
    # the KPI by its name, the code kept hidden for saving (issue 10 §2)
    frame.insert(1, "name", [t(f"kpi.name.{k}") for k in frame["kpi"]])
    edited = st.data_editor(frame, hide_index=True, disabled=["kpi", "name"], key="kpi_weights_editor",
                            column_config={"kpi": None, "name": t("kpi.column.kpi"), "weight": _column("weight"),
                                           "target": _column("target")})
    if st.button(t("kpi.save_weights")):
        values = {row.kpi: {"weight": float(row.weight), "target": float(row.target)} for row in edited.itertuples()}
        attempt(kpi.set_kpi_weights, user_id, values, confirm=True)


def transfers(user_id: int, first: date, last: date) -> None:
    """Complaints by source in the period: own channels and each regulator's transfers (issue 11 §3)."""
    done, frame = attempt(transfer_stats.transfers_by_source, user_id, date_from=first, date_to=last, reading=True)
    if done:
        st.dataframe(transfer_stats.labelled(frame, lang()), hide_index=True)
