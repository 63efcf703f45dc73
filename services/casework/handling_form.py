"""The printable handling form (客户投诉处理单, seed 000 art. 17 and attachment 1; seed 001 art. 26
《客户投诉受理情况表》): every field the seeds ask for, and a self-contained A4 HTML page of it.

Customer phone and ID numbers print masked (RULES.md §6): the paper copy is filed, not a reveal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from html import escape

from sqlalchemy import select

from db.models import Case, CaseDeadline, CaseEvent, Customer, Department, Extension, User
from services.casework.case_view import mask, visible_case
from services.casework.cases import SATISFACTION
from services.institution import audit
from services.institution.access import load_actor
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.citation import cite, numeral
from services.rules.policy import Policy
from services.unit_of_work import UnitOfWork
from services.words import N_, text

_PROOF = (N_("printed.notification_method"), N_("printed.notification_ref"))  # `_word` builds these keys


@dataclass(frozen=True)
class FormDeadline:
    milestone: str
    due_at: datetime
    original_due_at: datetime
    met_at: datetime | None
    result: str  # met | met_late | waived | open | overdue

    @property
    def met_on_time(self) -> bool | None:
        """True met in time, False late or overdue, None waived or still running."""
        return {"met": True, "met_late": False, "overdue": False}.get(self.result)


@dataclass(frozen=True)
class FormExtension:
    milestone: str
    old_due_at: datetime
    new_due_at: datetime
    reason: str
    customer_informed_at: datetime
    informed_method: str


@dataclass(frozen=True)
class HandlingForm:
    case_no: str
    pack: str
    state: str
    outcome: str | None
    received_at: datetime
    channel: str
    customer_name: str
    customer_phone: str | None  # masked
    customer_id_number: str | None  # masked
    content: str
    category: str
    grade: str
    handling_level: str | None
    flags: list[str]
    compensation_claimed: Decimal
    first_responder: str
    responsible_department: str
    handler: str | None
    forwarded_at: datetime | None
    handling_form: str | None
    first_contact_at: datetime | None
    fact_finding: str | None
    measures: str | None
    accountability: str | None
    compensation_paid: Decimal
    signed_confirmation: str | None
    resolved_at: datetime | None
    feedback_at: datetime | None
    feedback_method: str | None
    satisfaction: int | None
    return_visit_at: datetime | None
    return_visit_method: str | None
    return_visit_note: str | None
    archived_at: datetime | None
    parent_case_no: str | None
    policy: Policy  # the pack as this institution runs it (edits included), for the form's labels
    deadlines: list[FormDeadline] = field(default_factory=list)
    extensions: list[FormExtension] = field(default_factory=list)
    notification_method: str | None = None  # the proof of notification (RULES.md §7.2 art. 21)
    notification_ref: str | None = None
    # the statutory intake fields (issue 11 §3, §5, §7)
    source: str = "own"
    regulator_ref: str | None = None
    transferred_on: date | None = None
    channel_note: str | None = None
    agent_name: str | None = None
    agent_authorisation: str | None = None
    major_cause: str | None = None


def _last_events(uow: UnitOfWork, case: Case) -> dict[str, CaseEvent]:
    """The latest feedback, return-visit and archive event (their method and note live there)."""
    rows = uow.session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.event_type.in_(("feedback", "return_visit", "archive")))
        .order_by(CaseEvent.at, CaseEvent.id))
    return {e.event_type: e for e in rows}


def _result(row: CaseDeadline, now: datetime) -> str:
    if row.status != "open":
        return row.status
    return "overdue" if now >= row.due_at else "open"


def handling_form(uow: UnitOfWork, actor_id: int, case_no: str, now: datetime | None = None) -> HandlingForm:
    """The case's handling form, for a user who may view the case."""
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    now = uow.at(now)
    customer = session.get(Customer, case.customer_id)
    department = session.get(Department, case.responsible_department_id)
    assert customer is not None and department is not None  # foreign keys
    names: dict[int | None, str] = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_([i for i in (case.first_responder_id, case.assignee_id) if i is not None]))).tuples().all())
    events = _last_events(uow, case)
    feedback, visit, archived = events.get("feedback"), events.get("return_visit"), events.get("archive")
    parent = session.get(Case, case.parent_case_id) if case.parent_case_id else None
    deadlines = session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id)
                                .order_by(CaseDeadline.due_at, CaseDeadline.id))
    extensions = session.scalars(select(Extension).where(Extension.case_id == case.id).order_by(Extension.id))
    form = HandlingForm(
        case_no=case.case_no, pack=case.pack, state=case.state, outcome=case.outcome, received_at=case.received_at,
        channel=case.channel, customer_name=customer.name, customer_phone=mask(customer.phone, "phone"),
        customer_id_number=mask(customer.id_number, "id_number"), content=case.content, category=case.category,
        grade=case.grade, handling_level=case.handling_level, flags=list(case.flags),
        compensation_claimed=case.compensation_claimed, first_responder=names.get(case.first_responder_id, ""),
        responsible_department=department.name, handler=names.get(case.assignee_id),
        forwarded_at=case.forwarded_at, handling_form=case.handling_form, first_contact_at=case.first_contact_at,
        fact_finding=case.fact_finding, measures=case.measures, accountability=case.accountability,
        compensation_paid=case.compensation_paid, signed_confirmation=case.signed_confirmation,
        resolved_at=case.resolved_at, feedback_at=case.feedback_at,
        feedback_method=feedback.data.get("method") if feedback else None, satisfaction=case.satisfaction,
        return_visit_at=case.return_visit_at, return_visit_method=visit.data.get("method") if visit else None,
        return_visit_note=visit.note if visit else None, archived_at=archived.at if archived else None,
        parent_case_no=parent.case_no if parent else None, policy=uow.policy(case.pack),
        deadlines=[FormDeadline(d.milestone, d.due_at, d.original_due_at, d.met_at, _result(d, now))
                   for d in deadlines],
        extensions=[FormExtension(e.milestone, e.old_due_at, e.new_due_at, e.reason, e.customer_informed_at,
                                  e.customer_informed_method) for e in extensions],
        notification_method=case.notification_method, notification_ref=case.notification_ref,
        source=case.source, regulator_ref=case.regulator_ref, transferred_on=case.transferred_on,
        channel_note=case.channel_note, agent_name=case.agent_name, agent_authorisation=case.agent_authorisation,
        major_cause=case.major_cause)
    audit.record_once(uow, actor.id, "case_printed", case.id, now)  # issue 8 §7: audited last (chain lock to commit)
    return form


