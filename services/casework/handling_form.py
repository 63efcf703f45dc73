"""The printable handling form (客户投诉处理单, seed 000 art. 17 and attachment 1; seed 001 art. 26
《客户投诉受理情况表》): every field the seeds ask for, and a self-contained A4 HTML page of it.

Customer phone and ID numbers print masked (RULES.md §6): the paper copy is filed, not a reveal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from html import escape

from sqlalchemy import select

from db.models import Case, CaseDeadline, CaseEvent, Customer, Department, Extension, User
from services.casework.case_view import mask, visible_case
from services.casework.cases import SATISFACTION
from services.institution import audit
from services.institution.access import load_actor
from services.rules.calendar import SHANGHAI, format_deadline
from services.rules.policy import Policy
from services.unit_of_work import UnitOfWork

SATISFACTION_EN = {5: "very satisfied", 4: "satisfied", 3: "neutral", 2: "dissatisfied", 1: "very dissatisfied"}


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
    audit.record_once(uow, actor.id, "case_printed", case.id, now)  # issue 8 §7: prints are audited
    customer = session.get(Customer, case.customer_id)
    department = session.get(Department, case.responsible_department_id)
    assert customer is not None and department is not None  # foreign keys
    names = dict(session.execute(select(User.id, User.display_name).where(
        User.id.in_([i for i in (case.first_responder_id, case.assignee_id) if i is not None]))).all())
    events = _last_events(uow, case)
    feedback, visit, archived = events.get("feedback"), events.get("return_visit"), events.get("archive")
    parent = session.get(Case, case.parent_case_id) if case.parent_case_id else None
    deadlines = session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case.id)
                                .order_by(CaseDeadline.due_at, CaseDeadline.id))
    extensions = session.scalars(select(Extension).where(Extension.case_id == case.id).order_by(Extension.id))
    return HandlingForm(
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
                                  e.customer_informed_method) for e in extensions])


# --- printable HTML -------------------------------------------------------------------------------

_LABELS = {
    "title": ("客户投诉处理单", "Complaint handling form"),
    "basis": ("依据：《客户投诉处理制度》第十七条及附件 1《客户投诉处理单》；《营业部客户投诉受理规范》第二十六条"
              "《客户投诉受理情况表》", "Per seed 000 art. 17 and attachment 1; seed 001 art. 26"),
    "intake": ("一、受理", "1. Intake"), "forward": ("二、转办", "2. Forwarding"),
    "handling": ("三、处理结果", "3. Result"), "feedback": ("四、反馈与回访", "4. Feedback and return visit"),
    "deadlines": ("五、时限", "5. Deadlines"), "extensions": ("六、延期", "6. Extensions"),
    "archive": ("七、归档", "7. Archive"),
    "case_no": ("投诉编号", "Case number"), "received_at": ("受理时间", "Received"),
    "channel": ("投诉方式", "Channel"), "customer_name": ("客户姓名", "Customer"),
    "customer_phone": ("联系电话", "Phone"), "customer_id_number": ("证件号码", "ID number"),
    "content": ("投诉内容", "Complaint"), "category": ("投诉类别", "Category"), "grade": ("投诉等级", "Grade"),
    "handling_level": ("处理级别", "Handling level"), "flags": ("情形标记", "Flags"),
    "compensation_claimed": ("索赔金额（元）", "Compensation claimed (CNY)"),
    "first_responder": ("首问责任人（受理人）", "First responder"),
    "parent_case_no": ("再投诉，原案件", "Re-complaint of"),
    "responsible_department": ("责任部门", "Responsible department"), "handler": ("处理人", "Handler"),
    "forwarded_at": ("转办时间", "Forwarded"), "handling_form": ("转办意见（处理单内容）", "Handling instructions"),
    "first_contact_at": ("首次联系客户时间", "First contact"), "fact_finding": ("事实认定", "Fact finding"),
    "measures": ("整改/处理措施", "Measures"),
    "accountability": ("对责任部门和责任人的处理", "Accountability"),
    "compensation_paid": ("实际赔偿金额（元）", "Compensation paid (CNY)"),
    "signed_confirmation": ("客户签字确认", "Customer's signed confirmation"),
    "resolved_at": ("办结时间", "Resolved"), "outcome": ("办结方式", "Outcome"),
    "feedback_at": ("反馈时间", "Feedback"), "feedback_method": ("反馈方式", "Feedback method"),
    "satisfaction": ("客户满意程度", "Satisfaction"), "return_visit_at": ("回访时间", "Return visit"),
    "return_visit_method": ("回访方式", "Visit method"), "return_visit_note": ("回访情况", "Visit result"),
    "archived_at": ("归档时间", "Archived"), "state": ("案件状态", "State"),
    "milestone": ("节点", "Milestone"), "due_at": ("期限", "Deadline"), "original_due_at": ("原期限", "Original"),
    "met_at": ("完成时间", "Done"), "result": ("是否按时", "On time?"),
    "old_due_at": ("原期限", "Old deadline"), "new_due_at": ("新期限", "New deadline"),
    "reason": ("延期原因", "Reason"), "informed": ("告知客户", "Customer informed"),
    "signatures": ("受理人签字：　　　　　　责任部门负责人签字：　　　　　　日期：",
                   "First responder:                Head of department:                Date:"),
}
_RESULTS = {"met": ("按时完成", "met"), "met_late": ("超期完成", "met late"), "waived": ("无需办理", "waived"),
            "open": ("进行中", "running"), "overdue": ("已超期", "overdue")}
_OUTCOMES = {"resolved": ("处理完毕", "resolved"), "resolved_at_intake": ("受理时当场解决", "resolved at intake"),
             "invalid": ("无效投诉", "invalid"), "withdrawn": ("客户撤诉", "withdrawn")}
_STATES = {"registered": ("已登记", "registered"), "forwarded": ("已转办", "forwarded"),
           "in_progress": ("处理中", "in progress"), "resolved": ("已办结", "resolved"),
           "feedback_given": ("已反馈", "feedback given"), "return_visit": ("已回访", "return visit done"),
           "archived": ("已归档", "archived"), "withdrawn": ("已撤诉", "withdrawn")}
_CSS = """@page { size: A4; margin: 15mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 10.5pt; color: #000; }
h1 { text-align: center; font-size: 16pt; margin: 0 0 2mm; } .basis { text-align: center; font-size: 8pt; }
h2 { font-size: 11pt; margin: 4mm 0 1mm; } table { width: 100%; border-collapse: collapse; }
th, td { border: 1px solid #000; padding: 1.5mm 2mm; vertical-align: top; text-align: left; }
th { width: 28%; font-weight: normal; background: #f2f2f2; } .sign { margin-top: 10mm; }
td.text { white-space: pre-wrap; } section { break-inside: avoid; }"""


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[0] if lang == "zh" else pair[1]


def _when(at: datetime | None) -> str:
    return f"{at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}" if at else ""


def _row(key: str, value: object, lang: str) -> str:
    text = "" if value is None else str(value)
    return f'<tr><th>{escape(_pick(_LABELS[key], lang))}</th><td class="text">{escape(text)}</td></tr>'


def _section(key: str, rows: list[str], lang: str) -> str:
    return f"<section><h2>{escape(_pick(_LABELS[key], lang))}</h2><table>{''.join(rows)}</table></section>"


def _grid(key: str, heads: tuple[str, ...], cells: list[tuple[str, ...]], lang: str) -> str:
    head = "".join(f"<th>{escape(_pick(_LABELS[h], lang))}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in cells)
    return f"<section><h2>{escape(_pick(_LABELS[key], lang))}</h2><table><tr>{head}</tr>{body}</table></section>"


def to_html(form: HandlingForm, lang: str = "zh") -> str:
    """A self-contained printable A4 page of the form (Chinese labels by default)."""
    policy = form.policy
    label = lambda kind, code: policy.label(kind, code, lang) if code else ""  # noqa: E731
    satisfaction = (SATISFACTION if lang == "zh" else SATISFACTION_EN).get(form.satisfaction or 0, "")
    sep = "、" if lang == "zh" else ", "
    intake = [_row("case_no", form.case_no, lang), _row("received_at", _when(form.received_at), lang),
              _row("channel", label("channel", form.channel), lang), _row("customer_name", form.customer_name, lang),
              _row("customer_phone", form.customer_phone, lang),
              _row("customer_id_number", form.customer_id_number, lang), _row("content", form.content, lang),
              _row("category", label("category", form.category), lang), _row("grade", label("grade", form.grade), lang),
              _row("handling_level", label("handling_level", form.handling_level or ""), lang),
              _row("flags", sep.join(label("flag", f) for f in form.flags), lang),
              _row("compensation_claimed", form.compensation_claimed, lang),
              _row("first_responder", form.first_responder, lang)]
    if form.parent_case_no:
        intake.append(_row("parent_case_no", form.parent_case_no, lang))
    forward = [_row("responsible_department", form.responsible_department, lang),
               _row("handler", form.handler, lang), _row("forwarded_at", _when(form.forwarded_at), lang),
               _row("handling_form", form.handling_form, lang)]
    handling = [_row("first_contact_at", _when(form.first_contact_at), lang),
                _row("fact_finding", form.fact_finding, lang), _row("measures", form.measures, lang),
                _row("accountability", form.accountability, lang),
                _row("compensation_paid", form.compensation_paid, lang),
                _row("signed_confirmation", form.signed_confirmation, lang),
                _row("resolved_at", _when(form.resolved_at), lang),
                _row("outcome", _pick(_OUTCOMES[form.outcome], lang) if form.outcome else "", lang)]
    feedback = [_row("feedback_at", _when(form.feedback_at), lang), _row("feedback_method", form.feedback_method, lang),
                _row("satisfaction", satisfaction, lang), _row("return_visit_at", _when(form.return_visit_at), lang),
                _row("return_visit_method", form.return_visit_method, lang),
                _row("return_visit_note", form.return_visit_note, lang)]
    deadlines = [(label("milestone", d.milestone), format_deadline(d.due_at), format_deadline(d.original_due_at),
                  _when(d.met_at), _pick(_RESULTS[d.result], lang)) for d in form.deadlines]
    extensions = [(label("milestone", e.milestone), format_deadline(e.old_due_at), format_deadline(e.new_due_at),
                   e.reason, f"{_when(e.customer_informed_at)} {e.informed_method}") for e in form.extensions]
    archive = [_row("archived_at", _when(form.archived_at), lang),
               _row("state", _pick(_STATES[form.state], lang), lang)]
    title = _pick(_LABELS["title"], lang)
    return "".join([
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">',
        f"<title>{escape(title)} {escape(form.case_no)}</title><style>{_CSS}</style></head><body>",
        f'<h1>{escape(title)}</h1><p class="basis">{escape(_pick(_LABELS["basis"], lang))}</p>',
        _section("intake", intake, lang), _section("forward", forward, lang), _section("handling", handling, lang),
        _section("feedback", feedback, lang),
        _grid("deadlines", ("milestone", "due_at", "original_due_at", "met_at", "result"), deadlines, lang),
        _grid("extensions", ("milestone", "old_due_at", "new_due_at", "reason", "informed"), extensions, lang)
        if extensions else "",
        _section("archive", archive, lang),
        f'<p class="sign">{escape(_pick(_LABELS["signatures"], lang))}</p></body></html>'])
