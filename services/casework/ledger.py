"""The set-based writer of whole cases (issue 10 §4, issue 13 §3): the records the case services would write
for each step, worked out in memory and written a table at a time, in foreign-key order. The demo and the
spreadsheet import write through it; `Services` takes the same steps one at a time through the use cases.

Replaying 2,000 cases through `services.casework.cases` took ~16 ms a case (two dozen statements and the
ORM's bookkeeping each), so the demo's first run took half a minute and a 10,000-row import eight minutes.
The ledger takes the same steps with the same values and the same checks (role, state, the texts, what
filing needs), and shares with the services what decides a record: `assess`, the validation of the form,
the deadlines' reconciliation and meeting (`services.casework.deadlines`), the timeline entry, the rules'
escalation reason. What it repeats are the few column assignments of each step; tests replay the same
plans both ways and find the same records (tests/service/test_setup.py, test_import_bulk.py), so a service
that writes something new fails there until the ledger writes it too.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, DateTime, Table, column, select, text
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from db.bulk import copy_rows
from db.models import Case, CaseDeadline, CaseEvent, Customer, Escalation, Extension, User
from services.casework import cases as svc
from services.casework import classification
from services.casework.cases import (
    AT_INTAKE,
    CASE_NO_PREFIX,
    CaseRef,
    field_names,
    major_reason,
    missing_for_archive,
    new_customer,
    rule_reason,
    timeline_entry,
)
from services.casework.deadlines import RUNNING, case_facts, meet, milestones_met, reconcile, warning_windows
from services.errors import InvalidInput, InvalidTransition, NotFound, NotPermitted, Phrase
from services.institution.access import DEPARTMENT_STAFF, Actor, actor_of, require_role
from services.rules import jrt, validation
from services.rules.assess import Assessment, Facts, assess, parse_facts
from services.rules.calendar import SHANGHAI, at_risk_from, iso
from services.rules.duties import notification_proof
from services.rules.intake_extras import intake_extras, top_role
from services.rules.policy import Policy
from services.rules.transitions import states_for
from services.unit_of_work import UnitOfWork

ACTIONS = {"mark_invalid": "invalid"}  # a step's use case → its action (access, transitions), where they differ


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

    def __init__(self, uow: UnitOfWork, policy: Policy, users: Iterable[User], departments: Mapping[str, int],
                 assessed: Mapping[Facts, Assessment] | None = None) -> None:
        self.uow, self.policy, self.calendar = uow, policy, uow.calendar()
        self.assessed = assessed or {}  # intake facts the caller already assessed on this policy and calendar
        self.actors = {u.id: actor_of(u) for u in users if u.active}  # who may act, as load_actor says
        self.departments = departments  # code → id
        self.books: list[_Book] = []
        self.by_number: dict[str, _Book] = {}
        session = uow.session
        self.prefix = session.scalar(text("SELECT value #>> '{}' FROM settings WHERE key = :k"),
                                     {"k": CASE_NO_PREFIX}) or "TS"
        counters = session.execute(text("SELECT day, last_no FROM case_counters")).tuples().all()
        self.counters: dict[date, int] = dict(counters)
        self.numbered: set[date] = set()  # the days whose counter `write` moves on

    # --- the steps, as the services take them ---------------------------------------------------------

    def reserve(self, days: Mapping[date, int]) -> None:
        """Take `days`' next case numbers now (so many a day), as each intake's counter update would: the counter
        rows stay locked until the caller commits, so a clerk's intake meanwhile waits, never takes a number
        twice (the import, beside everyday work; the demo writes into an institution no one uses yet)."""
        if not days:
            return
        reserved = self.uow.session.execute(text(
            "INSERT INTO case_counters (day, last_no) SELECT * FROM unnest(CAST(:d AS date[]), CAST(:n AS int[])) "
            "ON CONFLICT (day) DO UPDATE SET last_no = case_counters.last_no + excluded.last_no "
            "RETURNING day, last_no"), {"d": list(days), "n": list(days.values())}).tuples()
        self.counters.update((day, last - days[day]) for day, last in reserved)

    def actor(self, actor_id: int, action: str) -> Actor:
        """load_actor and require_role, from the users read once."""
        actor = self.actors.get(actor_id)
        if actor is None:
            raise NotPermitted("error.access.account_unusable")
        require_role(actor, action)
        return actor

    def open(self, book: _Book, actor_id: int, action: str) -> None:
        """cases.open_case without the row: the role, then the state (the version is the ledger's own)."""
        self.actor(actor_id, action)
        if book.case.state not in states_for(action):
            raise InvalidTransition("error.case.action_not_allowed_in_state", field="state",
                                    state=Phrase(f"state.{book.case.state}"), action=Phrase(f"action.{action}"))

    def intake(self, actor: int, form: Mapping[str, Any], parent: _Book | None = None) -> CaseRef:
        self.actor(actor, "intake")
        content = validation.text(form.get("content"), "content", Phrase("error.field.content"))
        facts = parse_facts({k: form[k] for k in ("received_at", "channel", "category", "compensation_claim",
                                                  "cause", "flags") if k in form}, self.policy)
        extras = intake_extras(form, facts.channel, facts.received_at, self.uow.now())
        assessment = self.assessed.get(facts) or assess(self.policy, facts, self.calendar, prose=False)
        day = facts.received_at.astimezone(SHANGHAI).date()
        self.counters[day] = number = self.counters.get(day, 0) + 1
        self.numbered.add(day)
        if assessment.responsible_department not in self.departments:  # as department_by_code
            raise NotFound("error.department.not_found", field="department", code=assessment.responsible_department)
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
        self.log_event(book, actor, "intake", facts.received_at, note=content, assessment=assessment.to_json(),
                       parent_case=parent.case.case_no if parent else None)
        for role in assessment.escalate_to:
            self.escalation(book, actor, role, f"rule:{role}", rule_reason(self.policy, case.grade, role),
                            facts.received_at)
        if extras.major_cause:  # cases.declare_major
            role = top_role(self.policy)
            self.log_event(book, actor, "major_declared", facts.received_at, cause=extras.major_cause,
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
        self.log_event(parent, actor, "re_complaint", self.by_number[ref.case_no].case.received_at,
                       note=ref.case_no, new_case=ref.case_no)
        return ref

    def resolve_at_intake(self, book: _Book, actor: int, form: Mapping[str, Any]) -> None:
        case, at = book.case, book.case.received_at
        explanation = validation.text(form.get("explanation"), "explanation", Phrase("error.field.explanation"))
        satisfaction = svc.checked_satisfaction(form.get("satisfaction"))
        case.outcome, case.fact_finding, case.measures = "resolved_at_intake", explanation, AT_INTAKE["measures"]
        case.accountability, case.resolved_at, case.feedback_at = AT_INTAKE["accountability"], at, at
        case.satisfaction = satisfaction
        self.log_event(book, actor, "resolve_at_intake", at, "resolved", explanation)
        self.log_event(book, actor, "feedback", at, "feedback_given", AT_INTAKE["feedback"],
                       method=AT_INTAKE["method"], satisfaction=case.satisfaction, at_intake=True)
        self.met(book, "resolve_at_intake", at)
        self.met(book, "feedback", at)
        self.waive(book)
        self.changed(book)

    def step(self, kind: str, actor: int, ref: CaseRef, **values: Any) -> CaseRef:
        book = self.by_number[ref.case_no]
        self.open(book, actor, ACTIONS.get(kind, kind))
        getattr(self, f"_{kind}")(book, actor, **values)
        return self.ref(book)

    def case(self, ref: CaseRef) -> Case:
        return self.by_number[ref.case_no].case

    def classify(self, actor: int, ref: CaseRef, *, at: datetime, **codes: str | None) -> CaseRef:
        """As services.casework.classification.classify: the codes, and an event when they changed."""
        book = self.by_number[ref.case_no]
        self.actor(actor, "classify")
        if book.case.state not in classification.CLASSIFY_STATES:
            raise InvalidTransition("error.case.action_not_allowed_in_state", field="state",
                                    state=Phrase(f"state.{book.case.state}"), action=Phrase("action.classify"))
        old = {d: getattr(book.case, jrt.COLUMNS[d]) for d in jrt.DIMENSIONS}
        new = {d: classification.code(d, codes.get(d)) for d in jrt.DIMENSIONS}
        if new != old:
            for dimension, value in new.items():
                setattr(book.case, jrt.COLUMNS[dimension], value)
            self.log_event(book, actor, "classified", at, old=old, new=new)
            self.changed(book)
        return self.ref(book)

    def _forward(self, book: _Book, actor: int, *, department: str, handler_id: int, handling_form: str,
                 at: datetime) -> None:
        case = book.case
        handling_form = validation.text(handling_form, "handling_form", Phrase("error.field.handling_form"))
        if department not in self.departments:
            raise NotFound("error.department.not_found", field="department", code=department)
        handler = self.actors.get(handler_id)
        if handler is None or handler.department_id != self.departments[department] \
                or not DEPARTMENT_STAFF & handler.roles:
            raise InvalidInput("error.case.handler_not_in_department", field="handler")
        if case.complained_employee_id is not None and handler_id == case.complained_employee_id:
            raise InvalidInput("error.case.recusal", field="handler", name=handler.display_name)  # no override here
        case.responsible_department_id, case.assignee_id = self.departments[department], handler_id
        case.handling_form, case.forwarded_at = handling_form, at
        self.log_event(book, actor, "forward", at, "forwarded", handling_form, department=department,
                       handler=handler.username)
        self.met(book, "forward", at)
        self.reassess(book, actor, at)
        self.changed(book)

    def _first_contact(self, book: _Book, actor: int, *, note: str, at: datetime) -> None:
        note = validation.text(note, "note", Phrase("error.field.first_contact_note"))
        book.case.first_contact_at = at
        self.log_event(book, actor, "first_contact", at, "in_progress", note)
        self.met(book, "first_contact", at)
        self.changed(book)

    def _escalate(self, book: _Book, actor: int, *, to_role: str, reason: str, at: datetime) -> None:
        if to_role not in self.policy.roles:
            raise InvalidInput("error.case.unknown_escalation_role", field="to_role", to_role=to_role)
        reason = validation.text(reason, "reason", Phrase("error.field.escalation_reason"))
        self.escalation(book, actor, to_role, None, reason, at)  # the case row itself does not change

    def _extend(self, book: _Book, actor: int, *, milestone: str, new_due: datetime, reason: str,
                customer_informed_at: datetime, informed_method: str, at: datetime) -> None:
        # the demo plans its extensions within the pack's limit; cases.extend checks that for a person
        row = book.deadlines[milestone]
        book.extensions.append(Extension(milestone=milestone, old_due_at=row.due_at, new_due_at=new_due,
                                         reason=reason, customer_informed_at=customer_informed_at,
                                         customer_informed_method=informed_method, requested_by_id=actor))
        old_due, row.due_at, row.extensions = row.due_at, new_due, row.extensions + 1
        self.log_event(book, actor, "extension", at, note=reason, milestone=milestone, old_due=iso(old_due),
                       new_due=iso(new_due), customer_informed_at=iso(customer_informed_at),
                       informed_method=informed_method)
        self.changed(book, at)

    def _resolve(self, book: _Book, actor: int, *, fact_finding: str, measures: str, accountability: str,
                 compensation_paid: Decimal, signed_confirmation: str | None, at: datetime) -> None:
        case = book.case
        case.fact_finding = validation.text(fact_finding, "fact_finding", Phrase("error.field.fact_finding"))
        case.measures = validation.text(measures, "measures", Phrase("error.field.measures"))
        case.accountability = validation.text(accountability, "accountability", Phrase("error.field.accountability"))
        case.compensation_paid = validation.amount(compensation_paid, "compensation_paid")
        if case.compensation_paid > 0:
            case.signed_confirmation = validation.text(signed_confirmation, "signed_confirmation",
                                                       Phrase("error.field.signed_confirmation"))
        case.outcome, case.resolved_at = "resolved", at
        self.log_event(book, actor, "resolve", at, "resolved", case.fact_finding, measures=case.measures,
                       accountability=case.accountability, compensation_paid=str(case.compensation_paid))
        self.met(book, "resolve", at)
        self.reassess(book, actor, at)
        self.changed(book)

    def _mark_invalid(self, book: _Book, actor: int, *, explanation: str, at: datetime) -> None:
        explanation = validation.text(explanation, "explanation", Phrase("error.field.explanation"))
        case = book.case
        case.outcome, case.fact_finding, case.resolved_at = "invalid", explanation, at
        case.measures, case.accountability = AT_INTAKE["invalid_measures"], AT_INTAKE["accountability"]
        self.log_event(book, actor, "invalid", at, "resolved", explanation)
        self.met(book, "invalid", at)
        self.changed(book)

    def _feedback(self, book: _Book, actor: int, *, method: str, satisfaction: int, at: datetime, note: str = "",
                  notification_method: str | None = None, notification_ref: str | None = None) -> None:
        method = validation.text(method, "method", Phrase("error.field.feedback_method"))
        proof = notification_proof(self.policy, notification_method, notification_ref)  # RULES.md §7.2
        satisfaction = svc.checked_satisfaction(satisfaction)
        book.case.satisfaction, book.case.feedback_at = satisfaction, at
        if proof:
            book.case.notification_method, book.case.notification_ref = (proof["notification_method"],
                                                                         proof["notification_ref"])
        self.log_event(book, actor, "feedback", at, "feedback_given", note or None, method=method,
                       satisfaction=satisfaction, **proof)
        self.met(book, "feedback", at)
        self.changed(book)

    def _return_visit(self, book: _Book, actor: int, *, method: str, satisfaction: int, note: str,
                      at: datetime) -> None:
        method = validation.text(method, "method", Phrase("error.field.visit_method"))
        note = validation.text(note, "note", Phrase("error.field.visit_note"))
        book.case.satisfaction, book.case.return_visit_at = svc.checked_satisfaction(satisfaction), at
        self.log_event(book, actor, "return_visit", at, "return_visit", note, method=method, satisfaction=satisfaction)
        self.met(book, "return_visit", at)
        self.changed(book)

    def _archive(self, book: _Book, actor: int, *, at: datetime) -> None:
        missing = missing_for_archive(book.case, self.policy)
        if missing:
            raise InvalidInput("error.case.handling_form_incomplete", field=missing[0], missing=field_names(missing))
        book.case.closed_at = book.case.closed_at or at
        self.log_event(book, actor, "archive", at, "archived")
        self.changed(book)

    def _withdraw(self, book: _Book, actor: int, *, reason: str, at: datetime) -> None:
        reason = validation.text(reason, "reason", Phrase("error.field.withdrawal_reason"))
        book.case.outcome, book.case.closed_at = "withdrawn", at
        self.log_event(book, actor, "withdraw", at, "withdrawn", reason)
        self.waive(book)
        self.changed(book)

    def note(self, actor: int, ref: CaseRef, at: datetime, note: str, **data: Any) -> None:
        """A note on the timeline that does not change the case (the import's origin)."""
        self.log_event(self.by_number[ref.case_no], actor, "note", at, note=note, **data)

    def open_deadline(self, ref: CaseRef, milestone: str) -> CaseDeadline | None:
        row = self.by_number[ref.case_no].deadlines.get(milestone)
        return row if row is not None and row.status == "open" else None  # as the runner's query asks

    # --- what every step shares -----------------------------------------------------------------------

    def log_event(self, book: _Book, actor: int | None, event_type: str, at: datetime, to_state: str | None = None,
                  note: str | None = None, **data: Any) -> None:
        book.events.append(timeline_entry(book.case, actor, event_type, at, to_state, note, **data))

    def escalation(self, book: _Book, actor: int, role: str, rule_key: str | None, reason: str, at: datetime) -> None:
        escalation = Escalation(to_role=role, rule_key=rule_key, reason=reason, created_by_id=actor, created_at=at)
        book.escalations.append(escalation)
        self.log_event(book, actor, "escalation", at, note=reason, to_role=role, rule=rule_key,
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
        added, changes = reconcile(book.deadlines, assess(self.policy, case_facts(book.case), self.calendar,
                                                          prose=False))
        book.deadlines.update((row.milestone, row) for row in added)
        if changes:
            self.log_event(book, actor, "deadlines_recomputed", at, note="start of milestone", changes=changes)

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
        self.nearest()
        self.insert(Customer.__table__, customers, created_at=now)
        self.insert(Case.__table__, [b.case for b in self.books], created_at=now)
        self.insert(CaseDeadline.__table__, [d for b in self.books for d in b.deadlines.values()], keep_id=False)
        self.insert(Extension.__table__, [x for b in self.books for x in b.extensions], keep_id=False,
                    created_at=now)
        self.insert(Escalation.__table__, escalations)
        self.insert(CaseEvent.__table__, [e for b in self.books for e in b.events], keep_id=False, recorded_at=now)
        if self.numbered:  # only those: another day's counter may have moved on since it was read
            days = sorted(self.numbered)
            session.execute(text(
                "INSERT INTO case_counters (day, last_no) SELECT * FROM unnest(CAST(:d AS date[]), CAST(:n AS int[])) "
                "ON CONFLICT (day) DO UPDATE SET last_no = excluded.last_no"),
                {"d": days, "n": [self.counters[day] for day in days]})

    def nearest(self) -> None:
        """Each case's stored nearest deadline as cases.finish leaves it (`store_next_due`, issue 13 §1), before the
        case is written rather than updated after (10,000 cases: each row and its dozen index entries twice): the
        earliest open row, the first added of equals as the rows' ids order them, its at-risk instant by the same
        SQL expression."""
        firsts = {}
        for book in self.books:
            owed = [d for d in book.deadlines.values() if d.status == "open"]
            first = min(owed, key=lambda d: d.due_at, default=None)
            book.case.next_due_at, book.case.next_milestone, book.case.next_at_risk_at = (
                (first.due_at, first.milestone, None) if first else (None, None, None))
            if first is not None:
                firsts[book.case] = first
        if not firsts:
            return
        when = DateTime(timezone=True)
        at_risk = self.uow.session.scalars(
            select(at_risk_from(column("starts_at", when), column("due_at", when),
                                warning_windows(self.uow)[self.policy.code]))
            .select_from(text("unnest(CAST(:starts AS timestamptz[]), CAST(:dues AS timestamptz[])) WITH ORDINALITY "
                              "AS v(starts_at, due_at, n)")).order_by(column("n")),
            {"starts": [d.starts_at for d in firsts.values()], "dues": [d.due_at for d in firsts.values()]})
        for case, at in zip(firsts, at_risk, strict=True):
            case.next_at_risk_at = at

    def ids(self, table: str, count: int) -> list[int]:
        return list(self.uow.session.scalars(text(
            "SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"), {"t": table, "n": count}))

    def insert(self, table: Any, rows: Iterable[Any], *, keep_id: bool = True, **stamps: datetime) -> None:
        """The rows by COPY, in the caller's transaction: a third of the time of INSERT's pages of 1,000 rows
        (10,000 imported rows are ~100,000 records, issue 13 §3)."""
        assert isinstance(table, Table)
        columns = [c for c in table.columns if (keep_id or c.key != "id") and c.key not in stamps]
        fixed = tuple(stamps.values())
        copy_rows(self.uow.session, table.name, [c.name for c in columns] + list(stamps),
                  ((*(_value(row, c) for c in columns), *fixed) for row in rows))


class Services:
    """The same steps as the `Ledger`, each through the case services as the staff would take it in the app: the
    reference the ledger is tested against, and the demo's cases that cover every path."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow, self.calendar = uow, uow.calendar()

    def intake(self, actor: int, form: dict[str, Any]) -> CaseRef:
        return svc.intake(self.uow, actor, form)

    def re_complaint(self, actor: int, parent_no: str, form: dict[str, Any]) -> CaseRef:
        parent = svc.case_by_number(self.uow, parent_no)
        return svc.re_complaint(self.uow, actor, parent_no, parent.version, form)

    def step(self, kind: str, actor: int, ref: CaseRef, **values: Any) -> CaseRef:
        service: Callable[..., CaseRef] = getattr(svc, kind)
        return service(self.uow, actor, ref.case_no, ref.version, **values)

    def case(self, ref: CaseRef) -> Case:
        return svc.case_by_number(self.uow, ref.case_no)

    def classify(self, actor: int, ref: CaseRef, *, at: datetime, **codes: str | None) -> CaseRef:
        return classification.classify(self.uow, actor, ref.case_no, ref.version, at=at, **codes)

    def note(self, actor: int, ref: CaseRef, at: datetime, note: str, **data: Any) -> None:
        self.uow.session.add(CaseEvent(case_id=ref.id, at=at, actor_id=actor, event_type="note", from_state=ref.state,
                                       to_state=ref.state, note=note, data=data))

    def open_deadline(self, ref: CaseRef, milestone: str) -> CaseDeadline | None:
        return self.uow.session.scalar(select(CaseDeadline).where(
            CaseDeadline.case_id == ref.id, CaseDeadline.milestone == milestone, CaseDeadline.status == "open"))


Writer = Services | Ledger  # the same steps, one at a time through the services or set-based


@contextmanager
def many_objects() -> Iterator[None]:
    """No cyclic garbage collection while the ledger holds a whole import in memory: its passes over the ~100
    records a row, alive until written, took a third of a 10,000-row import (issue 13 §3). Reference counting
    still frees everything else; collection resumes (and catches up) when the block ends."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _value(row: Any, column: Column[Any]) -> Any:
    """The row's value, or the column's default where the ORM would have filled it in on flush."""
    value = row.__dict__.get(column.key)  # as getattr, without the instrumentation (a million reads an import)
    if value is None and isinstance(column.default, ScalarElementColumnDefault):
        return column.default.arg
    return value
