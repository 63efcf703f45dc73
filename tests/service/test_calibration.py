"""Calibration sessions (RULES.md §8, issue 12 §4): blind reviews of the same closed cases, kappa per item."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.supervision_models import Review
from services.errors import Conflict, InvalidInput, InvalidTransition, NotPermitted
from services.supervision import calibration, kpi, reviews, sampling
from services.supervision.quality import reviewer_quality
from services.supervision.reviews import CHECKLIST
from services.supervision.sampling import SamplingPlanInput
from tests.service.conftest import Institution, at
from tests.service.test_sampling import NOVEMBER, add_supervisor, closed_case

ALL_PASS = {item.code: ("pass", "") for item in CHECKLIST}


def answers(**results: str) -> dict[str, tuple[str, str]]:
    return {**ALL_PASS, **{code: (r, "记录缺失" if r == "fail" else "") for code, r in results.items()}}


# Three reviewers, two cases. intake_complete: case 1 [pass, pass, fail], case 2 all pass; deadlines_met:
# case 1 all fail, case 2 [pass, pass, fail]. By hand (Fleiss 1971, the formula of audit_sampling):
# intake_complete P̄ = (1/3 + 1)/2 = 2/3, p = (5/6, 1/6), P̄e = 26/36, κ = −0.2 (poor);
# deadlines_met P̄ = 2/3, p = (1/3, 2/3), P̄e = 5/9, κ = 0.25 (fair).
GIVEN = {
    ("one", "supervisor"): answers(deadlines_met="fail"),
    ("one", "second"): answers(deadlines_met="fail"),
    ("one", "third"): answers(intake_complete="fail", deadlines_met="fail"),
    ("two", "supervisor"): answers(),
    ("two", "second"): answers(),
    ("two", "third"): answers(deadlines_met="fail"),
}


@pytest.fixture
def session(futures: Institution) -> tuple[Institution, int, dict[str, int]]:
    one, two = closed_case(futures, "service_quality"), closed_case(futures, "service_quality")
    add_supervisor(futures, "second", None)
    add_supervisor(futures, "third", None)
    u = futures.users
    with futures.uow() as uow:
        session_id = calibration.create_session(uow, u["supervisor"], "十一月校准", [one.case_no, two.case_no],
                                                [u["supervisor"], u["second"], u["third"]])
    with futures.uow() as uow:
        ids = {no: cid for cid, no in calibration.session_view(uow, u["supervisor"], session_id).cases}
    return futures, session_id, {"one": ids[one.case_no], "two": ids[two.case_no]}


def hand_in(inst: Institution, session_id: int, cases: dict[str, int], skip: tuple[str, str] | None = None) -> None:
    for (case, who), given in GIVEN.items():
        if (case, who) != skip:
            with inst.uow() as uow:
                calibration.submit_calibration_review(uow, inst.users[who], session_id, cases[case], given)


def test_three_reviewers_agree_by_fleiss_kappa_with_the_landis_koch_band(session):
    inst, session_id, cases = session
    hand_in(inst, session_id, cases)
    with inst.uow() as uow:
        calibration.close_session(uow, inst.users["supervisor"], session_id)
    with inst.uow() as uow:
        view = calibration.session_view(uow, inst.users["second"], session_id)
    found = {a.item: a.agreement for a in view.agreement}
    assert found["intake_complete"].method == "fleiss_kappa" and found["intake_complete"].raters == 3
    assert found["intake_complete"].kappa == pytest.approx(-0.2) and found["intake_complete"].band == "poor"
    assert found["deadlines_met"].kappa == pytest.approx(0.25) and found["deadlines_met"].band == "fair"
    assert found["archive_complete"].kappa is None  # every answer "pass": κ undefined, not 1
    assert "overall" in found
    # the disagreements side by side: who answered what
    listed = {(d.case_no, d.item): d.answers for d in view.disagreements}
    assert len(listed) == 2
    case_one = next(no for cid, no in view.cases if cid == cases["one"])
    assert listed[(case_one, "intake_complete")][inst.users["third"]] == ("fail", "记录缺失")
    assert listed[(case_one, "intake_complete")][inst.users["second"]][0] == "pass"


def test_two_reviewers_agree_by_cohens_kappa(futures):
    one, two = closed_case(futures, "service_quality"), closed_case(futures, "service_quality")
    add_supervisor(futures, "second", None)
    u = futures.users
    with futures.uow() as uow:
        session_id = calibration.create_session(uow, u["supervisor"], "两人校准", [one.case_no, two.case_no],
                                                [u["supervisor"], u["second"]])
    with futures.uow() as uow:
        ids = [cid for cid, _ in calibration.session_view(uow, u["supervisor"], session_id).cases]
    for who, results in (("supervisor", ("fail", "pass")), ("second", ("fail", "fail"))):
        for case_id, result in zip(ids, results, strict=True):
            with futures.uow() as uow:
                calibration.submit_calibration_review(uow, u[who], session_id, case_id, answers(deadlines_met=result))
    with futures.uow() as uow:
        calibration.close_session(uow, u["supervisor"], session_id)
    with futures.uow() as uow:
        found = {a.item: a.agreement for a in calibration.session_view(uow, u["second"], session_id).agreement}
    # p_o = 1/2, p_e = (1/2·1 + 1/2·0) = 1/2: κ = 0
    assert found["deadlines_met"].method == "cohen_kappa" and found["deadlines_met"].kappa == pytest.approx(0.0)


def test_reviews_are_blind_until_the_session_is_closed(session):
    inst, session_id, cases = session
    hand_in(inst, session_id, cases, skip=("two", "third"))
    with inst.uow() as uow:
        view = calibration.session_view(uow, inst.users["second"], session_id)
    assert not view.closed and view.reviews == [] and view.agreement == [] and view.disagreements == []
    assert set(view.mine) == set(cases.values())  # only their own answers
    assert (cases["one"], inst.users["third"]) in view.submitted  # progress, without the answers
    with pytest.raises(InvalidInput), inst.uow() as uow:  # not everyone has handed in
        calibration.close_session(uow, inst.users["supervisor"], session_id)
    with pytest.raises(NotPermitted), inst.uow() as uow:  # only the organiser closes it
        calibration.close_session(uow, inst.users["second"], session_id)
    with pytest.raises(Conflict), inst.uow() as uow:
        calibration.submit_calibration_review(uow, inst.users["second"], session_id, cases["one"], ALL_PASS)
    with pytest.raises(NotPermitted), inst.uow() as uow:  # not a reviewer of this session
        calibration.session_view(uow, inst.users["head"], session_id)


def test_the_organiser_names_one_baseline_per_case_after_closing(session):
    inst, session_id, cases = session
    hand_in(inst, session_id, cases)
    with inst.uow() as uow:
        first = calibration.session_view(uow, inst.users["supervisor"], session_id).mine
        assert first
    with inst.uow() as uow:
        calibration.close_session(uow, inst.users["supervisor"], session_id)
    with inst.uow() as uow:
        cells = calibration.session_view(uow, inst.users["supervisor"], session_id).reviews
    on_one = [c for c in cells if c.case_id == cases["one"]]
    for cell in on_one[:2]:  # naming another moves it: one baseline per case
        with inst.uow() as uow:
            calibration.set_baseline(uow, inst.users["supervisor"], cell.id)
    with inst.uow() as uow:
        cells = calibration.session_view(uow, inst.users["supervisor"], session_id).reviews
    assert [c.id for c in cells if c.baseline] == [on_one[1].id]
    with pytest.raises(NotPermitted), inst.uow() as uow:
        calibration.set_baseline(uow, inst.users["second"], on_one[0].id)
    with pytest.raises(InvalidTransition), inst.uow() as uow:  # closed: no more reviews
        calibration.submit_calibration_review(uow, inst.users["second"], session_id, cases["one"], ALL_PASS)


def test_a_session_needs_closed_cases_and_two_reviewers(futures):
    open_case = futures.intake()
    done = closed_case(futures, "service_quality")
    second = add_supervisor(futures, "second", None)
    u = futures.users
    for case_nos, reviewers in (([open_case.case_no], [u["supervisor"], second]),  # not closed
                                ([done.case_no], [u["supervisor"]]),  # one reviewer
                                ([done.case_no], [u["supervisor"], u["head"]])):  # not a reviewer
        with pytest.raises(InvalidInput), futures.uow() as uow:
            calibration.create_session(uow, u["supervisor"], "校准", case_nos, reviewers)
    with pytest.raises(NotPermitted), futures.uow() as uow:
        calibration.create_session(uow, u["head"], "校准", [done.case_no], [u["supervisor"], second])


def test_calibration_reviews_are_not_counted_as_reviews(session):
    """Issue 12 §4: KPIs, samples and the reviewers' workload read `reviews`; calibration keeps its own."""
    inst, session_id, cases = session
    with inst.uow() as uow:
        before = kpi.kpis(uow, inst.users["supervisor"], by="department", **dict(
            date_from=NOVEMBER["period_from"], date_to=NOVEMBER["period_to"]))
    hand_in(inst, session_id, cases)
    with inst.uow() as uow:
        calibration.close_session(uow, inst.users["supervisor"], session_id)
    with inst.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Review)) == 0
        assert sampling.my_review_items(uow, inst.users["second"]) == []
        after = kpi.kpis(uow, inst.users["supervisor"], by="department", **dict(
            date_from=NOVEMBER["period_from"], date_to=NOVEMBER["period_to"]))
        quality = {q.reviewer_id: q for q in reviewer_quality(uow, inst.users["supervisor"])}
    assert str(before) == str(after)
    assert quality[inst.users["second"]].reviews == 0
    # a sample drawn afterwards still finds every reviewer free: nothing pending from the calibration
    with inst.uow() as uow:
        plan = sampling.draw(uow, inst.users["supervisor"], SamplingPlanInput(**NOVEMBER, rate=1.0))
    with inst.uow() as uow:
        assert len(sampling.sample_rows(uow, inst.users["supervisor"], plan)) == 2
        assert reviews.open_actions(uow, inst.users["supervisor"], at("2026-11-30 10:00")) == []
