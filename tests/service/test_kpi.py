"""Every KPI of RULES.md §5 on a hand-built set of futures cases whose answers are worked out below.

Futures pack (seed 000 art. 17): forward within 1 hour of intake; first contact and resolve within
24 hours of forwarding (counted from receipt while not forwarded); one extension of resolve by at
most 24 hours. Every general case is escalated to the vice-president at intake (art. 4).

    case  received          forwarded  contact          resolved         feedback (sat.)  notes
    c1    10-12 09:00       09:30      10-12 14:00 ok   10-13 09:00 ok   10-13 10:00 (5)
    c2    10-12 10:00       10:30      10-13 12:00 late 10-13 15:00 late 10-14 10:00 (2)  claim 1000, paid 500
    c3    10-14 09:00       09:30      10-14 11:00 ok   10-16 09:00 ok*  10-16 10:00 (4)  *extended to 10-16 09:30
    c4    10-20 09:00       09:30      10-20 10:00 ok   open, due 10-21 09:30 (overdue)  escalated by hand
    c5    10-15 10:00       10:20      10-15 16:00 ok   10-16 09:00 ok   10-16 11:00 (5)  business dept, claim 20000
    c6    10-19 14:00       resolved at intake (4): resolve and first contact met at once
    c7    10-22 09:00       09:30      10:00 ok         16:00 ok         17:00 (3)        re-complaint of c2
    c8    10-21 09:00       withdrawn 11:00: deadlines waived
    c9    10-31 20:00       not forwarded: resolve due 11-01 20:00, in November
    c10   09-28 10:00       10:30      09-28 11:00 ok   10-09 10:00 late (due 09-29 10:30)
    c11   09-29 10:00       10:30      open, due 09-30 10:30 (overdue)
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import select

from db.models import AuditEvent, User
from services.casework import cases
from services.errors import InvalidInput, NotPermitted
from services.institution.directory import create_user
from services.supervision import kpi
from tests.service.conftest import Institution, at, make_institution

NOW = at("2026-11-02 10:00")
OCT = {"date_from": date(2026, 10, 1), "date_to": date(2026, 10, 31), "now": NOW}


def _step(inst: Institution, action, who: str, ref: cases.CaseRef, **values) -> cases.CaseRef:
    with inst.uow() as uow:
        return action(uow, inst.users[who], ref.case_no, ref.version, **values)


def _handle(inst: Institution, ref: cases.CaseRef, forwarded=None, contacted=None, resolved=None,
            feedback=None, satisfaction=None, *, handler="handler", department="customer_service", paid=0,
            extend=None) -> cases.CaseRef:
    if forwarded:
        ref = _step(inst, cases.forward, "clerk", ref, department=department, handler_id=inst.users[handler],
                    handling_form="请核实并处理", at=at(forwarded))
    if contacted:
        ref = _step(inst, cases.first_contact, handler, ref, note="已联系客户", at=at(contacted))
    if extend:
        ref = _step(inst, cases.extend, handler, ref, milestone="resolve", new_due=at(extend[1]), reason="需调取录音",
                    customer_informed_at=at(extend[0]), informed_method="电话", at=at(extend[0]))
    if resolved:
        ref = _step(inst, cases.resolve, handler, ref, fact_finding="属实", measures="道歉并更正",
                    accountability="通报批评", compensation_paid=paid,
                    signed_confirmation="客户已签字" if paid else None, at=at(resolved))
    if feedback:
        ref = _step(inst, cases.feedback, "clerk", ref, method="电话", satisfaction=satisfaction, at=at(feedback))
    return ref


def build_cases(engine) -> tuple[Institution, dict[str, str]]:
    """The eleven cases of the module docstring; returns the institution and name → case number."""
    inst = make_institution(engine, "futures")
    with inst.uow() as uow:
        inst.users["broker"] = create_user(uow, "broker", "Broker", "kite-harbour9", ["handler"], "business").id

    def received(when: str, **form) -> cases.CaseRef:
        return inst.intake(received_at=at(when), **form)

    refs = {
        "c1": _handle(inst, received("2026-10-12 09:00"), "2026-10-12 09:30", "2026-10-12 14:00",
                      "2026-10-13 09:00", "2026-10-13 10:00", 5),
        "c2": _handle(inst, received("2026-10-12 10:00", compensation_claim=1000), "2026-10-12 10:30",
                      "2026-10-13 12:00", "2026-10-13 15:00", "2026-10-14 10:00", 2, paid=500),
        "c3": _handle(inst, received("2026-10-14 09:00"), "2026-10-14 09:30", "2026-10-14 11:00",
                      "2026-10-16 09:00", "2026-10-16 10:00", 4, extend=("2026-10-15 08:00", "2026-10-16 09:30")),
        "c4": _handle(inst, received("2026-10-20 09:00"), "2026-10-20 09:30", "2026-10-20 10:00"),
        "c5": _handle(inst, received("2026-10-15 10:00", category="brokerage", compensation_claim=20000),
                      "2026-10-15 10:20", "2026-10-15 16:00", "2026-10-16 09:00", "2026-10-16 11:00", 5,
                      handler="broker", department="business", paid=3000),
        "c6": received("2026-10-19 14:00", resolved_at_intake=True, explanation="当场解释", satisfaction=4),
        "c8": received("2026-10-21 09:00"),
        "c9": received("2026-10-31 20:00"),
        "c10": _handle(inst, received("2026-09-28 10:00"), "2026-09-28 10:30", "2026-09-28 11:00",
                       "2026-10-09 10:00"),
        "c11": _handle(inst, received("2026-09-29 10:00"), "2026-09-29 10:30"),
    }
    _step(inst, cases.escalate, "clerk", refs["c4"], to_role="general_manager", reason="客户情绪激动",
          at=at("2026-10-22 10:00"))
    _step(inst, cases.withdraw, "clerk", refs["c8"], reason="客户撤诉", at=at("2026-10-21 11:00"))
    with inst.uow() as uow:
        c7 = cases.re_complaint(uow, inst.users["clerk"], refs["c2"].case_no, refs["c2"].version,
                                {"received_at": at("2026-10-22 09:00"), "content": "对处理结果不满意"})
    refs["c7"] = _handle(inst, c7, "2026-10-22 09:30", "2026-10-22 10:00", "2026-10-22 16:00",
                         "2026-10-22 17:00", 3)
    return inst, {name: ref.case_no for name, ref in refs.items()}


@pytest.fixture
def october(engine) -> tuple[Institution, dict[str, str]]:
    return build_cases(engine)


def row(frame, group: str) -> dict:
    """One group's figures; a rate with nothing to count (NaN, e.g. no statutory clock) as None, so rows compare."""
    return {k: None if v != v else v for k, v in frame.set_index("group").loc[group].to_dict().items()}


