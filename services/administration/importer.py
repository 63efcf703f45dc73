"""Import of cases from a spreadsheet, for institutions moving off Excel (issue 5 §5).

Every row is checked first and every error is reported by row and column; nothing is imported unless
all rows are valid. Valid rows become cases through the steps of `services.casework.cases` (intake, then
forward, first contact, resolve, feedback, return visit and archive at the sheet's times), taken by the
set-based writer `services.casework.ledger` with the same checks and records (issue 13 §3), so assessment
and deadlines follow the same rules as typed-in cases — all in one transaction.

Decisions: a time without a zone is Beijing time (Asia/Shanghai, RULES.md §3), one with an offset keeps
it; a text date without a time is refused (the futures and branch deadlines count hours), while an
Excel date cell is taken as 00:00. Codes or their Chinese labels in the active pack are accepted. The
one satisfaction column serves feedback and the return visit. Withdrawn and invalid closures and
extensions are not imported.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.models import Department, ImportFile, User
from services.administration.import_template import COLUMNS as COLUMNS  # re-exported with template_xlsx
from services.administration.import_template import (
    HEADER,
    MAX_ROWS,
    RowError,
    SheetRow,
    cell_problem,
    cell_text,
    read_rows,
)
from services.administration.import_template import template_xlsx as template_xlsx
from services.casework import cases, classification
from services.casework.ledger import Ledger, Services, Writer, many_objects
from services.errors import DomainError, InvalidInput, Listing, NotFound, NotPermitted, Phrase, Said
from services.institution import audit
from services.institution.access import ACTION_ROLES, Actor, load_actor, may
from services.rules import jrt, validation
from services.rules.assess import Assessment, Facts, assess, parse_facts
from services.rules.calendar import SHANGHAI
from services.rules.duties import NOTIFICATION_METHODS
from services.rules.intake_extras import SOURCES
from services.rules.policy import Label, Policy
from services.unit_of_work import UnitOfWork
from services.words import text

LENGTHS = {"customer_name": 128, "customer_phone": 32, "customer_id_number": 32, "customer_account_no": 64,
           "first_responder": 64, "handler": 64, "channel_note": 200,
           "regulator_ref": 64, "agent_name": 128, "agent_authorisation": 200}  # the columns' sizes in db/models.py
STEPS = ("received_at", "forwarded_at", "first_contact_at", "resolved_at", "feedback_at", "return_visit_at",
         "archived_at")
SATISFACTION: dict[str, Any] = {str(k): k for k in cases.SATISFACTION} | {v: k for k, v in cases.SATISFACTION.items()}


@dataclass(frozen=True)
class ImportResult:
    case_nos: tuple[str, ...] = ()
    errors: tuple[RowError, ...] = ()

    @property
    def imported(self) -> int:
        return len(self.case_nos)


@dataclass
class _Plan:
    """A valid row, ready to be replayed through the lifecycle use cases."""

    row: int
    responder_id: int
    form: dict[str, Any]
    times: dict[str, datetime | None]
    values: dict[str, Any] = field(default_factory=dict)


class _Context:
    """What every row is checked against: the active pack, people, departments, the calendar."""

    def __init__(self, uow: UnitOfWork, actor_id: int | None) -> None:
        session = uow.session
        self.policy: Policy = uow.policy()
        self.calendar = uow.calendar()
        self.now = uow.now()
        self.assessed: dict[Facts, Assessment] = {}  # each row's intake facts, assessed once for the ledger too
        self.actor = load_actor(session, actor_id) if actor_id is not None else None
        self.users = {u.username: u for u in session.scalars(select(User))}
        departments = list(session.scalars(select(Department).where(Department.active)))
        self.department_ids = {d.code: d.id for d in departments}
        p = self.policy
        self.vocab = {
            "channel": _vocab(p.channels, lambda c: [p.label("channel", c)]),
            "category": _vocab(p.categories, lambda c: [p.label("category", c)]),
            "flags": _vocab(p.flags, lambda c: [p.label("flag", c)]),
            "department": _vocab({d.code: d for d in departments},
                                 lambda c: [p.label("department", c), *(d.name for d in departments if d.code == c)]),
            "cause": _vocab(p.causes, lambda c: [p.label("cause", c), p.label("cause", c, "en")]),
            "satisfaction": SATISFACTION,
            "notification_method": _vocab(dict.fromkeys(NOTIFICATION_METHODS), lambda c: [
                text(f"notification_method.{c}", "zh"), text(f"notification_method.{c}", "en")]),
            # issue 11 §3: a source by its code, its label in either language, or its hotline (12378)
            "source": _vocab({s: s for s in SOURCES}, lambda c: [text(f"source.{c}", "zh"), text(f"source.{c}", "en"),
                                                                 c.rpartition("_")[2]]),
            **{column: _vocab(jrt.VOCABULARY[d], _jrt_zh(d)) for d, column in jrt.COLUMNS.items()},
        }


def _jrt_zh(dimension: str) -> Callable[[str], list[str]]:
    return lambda code: [jrt.VOCABULARY[dimension][code].zh]


def _vocab(codes: Mapping[str, Any], labels: Callable[[str], list[str]]) -> dict[str, str]:
    """code, label, and the label's head before a colon (业务类：… → 业务类), lower-cased → code."""
    out: dict[str, str] = {}
    for code in codes:
        for name in (code, *labels(code)):
            out[name.lower()] = code
            out.setdefault(name.split("：")[0].strip().lower(), code)
    return out


