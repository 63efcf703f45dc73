"""Calibration, reviewer quality and disputes through the real pages (RULES.md §8, issue 12 §4–6)."""

from __future__ import annotations

from services.supervision import calibration, disputes
from tests.app.test_shell import submit
from tests.app.test_workflow import open_page
from tests.service.test_calibration import GIVEN
from tests.service.test_disputes import FAILED
from tests.service.test_sampling import NOVEMBER, add_supervisor, closed_case


def _table(page, column: str):
    return next(d.value for d in page.dataframe if column in d.value.columns)


def test_a_calibration_with_three_reviewers_shows_fleiss_kappa(institution, app):
    one, two = closed_case(institution, "staff_operation"), closed_case(institution, "staff_operation")
    add_supervisor(institution, "second", None)
    add_supervisor(institution, "third", None)
    u = institution.users
    with institution.uow() as uow:
        session_id = calibration.create_session(uow, u["supervisor"], "十一月校准", [one.case_no, two.case_no],
                                                [u["supervisor"], u["second"], u["third"]])
    with institution.uow() as uow:
        ids = {no: cid for cid, no in calibration.session_view(uow, u["supervisor"], session_id).cases}
    cases = {"one": ids[one.case_no], "two": ids[two.case_no]}
    for (case, who), given in GIVEN.items():
        if (case, who) == ("two", "supervisor"):
            continue  # the organiser hands this one in on the page
        with institution.uow() as uow:
            calibration.submit_calibration_review(uow, u[who], session_id, cases[case], given)
    page = open_page(app, u["supervisor"], "sampling")
    assert not page.exception
    # blind: the agreement is not shown while a review is missing
    assert not any("Kappa 值" in d.value.columns for d in page.dataframe)
    assert page.selectbox(key=f"cal_{session_id}_case").value == cases["two"]
    page = submit(page, f"cal_{session_id}_{cases['two']}")  # all "pass", as GIVEN has it
    assert page.success[-1].value == "已保存。"
    page = next(b for b in page.button if b.label == "结束校准并公布结果").click().run()
    assert not page.exception
    agreement = _table(page, "Kappa 值")
    rows = agreement.set_index("检查项")
    assert set(agreement["方法"]) == {"Fleiss' kappa（三名及以上评审人）"}
    assert rows.loc["受理登记完整、用语文明", "Kappa 值"] == -0.2
    assert rows.loc["受理登记完整、用语文明", "一致性程度（Landis–Koch）"] == "差"
    assert rows.loc["各节点均在期限内完成", "Kappa 值"] == 0.25
    assert rows.loc["各节点均在期限内完成", "一致性程度（Landis–Koch）"] == "一般"
    side_by_side = next(d.value for d in page.dataframe if {"检查项", "third"} <= set(d.value.columns))
    assert len(side_by_side) == 2  # the two items the reviewers disagree on, one column per reviewer
    assert side_by_side.set_index("检查项").loc["受理登记完整、用语文明", "third"] == "不符合 · 记录缺失"


def test_a_dispute_is_filed_by_the_head_and_decided_by_another_supervisor(institution, app):
    from services.supervision import sampling
    from services.supervision.reviews import submit_review
    from services.supervision.sampling import SamplingPlanInput

    closed_case(institution, "staff_operation")
    u = institution.users
    with institution.uow() as uow:
        plan = sampling.draw(uow, u["supervisor"], SamplingPlanInput(**NOVEMBER, rate=1.0))
    with institution.uow() as uow:
        item = sampling.sample_rows(uow, u["supervisor"], plan)[0].item_id
    with institution.uow() as uow:
        submit_review(uow, u["supervisor"], item, FAILED)
    add_supervisor(institution, "second", None)
    page = open_page(app, u["head"], "disputes")
    assert not page.exception
    assert page.title[0].value == "检查异议"
    page.text_area(key="df_reason").input("已在时限内办结")
    page = submit(page, "dispute_file")
    assert page.success[-1].value == "已保存。"
    # the reviewer is offered nothing to decide; another supervisor is
    page = open_page(app, u["supervisor"], "disputes")
    assert "暂无待您裁定的异议。" in [i.value for i in page.info]
    page = open_page(app, u["second"], "disputes")
    page.radio(key="dd_decision").set_value("accepted")
    page.text_area(key="dd_reason").input("核对后采纳")
    page = submit(page, "dispute_decide")
    assert not page.exception and page.success[-1].value == "已保存。"
    with institution.uow() as uow:
        [row] = disputes.disputes(uow, u["second"])
    assert row.status == "accepted" and row.score_after > row.score_before
    listed = _table(page, "decision")
    assert list(listed["status"]) == ["采纳"] and list(listed["decision"]) == ["核对后采纳"]