def figures(inst: Institution, who: str = "supervisor", by: str = "all", **period) -> object:
    with inst.uow() as uow:
        return kpi.kpis(uow, inst.users[who], by=by, **(period or OCT))


def test_every_kpi_of_the_month_matches_the_hand_count(october):
    inst, _ = october
    total = row(figures(inst), "all")
    # received in October: c1–c9; c7 is the re-complaint.
    assert (total["volume"], total["repeat_complaints"]) == (9, 1)
    assert total["repeat_rate"] == pytest.approx(1 / 9)
    # resolve due in October: c1 c2 c3 c4 c5 c6 c7 (c8 waived, c9 due in November); met: c1 c3 c5 c6 c7;
    # c4 is open past due and counts as not timely.
    assert (total["resolve_met"], total["resolve_due"]) == (5, 7)
    assert total["timeliness_rate"] == pytest.approx(5 / 7)
    # within the first deadline: c3 only met its extended one, c2 late, c4 open.
    assert total["resolved_within_first_deadline"] == 4
    assert total["first_deadline_rate"] == pytest.approx(4 / 7)
    assert (total["first_contact_met"], total["first_contact_due"]) == (6, 7)  # c2 late
    assert (total["satisfied"], total["rated"]) == (4, 6)  # 5, 4, 5, 4 of 5, 2, 4, 5, 4, 3
    assert total["satisfaction_rate"] == pytest.approx(4 / 6)
    # resolved in October: c1 24 h, c2 29 h, c3 48 h, c5 23 h, c6 0 h, c7 7 h, c10 264 h.
    assert total["resolved"] == 7
    assert total["avg_handling_hours"] == pytest.approx(395 / 7)
    assert total["p90_handling_hours"] == pytest.approx(48 + 0.4 * (264 - 48))  # rank 0.9 × 6 = 5.4
    assert total["overdue_backlog"] == 2  # at 24:00 on 31 October: c4 and c11 (c10 was resolved 10-09)
    assert total["extensions"] == 1
    assert total["escalations"] == 10  # nine at intake (c1–c9) and c4 by hand
    assert (total["compensation_claimed"], total["compensation_paid"]) == (21000, 3500)


