"""The training walkthrough names every case action and cites its rule: a new action without words made the
judge fail with a KeyError (issue 11: the regulator's clock added seven)."""

from services.rules.transitions import ACTION_STATES
from services.training.walkthrough import _EVENT_OF, ACTIONS, LIFECYCLE


def test_every_case_action_has_words_and_a_rule_in_the_walkthrough() -> None:
    assert [a for a in ACTION_STATES if a not in ACTIONS] == []
    assert [a for a in ACTION_STATES if _EVENT_OF.get(a, a) not in LIFECYCLE] == []
