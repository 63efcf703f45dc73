"""Policy packs: every pack loads with exactly the codes of RULES.md §4.6, and a broken pack is
refused with a message that names the file and the key."""

import copy
from typing import Any

import pytest

import services.rules.packs as policy_module
from services.casework.deadlines import milestones_met
from services.errors import PolicyError
from services.rules.packs import load_policy, policy_from_data
from services.rules.policy import PACK_CODES

# RULES.md §4.6, copied by hand.
CODES = {
    "futures": ("brokerage technical_system service_quality staff_misconduct",
                "customer_service business ib_management compliance",
                "vp_business cro general_manager"),
    "branch": ("A B C D E F", "operations marketing reception",
               "marketing_director operations_director general_manager"),
    "securities": ("internal_management staff_operation customer_service consulting_information "
                   "branch_system company_system",
                   "branch hq_customer_service leadership_group legal_compliance",
                   "branch_head hq_customer_service_gm leadership_group"),
    "consumer_finance": ("business service product other",
                         "customer_service operations product legal", "supervisor management"),
    "bank": ("deposit loan card payment_settlement cash personal_information other",
             "service_centre coordinator outlet general_administration", "branch_leader president"),
}
# RULES.md §4.1-§4.5 channels (branch: seed 001 arts. 5, 10, 15, 16).
CHANNELS = {
    "futures": "phone letter fax email walk_in",
    "branch": "phone walk_in comment_book email letter",
    "securities": "phone email fax walk_in",
    "consumer_finance": "phone email online letter walk_in",
    "bank": "phone walk_in letter comment_book online media upper_level",
}


def data_of(pack: str) -> dict[str, Any]:
    return load_policy(pack).to_data()


def refused(data: dict[str, Any], origin: str = "securities.toml") -> str:
    with pytest.raises(PolicyError) as info:
        policy_from_data(data, origin)
    assert info.value.message("zh").startswith(origin)
    return info.value.message("en")


# --- the shipped packs -------------------------------------------------------------------------


def test_there_are_five_packs() -> None:
    assert PACK_CODES == ("futures", "branch", "securities", "consumer_finance", "bank")


@pytest.mark.parametrize("pack", PACK_CODES)
def test_every_pack_loads_with_exactly_the_codes_of_rules_4_6(pack: str) -> None:
    policy = load_policy(pack)
    categories, departments, roles = (set(s.split()) for s in CODES[pack])
    assert policy.code == pack and policy.origin == f"{pack}.toml"
    assert set(policy.categories) == categories
    assert set(policy.departments) == departments
    assert set(policy.roles) == roles
    assert set(policy.channels) == set(CHANNELS[pack].split()) | {"other"}  # every list is open (issue 11 §7)
    assert policy.warning_window == 0.25


@pytest.mark.parametrize("pack", PACK_CODES)
def test_every_rule_cites_a_source_and_has_both_labels(pack: str) -> None:
    policy = load_policy(pack)
    cites = [c.cite for c in policy.categories.values()]
    for rules in (policy.grades, policy.handling_levels, policy.routing, policy.escalations,
                  policy.milestones, policy.duties):
        cites += [r.cite for r in rules]
    cites += [policy.extension.cite, policy.lifecycle]
    for cite in cites:
        assert ("seed 00" in cite.source or "CBIRC" in cite.source), cite
        assert cite.label.zh and cite.label.en


def test_load_policy_is_cached() -> None:
    assert load_policy("bank") is load_policy("bank")


def test_unknown_pack_is_refused() -> None:
    with pytest.raises(PolicyError) as info:
        load_policy("insurance")
    assert info.value.field == "policy" and "insurance" in info.value.message("en")


def test_only_the_branch_pack_requires_a_return_visit() -> None:
    # RULES.md §2: seed 001 art. 8 requires one; the others leave it to the handler.
    assert [p for p in PACK_CODES if load_policy(p).return_visit_required] == ["branch"]


def test_rules_marked_inferred_in_rules_md_are_inferred_in_the_packs() -> None:
    securities = load_policy("securities")
    assert [c.cite.inferred for c in securities.handling_levels] == [False, False, True]
    assert all(g.cite.inferred for g in load_policy("branch").grades)
    assert all(g.cite.inferred for g in load_policy("bank").grades)
    assert not any(g.cite.inferred for g in securities.grades)