def test_kpis_by_department(october):
    inst, _ = october
    frame = figures(inst, by="department")
    assert list(frame["group"]) == ["business", "customer_service"]
    service, business = row(frame, "customer_service"), row(frame, "business")
    assert service["label"] == "客服中心"
    assert (service["volume"], service["resolve_met"], service["resolve_due"]) == (8, 4, 6)
    assert (service["first_contact_met"], service["first_contact_due"]) == (5, 6)
    assert (service["satisfied"], service["rated"], service["overdue_backlog"]) == (3, 5, 2)
    assert service["avg_handling_hours"] == pytest.approx((24 + 29 + 48 + 0 + 7 + 264) / 6)
    assert (business["volume"], business["resolve_met"], business["resolve_due"]) == (1, 1, 1)
    assert (business["compensation_claimed"], business["compensation_paid"], business["overdue_backlog"]) == (
        20000, 3000, 0)


def test_kpis_by_person_channel_and_category(october):
    inst, _ = october
    people = figures(inst, by="person")
    assert (row(people, "handler")["resolve_met"], row(people, "handler")["resolve_due"]) == (3, 5)
    assert row(people, "-")["label"] == "（未分派）"  # c6, c8, c9 were never forwarded
    assert list(figures(inst, by="channel")["label"]) == ["电话投诉"]
    categories = figures(inst, by="category")
    assert row(categories, "brokerage")["label"] == "期货经纪业务"
    assert row(categories, "service_quality")["volume"] == 8


def test_month_by_month_each_figure_falls_in_the_month_of_its_own_event(october):
    inst, _ = october
    with inst.uow() as uow:
        trend = kpi.monthly_trend(uow, inst.users["supervisor"], date_from=date(2026, 9, 1),
                                  date_to=date(2026, 10, 31), now=NOW)
    september, october_ = (trend.iloc[i].to_dict() for i in (0, 1))
    assert (september["month"], october_["month"]) == ("2026-09", "2026-10")
    assert (september["volume"], september["resolve_met"], september["resolve_due"]) == (2, 0, 2)
    assert (september["first_contact_met"], september["first_contact_due"]) == (1, 2)
    # at 24:00 on 30 September both c10 and c11 were overdue and unresolved.
    assert (september["overdue_backlog"], september["resolved"], september["escalations"]) == (2, 0, 2)
    assert (october_["volume"], october_["resolve_due"], october_["overdue_backlog"]) == (9, 7, 2)


def test_every_figure_is_reproducible_from_the_listed_cases(october):
    inst, no = october
    with inst.uow() as uow:
        listed = kpi.kpi_cases(uow, inst.users["supervisor"], kpi="timeliness", by="department",
                               group="customer_service", **OCT)
        backlog = kpi.kpi_cases(uow, inst.users["supervisor"], kpi="overdue_backlog", group=None, **OCT)
        resolved = kpi.kpi_cases(uow, inst.users["supervisor"], kpi="handling_time", group=None, **OCT)
    assert set(listed["case_no"]) == {no[c] for c in ("c1", "c2", "c3", "c4", "c6", "c7")}
    assert set(listed[listed["in_numerator"]]["case_no"]) == {no[c] for c in ("c1", "c3", "c6", "c7")}
    assert set(backlog["case_no"]) == {no["c4"], no["c11"]}
    assert resolved["handling_hours"].sum() == pytest.approx(395)


def test_the_cases_behind_a_figure_name_the_handler_by_display_name(october):
    """Issue 10 §3: the drill-down's handler column shows the person's name, as every other list does, not the
    sign-in username."""
    inst, _ = october
    with inst.uow() as uow:
        listed = kpi.kpi_cases(uow, inst.users["supervisor"], kpi="volume", group=None, **OCT)
        names = dict(uow.session.execute(select(User.username, User.display_name)).tuples().all())
    assigned = set(listed["assignee"]) - {"-"}  # "-": nobody has it
    assert assigned and assigned <= set(names.values()) and not assigned & set(names)


def test_a_department_head_sees_only_their_department(october):
    inst, _ = october
    mine = figures(inst, who="head", by="department")
    assert list(mine["group"]) == ["customer_service"]
    assert row(mine, "customer_service") == row(figures(inst, by="department"), "customer_service")
    with inst.uow() as uow:
        other = kpi.kpi_cases(uow, inst.users["head"], kpi="volume", by="department", group="business", **OCT)
    assert other.empty


