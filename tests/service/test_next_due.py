"""The stored nearest deadline (issue 13 §1): `cases.next_due_at`, `next_milestone` and `next_at_risk_at` follow every
change that moves a deadline, in the same transaction, and the consistency check finds no difference — but finds
a planted one."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select, text

from db.models import CaseDeadline
from services.administration import admin, importer
from services.administration.calendar_edits import set_calendar_day
from services.casework import cases, duties, queue, statutory
from services.casework.deadlines import next_due_differences
from services.rules.calendar import DayType, at_risk_from
from tests.service.conftest import HANDLING, Institution, at, make_institution
from tests.service.test_import import GOOD, xlsx
from tests.service.test_migrations import _migrate

PROOF = {"notification_method": "written_posted", "notification_ref": "挂号信 XA123456789CN"}


@pytest.fixture
def bank(engine) -> Institution:
    return make_institution(engine, "bank")


def stored(inst: Institution, case_no: str) -> tuple[datetime | None, str | None]:
    """The stored nearest deadline, checked against the case's rows worked out here, and no case differs."""
    with inst.uow() as uow:
        case = cases.case_by_number(uow, case_no)
        rows = sorted(uow.session.scalars(select(CaseDeadline).where(
            CaseDeadline.case_id == case.id, CaseDeadline.status == "open")), key=lambda d: (d.due_at, d.id))
        window = uow.policy(case.pack).warning_window
        if rows:
            assert (case.next_due_at, case.next_milestone) == (rows[0].due_at, rows[0].milestone)
            expected = at_risk_from(rows[0].starts_at, rows[0].due_at, window)
            assert case.next_at_risk_at is not None
            assert abs(case.next_at_risk_at - expected) < timedelta(milliseconds=1)
        else:
            assert (case.next_due_at, case.next_milestone, case.next_at_risk_at) == (None, None, None)
        assert next_due_differences(uow) == []
        return case.next_due_at, case.next_milestone


def test_the_stored_deadline_follows_a_case_through_its_life(futures):
    ref = futures.intake(received_at=at("2026-11-02 10:00"))
    first = stored(futures, ref.case_no)
    assert first[0] is not None
    with futures.uow() as uow:
        ref = cases.forward(uow, futures.users["clerk"], ref.case_no, ref.version, department=HANDLING["futures"],
                            handler_id=futures.users["handler"], handling_form="请核实", at=at("2026-11-02 11:00"))
    stored(futures, ref.case_no)
    with futures.uow() as uow:
        ref = cases.first_contact(uow, futures.users["handler"], ref.case_no, ref.version, note="已致电客户",
                                  at=at("2026-11-02 15:00"))
    stored(futures, ref.case_no)
    with futures.uow() as uow:
        ref = cases.resolve(uow, futures.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                            measures="更正", accountability="无", at=at("2026-11-03 09:00"))
    stored(futures, ref.case_no)
    with futures.uow() as uow:
        ref = cases.feedback(uow, futures.users["clerk"], ref.case_no, ref.version, method="书面回复", satisfaction=4,
                             at=at("2026-11-03 10:00"))
    stored(futures, ref.case_no)
    with futures.uow() as uow:
        ref = cases.return_visit(uow, futures.users["clerk"], ref.case_no, ref.version, method="电话", satisfaction=4,
                                 note="客户满意", at=at("2026-11-04 10:00"))
    assert stored(futures, ref.case_no) == (None, None)  # everything met
    with futures.uow() as uow:
        ref = cases.archive(uow, futures.users["clerk"], ref.case_no, ref.version, at=at("2026-11-05 10:00"))
    stored(futures, ref.case_no)


def test_a_withdrawn_case_has_no_next_deadline(bank):
    ref = bank.intake()
    assert stored(bank, ref.case_no)[0] is not None
    with bank.uow() as uow:
        ref = cases.withdraw(uow, bank.users["clerk"], ref.case_no, ref.version, reason="客户撤回")
    assert stored(bank, ref.case_no) == (None, None)


