"""Disputes of review findings and the reviewers' quality (RULES.md §8, issue 12 §5–6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.models import Case, CaseEvent
from db.supervision_models import Review
from services.casework.case_view import case_detail, event_note
from services.errors import Conflict, InvalidInput, InvalidTransition, NotPermitted
from services.supervision import calibration, disputes, sampling
from services.supervision.quality import reviewer_quality
from services.supervision.reviews import CHECKLIST, submit_review
from services.supervision.sampling import SamplingPlanInput
from tests.service.conftest import Institution, at
from tests.service.test_sampling import NOVEMBER, add_supervisor, closed_case

# deadlines_met (20) and feedback_and_visit (15) fail: 65 / 100
FAILED = {**{item.code: ("pass", "") for item in CHECKLIST}, "deadlines_met": ("fail", "办结超时"),
          "feedback_and_visit": ("fail", "未回访")}


@dataclass
class Reviewed:
    inst: Institution
    review_id: int
    case_no: str


@pytest.fixture
def reviewed(futures: Institution) -> Reviewed:
    case = closed_case(futures, "service_quality")
    add_supervisor(futures, "second", None)
    with futures.uow() as uow:
        plan = sampling.draw(uow, futures.users["supervisor"], SamplingPlanInput(**NOVEMBER, rate=1.0))
    with futures.uow() as uow:
        row = sampling.sample_rows(uow, futures.users["supervisor"], plan)[0]
    reviewer = next(name for name, uid in futures.users.items() if uid == row.reviewer_id)
    with futures.uow() as uow:
        review_id = submit_review(uow, futures.users[reviewer], row.item_id, FAILED, at=at("2026-11-20 10:00"))
    futures.users["reviewer"] = row.reviewer_id
    futures.users["decider"] = futures.users["second" if reviewer == "supervisor" else "supervisor"]
    return Reviewed(futures, review_id, case.case_no)


def file(r: Reviewed, item: str = "deadlines_met", who: str = "head") -> int:
    with r.inst.uow() as uow:
        return disputes.file_dispute(uow, r.inst.users[who], r.review_id, item, "已在时限内办结，系统记录有误",
                                     at=at("2026-11-23 10:00"))


def decide(r: Reviewed, dispute_id: int, decision: str, new_score=None, who: str = "decider") -> None:
    with r.inst.uow() as uow:
        disputes.decide_dispute(uow, r.inst.users[who], dispute_id, decision, "核对录音后认定", new_score,
                                at=at("2026-11-26 10:00"))


def score(r: Reviewed) -> Decimal:
    with r.inst.uow() as uow:
        return uow.session.get(Review, r.review_id).score


def test_an_accepted_dispute_goes_from_filed_to_decided_and_changes_the_score(reviewed):
    assert score(reviewed) == Decimal("65.00")
    dispute_id = file(reviewed)
    with reviewed.inst.uow() as uow:
        [row] = disputes.disputes(uow, reviewed.inst.users["decider"], pending_only=True)
    assert (row.status, row.item, row.score_before) == ("filed", "deadlines_met", 65.0)
    decide(reviewed, dispute_id, "accepted")
    assert score(reviewed) == Decimal("85.00")  # the finding withdrawn: 85 of 100
    with reviewed.inst.uow() as uow:
        [row] = disputes.disputes(uow, reviewed.inst.users["head"])
        checklist = uow.session.get(Review, reviewed.review_id).checklist
        notes = uow.session.execute(select(CaseEvent.data, CaseEvent.note).join(Case).where(
            Case.case_no == reviewed.case_no, CaseEvent.event_type == "note").order_by(CaseEvent.id)).all()
    assert (row.status, row.score_after, row.decision_reason) == ("accepted", 85.0, "核对录音后认定")
    assert checklist["deadlines_met"] == {"result": "pass", "note": "办结超时", "disputed": "fail"}
    # on the timeline: filed, then decided
    assert [d["dispute_event"] for d, _ in notes] == ["filed", "decided"]
    assert "85" in notes[1][1]
    # said in English to an English reader
    with reviewed.inst.uow() as uow:
        view = case_detail(uow, reviewed.inst.users["decider"], reviewed.case_no)
        english = [event_note(uow.policy(view.pack), e, "en") for e in view.timeline if e.data.get("dispute")]
    assert all(english) and not any("\u4e00" <= ch <= "\u9fff" for text in english for ch in text)


def test_a_partly_accepted_dispute_sets_the_supervisors_score_between_the_two(reviewed):
    dispute_id = file(reviewed)
    for wrong in (None, 65, 90):  # none, not above the old score, above the withdrawn one
        with pytest.raises(InvalidInput):
            decide(reviewed, dispute_id, "partly_accepted", wrong)
    decide(reviewed, dispute_id, "partly_accepted", "75")
    assert score(reviewed) == Decimal("75.00")
    # the other finding (15 of 100) accepted in full afterwards: the partial credit is kept, 75 + 15
    decide(reviewed, file(reviewed, "feedback_and_visit"), "accepted")
    assert score(reviewed) == Decimal("90.00")


def test_a_rejected_dispute_keeps_the_score_and_the_decision_is_final(reviewed):
    dispute_id = file(reviewed)
    decide(reviewed, dispute_id, "rejected")
    assert score(reviewed) == Decimal("65.00")
    with pytest.raises(InvalidTransition):
        decide(reviewed, dispute_id, "accepted")


def test_a_second_dispute_of_the_same_finding_is_refused(reviewed):
    dispute_id = file(reviewed)
    with pytest.raises(Conflict):
        file(reviewed)
    decide(reviewed, dispute_id, "rejected")
    with pytest.raises(Conflict):  # decided, still once only
        file(reviewed)
    file(reviewed, "feedback_and_visit")  # another finding of the same review may be disputed


def test_the_reviewer_of_the_review_cannot_decide_its_dispute(reviewed):
    dispute_id = file(reviewed)
    with pytest.raises(NotPermitted):
        decide(reviewed, dispute_id, "accepted", who="reviewer")
    decide(reviewed, dispute_id, "accepted")


def test_only_the_reviewed_departments_head_disputes_and_only_a_finding(reviewed):
    with pytest.raises(NotPermitted):
        file(reviewed, who="handler")  # not a head
    add_head = reviewed.inst
    from services.institution.directory import create_user

    with add_head.uow() as uow:
        add_head.users["other_head"] = create_user(uow, "other_head", "Other", "kite-harbour9", ["dept_head"],
                                                   "compliance").id
    with pytest.raises(NotPermitted):
        file(reviewed, who="other_head")  # heads another department
    with pytest.raises(InvalidInput):
        file(reviewed, item="intake_complete")  # passed: not a finding
    with reviewed.inst.uow() as uow:
        listed = disputes.findings(uow, reviewed.inst.users["head"])
        assert {f.item for f in listed} == {"deadlines_met", "feedback_and_visit"}
        assert disputes.findings(uow, reviewed.inst.users["other_head"]) == []


def test_dispute_statistics_rate_accept_rate_and_days_to_decide(reviewed):
    decide(reviewed, file(reviewed), "accepted")
    file(reviewed, "feedback_and_visit")
    with reviewed.inst.uow() as uow:
        stats = disputes.dispute_stats(uow, reviewed.inst.users["decider"])
    # two findings (one withdrawn still counts), both disputed; one decided, accepted, in 3 days
    assert (stats.findings, stats.disputed, stats.decided, stats.accepted) == (2, 2, 1, 1)
    assert (stats.rate, stats.accept_rate, stats.days_to_decide) == (1.0, 1.0, 3.0)


def test_reviewer_quality_counts_reviews_scores_disputes_lost_and_baseline_agreement(reviewed):
    inst = reviewed.inst
    decide(reviewed, file(reviewed), "partly_accepted", 70)
    # a calibration of the same case by both supervisors, the decider's review named the baseline
    u = inst.users
    with inst.uow() as uow:
        session_id = calibration.create_session(uow, u["supervisor"], "校准", [reviewed.case_no],
                                                [u["supervisor"], u["second"]])
    with inst.uow() as uow:
        [(case_id, _)] = calibration.session_view(uow, u["supervisor"], session_id).cases
    for who, given in (("reviewer", FAILED), ("decider", {**FAILED, "deadlines_met": ("pass", "")})):
        with inst.uow() as uow:
            calibration.submit_calibration_review(uow, u[who], session_id, case_id, given)
    with inst.uow() as uow:
        calibration.close_session(uow, u["supervisor"], session_id)
    with inst.uow() as uow:
        base = next(c for c in calibration.session_view(uow, u["supervisor"], session_id).reviews
                    if c.reviewer_id == u["decider"])
        calibration.set_baseline(uow, u["supervisor"], base.id)
    with inst.uow() as uow:
        quality = {q.reviewer_id: q for q in reviewer_quality(uow, u["supervisor"])}
    mine = quality[u["reviewer"]]
    # one review, given 65 (70 after the dispute), one dispute lost, 6 of 7 items as the baseline
    assert (mine.reviews, mine.average_score, mine.disputes_lost) == (1, 65.0, 1)
    assert (mine.baseline_items, mine.baseline_agreed) == (7, 6)
    assert quality[u["decider"]].reviews == 0 and quality[u["decider"]].baseline_items == 0
    with pytest.raises(NotPermitted), inst.uow() as uow:
        reviewer_quality(uow, u["head"])