def test_in_english_the_calibration_disputes_and_timeline_show_no_chinese_but_typed_text(institution, app):
    """Issue 9 §6 for the new screens: the sampling page's calibration and quality tabs, the disputes page and the
    dispute's notes on the case timeline."""
    from services.supervision import sampling
    from services.supervision.reviews import submit_review
    from services.supervision.sampling import SamplingPlanInput
    from tests.app.test_english import allowed, found_chinese, screen_texts

    case = closed_case(institution, "staff_operation")
    add_supervisor(institution, "second", None)
    u = institution.users
    with institution.uow() as uow:
        plan = sampling.draw(uow, u["supervisor"], SamplingPlanInput(**NOVEMBER, rate=1.0))
    with institution.uow() as uow:
        row = sampling.sample_rows(uow, u["supervisor"], plan)[0]
    typed = {"Late by a day", "No return visit", "Closed on time", "Checked the log", "当场解释规则，客户接受"}
    english = {**FAILED, "deadlines_met": ("fail", "Late by a day"), "feedback_and_visit": ("fail", "No return visit")}
    reviewer = next(name for name, uid in u.items() if uid == row.reviewer_id)
    with institution.uow() as uow:
        review = submit_review(uow, u[reviewer], row.item_id, english)
    with institution.uow() as uow:
        dispute = disputes.file_dispute(uow, u["head"], review, "deadlines_met", "Closed on time")
    decider = u["second" if reviewer == "supervisor" else "supervisor"]
    with institution.uow() as uow:
        disputes.decide_dispute(uow, decider, dispute, "partly_accepted", "Checked the log", 70)
    with institution.uow() as uow:
        session_id = calibration.create_session(uow, u["supervisor"], "November", [case.case_no],
                                                [u["supervisor"], u["second"]])
    with institution.uow() as uow:
        [(case_id, _)] = calibration.session_view(uow, u["supervisor"], session_id).cases
    for who, given in (("supervisor", english), ("second", FAILED)):
        with institution.uow() as uow:
            calibration.submit_calibration_review(uow, u[who], session_id, case_id, given)
    with institution.uow() as uow:
        calibration.close_session(uow, u["supervisor"], session_id)
    for who, page, query in (("supervisor", "sampling", None), ("head", "disputes", None),
                             ("supervisor", "case", case.case_no)):
        screen = app(u[who], lang="en")
        if query:
            screen.query_params["case"] = query
        screen.switch_page(f"../pages/{page}.py")
        screen = screen.run()
        assert not screen.exception
        # the Chinese notes are what the second reviewer typed in the calibration
        found = found_chinese(screen_texts(screen), {*allowed(institution), *typed, "记录缺失", "办结超时", "未回访"})
        assert not found, f"{page}:\n" + "\n".join(found)
        if page == "case":  # the dispute's notes on the timeline, said in English
            texts = [x.replace("\\", "") for x in screen_texts(screen)]  # as read: without Markdown escapes
            assert any("Dispute filed against the review finding" in x for x in texts)
            assert any("Partly accepted, score 70.00" in x for x in texts)