# --- printable HTML -------------------------------------------------------------------------------

_CSS = """@page { size: A4; margin: 15mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 16pt; margin: 0 0 2mm; } .basis { text-align: center; font-size: 8pt; }
h2 { font-size: 11pt; margin: 4mm 0 1mm; } table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { width: 28%; font-weight: normal; background: #f2f2f2; } .sign { margin-top: 10mm; }
td.text { white-space: pre-wrap; } section { break-inside: avoid; }
table.grid th { width: auto; }  /* a grid's columns share the width (issue 10 §5) */"""


def _word(key: str, lang: str) -> str:
    """A label of the printed form in `lang`, from the catalogue (`printed.*`, issue 9 §6)."""
    return text(f"printed.{key}", lang)


def when(at: datetime | None) -> str:
    """An instant as printed documents show it (Shanghai, to the minute); blank when it did not happen."""
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if at else ""


def html_row(label: str, value: object) -> str:
    """One line of a printed table, both sides escaped: the printed form, the decision letter, the reply package."""
    shown = "" if value is None else str(value)
    return f'<tr><th>{escape(label)}</th><td class="text">{escape(shown)}</td></tr>'


def _row(key: str, value: object, lang: str) -> str:
    return html_row(_word(key, lang), value)


def _heading(key: str, number: int, lang: str) -> str:
    """Sections are numbered as printed, so a form without extensions has no gap (issue 10 §5)."""
    shown = numeral(number) if lang == "zh" else str(number)
    heading = text("printed.section", lang, number=shown, title=_word(key, lang))
    return f"<h2>{escape(heading)}</h2>"


def _section(key: str, rows: list[str], lang: str, number: int) -> str:
    return f"<section>{_heading(key, number, lang)}<table>{''.join(rows)}</table></section>"