def test_a_case_resolved_at_intake_has_no_next_deadline(bank):
    ref = bank.intake(resolved_at_intake=True, explanation="当场解释", satisfaction=5)
    assert stored(bank, ref.case_no) == (None, None)


def _forwarded(inst: Institution, received: str = "2026-09-20 10:00") -> cases.CaseRef:
    ref = inst.intake(received_at=at(received))
    with inst.uow() as uow:
        return cases.forward(uow, inst.users["clerk"], ref.case_no, ref.version, department=HANDLING[inst.pack],
                             handler_id=inst.users["handler"], handling_form="请核实", at=at(received))


def test_the_regulators_clock_counts_and_a_paused_one_does_not(consumer_finance):
    # L1 (litigation): the pack's 15 working days end Fri 16 Oct, the regulator's 15 days Thu 8 Oct
    ref = consumer_finance.intake(received_at=at("2026-09-20 10:00"), flags=["litigation"])
    with consumer_finance.uow() as uow:
        ref = cases.forward(uow, consumer_finance.users["clerk"], ref.case_no, ref.version,
                            department=HANDLING["consumer_finance"], handler_id=consumer_finance.users["handler"],
                            handling_form="请核实", at=at("2026-09-20 11:00"))
    assert stored(consumer_finance, ref.case_no)[1] == "statutory_decision"
    with consumer_finance.uow() as uow:
        ref = statutory.pause_clock(uow, consumer_finance.users["handler"], ref.case_no, ref.version,
                                    kind="appraisal", starts_on=date(2026, 9, 28), reason="送司法鉴定",
                                    complainant_informed_at=at("2026-09-28 10:00"), informed_method="短信")
    assert stored(consumer_finance, ref.case_no)[1] != "statutory_decision"  # standing still: not open
    with consumer_finance.uow() as uow:
        ref = statutory.resume_clock(uow, consumer_finance.users["handler"], ref.case_no, ref.version,
                                     ends_on=date(2026, 10, 7))
    stored(consumer_finance, ref.case_no)
    with consumer_finance.uow() as uow:
        ref = statutory.extend_statutory(uow, consumer_finance.users["handler"], ref.case_no, ref.version,
                                         reason="情况复杂", customer_informed_at=at("2026-10-08 09:00"),
                                         informed_method="电话")
    stored(consumer_finance, ref.case_no)
    with consumer_finance.uow() as uow:
        ref = statutory.restart_clock(uow, consumer_finance.users["handler"], ref.case_no, ref.version,
                                      received_at=at("2026-10-09 09:00"), note="客户补充新材料")
    stored(consumer_finance, ref.case_no)


def test_a_pack_extension_moves_the_stored_deadline(consumer_finance):
    inst = consumer_finance
    ref = inst.intake()  # L3: resolve within 3 working days → Thu 2026-11-05 24:00 (seed 003 §5)
    assert stored(inst, ref.case_no) == (at("2026-11-06 00:00"), "resolve")
    with inst.uow() as uow:
        ref = cases.extend(uow, inst.users["handler"], ref.case_no, ref.version, milestone="resolve",
                           new_due=at("2026-11-11 00:00"), reason="需调取录音核实",
                           customer_informed_at=at("2026-11-04 10:00"), informed_method="电话")
    assert stored(inst, ref.case_no) == (at("2026-11-11 00:00"), "resolve")


def test_a_calendar_edit_moves_the_stored_deadline(consumer_finance):
    ref = consumer_finance.intake()  # Mon 2026-11-02, L3: resolve by Thu 2026-11-05 24:00
    assert stored(consumer_finance, ref.case_no) == (at("2026-11-06 00:00"), "resolve")
    with consumer_finance.uow() as uow:
        set_calendar_day(uow, consumer_finance.users["admin"], date(2026, 11, 4), DayType.HOLIDAY, "临时休假")
    assert stored(consumer_finance, ref.case_no) == (at("2026-11-07 00:00"), "resolve")


