"""Bad input gets a clear message naming the field and saves nothing (issue 8 §5).

Each row of the table is what a clerk (or a script) could send; none may reach PostgreSQL as an
error, whose message would quote the customer's data on screen and in the server log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from services.casework import cases
from services.errors import InvalidInput
from tests.conftest import TODAY
from tests.service.conftest import HANDLING, Institution, at

NAME, PHONE = "张伟", "13800138000"
TABLES = ("cases", "customers", "case_events", "case_deadlines", "escalations")


def rows(inst: Institution) -> dict[str, int]:
    with inst.engine.connect() as conn:
        return {t: conn.scalar(text(f"SELECT count(*) FROM {t}")) for t in TABLES}


def soon(minutes: int) -> datetime:
    return TODAY + timedelta(minutes=minutes)


INTAKE = {
    "40-digit phone": ({"customer_phone": "1" * 40}, "customer_phone"),
    "phone with letters": ({"customer_phone": "138abc00138"}, "customer_phone"),
    "300-character name": ({"customer_name": "张" * 300}, "customer_name"),
    "5 MB content": ({"content": "投" * 5_000_000}, "content"),
    "NUL in content": ({"content": "柜员\x00操作失误"}, "content"),
    "NUL in name": ({"customer_name": "张\x00伟"}, "customer_name"),
    "ID number with markup": ({"customer_id_number": "<img src=x>"}, "customer_id_number"),
    "100-character account": ({"customer_account_no": "6" * 100}, "customer_account_no"),
    "receipt in 2100": ({"received_at": at("2100-01-01 10:00")}, "received_at"),
    "receipt 10 minutes ahead": ({"received_at": soon(10)}, "received_at"),
    "receipt in 1999": ({"received_at": at("1999-12-31 10:00")}, "received_at"),
    "negative claim": ({"compensation_claim": -1}, "compensation_claim"),
    "claim of 10^13": ({"compensation_claim": 10**13}, "compensation_claim"),
    "claim with 3 decimals": ({"compensation_claim": "10.005"}, "compensation_claim"),
}


@pytest.mark.parametrize(("change", "field"), INTAKE.values(), ids=INTAKE.keys())
def test_bad_intake_is_refused_naming_the_field_and_saves_nothing(futures, change: dict, field: str) -> None:
    before = rows(futures)
    with pytest.raises(InvalidInput) as info:
        futures.intake(**{"customer_name": NAME, "customer_phone": PHONE, **change})
    assert info.value.field == field
    assert rows(futures) == before
    _no_customer_data(info.value, change)


def test_a_receipt_within_the_clock_skew_is_accepted(futures) -> None:
    assert futures.intake(received_at=soon(2)).case_no


def _forward(inst: Institution, ref: cases.CaseRef, **values: Any) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], at=at("2026-11-02 10:30"),
                             **{"handling_form": "请核实", **values})


def _first_contact(inst: Institution, ref: cases.CaseRef, **values: Any) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.first_contact(uow, inst.users["handler"], ref.case_no, ref.version, at=at("2026-11-02 14:00"),
                                   **{"note": "已致电", **values})


def _resolve(inst: Institution, ref: cases.CaseRef, **values: Any) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.resolve(uow, inst.users["handler"], ref.case_no, ref.version, at=at("2026-11-03 09:00"),
                             **{"fact_finding": "属实", "measures": "更正", "accountability": "通报",
                                "signed_confirmation": "已签字", **values})


def _feedback(inst: Institution, ref: cases.CaseRef, **values: Any) -> cases.CaseRef:
    with inst.uow() as uow:
        return cases.feedback(uow, inst.users["handler"], ref.case_no, ref.version, satisfaction=4,
                              at=at("2026-11-03 10:00"), **{"method": "电话", **values})


STEPS = (_forward, _first_contact, _resolve, _feedback)  # in the order of RULES.md §2
LATER = {
    "NUL in the handling form": (_forward, {"handling_form": "核实\x00"}, "handling_form"),
    "NUL in a note": (_first_contact, {"note": "已致电\x00"}, "note"),
    "5 MB note": (_first_contact, {"note": "话" * 5_000_000}, "note"),
    "negative payment": (_resolve, {"compensation_paid": -5}, "compensation_paid"),
    "payment of 10^13": (_resolve, {"compensation_paid": 10**13}, "compensation_paid"),
    "payment with 3 decimals": (_resolve, {"compensation_paid": "1.001"}, "compensation_paid"),
    "65-character method": (_feedback, {"method": "电" * 65}, "method"),
    # not validated by the service: the ORM's guard (db.guard) stops it before PostgreSQL
    "NUL in an optional note": (_feedback, {"note": "满意\x00"}, "note"),
    "1 MB optional note": (_feedback, {"note": "好" * 1_000_000}, "note"),
}


@pytest.mark.parametrize(("step", "change", "field"), LATER.values(), ids=LATER.keys())
def test_bad_input_on_a_later_step_is_refused_and_the_step_saves_nothing(futures, step, change, field) -> None:
    ref = futures.intake()
    for earlier in STEPS[:STEPS.index(step)]:
        ref = earlier(futures, ref)
    before = rows(futures)
    with pytest.raises(InvalidInput) as info:
        step(futures, ref, **change)
    assert info.value.field == field
    assert rows(futures) == before
    with futures.uow() as uow:
        assert cases.case_by_number(uow, ref.case_no).version == ref.version  # the case is as it was
    _no_customer_data(info.value, change)


def _no_customer_data(exc: InvalidInput, change: dict) -> None:
    said = f"{exc.message('zh')} {exc.message('en')} {exc}"
    assert NAME not in said and PHONE not in said
    for value in change.values():
        if isinstance(value, str) and len(value) > 3:
            assert value not in said
