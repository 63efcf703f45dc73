"""JR/T 0169-2018 classification as data (RULES.md §7.4): the three vocabularies and the codes the intake
facts suggest through a pack's `[jrt]` table."""

from __future__ import annotations

import re

import pytest

from services.errors import PolicyError
from services.rules import jrt
from services.rules.packs import load_policy, policy_from_data


def test_three_dimensions_with_the_codes_of_rules_7_4() -> None:
    # RULES.md §7.4: 5 channels, 12 business types, 13 causes; our stable scheme A1…, B01…, C01…
    assert jrt.codes("channel") == ("A1", "A2", "A3", "A4", "A5")
    assert jrt.codes("business") == tuple(f"B{n:02d}" for n in range(1, 13))
    assert jrt.codes("cause") == tuple(f"C{n:02d}" for n in range(1, 14))
    for dimension in jrt.DIMENSIONS:
        for code in jrt.codes(dimension):
            zh, en = jrt.label(dimension, code, "zh"), jrt.label(dimension, code, "en")
            assert re.search(r"[\u4e00-\u9fff]", zh) and not re.search(r"[\u4e00-\u9fff]", en), code


def test_labels_name_the_code() -> None:
    assert jrt.label("channel", "A1", "zh") == "A1 营业现场"
    assert jrt.label("cause", "C12", "en") == "C12 Debt-collection methods"
    assert jrt.label("cause", "X9") == "X9" and jrt.label("cause", None) == ""


def test_bank_requires_the_codes_and_suggests_them_from_the_facts() -> None:
    mapping = load_policy("bank").jrt
    assert mapping is not None and mapping.required
    assert jrt.suggest(mapping, "walk_in", "deposit", []) == {"channel": "A1", "business": "B01", "cause": None}
    assert jrt.suggest(mapping, "online", "personal_information", ["media"]) == {
        "channel": "A3", "business": "B06", "cause": "C10"}


@pytest.mark.parametrize("pack", ["branch", "securities", "futures", "consumer_finance"])
def test_other_packs_never_require_the_codes(pack: str) -> None:
    mapping = load_policy(pack).jrt
    assert mapping is None or not mapping.required


def test_a_pack_without_a_mapping_suggests_nothing() -> None:
    assert jrt.suggest(None, "phone", "A", ["severe"]) == {"channel": None, "business": None, "cause": None}


@pytest.mark.parametrize("key, value", [
    ("channels", {"walk_in": "Z1"}),  # not a JR/T channel
    ("categories", {"no_such_category": "B01"}),  # not the pack's category
    ("category_causes", {"deposit": "B01"}),  # a business code where a cause belongs
])
def test_a_bad_mapping_names_its_key(key: str, value: dict[str, str]) -> None:
    data = load_policy("bank").to_data()
    data["jrt"][key] = value
    with pytest.raises(PolicyError) as info:
        policy_from_data(data, "bank.toml")
    assert f"jrt.{key}." in info.value.message("en")
