"""The review (核查) window and limit of RULES.md §7.2 (order 3 art. 20), worked by hand from the period rule of
§7.1: calendar days from the day the decision was told, that day not counted; a last day off work moves to
the next working day unless the institution switched the roll-forward off."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest

from services.errors import InvalidInput
from services.rules.calendar import SHANGHAI, WorkingCalendar
from services.rules.duties import notification_proof, review_decision_due, review_request_ends
from services.rules.packs import load_policy

CALENDAR = WorkingCalendar.shipped()
BANK = load_policy("bank")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_a_decision_told_on_1_september_may_be_reviewed_until_national_day_is_over():
    assert BANK.statutory is not None
    # 1 Sep + 30 days = Thu 1 Oct, National Day (1–7 Oct off): the last day is Thu 8 Oct, so 9 Oct 00:00 ends it
    assert review_request_ends(BANK.statutory, CALENDAR, at("2026-09-01 10:00")) == at("2026-10-09 00:00")


def test_without_the_roll_forward_day_31_is_already_too_late():
    assert BANK.statutory is not None
    layer = replace(BANK.statutory, roll_forward=False)
    # told 1 Sep → the last day to ask is 1 Oct itself; a request on 2 Oct is on day 31
    ends = review_request_ends(layer, CALENDAR, at("2026-09-01 10:00"))
    assert ends == at("2026-10-02 00:00")
    assert at("2026-10-01 23:59") < ends <= at("2026-10-02 09:00")


def test_the_review_is_decided_within_30_days_of_the_request():
    assert BANK.statutory is not None
    # asked Fri 9 Oct → 30 days = Sun 8 Nov, not a working day → Mon 9 Nov, due at its end
    assert review_decision_due(BANK.statutory, CALENDAR, at("2026-10-09 11:00")) == at("2026-11-10 00:00")
    # asked Mon 2 Nov → Wed 2 Dec, a working day
    assert review_decision_due(BANK.statutory, CALENDAR, at("2026-11-02 11:00")) == at("2026-12-03 00:00")


def test_the_proof_is_required_with_the_layer_and_optional_without_it():
    futures = load_policy("futures")
    assert notification_proof(futures, None, None) == {}
    proof = notification_proof(futures, "sms", " 短信 1 ")
    assert proof == {"notification_method": "sms", "notification_ref": "短信 1"}
    with pytest.raises(InvalidInput):
        notification_proof(BANK, "sms", "")
    with pytest.raises(InvalidInput):
        notification_proof(futures, "fax", "x")
    with pytest.raises(InvalidInput):
        notification_proof(BANK, "sms", "x" * 201)
