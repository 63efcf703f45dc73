"""考核 and 监督抽查 through the real pages."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import text

from services.casework import cases
from services.supervision import reviews, sampling
from services.supervision.sampling import SamplingPlanInput
from tests.app.test_shell import submit
from tests.app.test_workflow import open_page, open_tab
from tests.service.conftest import at


def archived(institution, when: str):
    return institution.intake(received_at=at(when), resolved_at_intake=True, explanation="已当场解释", satisfaction=5)


def test_a_department_head_sees_kpis_and_the_cases_behind_them(institution, app):
    institution.intake(received_at=at("2026-11-02 10:00"))
    page = open_page(app, institution.users["head"], "kpi")
    assert not page.exception
    table = page.dataframe[0].value
    assert list(table["名称"]) == ["证券营业部"]  # only the head's own department
    assert table["投诉量"].iloc[0] == 1
    assert "共 1 件案件" in page.caption[0].value


def test_the_monthly_report_offers_excel_and_print(institution, app):
    institution.intake(received_at=at("2026-10-12 10:00"))
    page = open_tab(open_page(app, institution.users["supervisor"], "kpi"), "kpi_tab", "月度报告")
    page.text_input(key="report_month").input("2026-10")
    page = page.run()
    assert not page.get("download_button")  # built when asked, not on every run of the tab (issue 13 §4)
    page = page.button(key="report_build").click().run()
    assert not page.exception
    labels = [b.proto.label for b in page.get("download_button")]
    assert "下载 Excel 报告" in labels and "下载可打印报告" in labels


def test_only_the_open_kpi_tab_runs_and_a_hidden_tabs_choice_is_kept(institution, app):
    """Issue 13 §4: the monthly report is built only when its tab is open, not on every click of the page;
    the month chosen there is still chosen after a visit to another tab."""
    institution.intake(received_at=at("2026-10-12 10:00"))
    page = open_page(app, institution.users["supervisor"], "kpi")
    assert "月度报告" in [tab.label for tab in page.tabs]
    assert not page.get("download_button") and "report_month" not in [box.key for box in page.text_input]
    page = open_tab(page, "kpi_tab", "月度报告")
    page.text_input(key="report_month").input("2026-09")  # not the default (last month)
    page = page.run().button(key="report_build").click().run()
    assert len(page.get("download_button")) == 2
    page = open_tab(page, "kpi_tab", "指标")
    assert not page.get("download_button") and page.dataframe  # the table's tab, without the report's buttons
    page = open_tab(page, "kpi_tab", "月度报告")
    assert not page.exception
    assert page.text_input(key="report_month").value == "2026-09"
    assert len(page.get("download_button")) == 2  # the report built for that month is kept, not built again


def test_a_supervisor_previews_and_draws_a_sample_then_reviews_it(institution, app, clock):
    for day in ("2026-11-02 10:00", "2026-11-03 10:00", "2026-11-04 10:00"):
        ref = archived(institution, day)
        with institution.uow() as uow:
            cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()  # the cases were archived now, at the pinned clock
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.number_input(key="sp_rate").set_value(0.5)
    page = page.run()
    preview = page.dataframe[0].value
    assert preview["总体"].sum() == 3 and preview["随机抽取"].sum() == 2  # ⌈50% × 3⌉
    # the stratum by its labels, not "branch/general" (issue 10 §2)
    assert list(preview["分层（部门/等级）"]) == ["证券营业部 · 一般"]
    page = next(b for b in page.button if b.label == "执行抽取").click().run()
    assert page.success[0].value.startswith("已抽取")
    item = page.selectbox(key="rv_item").value  # the drawn cases now wait for this reviewer
    page = submit(page, f"review_{item}")
    assert page.success[-1].value == "已保存。"  # the checklist, pre-filled from the case record
    page.text_input(key=f"sv_{item}_method").input("电话")
    page.text_area(key=f"sv_{item}_note").input("客户确认问题已解决")
    assert submit(page, f"visit_{item}").success[-1].value == "已保存。"


def _table(page, column: str):
    return next(d for d in page.dataframe if column in d.value.columns)


def test_the_sampling_lists_are_tables_linking_the_cases_with_labels(institution, app, clock):
    """Issue 10 §2: the preview's share as a percent bar; sample items and rectification actions link to the
    case; the department by its label, the due day formatted."""
    for day in ("2026-11-02 10:00", "2026-11-03 10:00"):
        ref = archived(institution, day)
        with institution.uow() as uow:
            cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.number_input(key="sp_rate").set_value(0.5)
    page = page.run()
    preview = _table(page, "抽取占比")
    assert list(preview.value["抽取占比"]) == [50.0]
    assert json.loads(preview.proto.columns)["抽取占比"]["type_config"]["format"] == "%.1f%%"
    page = next(b for b in page.button if b.label == "执行抽取").click().run()
    items = _table(page, "reason")
    assert all(link.startswith("case?case=TS-") for link in items.value["case"])
    assert json.loads(items.proto.columns)["case"]["type_config"]["display_text"] == "case=(.*)$"
    assert set(items.value["status"]) == {"待复核"}
    item = page.selectbox(key="rv_item").value
    page.text_area(key=f"rv_{item}_finding").input("=HYPERLINK(\"x\") 回访记录不完整")
    page = submit(page, f"review_{item}")
    actions = _table(page, "finding")
    assert list(actions.value["department"]) == ["证券营业部"]  # not the code "branch"
    assert actions.value["finding"][0].startswith("'=")  # inert in the CSV download
    config = json.loads(actions.proto.columns)
    assert config["case"]["width"] >= 9 * len("TS-20261102-000001")
    assert config["due"]["type_config"]["format"] == "YYYY-MM-DD"


def _three_archived_cases(institution) -> None:
    for day in ("2026-11-02 10:00", "2026-11-03 10:00", "2026-11-04 10:00"):
        ref = archived(institution, day)
        with institution.uow() as uow:
            cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)


def _sampling_page(institution, app, clock, sizing: str):
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.radio(key="sp_sizing").set_value(sizing)
    return page.run()


def test_an_auditor_sees_the_size_its_formula_and_population_before_drawing(institution, app, clock):
    """Issue 12 §1: 95 %, 5 % tolerable, 0 accepted on 3 cases: D = ⌈0.15⌉ = 1, so every case (n = 3)."""
    _three_archived_cases(institution)
    page = _sampling_page(institution, app, clock, "attribute")
    assert not page.exception and not page.error
    metrics = {m.label: m.value for m in page.metric}
    assert (metrics["计划样本量"], metrics["抽取范围"], metrics["期间案件总数"]) == ("3", "3", "3")
    captions = [c.value.replace("\\", "") for c in page.caption]  # shown literally: Markdown escapes undone
    assert any(c.startswith("属性抽样（精确超几何分布）") for c in captions)
    assert any("C(N,n)" in c and "N = 3, D = 1" in c for c in captions)  # the formula, with its values
    assert page.dataframe[0].value["随机抽取"].sum() == 3
    page = next(b for b in page.button if b.label == "执行抽取").click().run()
    assert page.success[0].value.startswith("已抽取")
    with institution.uow() as uow:
        plan_id = uow.session.scalar(text("SELECT max(id) FROM sampling_plans"))
        stored = sampling.stored_plan(uow, institution.users["supervisor"], plan_id)
    assert (stored.sizing, stored.confidence, stored.tolerable, stored.accepted) == ("attribute", 0.95, 0.05, 0)


def test_the_aql_option_shows_the_iso_code_letter(institution, app, clock):
    _three_archived_cases(institution)
    page = _sampling_page(institution, app, clock, "aql")
    assert {m.label: m.value for m in page.metric}["计划样本量"] == "2"  # lot 3 → A, 2 cases
    assert any("ISO 2859-1 II: N = 3 → A → n = min(2, N) = 2" in c.value.replace("\\", "") for c in page.caption)


def test_an_attribute_plan_no_sample_can_decide_is_refused_in_the_readers_words(institution, app, clock):
    """1 accepted deviation, but 5 % of 3 cases is 1 deviation: a domain error, named, in Chinese."""
    _three_archived_cases(institution)
    page = _sampling_page(institution, app, clock, "attribute")
    page.number_input(key="sp_accepted").set_value(1)
    page = page.run()
    assert not page.exception and not page.metric
    assert "可容忍偏差率" in page.error[0].value and "不多于可接受的 1 项" in page.error[0].value
def test_the_checklist_suggestions_are_in_the_readers_language_naming_fields_by_label(institution, app):
    """Issue 10 §3: the suggested notes come from the catalogue in the page's language, and a missing part of the
    record is named as on the form (事实认定), never by its code (fact_finding)."""
    ref = archived(institution, "2026-11-02 10:00")
    with institution.uow() as uow:
        cases.archive(uow, institution.users["clerk"], ref.case_no, ref.version)
    with institution.uow() as uow:
        sampling.draw(uow, institution.users["supervisor"],
                      SamplingPlanInput(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30), rate=1.0))
        uow.session.execute(text("UPDATE cases SET fact_finding = '' WHERE case_no = :no"), {"no": ref.case_no})
    for lang, expected in (("zh", "缺少：事实认定"), ("en", "Missing: fact finding")):
        page = app(institution.users["supervisor"], lang=lang)
        page.switch_page("../pages/sampling.py")
        page = page.run()
        assert not page.exception
        item = page.selectbox(key="rv_item").value
        assert page.text_input(key=f"rv_{item}_case_record_note").value == expected
        assert page.text_input(key=f"rv_{item}_archive_complete_note").value.startswith(
            "缺少：" if lang == "zh" else "Missing: ")


def test_risk_toggles_take_the_risky_cases_in_full_and_the_results_say_why(institution, app, clock):
    """Issue 12 §2: a dissatisfied case toggled in is in the sample by rule; the others are drawn; the results tab
    names the reason per case, and the stored plan keeps the toggle for a replay."""
    _three_archived_cases(institution)
    with institution.engine.begin() as conn:
        unhappy = conn.scalar(text("UPDATE cases SET satisfaction = 1 WHERE id = (SELECT min(id) FROM cases)"
                                   " RETURNING case_no"))
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.number_input(key="sp_rate").set_value(0.5)
    page.checkbox(key="sp_rule_dissatisfied").check()
    page = page.run()
    assert not page.exception and not page.error
    preview = page.dataframe[0].value
    assert (preview["按规则纳入"].sum(), preview["随机抽取"].sum()) == (1, 1)  # ⌈50 % × 2⌉ of the other two
    assert any("客户不满意 1 件" in c.value for c in page.caption)
    page = next(b for b in page.button if b.label == "执行抽取").click().run()
    assert page.success[0].value.startswith("已抽取")
    sample = _table(page, "reviewer").value
    reasons = dict(zip([link.split("=")[-1] for link in sample["case"]], sample["reason"], strict=True))
    assert reasons.pop(unhappy) == "按规则纳入：客户不满意"
    assert list(reasons.values()) == ["随机抽取"]
    with institution.uow() as uow:
        plan_id = uow.session.scalar(text("SELECT max(id) FROM sampling_plans"))
        assert sampling.stored_plan(uow, institution.users["supervisor"], plan_id).include == ("dissatisfied",)


def test_the_results_tab_evaluates_the_reviewed_sample_against_the_tolerable_rate(institution, app, clock):
    """Issue 12 §3: every one of 3 cases drawn (N = 3), 1 fails a checklist item: 33.3 %, exact, against 5 % the
    control is not effective; the tolerable rate was entered with the rate plan before drawing."""
    _three_archived_cases(institution)
    page = open_page(app, institution.users["supervisor"], "sampling")
    today = clock.at.date()
    page.date_input(key="sp_period").set_value((today - timedelta(days=1), today + timedelta(days=1)))
    page.number_input(key="sp_rate").set_value(1.0)
    page.number_input(key="sp_eval_tolerable").set_value(0.05)
    page = page.run()
    page = next(b for b in page.button if b.label == "执行抽取").click().run()
    assert "尚无已复核的随机样本（暂定：尚有案件待复核）" in list(_table(page, "conclusion").value["conclusion"])
    with institution.uow() as uow:
        plan_id = uow.session.scalar(text("SELECT max(id) FROM sampling_plans"))
        items = sampling.sample_rows(uow, institution.users["supervisor"], plan_id)
        for index, item in enumerate(items):
            answers = {c.code: ("pass", "") for c in reviews.CHECKLIST}
            if index == 0:
                answers["archive_complete"] = ("fail", "归档材料缺回访记录")
            reviews.submit_review(uow, item.reviewer_id, item.item_id, answers)
    page = page.run()
    assert not page.exception
    evaluation = _table(page, "conclusion").value.set_index("stratum")
    overall = evaluation.loc["合计"]
    assert (overall["population"], overall["reviewed"], overall["deviations"]) == (3, 3, 1)
    assert (overall["rate"], overall["upper"], overall["conclusion"]) == (33.3, 33.3, "控制无效")
    captions = [c.value.replace("\\", "") for c in page.caption]
    assert any("可容忍偏差率 5%" in c for c in captions)
    assert any(c.startswith("精确超几何分布单侧上限") for c in captions)


def test_the_results_tab_speaks_english_too(institution, app, clock):
    _three_archived_cases(institution)
    with institution.uow() as uow:
        sampling.draw(uow, institution.users["supervisor"], SamplingPlanInput(
            period_from=date(2026, 11, 1), period_to=date(2026, 11, 30), rate=1.0, include=("overdue",)))
    page = app(institution.users["supervisor"], lang="en")
    page.switch_page("../pages/sampling.py")
    page = page.run()
    assert not page.exception
    assert set(_table(page, "reviewer").value["reason"]) == {"Drawn"}
    assert list(_table(page, "conclusion").value["conclusion"])[-1] == (
        "No reviewed random sample yet (provisional: cases still to review)")