@pytest.mark.parametrize("who", ["clerk", "handler", "trainee"])
def test_staff_without_an_assessment_role_are_refused(october, who):
    inst, _ = october
    with pytest.raises(NotPermitted):
        figures(inst, who=who)


def test_department_scorecard_with_the_default_weights(october):
    inst, _ = october
    with inst.uow() as uow:
        card = kpi.scorecard(uow, inst.users["supervisor"], level="department", **OCT)
    scores = card.summary.set_index("group")["score"]
    # customer service: timeliness (4/6)/0.95 × 40 + first contact (5/6)/0.95 × 20 + satisfaction 0.6/0.9 × 30
    # + repeat 1/8 against a target of at most 0.05 → 0.05/0.125 × 10.
    expected = (4 / 6) / 0.95 * 40 + (5 / 6) / 0.95 * 20 + 0.6 / 0.9 * 30 + 0.05 / 0.125 * 10
    assert scores["customer_service"] == pytest.approx(expected)
    assert scores["business"] == pytest.approx(100)
    assert list(card.summary["group"]) == ["business", "customer_service"]  # best first
    parts = card.breakdown.set_index(["group", "kpi"])
    assert not parts.loc[("customer_service", "repeat"), "met_target"]
    assert (parts.loc[("customer_service", "timeliness"), "numerator"],
            parts.loc[("customer_service", "timeliness"), "denominator"]) == (4, 6)


def test_an_admin_sets_weights_and_targets_and_the_change_is_audited(october):
    inst, _ = october
    weights = {"timeliness": {"weight": 0.5, "target": 0.9}, "satisfaction": {"weight": 0.5, "target": 0.8}}
    with inst.uow() as uow:
        kpi.set_kpi_weights(uow, inst.users["admin"], weights)
    with inst.uow() as uow:
        card = kpi.scorecard(uow, inst.users["supervisor"], level="department", **OCT)
        audit = uow.session.scalars(select(AuditEvent.detail).where(AuditEvent.action == "kpi_weights_set")).all()
    assert card.summary.set_index("group")["score"]["customer_service"] == pytest.approx(
        (4 / 6) / 0.9 * 50 + 0.6 / 0.8 * 50)
    assert len(audit) == 1 and audit[0]["new"] == weights


@pytest.mark.parametrize("weights, field", [
    ({"speed": {"weight": 1, "target": 0.9}}, "weights"),
    ({"timeliness": {"weight": 0.7, "target": 0.9}, "repeat": {"weight": 0.2, "target": 0.1}}, "weights"),
    ({"timeliness": {"weight": 1.2, "target": 0.9}, "repeat": {"weight": -0.2, "target": 0.1}}, "repeat"),
    ({"timeliness": {"weight": 1, "target": 1.5}}, "timeliness"),
    ({"timeliness": {"weight": "much", "target": 0.9}}, "timeliness"),
    ({}, "weights"),
])
def test_bad_weights_are_refused_and_nothing_is_stored(october, weights, field):
    inst, _ = october
    with pytest.raises(InvalidInput) as refused, inst.uow() as uow:
        kpi.set_kpi_weights(uow, inst.users["admin"], weights)
    assert refused.value.field == field
    with inst.uow() as uow:
        assert kpi.kpi_weights(uow.session) == kpi.DEFAULT_WEIGHTS


def test_only_an_admin_sets_weights(october):
    inst, _ = october
    with pytest.raises(NotPermitted), inst.uow() as uow:
        kpi.set_kpi_weights(uow, inst.users["supervisor"], kpi.DEFAULT_WEIGHTS)


def test_before_and_after_compare_equal_periods_around_the_pivot_day(october):
    inst, _ = october
    with inst.uow() as uow:
        compared = kpi.before_after(uow, inst.users["head"], {"department": "customer_service"},
                                    date(2026, 10, 11), 20, now=NOW)
    # before: 09-21 … 10-10 (c10, c11); after: 10-12 … 10-31 (the eight customer-service cases of October).
    assert (compared.loc["before", "date_from"], compared.loc["after", "date_to"]) == (
        date(2026, 9, 21), date(2026, 10, 31))
    assert (compared.loc["before", "volume"], compared.loc["after", "volume"], compared.loc["change", "volume"]) == (
        2, 8, 6)
    assert (compared.loc["before", "timeliness_rate"], compared.loc["after", "timeliness_rate"]) == (
        0, pytest.approx(4 / 6))
    with pytest.raises(NotPermitted), inst.uow() as uow:
        kpi.before_after(uow, inst.users["head"], {"department": "business"}, date(2026, 10, 11), 20, now=NOW)