class _Cells:
    """Reads one row's cells, adding an error per bad cell instead of stopping at the first."""

    def __init__(self, row: SheetRow, errors: list[RowError], context: _Context) -> None:
        self.row, self.errors, self.ctx = row, errors, context

    def fail(self, key: str, problem: Said) -> None:
        self.errors.append(RowError(self.row.number, HEADER[key].zh, cell_problem(key, problem)))

    def text(self, key: str, required: bool = False) -> str:
        value = cell_text(self.row.values.get(key))
        if required and not value:
            self.fail(key, Phrase("error.import.required"))
        limit = LENGTHS.get(key) or validation.FIELD_CHARS.get(key, validation.NOTE_CHARS)  # as the services
        if len(value) > limit:
            self.fail(key, Phrase("error.import.too_long", limit=limit))
        return value

    def needed(self, key: str, when: str) -> str:
        value = self.text(key)
        if not value:
            self.fail(key, Phrase("error.import.required_with", when=Label(HEADER[when].zh, when)))
        return value

    def instant(self, key: str, required: bool = False) -> datetime | None:
        value = self.row.values.get(key)
        at: datetime | None
        if isinstance(value, datetime):
            at = value
        elif not cell_text(value):
            if required:
                self.fail(key, Phrase("error.import.required"))
            return None
        else:
            at = _parse_time(cell_text(value))
            if at is None:
                self.fail(key, Phrase("error.import.bad_time", value=cell_text(value)))
                return None
        at = at.replace(tzinfo=SHANGHAI) if at.tzinfo is None else at  # no zone → Beijing time
        if at > self.ctx.now:
            self.fail(key, Phrase("error.import.in_future"))
            return None
        return at

    def amount(self, key: str) -> Decimal:
        text = self.text(key).replace(",", "").replace("，", "")
        try:
            amount = Decimal(text or 0)
        except InvalidOperation:
            amount = Decimal("NaN")
        if not amount.is_finite() or amount < 0:
            self.fail(key, Phrase("error.import.bad_amount"))
            return Decimal(0)
        return amount

    def choice(self, key: str, required: bool = False) -> Any:
        text, vocab = self.text(key, required), self.ctx.vocab[key]
        if text and text.lower() not in vocab:
            self.fail(key, Phrase("error.import.unknown_choice", value=text))
        return vocab.get(text.lower()) if text else None

    def choices(self, key: str) -> list[str]:
        parts = [p.strip() for p in self.text(key).replace("，", ",").replace("、", ",").replace(";", ",")
                 .replace("；", ",").split(",") if p.strip()]
        unknown = [p for p in parts if p.lower() not in self.ctx.vocab[key]]
        if unknown:
            self.fail(key, Phrase("error.import.unknown_flags", flags=Listing(unknown)))
        return sorted({self.ctx.vocab[key][p.lower()] for p in parts if p not in unknown})

    def yes(self, key: str) -> bool:
        text = self.text(key).lower()
        if text not in ("", "是", "否", "y", "n", "yes", "no", "true", "false", "1", "0"):
            self.fail(key, Phrase("error.import.yes_or_no"))
        return text in ("是", "y", "yes", "true", "1")


