"""Citations as the institution reads them (issue 10 §3) and each pack's own words (issue 10 §5)."""

from __future__ import annotations

import pytest

from services.rules.citation import cite, numeral
from services.rules.packs import load_policy, policy_from_data
from services.rules.policy import PACK_CODES, Label

DOCS = {"seed 004": Label("某银行分行客户投诉处理和管理实施方案", "Bank branch complaint scheme"),
        "CBIRC order 2020 no. 3": Label("银行业保险业消费投诉处理管理办法", "Consumer complaint measures")}


@pytest.mark.parametrize(("n", "zh"), [(1, "一"), (9, "九"), (10, "十"), (17, "十七"), (20, "二十"), (26, "二十六")])
def test_article_numbers_are_chinese_numerals(n, zh):
    assert numeral(n) == zh


@pytest.mark.parametrize(("source", "zh", "en"), [
    ("seed 004 art. 9", "《某银行分行客户投诉处理和管理实施方案》第九条", "Bank branch complaint scheme, art. 9"),
    ("seed 004 arts. 3, 9; JR/T 0169-2018", "《某银行分行客户投诉处理和管理实施方案》第三条、第九条；JR/T 0169-2018",
     "Bank branch complaint scheme, arts. 3, 9; JR/T 0169-2018"),
    ("CBIRC order 2020 no. 3 (seed 004 art. 9: within the prescribed time)",
     "《银行业保险业消费投诉处理管理办法》（《某银行分行客户投诉处理和管理实施方案》第九条）",
     "Consumer complaint measures (Bank branch complaint scheme, art. 9)"),
    ("seed 004", "《某银行分行客户投诉处理和管理实施方案》", "Bank branch complaint scheme"),
])
def test_a_citation_names_the_document_and_article(source, zh, en):
    assert (cite(source, DOCS, "zh"), cite(source, DOCS, "en")) == (zh, en)


def test_sections_items_and_ranges():
    docs = {"seed 003": Label("消费金融投诉管理制度", "Rules")}
    assert cite("seed 003 §4(3)", docs, "zh") == "《消费金融投诉管理制度》第四部分（三）"
    assert cite("seed 003 §3, §9", docs, "zh") == "《消费金融投诉管理制度》第三部分、第九部分"
    assert cite("seed 003 arts. 5-6", docs, "zh") == "《消费金融投诉管理制度》第五条至第六条"


@pytest.mark.parametrize("pack", PACK_CODES)
def test_every_pack_names_every_document_it_cites(pack):
    policy = load_policy(pack)
    assert policy.source in policy.documents
    data = policy.to_data()
    cited = {v for v in _values(data, "source")}
    for source in cited:
        assert "seed" not in cite(source, policy.documents, "zh"), source


def test_a_pack_edited_before_documents_existed_still_loads():
    data = load_policy("bank").to_data()
    del data["documents"]
    policy = policy_from_data(data, "edited")
    assert cite("seed 004 art. 9", policy.documents, "zh") == "seed 004 art. 9"


def test_the_bank_pack_names_its_own_causes():  # issue 10 §5: not a securities branch's 营业部/公司
    labels = [c.label.zh for c in load_policy("bank").causes.values()]
    assert labels and not any("营业部" in w or "公司" in w for w in labels)


@pytest.mark.parametrize("pack", PACK_CODES)
def test_no_cause_reads_as_its_code(pack):
    assert all(c.label.en != c.code for c in load_policy(pack).causes.values())


def _values(data, key):
    if isinstance(data, dict):
        for k, v in data.items():
            if k == key and isinstance(v, str):
                yield v
            else:
                yield from _values(v, key)
    elif isinstance(data, list):
        for v in data:
            yield from _values(v, key)
