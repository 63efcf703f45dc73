"""The decision letter (投诉处理决定告知书, RULES.md §7.2, CBIRC order 2020 no. 3 art. 19): the verified facts, the
decision with its basis and reasons, and the complainant's further remedies — 申请核查 within the pack's
`review_request` period, mediation, arbitration, litigation —, generated from the case; and a self-contained
printable A4 page of it, every user-typed value escaped (never Markdown).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from html import escape

from db.models import Case, Customer, Department
from services.casework.case_view import visible_case
from services.casework.handling_form import html_row, when
from services.errors import InvalidTransition
from services.institution import audit
from services.institution.access import load_actor
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.citation import cite
from services.rules.duties import review_request_ends
from services.rules.policy import Policy
from services.unit_of_work import UnitOfWork
from services.words import N_, text

_WORDS = (N_("letter.title"), N_("letter.number"), N_("letter.dear"), N_("letter.the_complaint"), N_("letter.facts"),
          N_("letter.decision"), N_("letter.remedies"), N_("letter.notification"), N_("letter.issued_on"),
          N_("letter.institution"), N_("letter.case_no"), N_("letter.customer_name"), N_("letter.received_at"),
          N_("letter.complaint"), N_("letter.reviewed_case_no"), N_("letter.outcome"), N_("letter.measures"),
          N_("letter.accountability"), N_("letter.compensation_paid"), N_("letter.basis"), N_("letter.decided_at"),
          N_("letter.told_at"), N_("letter.notification_method"), N_("letter.notification_ref"),
          N_("letter.remedy_review"), N_("letter.remedy_review_until"), N_("letter.remedy_mediation"),
          N_("letter.remedy_arbitration"), N_("letter.remedy_litigation"))  # `_word` builds these keys


@dataclass(frozen=True)
class DecisionLetter:
    case_no: str
    institution: str  # the pack's name for the institution, in Chinese (the letter's language by default)
    institution_en: str
    department: str
    customer_name: str
    received_at: datetime
    complaint: str
    outcome: str | None  # resolved | invalid | resolved_at_intake
    fact_finding: str  # verified facts
    measures: str  # the decision: what is done
    accountability: str
    compensation_paid: Decimal
    decided_at: datetime
    told_at: datetime | None
    notification_method: str | None
    notification_ref: str | None
    issued_on: datetime  # the day the complainant was told, or the day printed while not yet told
    reviewed_case_no: str | None  # this decision answers a review of that case
    review_days: int | None  # the statutory review period, where the layer applies
    review_ends: datetime | None  # exclusive; known once the complainant was told
    policy: Policy  # for the cited documents' titles


def decision_letter(uow: UnitOfWork, actor_id: int, case_no: str, now: datetime | None = None) -> DecisionLetter:
    """The letter of a decided case, for a user who may view it; every print is audited (issue 8 §7)."""
    session = uow.session
    actor = load_actor(session, actor_id)
    case = visible_case(session, actor, case_no)
    if case.resolved_at is None:
        raise InvalidTransition("error.letter.not_decided", field="state")
    now = uow.at(now)
    customer = session.get(Customer, case.customer_id)
    department = session.get(Department, case.responsible_department_id)
    assert customer is not None and department is not None  # foreign keys
    policy = uow.policy(case.pack)
    layer = policy.statutory if policy.statutory_on else None
    reviewed = session.get(Case, case.reviewed_case_id) if case.reviewed_case_id else None
    letter = DecisionLetter(
        case_no=case.case_no, institution=policy.name.text("zh"), institution_en=policy.name.text("en"),
        department=department.name, customer_name=customer.name, received_at=case.received_at,
        complaint=case.content, outcome=case.outcome, fact_finding=case.fact_finding or "",
        measures=case.measures or "", accountability=case.accountability or "",
        compensation_paid=case.compensation_paid, decided_at=case.resolved_at, told_at=case.feedback_at,
        notification_method=case.notification_method, notification_ref=case.notification_ref,
        issued_on=case.feedback_at or now,  # the letter is dated the day it told the complainant; before that, today
        reviewed_case_no=reviewed.case_no if reviewed else None,
        review_days=layer.review_request.n if layer and not reviewed else None,
        review_ends=review_request_ends(layer, uow.calendar(), case.feedback_at)
        if layer and case.feedback_at and not reviewed else None, policy=policy)
    audit.record_once(uow, actor.id, "case_printed", case.id, now)  # issue 8 §7: audited last (chain lock to commit)
    return letter


# --- printable HTML -------------------------------------------------------------------------------

_CSS = """@page { size: A4; margin: 20mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 11pt; color: #000; }
h1 { text-align: center; font-size: 16pt; margin: 0 0 2mm; } .no { text-align: center; font-size: 9pt; }
h2 { font-size: 11.5pt; margin: 5mm 0 1mm; } table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { width: 26%; font-weight: normal; background: #f2f2f2; } td.text, p.text { white-space: pre-wrap; }
ol { margin: 1mm 0 0 6mm; padding: 0; } .sign { margin-top: 12mm; text-align: right; }
section { break-inside: avoid; }"""


def _word(key: str, lang: str, **params: object) -> str:
    return text(f"letter.{key}", lang, **params)


def _row(key: str, value: object, lang: str) -> str:
    return html_row(_word(key, lang), value)


def _section(key: str, body: str, lang: str) -> str:
    return f"<section><h2>{escape(_word(key, lang))}</h2>{body}</section>"


def to_html(letter: DecisionLetter, lang: str = "zh") -> str:
    """A self-contained printable A4 page of the letter (Chinese by default: the complainant's copy)."""
    policy = letter.policy
    institution = letter.institution if lang == "zh" else letter.institution_en
    basis = cite(policy.source, policy.documents, lang)
    if policy.statutory_on and policy.statutory is not None:
        basis = text("letter.basis_both", lang, own=basis, law=cite(policy.statutory.cite.source, policy.documents,
                                                                     lang))
    method = text(f"notification_method.{letter.notification_method}", lang) if letter.notification_method else ""
    outcome = text(f"printed.outcome.{letter.outcome}", lang) if letter.outcome else ""
    case = "".join([
        _row("institution", f"{institution} {letter.department}", lang), _row("case_no", letter.case_no, lang),
        _row("customer_name", letter.customer_name, lang), _row("received_at", when(letter.received_at), lang),
        _row("complaint", letter.complaint, lang)]
        + ([_row("reviewed_case_no", letter.reviewed_case_no, lang)] if letter.reviewed_case_no else []))
    facts = f'<p class="text">{escape(letter.fact_finding)}</p>'
    decision = "".join([
        _row("outcome", outcome, lang), _row("measures", letter.measures, lang),
        _row("accountability", letter.accountability, lang), _row("compensation_paid", letter.compensation_paid, lang),
        _row("basis", basis, lang), _row("decided_at", when(letter.decided_at), lang)])
    told = "".join([_row("told_at", when(letter.told_at), lang), _row("notification_method", method, lang),
                    _row("notification_ref", letter.notification_ref, lang)])
    remedies = []
    if letter.review_days is not None:
        remedies.append(_word("remedy_review", lang, days=letter.review_days)
                        + (_word("remedy_review_until", lang, last=format_deadline(letter.review_ends))
                           if letter.review_ends else ""))
    remedies += [_word("remedy_mediation", lang), _word("remedy_arbitration", lang), _word("remedy_litigation", lang)]
    remedy_list = "<ol>" + "".join(f"<li>{escape(r)}</li>" for r in remedies) + "</ol>"
    title = _word("title", lang)
    return "".join([
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)} {escape(letter.case_no)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{escape(title)}</h1><p class="no">{escape(_word("number", lang, case_no=letter.case_no))}</p>',
        f"<p>{escape(_word('dear', lang, name=letter.customer_name))}</p>",
        _section("the_complaint", f"<table>{case}</table>", lang),
        _section("facts", facts, lang),
        _section("decision", f"<table>{decision}</table>", lang),
        _section("remedies", remedy_list, lang),
        _section("notification", f"<table>{told}</table>", lang),
        f'<p class="sign">{escape(institution)} {escape(letter.department)}<br>',
        f"{escape(_word('issued_on', lang, day=f'{letter.issued_on.astimezone(SHANGHAI):%Y-%m-%d}'))}</p>",
        "</body></html>"])