def _parse_time(text: str) -> datetime | None:
    text = text.replace("年", "-").replace("月", "-").replace("日", " ").replace("/", "-").replace("  ", " ").strip()
    try:
        at = datetime.fromisoformat(text)
        return at if (":" in text) else None  # a bare date has no time of day
    except ValueError:
        pass
    for pattern in ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def _check(ctx: _Context, rows: Sequence[SheetRow]) -> tuple[list[_Plan], list[RowError]]:
    errors: list[RowError] = []
    if len(rows) > MAX_ROWS:
        return [], [RowError(MAX_ROWS + 2, "—", Phrase("error.import.too_many_rows", most=MAX_ROWS))]
    plans = []
    for row in rows:
        before = len(errors)
        plan = _plan(_Cells(row, errors, ctx))
        if len(errors) == before:
            plans.append(plan)
    return plans, errors


def _plan(c: _Cells) -> _Plan:
    at_intake = c.yes("resolved_at_intake")
    form = {"received_at": c.instant("received_at", required=True), "channel": c.choice("channel", True),
            "category": c.choice("category", True), "customer_name": c.text("customer_name", True),
            "customer_phone": c.text("customer_phone", True), "content": c.text("content", True),
            "customer_id_number": c.text("customer_id_number") or None,
            "customer_account_no": c.text("customer_account_no") or None,
            "compensation_claim": c.amount("compensation_claim"), "cause": c.choice("cause"),
            "flags": c.choices("flags"), "channel_note": c.text("channel_note") or None,
            "source": c.choice("source"), "regulator_ref": c.text("regulator_ref") or None,
            "transferred_on": c.row.values.get("transferred_on"), "agent_name": c.text("agent_name") or None,
            "agent_authorisation": c.text("agent_authorisation") or None}
    times = {key: c.instant(key) for key in STEPS[1:]}
    values = {"satisfaction": c.choice("satisfaction"), "department": c.choice("department"),
              "compensation_paid": c.amount("compensation_paid"),
              **{column: c.choice(column) for column in jrt.COLUMNS.values()}}
    _check_order(c, form["received_at"], times, at_intake)
    if at_intake:
        form.update(resolved_at_intake=True, explanation=c.needed("fact_finding", "resolved_at_intake"),
                    satisfaction=values["satisfaction"] or c.needed("satisfaction", "resolved_at_intake"))
    _check_steps(c, times, values)
    responder = _responder(c, times, at_intake)
    department = values["department"] or _assessed_department(c, form)
    if times["forwarded_at"] and department:
        values["handler_id"] = _handler(c, department)
    values["department"] = department
    return _Plan(c.row.number, responder, form, times, values)


def _check_order(c: _Cells, received: datetime | None, times: dict[str, datetime | None], at_intake: bool) -> None:
    """Steps follow the lifecycle (RULES.md §2): each needs the one before it, and never comes earlier."""
    done = {"received_at": received, **times}
    if at_intake:
        for key in ("forwarded_at", "first_contact_at", "resolved_at", "feedback_at"):
            if times[key]:
                c.fail(key, Phrase("error.import.empty_when_resolved_at_intake"))
        done.update(forwarded_at=received, resolved_at=received, feedback_at=received)
    needs = {"first_contact_at": "forwarded_at", "resolved_at": "forwarded_at", "feedback_at": "resolved_at",
             "return_visit_at": "feedback_at", "archived_at": "feedback_at"}
    for key, before in needs.items():
        if times[key] and not done[before]:
            c.fail(key, Phrase("error.import.needs_step", step=Label(HEADER[before].zh, before)))
    previous: tuple[str, datetime] | None = None
    for key in STEPS:
        at = done.get(key)
        if at is None:
            continue
        if previous and at < previous[1]:
            c.fail(key, Phrase("error.import.before_step", step=Label(HEADER[previous[0]].zh, previous[0])))
        previous = (key, at)