def test_extension_rules() -> None:
    consumer = load_policy("consumer_finance").extension
    assert (consumer.milestones, consumer.max_count, consumer.limit) == (("resolve",), 1, "same_period")
    bank = load_policy("bank").extension
    assert bank.limit == "from_start" and [str(s) for s in bank.steps] == [
        "30 calendar_days", "60 calendar_days"]


def test_milestones_say_what_starts_and_meets_them() -> None:
    futures = {m.code: m for m in load_policy("futures").milestones}
    assert futures["forward"].start == "received" and "forward" in futures["forward"].met_by
    assert futures["first_contact"].start == "forwarded"
    visit = next(m for m in load_policy("branch").milestones if m.code == "return_visit")
    assert (visit.start, str(visit.period), str(visit.window_opens)) == (
        "resolved", "60 calendar_days", "30 calendar_days")


def test_labels() -> None:
    policy = load_policy("futures")
    assert policy.label("department", "compliance") == "合规稽核部"
    assert policy.label("role", "cro", "en") == "Chief risk officer"
    assert policy.label("grade", "major") == "重大"
    assert policy.label("milestone", "first_contact", "en") == "first contact"
    assert policy.label("category", "brokerage", "en") == "Brokerage business"
    assert policy.label("channel", "nonsense") == "nonsense"


def test_to_data_round_trips_and_is_a_copy() -> None:
    policy = load_policy("securities")
    data = policy.to_data()
    again = policy_from_data(data, "securities.toml")
    assert again == policy  # the raw data is not compared; every typed field is
    data["grades"][1]["when"]["any"][0]["claim_over"] = 80000
    assert load_policy("securities").to_data()["grades"][1]["when"]["any"][0]["claim_over"] == 50000


def test_an_edited_threshold_is_validated_and_used() -> None:
    data = data_of("securities")
    data["grades"][1]["when"]["any"][0]["claim_over"] = 80000
    edited = policy_from_data(data, "admin edit")
    assert edited.grades[1].when is not None
    assert str(edited.grades[1].when.any[0].claim_over) == "80000"


# --- validation errors name the file and the key ---------------------------------------------


def test_bad_duration() -> None:
    data = data_of("securities")
    data["milestones"][2]["period"] = "3 wd"
    assert refused(data) == 'securities.toml: milestones[2].period: bad duration "3 wd"'


def test_unknown_key_at_the_top_and_deep_inside() -> None:
    data = data_of("futures")
    data["colour"] = "red"
    assert refused(data, "futures.toml") == "futures.toml: colour: unknown key"
    data = data_of("securities")
    data["handling_levels"][1]["when"]["any"][1]["claim_below"] = 1
    assert refused(data) == (
        "securities.toml: handling_levels[1].when.any[1].claim_below: unknown key")


def test_category_without_a_department() -> None:
    data = data_of("branch")
    del data["categories"]["A"]["department"]
    assert refused(data, "branch.toml") == (
        "branch.toml: categories.A.department: missing required key")


