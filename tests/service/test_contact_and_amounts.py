"""What the intake accepts as a customer's contact, and negative amounts refused by name (issue 10 §2)."""

from __future__ import annotations

import pytest

from services.errors import InvalidInput
from services.rules import validation

ACCEPTED = ["13800138000", "+86 138 0013 8000", "008613800138000", "138-0013-8000",  # mainland mobile
            "010-12345678", "(021) 1234 5678", "0755-1234567", "+86 10 12345678",  # landline with area code
            "010-12345678转123", "010-12345678-8001", "+86-755-12345678 ext 12",  # extensions
            "a@b.cn", "无（意见箱留言）", "匿名", "anonymous"]  # e-mail; anonymous complaint
REFUSED = ["abc", "138abc00138", "12345", "1380013800", "23800138000", "12345678", "010-1234", "无 123"]


@pytest.mark.parametrize("contact", ACCEPTED)
def test_the_accepted_contact_forms(contact):
    assert validation.phone(contact) == contact


@pytest.mark.parametrize("contact", REFUSED)
def test_anything_else_is_refused_by_name(contact):
    with pytest.raises(InvalidInput) as refused:
        validation.phone(contact)
    assert (refused.value.key, refused.value.field) == ("error.input.bad_contact", "customer_phone")


def test_the_intake_refuses_abc_as_a_phone(futures):
    with pytest.raises(InvalidInput) as refused:
        futures.intake(customer_phone="abc")
    assert refused.value.field == "customer_phone"


def test_a_negative_claim_is_refused_not_stored_as_zero(futures):
    with pytest.raises(InvalidInput) as refused:
        futures.intake(compensation_claim=-500)
    assert refused.value.field == "compensation_claim"