def _check_steps(c: _Cells, times: dict[str, datetime | None], values: dict[str, Any]) -> None:
    """The data each transition requires (RULES.md §2), read only where the sheet gives that step."""
    if times["forwarded_at"]:
        values["handling_form"] = c.needed("handling_form", "forwarded_at")
    values["first_contact_note"] = c.text("first_contact_note") or "表格导入：原表未记录联系内容"
    if times["resolved_at"]:
        for key in ("fact_finding", "measures", "accountability"):
            values[key] = c.needed(key, "resolved_at")
        if values["compensation_paid"] > 0:
            values["signed_confirmation"] = c.needed("signed_confirmation", "compensation_paid")
    if times["feedback_at"]:
        values["feedback_method"] = c.needed("feedback_method", "feedback_at")
        values["notification_method"] = c.choice("notification_method")  # checked again by cases.feedback
        values["notification_ref"] = c.text("notification_ref") or None
        if c.ctx.policy.statutory_on:  # the proof of notification (RULES.md §7.2 art. 21)
            for key in ("notification_method", "notification_ref"):
                if not values[key]:
                    c.needed(key, "feedback_at")
    for step in ("feedback_at", "return_visit_at"):
        if times[step] and not values["satisfaction"]:
            c.needed("satisfaction", step)
    if times["return_visit_at"]:
        values["return_visit_method"] = c.needed("return_visit_method", "return_visit_at")
        values["return_visit_note"] = c.needed("return_visit_note", "return_visit_at")
    if times["archived_at"] and times["resolved_at"] and c.ctx.policy.return_visit_required \
            and not times["return_visit_at"]:
        c.fail("archived_at", Phrase("error.import.return_visit_required"))


def _acts(c: _Cells, key: str, username: str | None, actions: list[str]) -> int:
    """The user named in `key` (or the importing user), checked for every action they will perform."""
    user = c.ctx.users.get(username) if username else None
    if not username and key == "first_responder":
        user = _default_responder(c.ctx, actions)
    if username and (user is None or not user.active):
        c.fail(key, Phrase("error.import.unknown_user", username=username))
        return 0
    user_id = user.id if user else (c.ctx.actor.id if c.ctx.actor else 0)
    roles = set(user.roles) if user else (set(c.ctx.actor.roles) if c.ctx.actor else set())
    refused = [a for a in actions if not roles & ACTION_ROLES[a]]
    if not user_id or refused:
        who = username or (c.ctx.actor.username if c.ctx.actor else "")
        c.fail(key, Phrase("error.import.not_allowed", who=who or Phrase("error.import.importing_user"),
                           actions=Listing(refused or ["intake"])))
    return user_id


def _default_responder(ctx: _Context, actions: list[str]) -> User | None:
    """A blank first responder: the importing user when they may do every step, else the first active intake
    clerk (by username) who may. An admin, who imports but takes no complaints, then records through the
    clerk; the import note and the audit still name the admin who imported (issue 10 §5)."""
    if ctx.actor is not None and all(set(ctx.actor.roles) & ACTION_ROLES[a] for a in actions):
        return None  # the importing user themself
    able = [u for u in ctx.users.values() if u.active and all(set(u.roles) & ACTION_ROLES[a] for a in actions)]
    return min(able, key=lambda u: ("intake" not in u.roles, u.username), default=None)


def _responder(c: _Cells, times: dict[str, datetime | None], at_intake: bool) -> int:
    steps = {"forward": "forwarded_at", "feedback": "feedback_at", "return_visit": "return_visit_at",
             "archive": "archived_at"}
    actions = ["intake"] + [a for a, key in steps.items() if times[key] and not (at_intake and a == "feedback")]
    return _acts(c, "first_responder", c.text("first_responder") or None, actions)