def test_a_review_keeps_its_own_30_days(engine):
    bank = make_institution(engine, "bank")
    ref = _forwarded(bank, "2026-08-25 10:00")
    with bank.uow() as uow:
        ref = cases.resolve(uow, bank.users["handler"], ref.case_no, ref.version, fact_finding="属实",
                            measures="更正", accountability="无", at=at("2026-08-31 16:00"))
    with bank.uow() as uow:
        ref = cases.feedback(uow, bank.users["clerk"], ref.case_no, ref.version, method="书面回复", satisfaction=4,
                             at=at("2026-09-01 10:00"), **PROOF)
    with bank.uow() as uow:
        review = duties.request_review(uow, bank.users["clerk"], ref.case_no, ref.version, at("2026-10-08 16:00"),
                                       "客户对处理决定不服，申请核查")
    due, milestone = stored(bank, review.case_no)
    assert due is not None and milestone != "statutory_decision"  # waived: the review runs on its own clock
    stored(bank, ref.case_no)


def test_the_check_finds_a_planted_difference_and_none_after_a_normal_lifecycle(futures):
    stored(futures, futures.intake().case_no)
    two = futures.intake(customer_phone="13900139000")
    with futures.uow() as uow:
        assert next_due_differences(uow) == []
        uow.session.execute(text("UPDATE cases SET next_due_at = next_due_at + interval '1 day' WHERE case_no = :no"),
                            {"no": two.case_no})
    with futures.uow() as uow:
        found = next_due_differences(uow)
    assert [d.case_no for d in found] == [two.case_no]
    assert found[0].stored[0] == found[0].fresh[0] + timedelta(days=1)
    assert found[0].stored[1:] == found[0].fresh[1:]  # the planted day, nothing else


def test_migration_0020_fills_the_columns_of_the_cases_already_there(consumer_finance, owner_engine):
    ref = consumer_finance.intake()
    _migrate(owner_engine, "0019", down=True)
    _migrate(owner_engine, "head")
    assert stored(consumer_finance, ref.case_no) == (at("2026-11-06 00:00"), "resolve")


def test_a_new_warning_window_moves_the_stored_at_risk_instants(consumer_finance):
    ref = consumer_finance.intake()
    with consumer_finance.uow() as uow:
        before = cases.case_by_number(uow, ref.case_no).next_at_risk_at
        admin.set_pack_value(uow, consumer_finance.users["admin"], "warning_window", 0.5)
    stored(consumer_finance, ref.case_no)
    with consumer_finance.uow() as uow:
        assert cases.case_by_number(uow, ref.case_no).next_at_risk_at < before


def test_the_queue_pages_by_the_stored_deadline(futures):
    early = futures.intake(received_at=at("2026-11-02 10:00"))
    late = futures.intake(received_at=at("2026-11-03 10:00"), customer_phone="13900139000")

    def order() -> list[str]:
        with futures.uow() as uow:
            return [r.case_no for r in queue.my_queue(uow, futures.users["clerk"], view="first_responder").rows]

    assert order() == [early.case_no, late.case_no]
    with futures.uow() as uow:  # read from the index, not recomputed per view: a planted value shows
        uow.session.execute(text("UPDATE cases SET next_due_at = next_due_at + interval '30 days' "
                                 "WHERE case_no = :no"), {"no": early.case_no})
    assert order() == [late.case_no, early.case_no]


def test_imported_cases_carry_their_stored_deadline(futures):
    with futures.uow() as uow:
        result = importer.import_file(uow, futures.users["clerk"], xlsx(GOOD), "cases.xlsx")
    assert result.imported
    with futures.uow() as uow:
        assert next_due_differences(uow) == []
        assert uow.session.scalar(text("SELECT count(*) FROM cases WHERE next_due_at IS NOT NULL")) > 0
