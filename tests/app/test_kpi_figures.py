"""考核 figures as a reader expects them (issue 10 §2, §4): rates as percentages with one decimal, scores with
one decimal, and the drill-down's headers and codes in the reader's language."""

from __future__ import annotations

import json

from tests.app.test_workflow import open_page, open_tab
from tests.service.conftest import at


def _rated(institution, *scores):
    for hour, score in enumerate(scores, start=9):  # settled at intake and rated: 2 of 3 satisfied
        institution.intake(received_at=at(f"2026-11-02 {hour:02}:00"), resolved_at_intake=True,
                           explanation="已当场解释", satisfaction=score)


def test_rates_are_percentages_with_one_decimal_and_the_drill_down_speaks_chinese(institution, app):
    _rated(institution, 5, 5, 2)
    page = open_page(app, institution.users["supervisor"], "kpi")
    assert not page.exception
    table = page.dataframe[0].value
    assert table["满意率"].iloc[0] == 66.7  # 2 of 3, not 0.6667
    drill = page.dataframe[1].value
    assert "投诉编号" in drill.columns and "case_no" not in drill.columns
    shown = drill.astype(object).where(drill.notna(), "—").astype(str).to_numpy().ravel().tolist()  # "—": placeholder
    assert "None" not in shown and "staff_operation" not in shown and "branch" not in shown
    page = open_tab(page, "kpi_tab", "整改前后对比")
    before_after = next(d.value for d in page.dataframe if "之前" in d.value.index)
    assert before_after.loc["之前", "满意率"] == 66.7  # the 30 days before today, in percent


def test_the_weights_editor_names_each_kpi(institution, app):  # issue 10 §2: not "timeliness"
    page = open_tab(open_page(app, institution.users["admin"], "kpi"), "kpi_tab", "权重与目标")
    assert not page.exception
    editor = page.dataframe[-1].value  # the weights editor, last on the page
    assert "处理及时率" in set(editor["name"])


def test_the_drill_down_is_a_table_linking_each_case_with_times_formatted(institution, app):
    """Issue 10 §2: the case number links to the case page, whole at 1366 px; times formatted; no None."""
    _rated(institution, 5, 2)
    page = open_page(app, institution.users["supervisor"], "kpi")
    assert not page.exception
    drill = page.dataframe[1]
    frame, config = drill.value, json.loads(drill.proto.columns)
    assert all(link.startswith("case?case=TS-") for link in frame["投诉编号"])
    assert config["投诉编号"]["type_config"]["display_text"] == "case=(.*)$"
    assert config["投诉编号"]["width"] >= 9 * len("TS-20261102-000001")
    assert config["受理时间"]["type_config"]["format"] == "YYYY-MM-DD HH:mm"
    assert drill.proto.placeholder == "—"
