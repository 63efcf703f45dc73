"""The KPI page's JR/T 0169 statistics (issue 11 §6): the quarter's tables, the workbook with the three
dimensions, the annual disclosure paragraph; only for those who may read them."""

from __future__ import annotations

from tests.app.test_workflow import open_page, open_tab
from tests.service.conftest import make_institution
from tests.service.test_statistics import COLUMNS, build


def test_the_quarterly_export_has_the_three_dimensions(app_env, app):
    inst, _ = build(app_env)
    page = open_tab(open_page(app, inst.users["supervisor"], "kpi"), "kpi_tab", "JR/T 0169 统计")
    page.text_input(key="stats_quarter").input("2026Q3")
    page = page.run()
    assert not page.get("download_button") and not page.dataframe  # built when asked (issue 13 §4)
    page = page.button(key="stats_build").click().run()
    assert not page.exception
    shown = next(d.value for d in page.dataframe if list(d.value.columns) == COLUMNS)
    assert shown.iloc[-1].tolist()[:4] == ["合计", "", "", 4]
    # the workbook is written from the same tables (statistics.to_xlsx, read back in test_statistics.py); AppTest
    # keeps no download's bytes once the run ends, so the page test checks the button and the tables it writes
    assert "下载统计表（xlsx）" in [b.proto.label for b in page.get("download_button")]
    by_dimension = {tuple(d.value.columns[:1]) for d in page.dataframe}
    assert {("业务办理渠道（A）",), ("业务类别（B）",), ("投诉原因（C）",), ("来源",)} <= by_dimension
    assert any("2026 年，本机构共受理客户投诉 5 件" in m.value for m in page.markdown)


def test_a_department_head_sees_kpis_but_not_the_statistics(app_env, app):
    inst = make_institution(app_env, "bank")
    page = open_page(app, inst.users["head"], "kpi")
    assert not page.exception
    assert "JR/T 0169 统计" not in [tab.label for tab in page.tabs]