def test_category_with_an_unknown_department() -> None:
    data = data_of("branch")
    data["categories"]["B"]["department"] = "sales"
    assert refused(data, "branch.toml") == (
        'branch.toml: categories.B.department: unknown department "sales"')


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["channels"].update({"短信": {"zh": "短信", "en": "SMS", "source": "x"}}),
     'channels.短信: code "短信" must be a letter then letters, digits or _, at most 32'),
    (lambda d: d["categories"].update({"fees charged": d["categories"]["internal_management"]}),
     'categories.fees charged: code "fees charged" must be a letter then letters, digits or _, at most 32'),
    (lambda d: d["grades"][0]["when"].update(cause="weather"), 'grades[0].when.cause: unknown cause "weather"'),
    (lambda d: d["escalations"][0].update(escalate_to=["ceo"]),
     'escalations[0].escalate_to[0]: unknown role "ceo"'),
    (lambda d: d["grades"][0].update(code="L9"), 'grades[0].code: unknown grade "L9"'),
    (lambda d: d["milestones"][0].update(code="lunch"), 'milestones[0].code: unknown milestone "lunch"'),
    (lambda d: d["grades"][0]["when"].update(flags_any=["urgent"]),
     'grades[0].when.flags_any[0]: unknown flag "urgent"'),
    (lambda d: d["milestones"][0]["when"].update(grades=["L1"]),
     'milestones[0].when.grades[0]: unknown grade "L1"'),
    (lambda d: d["grades"][0]["when"].update(grades=["major"]), "grades[0].when.grades: unknown key"),
    (lambda d: d["grades"][2].update(when={"cause": "company"}),
     "grades[2]: only the last entry has no `when`"),
    (lambda d: d.update(grades=[]), "grades: needs at least one entry"),
    (lambda d: d["milestones"][1].update(start="forwarded"),
     "milestones[1].start: differs from milestones[0] for the same milestone"),
    (lambda d: d["extension"].update(milestones=["return_visit"]),
     'extension.milestones[0]: unknown milestone "return_visit"'),
    (lambda d: d.update(warning_window=1.5), "warning_window: must be between 0 and 1"),
    (lambda d: d["grades"][1]["when"]["any"][0].update(claim_over=-1),
     "grades[1].when.any[0].claim_over: expected an amount >= 0: -1"),
    (lambda d: d["categories"]["branch_system"].pop("source"),
     "categories.branch_system.source: missing required key"),
])
def test_unknown_codes_are_refused(edit: Any, message: str) -> None:
    data = data_of("securities")
    edit(data)
    assert refused(data) == f"securities.toml: {message}"


def test_a_pack_file_defines_its_own_categories_causes_and_channels() -> None:
    """Issue 9 §4: the pack is the truth for its codes; a new one needs no Python edit."""
    data = data_of("securities")
    data["categories"]["fees"] = {**data["categories"]["internal_management"], "zh": "收费类", "en": "Fees"}
    data["causes"]["third_party"] = {"zh": "第三方原因", "en": "third party"}
    data["channels"]["sms"] = {"zh": "短信", "en": "SMS", "source": "institution's own"}
    policy = policy_from_data(data, "securities.toml (edited)")
    assert policy.label("category", "fees") == "收费类"
    assert policy.label("cause", "third_party", "en") == "third party"
    assert "sms" in policy.channels


def test_a_broken_pack_file_is_reported_with_its_file_name(tmp_path: Any, monkeypatch: Any) -> None:
    text = (policy_module.POLICY_DIR / "bank.toml").read_text(encoding="utf-8")
    (tmp_path / "bank.toml").write_text(text.replace('period = "15 calendar_days"',
                                                     'period = "15 days"'), encoding="utf-8")
    monkeypatch.setattr(policy_module, "POLICY_DIR", tmp_path)
    load_policy.cache_clear()
    try:
        with pytest.raises(PolicyError) as info:
            load_policy("bank")
        assert info.value.message("en") == 'bank.toml: milestones[0].period: bad duration "15 days"'
        assert info.value.field == "milestones[0].period"
    finally:
        load_policy.cache_clear()


def test_data_of_another_pack_code_is_refused() -> None:
    data = copy.deepcopy(data_of("bank"))
    data["code"] = "insurance"
    assert refused(data, "bank.toml") == 'bank.toml: code: unknown pack "insurance"'


def test_which_event_meets_which_milestone_comes_from_the_packs_met_by() -> None:
    """Issue 9 §2: `met_by` is read in one place; an invalid or at-intake close counts as resolving."""
    policy = load_policy("futures")
    assert milestones_met(policy, "resolve") == ["forward", "resolve", "resolve"]
    assert milestones_met(policy, "invalid") == milestones_met(policy, "resolve_at_intake") == \
        milestones_met(policy, "resolve")
    assert milestones_met(policy, "feedback") == ["first_contact"]
    assert milestones_met(policy, "extension") == []
    data = data_of("futures")
    data["milestones"][1]["met_by"] = ["first_contact"]  # feedback no longer counts as the first contact
    assert milestones_met(policy_from_data(data, "futures.toml (edited)"), "feedback") == []
