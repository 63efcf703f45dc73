"""The printed handling form (issue 10 §5): sections numbered without gaps, a readable on-time column, no empty
level row for a pack without handling levels, and the basis is the institution's own document."""

from __future__ import annotations

import re

from services.casework import handling_form
from tests.service.conftest import make_institution


def _printed(inst, lang="zh"):
    ref = inst.intake()
    with inst.uow() as uow:
        return handling_form.to_html(handling_form.handling_form(uow, inst.users["clerk"], ref.case_no), lang)


def test_the_sections_of_a_form_without_extensions_are_numbered_without_a_gap(futures):
    printed = _printed(futures)
    assert re.findall(r"<h2>(.)、", printed) == ["一", "二", "三", "四", "五", "六"]
    assert "七、" not in printed
    english = _printed(futures, "en")
    assert re.findall(r"<h2>(\d)\. ", english) == ["1", "2", "3", "4", "5", "6"]


def test_the_deadline_grid_shares_the_width_between_its_columns(futures):
    printed = _printed(futures)
    assert '<table class="grid"><tr><th>节点</th>' in printed and "table.grid th { width: auto; }" in printed


def test_a_bank_form_cites_the_banks_document_and_prints_no_empty_level_row(engine):
    printed = _printed(make_institution(engine, "bank"))
    assert "依据：《某银行分行客户投诉处理和管理实施方案》" in printed
    assert "营业部客户投诉受理规范" not in printed and "seed" not in printed  # not a securities branch's
    assert "处理级别" not in printed  # the bank pack has no handling levels


def test_a_securities_form_prints_its_handling_level(engine):
    printed = _printed(make_institution(engine, "securities"))
    assert "<th>处理级别</th>" in printed
    assert "依据：《经纪业务客户投诉处理实施细则》" in printed
