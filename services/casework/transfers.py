"""Regulator transfers after intake (issue 11 §3, RULES.md §7.3): the reply package that goes back to the regulator
(case summary, decision, proof of notification, the regulator's reference and dates) as printable HTML and xlsx,
and recording that it was sent; and a complaint found major later (issue 11 §5, order 3 art. 29).

Intake records the source, reference and transfer date (services.rules.intake_extras, cases._register).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import escape
from typing import Any

import pandas as pd
from sqlalchemy import select

from db.models import Case, CaseEvent, Customer, Department, User
from services.casework.case_view import mask, visible_case
from services.casework.cases import SATISFACTION, CaseRef, declare_major, open_case
from services.casework.handling_form import html_row, when
from services.errors import InvalidInput, Phrase
from services.export import write_xlsx
from services.institution import audit
from services.institution.access import load_actor, may
from services.rules import validation
from services.rules.calendar import SHANGHAI
from services.rules.intake_extras import major
from services.rules.policy import Policy
from services.rules.transitions import OPEN_STATES
from services.unit_of_work import UnitOfWork
from services.words import N_, text

# The labels of the codes (built at run time, so the catalogue tool is shown them here)
SOURCE_KEYS = (N_("source.own"), N_("source.nfra_12378"), N_("source.pboc_12363"), N_("source.csrc_12386"),
               N_("source.petition"), N_("source.other_regulator"))
MAJOR_CAUSE_KEYS = (N_("major_cause.disaster"), N_("major_cause.accident"), N_("major_cause.public_health"),
                    N_("major_cause.group_in_person"), N_("major_cause.regulator_designated"))
EVENT_KEYS = (N_("event.major_declared"), N_("event.regulator_reply"))
# The reply reports the decision, so it goes once the case is decided (RULES.md §7.3)
REPLY_STATES = ("resolved", "feedback_given", "return_visit", "archived")


def source_label(source: str, lang: str) -> str:
    return text(f"source.{source}", lang)


def _ref(uow: UnitOfWork, case: Case, at: datetime) -> CaseRef:
    case.updated_at = at  # the change bumps the case's version
    uow.flush()
    return CaseRef(case.id, case.case_no, case.version, case.state)


# --- a major complaint found later ----------------------------------------------------------------------

def declare_major_later(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, cause: str,
                        people: int | None = None, at: datetime | None = None) -> CaseRef:
    """A case found major after intake (order 3 art. 29): the same emergency flow as at intake, once."""
    actor, case, policy = open_case(uow, actor_id, case_no, version, "declare_major", OPEN_STATES)
    if case.major_cause:
        raise InvalidInput("error.major.already_declared", field="major_cause")
    checked, people = major({"major_cause": cause, "major_people": people})
    if checked is None:
        raise InvalidInput("error.input.missing", field="major_cause", name=Phrase("error.field.major_cause"))
    at = uow.at(at)
    declare_major(uow, case, actor, policy, checked, people, at)
    return _ref(uow, case, at)


# --- the reply to the regulator -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReplySent:
    sent_on: date
    method: str
    note: str | None
    recorded_by: str


@dataclass(frozen=True)
class ReplyPackage:
    """What goes back to the regulator (RULES.md §7.3, order 3 arts. 31–33)."""

    case_no: str
    pack: str
    source: str
    regulator_ref: str
    transferred_on: date
    received_at: datetime
    channel: str
    channel_note: str | None
    customer_name: str
    customer_phone: str | None  # masked, as on the printed handling form
    agent_name: str | None
    agent_authorisation: str | None
    category: str
    content: str  # the complaint as received: the case summary
    major_cause: str | None
    department: str
    handler: str | None
    state: str
    department_code: str
    outcome: str | None
    fact_finding: str | None
    measures: str | None
    compensation_paid: Decimal
    resolved_at: datetime | None
    feedback_at: datetime | None
    feedback_method: str | None
    satisfaction: int | None
    notification_method: str | None  # proof of notification (RULES.md §7.2 art. 21); None: not recorded
    notification_ref: str | None
    policy: Policy
    replies: list[ReplySent] = field(default_factory=list)


def reply_package(uow: UnitOfWork, actor_id: int, case_no: str, now: datetime | None = None) -> ReplyPackage:
    """The reply package of a transferred case, for a user who may view the case; printing it is audited."""
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    if case.source == "own" or case.regulator_ref is None or case.transferred_on is None:
        raise InvalidInput("error.reply.not_transferred", field="source", case_no=case.case_no)
    customer, department = session.get(Customer, case.customer_id), session.get(Department,
                                                                                case.responsible_department_id)
    assert customer is not None and department is not None  # foreign keys
    handler = session.get(User, case.assignee_id) if case.assignee_id else None
    events = list(session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.event_type.in_(("feedback", "regulator_reply")))
        .order_by(CaseEvent.at, CaseEvent.id)))
    feedback = [e for e in events if e.event_type == "feedback"]
    names: dict[int | None, str] = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({e.actor_id for e in events if e.actor_id is not None}))).tuples().all())
    package = ReplyPackage(
        case_no=case.case_no, pack=case.pack, source=case.source, regulator_ref=case.regulator_ref,
        transferred_on=case.transferred_on, received_at=case.received_at, channel=case.channel,
        channel_note=case.channel_note, customer_name=customer.name, customer_phone=mask(customer.phone, "phone"),
        agent_name=case.agent_name, agent_authorisation=case.agent_authorisation, category=case.category,
        content=case.content, major_cause=case.major_cause, department=department.name,
        handler=handler.display_name if handler else None, state=case.state, department_code=department.code,
        outcome=case.outcome,
        fact_finding=case.fact_finding, measures=case.measures, compensation_paid=case.compensation_paid,
        resolved_at=case.resolved_at, feedback_at=case.feedback_at,
        feedback_method=feedback[-1].data.get("method") if feedback else None, satisfaction=case.satisfaction,
        notification_method=case.notification_method, notification_ref=case.notification_ref,
        policy=uow.policy(case.pack),
        replies=[ReplySent(date.fromisoformat(e.data["sent_on"]), e.data["method"], e.note,
                           names.get(e.actor_id, "")) for e in events if e.event_type == "regulator_reply"])
    audit.record_once(uow, actor.id, "case_printed", case.id, uow.at(now))  # issue 8 §7: audited last (lock to commit)
    return package


def record_reply(uow: UnitOfWork, actor_id: int, case_no: str, version: int, *, sent_on: date, method: str,
                 note: str = "", at: datetime | None = None) -> CaseRef:
    """The reply package went to the regulator on `sent_on` by `method` (RULES.md §7.3): a timeline event."""
    actor, case, _ = open_case(uow, actor_id, case_no, version, "regulator_reply", REPLY_STATES)
    if case.source == "own":
        raise InvalidInput("error.reply.not_transferred", field="source", case_no=case.case_no)
    method = validation.text(method, "method", Phrase("error.field.reply_method"))
    note = validation.text(note, "note", Phrase("error.field.reply_note"), required=False)
    at = uow.at(at)
    if not isinstance(sent_on, date) or isinstance(sent_on, datetime):
        raise InvalidInput("error.input.missing", field="sent_on", name=Phrase("error.field.reply_sent_on"))
    decided = (case.resolved_at or case.received_at).astimezone(SHANGHAI).date()
    if not decided <= sent_on <= at.astimezone(SHANGHAI).date():
        raise InvalidInput("error.reply.sent_on_out_of_range", field="sent_on", earliest=decided.isoformat())
    uow.session.add(CaseEvent(case_id=case.id, at=at, actor_id=actor.id, event_type="regulator_reply",
                              from_state=case.state, to_state=case.state, note=note or None,
                              data={"sent_on": sent_on.isoformat(), "method": method}))
    return _ref(uow, case, at)


@dataclass(frozen=True)
class StatutoryMarks:
    """What the case page shows of the intake's statutory fields, and which of this module's actions it offers."""

    source: str
    regulator_ref: str | None
    transferred_on: date | None
    channel_note: str | None
    agent_name: str | None
    agent_authorisation: str | None
    major_cause: str | None
    major_people: int | None
    replies: list[ReplySent]
    may_reply: bool
    may_declare_major: bool


def case_marks(uow: UnitOfWork, actor_id: int, case_no: str) -> StatutoryMarks:
    """The transfer, agent and major marks of a case the user may view."""
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    events = list(session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.event_type.in_(("major_declared", "regulator_reply")))
        .order_by(CaseEvent.at, CaseEvent.id)))
    declared = [e for e in events if e.event_type == "major_declared"]
    names: dict[int | None, str] = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_({e.actor_id for e in events if e.actor_id is not None}))).tuples().all())
    return StatutoryMarks(
        case.source, case.regulator_ref, case.transferred_on, case.channel_note, case.agent_name,
        case.agent_authorisation, case.major_cause, declared[-1].data.get("people") if declared else None,
        [ReplySent(date.fromisoformat(e.data["sent_on"]), e.data["method"], e.note, names.get(e.actor_id, ""))
         for e in events if e.event_type == "regulator_reply"],
        may_reply=case.source != "own" and case.state in REPLY_STATES and may(actor, "regulator_reply"),
        may_declare_major=case.major_cause is None and case.state in OPEN_STATES and may(actor, "declare_major"))


# --- printable HTML and xlsx ----------------------------------------------------------------------------

_CSS = """@page { size: A4; margin: 15mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 16pt; margin: 0 0 2mm; } .basis { text-align: center; font-size: 8pt; }
h2 { font-size: 11pt; margin: 4mm 0 1mm; } table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { width: 28%; font-weight: normal; background: #f2f2f2; } td.text { white-space: pre-wrap; }
section { break-inside: avoid; } .sign { margin-top: 10mm; }"""


def sections(package: ReplyPackage, lang: str = "zh") -> list[tuple[str, list[tuple[str, str]]]]:
    """The package's sections as (title, [(label, value)]) in `lang`: the one content of the HTML and the xlsx."""
    p, policy = package, package.policy

    def word(key: str) -> str:
        return text(f"reply.{key}", lang)

    unrecorded = word("not_recorded")
    satisfaction = text(f"satisfaction.{p.satisfaction}", lang) if p.satisfaction in SATISFACTION else ""
    channel = policy.label("channel", p.channel, lang) + (f" ({p.channel_note})" if p.channel_note else "")
    agent = f"{p.agent_name} ({p.agent_authorisation})" if p.agent_name else ""
    # the directory's names are Chinese: another reader gets a pack department's label (as the pages do)
    department = policy.label("department", p.department_code, lang) \
        if lang != "zh" and p.department_code in policy.departments else p.department
    return [
        (word("transfer"), [
            (word("source"), source_label(p.source, lang)), (word("regulator_ref"), p.regulator_ref),
            (word("transferred_on"), p.transferred_on.isoformat()), (word("received_at"), when(p.received_at)),
            (word("case_no"), p.case_no)]),
        (word("summary"), [
            (word("customer_name"), p.customer_name), (word("customer_phone"), p.customer_phone or ""),
            (word("agent"), agent), (word("channel"), channel),
            (word("category"), policy.label("category", p.category, lang)), (word("content"), p.content),
            (word("major_cause"), text(f"major_cause.{p.major_cause}", lang) if p.major_cause else ""),
            (word("department"), department), (word("handler"), p.handler or "")]),
        (word("decision"), [
            (word("fact_finding"), p.fact_finding or ""), (word("measures"), p.measures or ""),
            (word("outcome"), text(f"printed.outcome.{p.outcome}", lang) if p.outcome else ""),
            (word("compensation_paid"), str(p.compensation_paid)), (word("resolved_at"), when(p.resolved_at))]),
        (word("notification"), [
            (word("feedback_at"), when(p.feedback_at)), (word("feedback_method"), p.feedback_method or ""),
            (word("satisfaction"), satisfaction),
            (word("notification_method"), text(f"notification_method.{p.notification_method}", lang)
             if p.notification_method else unrecorded),
            (word("notification_ref"), p.notification_ref or unrecorded)]),
        (word("replies"), [(r.sent_on.isoformat(), f"{r.method} · {r.recorded_by}" + (f" · {r.note}" if r.note else ""))
                           for r in p.replies] or [(word("not_yet_sent"), "")]),
    ]


def to_html(package: ReplyPackage, lang: str = "zh") -> str:
    """A self-contained printable A4 page of the reply package; every value escaped."""
    title = text("reply.title", lang)
    body = []
    for number, (heading, rows) in enumerate(sections(package, lang), 1):
        cells = "".join(html_row(label, value) for label, value in rows)
        body.append(f"<section><h2>{number}. {escape(heading)}</h2><table>{cells}</table></section>")
    basis = text("reply.basis", lang)
    return "".join([
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)} {escape(package.case_no)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{escape(title)}</h1><p class="basis">{escape(basis)}</p>', *body,
        f'<p class="sign">{escape(text("reply.signatures", lang))}</p></body></html>'])


def to_xlsx(package: ReplyPackage, lang: str = "zh") -> bytes:
    """The same package as one sheet (section, item, value), through services.export: no cell is a formula."""
    rows: list[dict[str, Any]] = []
    heads = (text("reply.xlsx.section", lang), text("reply.xlsx.item", lang), text("reply.xlsx.value", lang))
    for heading, pairs in sections(package, lang):
        rows += [dict(zip(heads, (heading, label, value), strict=True)) for label, value in pairs]
    out = io.BytesIO()
    write_xlsx({package.case_no: pd.DataFrame(rows, columns=list(heads))}, out)
    return out.getvalue()
