"""The demo's set-based writer (issue 10 §4): the records the case services would write for each step,
worked out in memory and written a table at a time, in foreign-key order.

Replaying 2,000 cases through `services.casework.cases` took ~16 ms a case (two dozen statements and the
ORM's bookkeeping each), so the first run took half a minute. The ledger takes the same steps with the same
values, and shares with the services what decides a record: `assess`, the validation of the form, the
deadlines' reconciliation and meeting (`services.casework.deadlines`), the timeline entry, the rules'
escalation reason. What it repeats are the few column assignments of each step; a test replays the same
plans both ways and finds the same records (tests/service/test_setup.py), so a service that writes
something new fails there until the ledger writes it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Table, text
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db.models import Case, CaseDeadline, CaseEvent, Customer, Escalation, Extension
from services.casework.cases import (
    AT_INTAKE,
    CASE_NO_PREFIX,
    CaseRef,
    major_reason,
    new_customer,
    rule_reason,
    timeline_entry,
)
from services.casework.deadlines import RUNNING, case_facts, meet, milestones_met, reconcile, store_next_due
from services.errors import Phrase
from services.rules import jrt, validation
from services.rules.assess import assess, parse_facts
from services.rules.calendar import SHANGHAI, iso
from services.rules.duties import notification_proof
from services.rules.intake_extras import intake_extras, top_role
from services.rules.policy import Policy
from services.unit_of_work import UnitOfWork


@dataclass
class _Book:
    """One case as the services would leave it, and what it adds to the other tables."""

    case: Case
    customer: Customer
    parent: _Book | None = None
    deadlines: dict[str, CaseDeadline] = field(default_factory=dict)
    events: list[CaseEvent] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    extensions: list[Extension] = field(default_factory=list)
    touched_at: datetime | None = None  # an explicit updated_at (an extension's); None: the transaction's time


class Ledger:
    """Takes each step of each case like `services.casework.cases`, then `write`s them all at once."""

    def __init__(self, uow: UnitOfWork, policy: Policy, users: Mapping[int, str], departments: Mapping[str, int]
                 ) -> None:
        self.uow, self.policy, self.calendar = uow, policy, uow.calendar()
        self.users, self.departments = users, departments  # id → username, code → id
        self.books: list[_Book] = []
        self.by_number: dict[str, _Book] = {}
        session = uow.session
        self.prefix = session.scalar(text("SELECT value #>> '{}' FROM settings WHERE key = :k"),
                                     {"k": CASE_NO_PREFIX}) or "TS"
        counters = session.execute(text("SELECT day, last_no FROM case_counters")).tuples().all()
        self.counters: dict[date, int] = dict(counters)

    # --- the steps, as the services take them ---------------------------------------------------------

    def intake(self, actor: int, form: Mapping[str, Any], parent: _Book | None = None) -> CaseRef:
        content = validation.text(form.get("content"), "content", Phrase("error.field.content"))
        facts = parse_facts({k: form[k] for k in ("received_at", "channel", "category", "compensation_claim",
                                                  "cause", "flags") if k in form}, self.policy)
        extras = intake_extras(form, facts.channel, facts.received_at, self.uow.now())
        assessment = assess(self.policy, facts, self.calendar)
        day = facts.received_at.astimezone(SHANGHAI).date()
        self.counters[day] = number = self.counters.get(day, 0) + 1
        case = Case(case_no=f"{self.prefix}-{day:%Y%m%d}-{number:06d}", pack=self.policy.code,
                    channel=facts.channel, category=facts.category, grade=assessment.grade,
                    handling_level=assessment.handling_level, cause=facts.cause, flags=sorted(facts.flags),
                    state="registered", outcome=None, received_at=facts.received_at, content=content,
                    first_responder_id=actor, assignee_id=None,
                    responsible_department_id=self.departments[assessment.responsible_department],
                    compensation_claimed=facts.compensation_claim, compensation_paid=Decimal(0),
                    assessment=assessment.to_json(), intake_key=None, version=1, paused_days=0, **extras.columns())
        book = _Book(case, parent.customer if parent else new_customer(form), parent)
        self.books.append(book)
        self.by_number[case.case_no] = book
        added, _ = reconcile({}, assessment)
        book.deadlines = {row.milestone: row for row in added}
        self.record(book, actor, "intake", facts.received_at, note=content, assessment=assessment.to_json(),
                    parent_case=parent.case.case_no if parent else None)
        for role in assessment.escalate_to:
            self.escalation(book, actor, role, f"rule:{role}", rule_reason(self.policy, case.grade, role),
                            facts.received_at)
        if extras.major_cause:  # cases.declare_major
            role = top_role(self.policy)
            self.record(book, actor, "major_declared", facts.received_at, cause=extras.major_cause,
                        people=extras.major_people)
            self.escalation(book, actor, role, f"major:{role}", major_reason(self.policy, extras.major_cause),
                            facts.received_at)
        if form.get("resolved_at_intake"):
            self.resolve_at_intake(book, actor, form)
        return self.ref(book)

    def re_complaint(self, actor: int, parent_no: str, form: Mapping[str, Any]) -> CaseRef:
        parent = self.by_number[parent_no]
        old = parent.case
        merged = {"channel": old.channel, "channel_note": old.channel_note, "category": old.category,
                  "cause": old.cause, "flags": list(old.flags), **form}
        ref = self.intake(actor, merged, parent)
        self.record(parent, actor, "re_complaint", self.by_number[ref.case_no].case.received_at,
                    note=ref.case_no, new_case=ref.case_no)
        return ref

    def resolve_at_intake(self, book: _Book, actor: int, form: Mapping[str, Any]) -> None:
        case, at = book.case, book.case.received_at
        explanation = validation.text(form.get("explanation"), "explanation", Phrase("error.field.explanation"))
        case.outcome, case.fact_finding, case.measures = "resolved_at_intake", explanation, AT_INTAKE["measures"]
        case.accountability, case.resolved_at, case.feedback_at = AT_INTAKE["accountability"], at, at
        case.satisfaction = form["satisfaction"]
        self.record(book, actor, "resolve_at_intake", at, "resolved", explanation)
        self.record(book, actor, "feedback", at, "feedback_given", AT_INTAKE["feedback"],
                    method=AT_INTAKE["method"], satisfaction=case.satisfaction, at_intake=True)
        self.met(book, "resolve_at_intake", at)
        self.met(book, "feedback", at)
        self.waive(book)
        self.changed(book)

    def step(self, kind: str, actor: int, ref: CaseRef, **values: Any) -> CaseRef:
        book = self.by_number[ref.case_no]
        getattr(self, f"_{kind}")(book, actor, **values)
        return self.ref(book)

    def classify(self, actor: int, ref: CaseRef, *, at: datetime, **codes: str | None) -> CaseRef:
        """As services.casework.classification.classify: the codes, and an event when they changed."""
        book = self.by_number[ref.case_no]
        old = {d: getattr(book.case, jrt.COLUMNS[d]) for d in jrt.DIMENSIONS}
        new = {d: codes.get(d) or None for d in jrt.DIMENSIONS}
        if new != old:
            for dimension, value in new.items():
                setattr(book.case, jrt.COLUMNS[dimension], value)
            self.record(book, actor, "classified", at, old=old, new=new)
            self.changed(book)
        return self.ref(book)

    def _forward(self, book: _Book, actor: int, *, department: str, handler_id: int, handling_form: str,
                 at: datetime) -> None:
        case = book.case
        case.responsible_department_id, case.assignee_id = self.departments[department], handler_id
        case.handling_form, case.forwarded_at = handling_form, at
        self.record(book, actor, "forward", at, "forwarded", handling_form, department=department,
                    handler=self.users[handler_id])
        self.met(book, "forward", at)
        self.reassess(book, actor, at)
        self.changed(book)

    def _first_contact(self, book: _Book, actor: int, *, note: str, at: datetime) -> None:
        book.case.first_contact_at = at
        self.record(book, actor, "first_contact", at, "in_progress", note)
        self.met(book, "first_contact", at)
        self.changed(book)

    def _escalate(self, book: _Book, actor: int, *, to_role: str, reason: str, at: datetime) -> None:
        self.escalation(book, actor, to_role, None, reason, at)  # the case row itself does not change

    def _extend(self, book: _Book, actor: int, *, milestone: str, new_due: datetime, reason: str,
                customer_informed_at: datetime, informed_method: str, at: datetime) -> None:
        row = book.deadlines[milestone]
        book.extensions.append(Extension(milestone=milestone, old_due_at=row.due_at, new_due_at=new_due,
                                         reason=reason, customer_informed_at=customer_informed_at,
                                         customer_informed_method=informed_method, requested_by_id=actor))
        old_due, row.due_at, row.extensions = row.due_at, new_due, row.extensions + 1
        self.record(book, actor, "extension", at, note=reason, milestone=milestone, old_due=iso(old_due),
                    new_due=iso(new_due), customer_informed_at=iso(customer_informed_at),
                    informed_method=informed_method)
        self.changed(book, at)

    def _resolve(self, book: _Book, actor: int, *, fact_finding: str, measures: str, accountability: str,
                 compensation_paid: Decimal, signed_confirmation: str | None, at: datetime) -> None:
        case = book.case
        case.fact_finding, case.measures, case.accountability = fact_finding, measures, accountability
        case.compensation_paid = validation.amount(compensation_paid, "compensation_paid")
        if case.compensation_paid > 0:
            case.signed_confirmation = signed_confirmation
        case.outcome, case.resolved_at = "resolved", at
        self.record(book, actor, "resolve", at, "resolved", fact_finding, measures=measures,
                    accountability=accountability, compensation_paid=str(case.compensation_paid))
        self.met(book, "resolve", at)
        self.reassess(book, actor, at)
        self.changed(book)

    def _mark_invalid(self, book: _Book, actor: int, *, explanation: str, at: datetime) -> None:
        case = book.case
        case.outcome, case.fact_finding, case.resolved_at = "invalid", explanation, at
        case.measures, case.accountability = AT_INTAKE["invalid_measures"], AT_INTAKE["accountability"]
        self.record(book, actor, "invalid", at, "resolved", explanation)
        self.met(book, "invalid", at)
        self.changed(book)

    def _feedback(self, book: _Book, actor: int, *, method: str, satisfaction: int, note: str, at: datetime,
                  notification_method: str | None = None, notification_ref: str | None = None) -> None:
        proof = notification_proof(self.policy, notification_method, notification_ref)  # RULES.md §7.2
        book.case.satisfaction, book.case.feedback_at = satisfaction, at
        if proof:
            book.case.notification_method, book.case.notification_ref = (proof["notification_method"],
                                                                         proof["notification_ref"])
        self.record(book, actor, "feedback", at, "feedback_given", note or None, method=method,
                    satisfaction=satisfaction, **proof)
        self.met(book, "feedback", at)
        self.changed(book)

    def _return_visit(self, book: _Book, actor: int, *, method: str, satisfaction: int, note: str,
                      at: datetime) -> None:
        book.case.satisfaction, book.case.return_visit_at = satisfaction, at
        self.record(book, actor, "return_visit", at, "return_visit", note, method=method, satisfaction=satisfaction)
        self.met(book, "return_visit", at)
        self.changed(book)

    def _archive(self, book: _Book, actor: int, *, at: datetime) -> None:
        book.case.closed_at = book.case.closed_at or at
        self.record(book, actor, "archive", at, "archived")
        self.changed(book)

    def _withdraw(self, book: _Book, actor: int, *, reason: str, at: datetime) -> None:
        book.case.outcome, book.case.closed_at = "withdrawn", at
        self.record(book, actor, "withdraw", at, "withdrawn", reason)
        self.waive(book)
        self.changed(book)

    def open_deadline(self, ref: CaseRef, milestone: str) -> CaseDeadline | None:
        row = self.by_number[ref.case_no].deadlines.get(milestone)
        return row if row is not None and row.status == "open" else None  # as the runner's query asks

    # --- what every step shares -----------------------------------------------------------------------

    def record(self, book: _Book, actor: int | None, event_type: str, at: datetime, to_state: str | None = None,
               note: str | None = None, **data: Any) -> None:
        book.events.append(timeline_entry(book.case, actor, event_type, at, to_state, note, **data))

    def escalation(self, book: _Book, actor: int, role: str, rule_key: str | None, reason: str, at: datetime) -> None:
        escalation = Escalation(to_role=role, rule_key=rule_key, reason=reason, created_by_id=actor, created_at=at)
        book.escalations.append(escalation)
        self.record(book, actor, "escalation", at, note=reason, to_role=role, rule=rule_key,
                    escalation_id=escalation)  # the row's id, once `write` has given it one

    def met(self, book: _Book, event_type: str, at: datetime) -> None:
        for code in milestones_met(self.policy, event_type):
            row = book.deadlines.get(code)
            if row is not None and row.status in RUNNING:
                meet(row, at)

    def waive(self, book: _Book) -> None:
        for row in book.deadlines.values():
            if row.status in RUNNING:
                row.status = "waived"

    def reassess(self, book: _Book, actor: int, at: datetime) -> None:
        added, changes = reconcile(book.deadlines, assess(self.policy, case_facts(book.case), self.calendar))
        book.deadlines.update((row.milestone, row) for row in added)
        if changes:
            self.record(book, actor, "deadlines_recomputed", at, note="start of milestone", changes=changes)

    @staticmethod
    def changed(book: _Book, at: datetime | None = None) -> None:
        """A service's flush of a changed case bumps its version and stamps updated_at."""
        book.case.version += 1
        book.touched_at = at

    @staticmethod
    def ref(book: _Book) -> CaseRef:
        return CaseRef(0, book.case.case_no, book.case.version, book.case.state)

    # --- one statement per table ----------------------------------------------------------------------

    def write(self) -> None:
        """Every record, a table at a time in foreign-key order (ids drawn from the tables' own sequences first,
        so rows can point at each other); numbers each day's cases on from the counter."""
        session = self.uow.session
        now = session.scalar(text("SELECT now()"))  # what the columns' server default would have said
        customers = list({id(b.customer): b.customer for b in self.books}.values())
        escalations = [e for b in self.books for e in b.escalations]
        rows: list[Any]
        row: Any
        for table, rows in (("customers", customers), ("cases", [b.case for b in self.books]),
                            ("escalations", escalations)):
            for row, new_id in zip(rows, self.ids(table, len(rows)), strict=True):
                row.id = new_id
        for book in self.books:
            book.case.customer_id = book.customer.id
            book.case.parent_case_id = book.parent.case.id if book.parent else None
            book.case.updated_at = book.touched_at or now
            rows = [*book.deadlines.values(), *book.events, *book.escalations, *book.extensions]
            for row in rows:
                row.case_id = book.case.id
            for event in book.events:
                if isinstance(event.data.get("escalation_id"), Escalation):
                    event.data = {**event.data, "escalation_id": event.data["escalation_id"].id}
        self.insert(Customer.__table__, customers, created_at=now)
        self.insert(Case.__table__, [b.case for b in self.books], created_at=now)
        self.insert(CaseDeadline.__table__, [d for b in self.books for d in b.deadlines.values()], keep_id=False)
        store_next_due(self.uow, Case.id.in_([b.case.id for b in self.books]))  # as cases.finish (issue 13 §1)
        self.insert(Extension.__table__, [x for b in self.books for x in b.extensions], keep_id=False,
                    created_at=now)
        self.insert(Escalation.__table__, escalations)
        self.insert(CaseEvent.__table__, [e for b in self.books for e in b.events], keep_id=False, recorded_at=now)
        if self.counters:
            session.execute(text(
                "INSERT INTO case_counters (day, last_no) SELECT * FROM unnest(CAST(:d AS date[]), CAST(:n AS int[])) "
                "ON CONFLICT (day) DO UPDATE SET last_no = excluded.last_no"),
                {"d": list(self.counters), "n": list(self.counters.values())})

    def ids(self, table: str, count: int) -> list[int]:
        return list(self.uow.session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"), {"t": table, "n": count}))

    def insert(self, table: Any, rows: Iterable[Any], *, keep_id: bool = True, **stamps: datetime) -> None:
        assert isinstance(table, Table)
        columns = [c for c in table.columns if (keep_id or c.key != "id") and c.key not in stamps]
        values = [{**{c.key: _value(row, c) for c in columns}, **stamps} for row in rows]
        if values:
            self.uow.session.execute(table.insert(), values)


def _value(row: Any, column: Column[Any]) -> Any:
    """The row's value, or the column's default where the ORM would have filled it in on flush."""
    value = getattr(row, column.key)
    if value is None and isinstance(column.default, ScalarElementColumnDefault):
        return column.default.arg
    return value
