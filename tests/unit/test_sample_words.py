"""Issue 12 §2–3: every rule, conclusion and bound method the page and the report show has its words."""

from db.supervision_models import INCLUSION_RULES, RISK_RULES
from services import words
from services.rules import audit_sampling
from services.supervision import evaluation, inclusion


def test_every_rule_conclusion_and_method_is_named_in_both_languages():
    assert set(inclusion.RULE_NAMES) == set(INCLUSION_RULES) and set(inclusion.RULE_HELP) == set(RISK_RULES)
    assert set(evaluation.CONCLUSION_NAMES) == set(evaluation.CONCLUSIONS)
    assert set(evaluation.METHOD_NAMES) == {audit_sampling.CLOPPER_PEARSON, audit_sampling.HYPERGEOMETRIC_BOUND}
    keys = [*inclusion.RULE_NAMES.values(), *inclusion.RULE_HELP.values(), *evaluation.CONCLUSION_NAMES.values(),
            *evaluation.METHOD_NAMES.values()]
    assert all(words.known(key) for key in keys)


def test_why_a_case_is_in_the_sample_reads_in_the_readers_language():
    assert inclusion.described(("overdue", "extended"), "zh") == "按规则纳入：逾期、延期"
    assert inclusion.described(("overdue", "extended"), "en") == "Included by rule: Overdue, Extended"
    assert inclusion.described((), "zh") == "随机抽取"


def test_the_sample_reason_follows_the_rules():
    assert [inclusion.reason(r) for r in ((), ("overdue",), ("major", "overdue"))] == ["drawn", "rule", "all_major"]