def _grid(key: str, heads: tuple[str, ...], cells: Sequence[tuple[str, ...]], lang: str, number: int) -> str:
    head = "".join(f"<th>{escape(_word(h, lang))}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    return f'<section>{_heading(key, number, lang)}<table class="grid"><tr>{head}</tr>{body}</table></section>'


def _statutory_rows(form: HandlingForm, lang: str) -> list[str]:
    """The other channel's note, a regulator's transfer, an agent and a major cause, where the case has them."""
    rows = [_row("channel_note", form.channel_note, lang)] if form.channel_note else []
    if form.source != "own":
        rows += [_row("source", text(f"source.{form.source}", lang), lang),
                 _row("regulator_ref", form.regulator_ref, lang),
                 _row("transferred_on", form.transferred_on.isoformat() if form.transferred_on else "", lang)]
    if form.agent_name:
        rows += [_row("agent_name", form.agent_name, lang), _row("agent_authorisation", form.agent_authorisation, lang)]
    if form.major_cause:
        rows.append(_row("major_cause", text(f"major_cause.{form.major_cause}", lang), lang))
    return rows


def to_html(form: HandlingForm, lang: str = "zh") -> str:
    """A self-contained printable A4 page of the form (Chinese labels by default)."""
    policy = form.policy

    def label(kind: str, code: str) -> str:
        return policy.label(kind, code, lang) if code else ""

    satisfaction = text(f"satisfaction.{form.satisfaction}", lang) if form.satisfaction in SATISFACTION else ""
    sep = text("reason.sep", lang)
    intake = [_row("case_no", form.case_no, lang), _row("received_at", when(form.received_at), lang),
              _row("channel", label("channel", form.channel), lang), _row("customer_name", form.customer_name, lang),
              _row("customer_phone", form.customer_phone, lang),
              _row("customer_id_number", form.customer_id_number, lang), _row("content", form.content, lang),
              _row("category", label("category", form.category), lang), _row("grade", label("grade", form.grade), lang),
              _row("flags", sep.join(label("flag", f) for f in form.flags), lang),
              _row("compensation_claimed", form.compensation_claimed, lang),
              _row("first_responder", form.first_responder, lang)]
    if policy.handling_levels:  # a pack without handling levels (bank) prints no empty row (issue 10 §5)
        intake.insert(9, _row("handling_level", label("handling_level", form.handling_level or ""), lang))
    if form.parent_case_no:
        intake.append(_row("parent_case_no", form.parent_case_no, lang))
    intake += _statutory_rows(form, lang)
    forward = [_row("responsible_department", form.responsible_department, lang),
               _row("handler", form.handler, lang), _row("forwarded_at", when(form.forwarded_at), lang),
               _row("handling_form", form.handling_form, lang)]
    handling = [_row("first_contact_at", when(form.first_contact_at), lang),
                _row("fact_finding", form.fact_finding, lang), _row("measures", form.measures, lang),
                _row("accountability", form.accountability, lang),
                _row("compensation_paid", form.compensation_paid, lang),
                _row("signed_confirmation", form.signed_confirmation, lang),
                _row("resolved_at", when(form.resolved_at), lang),
                _row("outcome", _word(f"outcome.{form.outcome}", lang) if form.outcome else "", lang)]
    feedback = [_row("feedback_at", when(form.feedback_at), lang), _row("feedback_method", form.feedback_method, lang),
                _row("satisfaction", satisfaction, lang), _row("return_visit_at", when(form.return_visit_at), lang),
                _row("return_visit_method", form.return_visit_method, lang),
                _row("return_visit_note", form.return_visit_note, lang)]
    if form.notification_method:  # the proof of notification, where it was recorded (RULES.md §7.2 art. 21)
        feedback[2:2] = [_row("notification_method", text(f"notification_method.{form.notification_method}", lang),
                              lang), _row("notification_ref", form.notification_ref, lang)]
    deadlines = [(label("milestone", d.milestone), format_deadline(d.due_at), format_deadline(d.original_due_at),
                  when(d.met_at), _word(f"result.{d.result}", lang)) for d in form.deadlines]
    extensions = [(label("milestone", e.milestone), format_deadline(e.old_due_at), format_deadline(e.new_due_at),
                   e.reason, f"{when(e.customer_informed_at)} {e.informed_method}") for e in form.extensions]
    archive = [_row("archived_at", when(form.archived_at), lang),
               _row("state", text(f"state.{form.state}", lang), lang)]
    title = _word("title", lang)
    # The institution's own document (issue 10 §5), never another pack's seed
    basis = text("printed.basis", lang, document=cite(policy.source, policy.documents, lang))
    sections = [("intake", intake), ("forward", forward), ("handling", handling), ("feedback", feedback)]
    grids = [("deadlines", ("milestone", "due_at", "original_due_at", "met_at", "result"), deadlines)]
    if extensions:
        grids.append(("extensions", ("milestone", "old_due_at", "new_due_at", "reason", "informed"), extensions))
    n = len(sections)
    return "".join([
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)} {escape(form.case_no)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{escape(title)}</h1><p class="basis">{escape(basis)}</p>',
        *(_section(key, rows, lang, i) for i, (key, rows) in enumerate(sections, 1)),
        *(_grid(key, heads, cells, lang, n + i) for i, (key, heads, cells) in enumerate(grids, 1)),
        _section("archive", archive, lang, n + len(grids) + 1),
        f'<p class="sign">{escape(_word("signatures", lang))}</p></body></html>'])
