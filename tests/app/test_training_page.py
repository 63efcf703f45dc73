"""培训 through the real page: practice touches only the training database."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from db.models import Case
from tests.app.test_workflow import open_page


def click(page, label: str):
    return next(b for b in page.button if b.label == label).click().run()


def test_a_trainee_walks_through_a_scenario_and_practises_on_their_own_copy(institution, app):
    with institution.engine.connect() as conn:
        real_cases = conn.scalar(select(func.count()).select_from(Case))
    page = open_page(app, institution.users["trainee"], "training")
    assert not page.exception
    page = click(page, "进入培训模式")
    assert not page.exception
    assert any("培训模式" in w.value for w in page.sidebar.warning)
    # each step names the rule and the article of the institution's document behind it, not "seed 002 art. 18"
    # nor our own RULES.md (issue 10 §7)
    assert any("《经纪业务客户投诉处理实施细则》第" in i.value for i in page.info)
    assert not any("seed" in i.value or "RULES" in i.value for i in page.info)
    # the scenario's basis names the institution's document, not "seed 002" (issue 10 §3)
    assert any("《经纪业务客户投诉处理实施细则》" in c.value for c in page.caption)
    assert not any("seed" in c.value for c in page.caption)
    assert not any(re.search(r"\b(registered|forwarded|archived)\b", m.value) for m in page.markdown)  # state codes
    page = click(page, "用这个场景练习")
    assert any("已为您创建练习案件" in s.value for s in page.success)
    with institution.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Case)) == real_cases  # the real database is untouched
    assert page.selectbox(key="tr_judge_case").options
    assert page.markdown  # the judge's verdict on the chosen action


def test_only_trainers_may_reset_the_training_database(institution, app):
    trainee = open_page(app, institution.users["trainee"], "training")
    assert not [b for b in trainee.button if b.label.startswith("重置培训库")]
    admin = open_page(app, institution.users["admin"], "training")
    admin = click(admin, "重置培训库（清除全部练习，恢复场景库）")
    assert "培训库已重置" in admin.success[0].value