def _handler(c: _Cells, department: str) -> int:
    """The handler the case is forwarded to: of that department, and able to handle (seed 000 art. 17(2))."""
    username = c.needed("handler", "forwarded_at")
    user = c.ctx.users.get(username)
    if user is not None and user.department_id != c.ctx.department_ids.get(department):
        c.fail("handler", Phrase("error.import.handler_not_in_department", username=username,
                                 department=department))
        return 0
    return _acts(c, "handler", username, ["resolve"]) if username else 0


def _assessed_department(c: _Cells, form: dict[str, Any]) -> str | None:
    """The department the rules give, as intake would compute it (RULES.md §4)."""
    keys = ("received_at", "channel", "category", "compensation_claim", "cause", "flags")
    if any(e.row == c.row.number and e.column in {HEADER[k].zh for k in keys} for e in c.errors):
        return None  # already reported; the rest of the row is still checked
    try:
        facts = parse_facts({k: form[k] for k in keys}, c.ctx.policy)
        assessment = c.ctx.assessed[facts] = assess(c.ctx.policy, facts, c.ctx.calendar, prose=False)
        return assessment.responsible_department
    except DomainError as exc:
        c.fail(exc.field if exc.field in HEADER else "received_at", exc)
        return None


# --- importing ---------------------------------------------------------------------------------


def user_id_by_username(uow: UnitOfWork, username: str) -> int:
    """For the command line's `--as USERNAME`."""
    user_id = uow.session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise NotFound("error.user.no_such_username", field="as", username=username)
    return user_id


def import_file(uow: UnitOfWork, actor_id: int, path_or_bytes: str | Path | bytes,
                filename: str | None = None, *, one_by_one: bool = False) -> ImportResult:
    """Validate every row, then import all of them in one transaction, or none.

    The rows' cases are written set-based (`services.casework.ledger`, issue 13 §3: ~47 ms a row through the case
    services, 10,000 rows in eight minutes); `one_by_one` takes each step through the case services instead, the
    reference the set-based writer is tested against (tests/service/test_import_bulk.py)."""
    actor = load_actor(uow.session, actor_id)
    if not may(actor, "import_cases"):
        raise NotPermitted("error.import.not_permitted")
    if isinstance(path_or_bytes, bytes):
        data, name = path_or_bytes, filename or "upload.xlsx"
    else:
        try:
            data, name = Path(path_or_bytes).read_bytes(), filename or Path(path_or_bytes).name
        except OSError as exc:
            raise InvalidInput("error.import.file_unreadable", field="file", exc=exc) from None
    digest = hashlib.sha256(data).hexdigest()
    earlier = uow.session.get(ImportFile, digest)
    if earlier is not None:  # the same bytes again would make every case twice (issue 10 §5)
        raise InvalidInput("error.import.already_imported", field="file", filename=earlier.filename,
                           date=f"{earlier.imported_at.astimezone(SHANGHAI):%Y-%m-%d %H:%M}")
    rows, errors = read_rows(data, name)
    if not rows and not errors:
        errors = [RowError(2, "—", Phrase("error.import.no_cases"))]
    with many_objects():  # the rows' plans and assessments, then the ledger's records, live until written
        return _import(uow, actor, rows, errors, name, digest, one_by_one)