def test_a_period_without_cases_has_zero_counts_and_no_rates(october):
    inst, _ = october
    empty = row(figures(inst, date_from=date(2026, 12, 1), date_to=date(2026, 12, 31), now=NOW), "all")
    assert (empty["volume"], empty["resolve_due"], empty["escalations"]) == (0, 0, 0)
    assert empty["timeliness_rate"] is None  # NaN: no denominator, no rate


def test_the_backlog_at_each_snapshot_counts_waived_and_met_deadlines_by_when_they_closed(engine):
    """Issue 13 §2: the backlog reads only open deadlines, those met since the period began and those waived on
    cases closed since its snapshot, so these edges must count as the backlog condition says."""
    inst = make_institution(engine, "futures")

    def forwarded(when: str) -> cases.CaseRef:  # resolve due 24 hours after forwarding (seed 000 art. 17)
        return _handle(inst, inst.intake(received_at=at(f"{when} 09:00")), f"{when} 09:30")

    old = _step(inst, cases.withdraw, "clerk", forwarded("2026-03-02"), reason="客户撤诉", at=at("2026-03-10 10:00"))
    withdrawn = _step(inst, cases.withdraw, "clerk", forwarded("2026-09-10"), reason="客户撤诉",
                      at=at("2026-10-05 10:00"))
    late = _handle(inst, forwarded("2026-09-14"), resolved="2026-10-20 09:00")
    early = _handle(inst, forwarded("2026-09-21"), resolved="2026-09-25 09:00")
    still_open = forwarded("2026-10-26")
    with inst.uow() as uow:
        def backlog(first: date, last: date, by: str = "all", group: str | None = None) -> set[str]:
            frame = kpi.kpi_cases(uow, inst.users["supervisor"], kpi="overdue_backlog", by=by, group=group,
                                  date_from=first, date_to=last, now=NOW)
            return set(frame["case_no"])

        trend = kpi.monthly_trend(uow, inst.users["supervisor"], date_from=date(2026, 3, 1),
                                  date_to=date(2026, 11, 30), now=NOW)
        september = backlog(date(2026, 9, 1), date(2026, 9, 30))
        october = backlog(date(2026, 10, 1), date(2026, 10, 31))
        november = backlog(date(2026, 11, 1), date(2026, 11, 30))  # at now, 2 November
        by_month = backlog(date(2026, 9, 15), date(2026, 10, 31), by="month", group="2026-09")
        totals = kpi.kpis(uow, inst.users["supervisor"], by="all", date_from=date(2026, 9, 1),
                          date_to=date(2026, 9, 30), now=NOW)
    # at 24:00 on 30 September: the case withdrawn on 5 October and the one resolved late on 20 October; the
    # case withdrawn in March was waived long before, the one resolved on 25 September met its deadline then
    assert september == by_month == {withdrawn.case_no, late.case_no}
    assert early.case_no not in september and old.case_no not in september
    assert october == november == {still_open.case_no}
    assert int(totals["overdue_backlog"].iloc[0]) == 2
    assert dict(zip(trend["month"], trend["overdue_backlog"], strict=True)) == {
        "2026-03": 0, "2026-09": 2, "2026-10": 1, "2026-11": 1}  # months without a figure have no row


def test_the_reports_breakdowns_from_one_statement_equal_each_dimension_alone(october):
    """Issue 13 §2: the report reads its tables with GROUPING SETS; each must be what `kpi_frame` gives alone."""
    inst, _ = october
    bys = ("all", "category", "grade", "department", "channel", "person")
    with inst.uow() as uow:
        for first, last in ((date(2026, 10, 1), date(2026, 10, 31)), (date(2026, 12, 1), date(2026, 12, 31))):
            together = kpi.kpi_frames(uow, kpi.SYSTEM, date_from=first, date_to=last, bys=bys, now=NOW, lang="en")
            for by in bys:
                alone = kpi.kpi_frame(uow, kpi.SYSTEM, date_from=first, date_to=last, by=by, now=NOW, lang="en")
                pd.testing.assert_frame_equal(together[by], alone)
        with pytest.raises(ValueError, match="cannot be grouped"):
            kpi.kpi_frames(uow, kpi.SYSTEM, date_from=date(2026, 10, 1), date_to=date(2026, 10, 31),
                           bys=("all", "month"), now=NOW)
