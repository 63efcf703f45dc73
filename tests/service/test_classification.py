"""JR/T 0169-2018 classification on the case (RULES.md §7.4, issue 11 §6): suggested from the intake facts,
recorded with a `classified` event, required before a bank case is filed, optional (cause) elsewhere."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from db.models import CaseEvent
from services.administration import importer
from services.casework import cases
from services.casework.classification import classification_view, classify
from services.errors import InvalidInput, InvalidTransition
from services.rules.packs import load_policy
from tests.service.conftest import Institution, at, make_institution
from tests.service.test_lifecycle import take_to_resolved


@pytest.fixture
def bank(engine) -> Institution:
    return make_institution(engine, "bank")


@pytest.fixture
def securities(engine) -> Institution:
    return make_institution(engine, "securities")


def fed_back(inst: Institution, **form) -> cases.CaseRef:
    ref = take_to_resolved(inst, inst.intake(**form))
    with inst.uow() as uow:
        # the bank answers to order 3: the decision's notification is proven (RULES.md §7.2, art. 21)
        return cases.feedback(uow, inst.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                              notification_method="recorded_call", notification_ref="录音编号 REC20261103-01",
                              at=at("2026-11-03 16:00"))


def test_the_case_page_gets_the_codes_the_intake_facts_suggest(bank):
    # bank.toml [jrt]: walk_in → A1 (营业现场), personal_information → B06 and cause C10 (信息安全)
    ref = bank.intake(channel="walk_in", category="personal_information")
    with bank.uow() as uow:
        view = classification_view(uow, bank.users["handler"], ref.case_no)
    assert view.suggested == {"channel": "A1", "business": "B06", "cause": "C10"}
    assert view.codes == {"channel": None, "business": None, "cause": None}
    assert view.required and view.offered == ("channel", "business", "cause") and view.may_classify


def test_classify_records_the_codes_with_old_and_new_on_the_timeline(bank):
    ref = bank.intake()
    with bank.uow() as uow:
        done = classify(uow, bank.users["handler"], ref.case_no, ref.version, channel="A3", business="B01",
                        cause="C01", at=at("2026-11-02 11:00"))
    assert done.version == ref.version + 1
    with bank.uow() as uow:
        again = classify(uow, bank.users["handler"], ref.case_no, done.version, channel="A3", business="B01",
                         cause="C05", at=at("2026-11-02 12:00"))
        case = cases.case_by_number(uow, ref.case_no)
        assert (case.jrt_channel, case.jrt_business, case.jrt_cause) == ("A3", "B01", "C05")
        events = uow.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.event_type == "classified").order_by(CaseEvent.id)).all()
    assert [e.data for e in events] == [
        {"old": {"channel": None, "business": None, "cause": None},
         "new": {"channel": "A3", "business": "B01", "cause": "C01"}},
        {"old": {"channel": "A3", "business": "B01", "cause": "C01"},
         "new": {"channel": "A3", "business": "B01", "cause": "C05"}}]
    with bank.uow() as uow:  # the same codes again: nothing to record
        same = classify(uow, bank.users["handler"], ref.case_no, again.version, channel="A3", business="B01",
                        cause="C05")
    assert same.version == again.version


def test_a_code_outside_the_standard_is_refused(bank):
    ref = bank.intake()
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        classify(uow, bank.users["handler"], ref.case_no, ref.version, channel="B01")
    assert refused.value.field == "jrt_channel"
    assert "B01" in refused.value.message("zh") and "B01" in refused.value.message("en")


def test_an_unclassified_bank_case_is_not_filed_and_the_refusal_names_the_codes(bank):
    ref = fed_back(bank)
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:
        cases.archive(uow, bank.users["clerk"], ref.case_no, ref.version, at=at("2026-11-04 10:00"))
    assert "JR/T 0169 渠道分类" in refused.value.message("zh")
    assert "JR/T 0169 cause" in refused.value.message("en")
    with bank.uow() as uow:
        ref = classify(uow, bank.users["clerk"], ref.case_no, ref.version, channel="A3", business="B01")
    with pytest.raises(InvalidInput) as refused, bank.uow() as uow:  # still no cause
        cases.archive(uow, bank.users["clerk"], ref.case_no, ref.version, at=at("2026-11-04 10:00"))
    assert "JR/T 0169 投诉原因" in refused.value.message("zh") and "渠道" not in refused.value.message("zh")
    with bank.uow() as uow:
        ref = classify(uow, bank.users["clerk"], ref.case_no, ref.version, channel="A3", business="B01",
                       cause="C01")
    with bank.uow() as uow:
        assert cases.archive(uow, bank.users["clerk"], ref.case_no, ref.version,
                             at=at("2026-11-04 10:00")).state == "archived"


def test_other_packs_are_offered_the_cause_and_file_without_it(securities):
    ref = fed_back(securities)
    with securities.uow() as uow:
        view = classification_view(uow, securities.users["clerk"], ref.case_no)
    assert view.offered == ("cause",) and not view.required
    assert view.suggested["cause"] is None  # staff_operation names no cause; customer_service would (C01)
    with securities.uow() as uow:
        ref = classify(uow, securities.users["clerk"], ref.case_no, ref.version, cause="C03")
    with securities.uow() as uow:
        ref = cases.archive(uow, securities.users["clerk"], ref.case_no, ref.version, at=at("2026-11-04 10:00"))
    with pytest.raises(InvalidTransition), securities.uow() as uow:  # a filed case's codes are what was reported
        classify(uow, securities.users["clerk"], ref.case_no, ref.version, cause="C01")


# --- import: the sheet's codes, or the facts' suggestion for a case filed on the sheet ---------------------------

def _bank_sheet(**extra) -> bytes:
    book = load_workbook(io.BytesIO(importer.template_xlsx(load_policy("bank"))))
    row = {"received_at": "2026-10-12 10:00", "channel": "walk_in", "category": "deposit", "customer_name": "李娜",
           "customer_phone": "13900139000", "content": "存款利息计算有误", "forwarded_at": "2026-10-12 10:30",
           "handler": "handler", "handling_form": "请核实", "resolved_at": "2026-10-13 09:00",
           "fact_finding": "属实", "measures": "更正", "accountability": "无", "feedback_at": "2026-10-13 10:00",
           "feedback_method": "电话", "notification_method": "recorded_call", "notification_ref": "录音编号 REC-01",
           "satisfaction": "满意", "archived_at": "2026-10-14 09:00", **extra}
    book["案件"].append([row.get(c.key) for c in importer.COLUMNS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_archived_bank_row_needs_its_cause_and_takes_the_suggested_channel_and_business(bank):
    with bank.uow() as uow:
        refused = importer.import_file(uow, bank.users["clerk"], _bank_sheet(), "cases.xlsx")
    assert refused.imported == 0
    assert "JR/T 0169 投诉原因" in refused.errors[0].message("zh")
    with bank.uow() as uow:
        done = importer.import_file(uow, bank.users["clerk"], _bank_sheet(jrt_cause="C05"), "cases.xlsx")
    assert done.errors == ()
    with bank.uow() as uow:
        case = cases.case_by_number(uow, done.case_nos[0])
        assert (case.state, case.jrt_channel, case.jrt_business, case.jrt_cause) == ("archived", "A1", "B01", "C05")