def _import(uow: UnitOfWork, actor: Actor, rows: Sequence[SheetRow], errors: list[RowError], name: str,
            digest: str, one_by_one: bool) -> ImportResult:
    context = _Context(uow, actor.id)
    plans, row_errors = _check(context, rows)
    if errors or row_errors:
        return ImportResult(errors=tuple(errors + row_errors))
    # The use cases only flush (issue 9 §3); a savepoint lets a row the checks did not foresee undo the
    # whole import while the caller's transaction stays usable.
    savepoint = uow.session.begin_nested()
    writer = Services(uow) if one_by_one else _ledger(uow, context, plans)
    case_nos = []
    for plan in plans:
        try:
            case_nos.append(_replay(uow, writer, plan, actor.id, f"{name} 第 {plan.row} 行"))
        except DomainError as exc:  # a rule the checks above did not foresee: report it, import nothing
            savepoint.rollback()
            column = HEADER[exc.field].zh if exc.field in HEADER else "—"
            return ImportResult(errors=(RowError(plan.row, column, exc),))
    if isinstance(writer, Ledger):
        writer.write()
    savepoint.commit()  # releases the savepoint; the caller commits the transaction
    audit.record(uow.session, actor.id, "cases_imported", file=name, rows=len(plans), cases=case_nos)
    uow.session.add(ImportFile(sha256=digest, filename=name[:255], imported_by_id=actor.id, imported_at=uow.now(),
                               cases=len(case_nos)))
    uow.flush()
    return ImportResult(case_nos=tuple(case_nos))


def _ledger(uow: UnitOfWork, ctx: _Context, plans: Sequence[_Plan]) -> Ledger:
    """The set-based writer, with each receipt day's case numbers taken for the import's rows."""
    departments = {d.code: d.id for d in uow.session.scalars(select(Department))}  # as department_by_code
    ledger = Ledger(uow, ctx.policy, ctx.users.values(), departments, ctx.assessed)
    ledger.reserve(Counter(_received(plan).astimezone(SHANGHAI).date() for plan in plans))
    return ledger


def _received(plan: _Plan) -> datetime:
    received: datetime = plan.form["received_at"]
    return received


def _classify(uow: UnitOfWork, writer: Writer, plan: _Plan, ref: cases.CaseRef) -> cases.CaseRef:
    """The sheet's JR/T 0169 codes (RULES.md §7.4); for a case filed on the sheet, a blank one as the facts suggest
    (a bank case still missing one is refused by the archive step, naming it)."""
    given = {d: plan.values.get(column) for d, column in jrt.COLUMNS.items()}
    if not any(given.values()) and not plan.times["archived_at"]:
        return ref
    case = writer.case(ref)
    codes = {d: given[d] or (suggested if plan.times["archived_at"] else None)
             for d, suggested in classification.suggested(case, uow.policy(case.pack)).items()}
    return writer.classify(plan.responder_id, ref, at=_received(plan), **codes)


def _replay(uow: UnitOfWork, writer: Writer, plan: _Plan, actor_id: int, origin: str) -> str:
    """The case's lifecycle, step by step at the sheet's times, as the UI's use cases take it."""
    t, v, responder = plan.times, plan.values, plan.responder_id
    ref = writer.intake(responder, plan.form)
    ref = _classify(uow, writer, plan, ref)
    # (time column, use case, actor: no handler unless forwarded, and then only its time is set, keywords)
    steps: list[tuple[str, str, Any, dict[str, Any]]] = [
        ("forwarded_at", "forward", responder, {"department": v.get("department"), "handler_id": v.get(
            "handler_id"), "handling_form": v.get("handling_form")}),
        ("first_contact_at", "first_contact", v.get("handler_id"), {"note": v.get("first_contact_note")}),
        ("resolved_at", "resolve", v.get("handler_id"), {k: v.get(k) for k in (
            "fact_finding", "measures", "accountability", "compensation_paid", "signed_confirmation")}),
        ("feedback_at", "feedback", responder, {"method": v.get("feedback_method"),
                                                "satisfaction": v.get("satisfaction"),
                                                "notification_method": v.get("notification_method"),
                                                "notification_ref": v.get("notification_ref")}),
        ("return_visit_at", "return_visit", responder, {"method": v.get("return_visit_method"),
                                                        "satisfaction": v.get("satisfaction"),
                                                        "note": v.get("return_visit_note")}),
        ("archived_at", "archive", responder, {}),
    ]
    for key, kind, who, values in steps:
        if t[key]:
            ref = writer.step(kind, who, ref, **values, at=t[key])
    writer.note(actor_id, ref, uow.now(), f"表格导入：{origin}", imported_from=origin)
    return ref.case_no
