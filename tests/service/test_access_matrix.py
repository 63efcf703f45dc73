"""Issue 8 §1: every role × every service entry point that reads or changes a case, customer data or the
institution's configuration, on a case inside the user's scope and one outside it.

The expectations are written here from the issues (who does what, issue 3 §3 and 4; scope, issue 8 §1),
not read back from services.institution.access. Each call runs in a unit of work that is rolled back, so every user
meets the same cases in the same state. Training entry points act on a separate practice database of
synthetic cases and are covered in test_training.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from db.engine import app_url, make_engine
from db.models import Case as CaseRow
from db.models import CaseDeadline, Escalation
from services.administration import admin, importer, setup
from services.administration.calendar_edits import mark_year_complete, set_calendar_day
from services.casework import (
    cases,
    classification,
    decision_letter,
    duties,
    escalation,
    handling_form,
    queue,
    statutory,
    transfers,
)
from services.casework.case_view import case_detail, reveal_pii
from services.casework.home import todays_work
from services.errors import DomainError, NotPermitted
from services.institution import audit
from services.institution.directory import create_user
from services.institution.settings import activate_pack
from services.rules.calendar import DayType
from services.supervision import (
    calibration,
    disputes,
    evaluation,
    kpi,
    quality,
    report,
    reviews,
    sampling,
    statistics,
    transfer_stats,
)
from services.training import walkthrough
from services.unit_of_work import UnitOfWork
from tests.conftest import TEMPLATE, database_url
from tests.service.conftest import Institution, at, make_institution

PACK = "securities"
HERE, THERE = "branch", "legal_compliance"  # the desk under test and another department

# Users by name: (roles, department). Scope (issue 3 §3): intake staff see the cases they recorded or hold;
# handlers and heads also their department's; supervisors, executives and admins every case; trainees none.
PEOPLE = {
    "clerk": (["intake"], HERE), "handler": (["handler"], HERE), "head": (["dept_head"], HERE),
    "outsider": (["handler"], THERE), "other_clerk": (["intake"], THERE), "supervisor": (["supervisor"], None),
    "executive": (["executive"], None), "admin": (["admin"], None), "trainee": (["trainee"], None),
}
# The executive sits on the leadership group, the pack's top rank (issue 10 §2): they answer every escalation.
TITLES = {"executive": "leadership_group"}
SEE_EVERY_CASE = {"supervisor", "executive", "admin"}
# Who has each case in scope. `mine`: recorded by the clerk, routed to (or forwarded into) this desk.
# `theirs`: recorded by the other clerk; at registration an HQ-level case of HQ customer service, later
# forwarded to the other department's handler.
IN_SCOPE = {
    ("mine", "registered"): {"clerk", "handler", "head"} | SEE_EVERY_CASE,
    ("mine", "later"): {"clerk", "handler", "head"} | SEE_EVERY_CASE,
    ("theirs", "registered"): {"other_clerk"} | SEE_EVERY_CASE,
    ("theirs", "later"): {"other_clerk", "outsider"} | SEE_EVERY_CASE,
}

# Roles of each case action, from the lifecycle (RULES.md §2) as issues 3 and 4 assign it to desks.
DESK = {"intake", "handler", "dept_head"}
HANDLING = {"handler", "dept_head"}
VIEWERS = DESK | SEE_EVERY_CASE


@dataclass(frozen=True)
class Case:
    case_no: str
    version: int


EXTRA: dict[str, Any] = {}  # ids made while building the world, for entries defined before it exists


@dataclass
class World:
    engine: Engine
    users: dict[str, int]
    cases: dict[tuple[str, str], Case]  # (whose, state) → case
    extra: dict[str, Any]


@pytest.fixture(scope="module")
def world(admin_engine, server_url) -> Iterator[World]:
    name = "complaints_test_matrix"
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    engine = make_engine(app_url(database_url(server_url, name)))  # as the app connects (issue 8 §6)
    built = _build(engine)
    EXTRA.update(built.extra)
    yield built
    engine.dispose()
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))


def _build(engine: Engine) -> World:
    inst = make_institution(engine, PACK)
    with inst.uow() as uow:  # the regulator's clock, switched on by the institution (RULES.md §7.1)
        admin.set_pack_value(uow, inst.users["admin"], "statutory.enabled", True)
    with inst.uow() as uow:
        for who, (roles, department) in PEOPLE.items():
            if who not in inst.users:
                inst.users[who] = create_user(uow, who, who.title(), "Kp7-hz!rq2Lm", roles, department,
                                              title=TITLES.get(who)).id
    u = inst.users
    made: dict[tuple[str, str], Case] = {}
    for whose, clerk, department, handler in (("mine", "clerk", HERE, "handler"),
                                              ("theirs", "other_clerk", THERE, "outsider")):
        # Registered: the clerk's own case; "theirs" is an HQ-level case (company cause), routed to HQ.
        ref = inst.intake(who=clerk, **({"cause": "company"} if whose == "theirs" else {}))
        made[(whose, "registered")] = Case(ref.case_no, ref.version)
        for state in ("forwarded", "resolved", "feedback_given", "return_visit", "archived"):
            ref = _advance(inst, clerk, department, handler, state)
            made[(whose, state)] = Case(ref.case_no, ref.version)
    forwarded = made[("mine", "forwarded")]
    with inst.uow() as uow:  # one escalation to the top: only an executive answers it
        ref = cases.escalate(uow, u["clerk"], forwarded.case_no, forwarded.version, to_role="leadership_group",
                             reason="客户要求面见领导")
        made[("mine", "forwarded")] = Case(ref.case_no, ref.version)
    with inst.uow() as uow:
        def of_case(whose: str, *columns: Any) -> Any:
            return select(*columns).join(CaseRow, CaseRow.id == columns[0].table.c.case_id).where(
                CaseRow.case_no == made[(whose, "forwarded")].case_no)

        def escalation_to(whose: str, role: str) -> int:
            return uow.session.scalar(of_case(whose, Escalation.id).where(Escalation.to_role == role))

        extra = {"ack_branch_head": {w: escalation_to(w, "branch_head") for w in ("mine", "theirs")},
                 "ack_leadership": escalation_to("mine", "leadership_group"),
                 "due": {w: uow.session.scalar(of_case(w, CaseDeadline.due_at).where(
                     CaseDeadline.milestone == "resolve", CaseDeadline.status == "open")) for w in ("mine", "theirs")}}
    extra |= _supervision(inst, made)
    return World(engine, u, made, extra)


def _supervision(inst: Institution, made: dict[tuple[str, str], Case]) -> dict[str, int]:
    """A drawn sample of every archived case, one reviewed with a finding owned by this desk's handler."""
    u = inst.users
    with inst.uow() as uow:
        plan_id = sampling.draw(uow, u["supervisor"], sampling.SamplingPlanInput(
            period_from=date(2026, 11, 1), period_to=date(2026, 11, 30), rate=1.0))
    with inst.uow() as uow:
        items = {row.case_no: row.item_id for row in sampling.sample_rows(uow, u["supervisor"], plan_id)}
    mine, theirs = items[made[("mine", "archived")].case_no], items[made[("theirs", "archived")].case_no]
    # This desk's case is reviewed by a second supervisor (outside PEOPLE), so the supervisor may decide its
    # disputes (issue 12 §5); two findings: one already disputed by the head, one free to dispute.
    with inst.uow() as uow:
        second = create_user(uow, "second_reviewer", "Second", "Kp7-hz!rq2Lm", ["supervisor"], None).id
        uow.session.execute(text("UPDATE sample_items SET reviewer_id = :r WHERE id = :i"), {"r": second, "i": mine})
    failed = {"feedback_and_visit": ("fail", "未回访"), "archive_complete": ("fail", "归档不全")}
    with inst.uow() as uow:
        review = reviews.submit_review(uow, second, mine, {c.code: failed.get(c.code, ("pass", ""))
                                                           for c in reviews.CHECKLIST},
                                       [reviews.FindingInput("回访记录不完整", HERE, u["handler"], date(2026, 12, 15))])
    with inst.uow() as uow:
        action = reviews.open_actions(uow, u["supervisor"], at("2026-11-10 10:00"))[0].id
        dispute = disputes.file_dispute(uow, u["head"], review, "feedback_and_visit", "已电话回访")
    closed_cases = [made[(w, "archived")].case_no for w in ("mine", "theirs")]
    with inst.uow() as uow:
        calibrating = calibration.create_session(uow, u["supervisor"], "校准", closed_cases, [u["supervisor"], second])
        closed = calibration.create_session(uow, u["supervisor"], "已结束", closed_cases[:1], [u["supervisor"], second])
        case_id = calibration.session_view(uow, u["supervisor"], closed).cases[0][0]
        for who in (u["supervisor"], second):
            calibration.submit_calibration_review(uow, who, closed, case_id, ALL_PASS)
        calibration.close_session(uow, u["supervisor"], closed)
        cell = calibration.session_view(uow, u["supervisor"], closed).reviews[0].id
    return {"item": theirs, "action": action, "plan": plan_id, "review": review, "dispute": dispute, "second": second,
            "calibrating": calibrating, "closed_cases": closed_cases, "calibration_review": cell}


ALL_PASS = {c.code: ("pass", "") for c in reviews.CHECKLIST}


def _calibrated_case(uow: UnitOfWork) -> int:
    return calibration.session_view(uow, EXTRA["second"], EXTRA["calibrating"]).cases[0][0]


def _close_calibration(uow: UnitOfWork, uid: int) -> None:
    """Every reviewer hands in every case of the open session, then `uid` closes it."""
    view = calibration.session_view(uow, EXTRA["second"], EXTRA["calibrating"])
    for reviewer, _ in view.reviewers:
        for case_id, _ in view.cases:
            calibration.submit_calibration_review(uow, reviewer, EXTRA["calibrating"], case_id, ALL_PASS)
    calibration.close_session(uow, uid, EXTRA["calibrating"])


PROOF = {"notification_method": "recorded_call", "notification_ref": "录音编号 01"}  # the layer is on (RULES.md §7.2)


def _advance(inst: Institution, clerk: str, department: str, handler: str, state: str) -> cases.CaseRef:
    """A new branch-level case of `clerk`, taken through the lifecycle up to `state`."""
    u = inst.users
    ref = inst.intake(who=clerk)
    steps: list[tuple[str, Callable[..., cases.CaseRef], str, dict[str, Any]]] = [
        ("forwarded", cases.forward, clerk, {"department": department, "handler_id": u[handler],
                                             "handling_form": "请核实", "at": at("2026-11-02 11:00")}),
        ("resolved", cases.resolve, handler, {"fact_finding": "属实", "measures": "道歉", "accountability": "批评",
                                              "at": at("2026-11-03 10:00")}),
        ("feedback_given", cases.feedback, clerk, {"method": "电话", "satisfaction": 2, "at": at("2026-11-03 11:00"),
                                                   **PROOF}),
        ("return_visit", cases.return_visit, clerk, {"method": "电话", "satisfaction": 2, "note": "仍不满意",
                                                     "at": at("2026-11-04 11:00")}),
        ("archived", cases.archive, clerk, {"at": at("2026-11-05 10:00")}),
    ]
    for reached, use_case, who, values in steps:
        with inst.uow() as uow:
            ref = use_case(uow, u[who], ref.case_no, ref.version, **values)
        if reached == state:
            return ref
    raise AssertionError(state)


def _outcome(world: World, user: str, call: Callable[[UnitOfWork, int], Any]) -> bool:
    """True: allowed; False: refused as not permitted. Any other refusal is a broken test set-up."""
    with UnitOfWork(world.engine) as uow:  # never committed: every call is rolled back
        try:
            call(uow, world.users[user])
        except NotPermitted:
            return False
        except DomainError as exc:
            raise AssertionError(f"{user}: {type(exc).__name__}: {exc.message('en')}") from exc
    return True


def _mismatches(world: World, expected: Callable[[str], bool], call: Callable[[UnitOfWork, int], Any]) -> list[str]:
    wrong = []
    for user in PEOPLE:
        allowed = _outcome(world, user, call)
        if allowed != expected(user):
            wrong.append(f"{user} wrongly {'allowed' if allowed else 'refused'}")
    return wrong


# --- case actions: role × scope ---------------------------------------------------------------------------

def _case_action(use_case: Callable[..., Any], state: str, **values: Any) -> Callable[[World, Case], Callable]:
    def bind(world: World, case: Case) -> Callable[[UnitOfWork, int], Any]:
        return lambda uow, uid: use_case(uow, uid, case.case_no, case.version, **values)
    return bind


OWN_HANDLER = {"mine": "handler", "theirs": "outsider"}  # who handles each forwarded case


def _extended(uow: UnitOfWork, world: World, whose: str, case: Case) -> int:
    """The case's statutory limit extended once by its own handler: the version after."""
    return statutory.extend_statutory(uow, world.users[OWN_HANDLER[whose]], case.case_no, case.version,
                                      reason="情况复杂", customer_informed_at=at("2026-11-04 10:00"),
                                      informed_method="电话").version


CASE_ENTRIES: dict[str, tuple[str, set[str], Callable[[World, str, Case], Callable[[UnitOfWork, int], Any]]]] = {
    # name: (state the case is in, roles allowed, call)
    "forward": ("registered", {"intake", "dept_head"}, lambda w, whose, c: lambda uow, uid: cases.forward(
        uow, uid, c.case_no, c.version, department=HERE, handler_id=w.users["handler"], handling_form="请核实")),
    "invalid": ("registered", DESK, lambda w, whose, c: lambda uow, uid: cases.mark_invalid(
        uow, uid, c.case_no, c.version, explanation="不属于投诉")),
    "withdraw": ("registered", DESK, lambda w, whose, c: lambda uow, uid: cases.withdraw(
        uow, uid, c.case_no, c.version, reason="客户撤诉")),
    "escalate": ("registered", DESK | {"supervisor", "executive"}, lambda w, whose, c: lambda uow, uid: cases.escalate(
        uow, uid, c.case_no, c.version, to_role="leadership_group", reason="情况复杂")),
    # issue 10 §5: the head of the case's department only; the head may take the case over (a department's staff)
    "reassign": ("forwarded", {"dept_head"}, lambda w, whose, c: lambda uow, uid: cases.reassign(
        uow, uid, c.case_no, c.version, handler_id=w.users["head"], reason="原处理人休假")),
    # issue 10 §2: the queue's "reassign selected", each case checked as if alone
    "reassign_many": ("forwarded", {"dept_head"}, lambda w, whose, c: lambda uow, uid: cases.reassign_many(
        uow, uid, [(c.case_no, c.version)], handler_id=w.users["head"], reason="原处理人休假")),
    "first_contact": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: cases.first_contact(
        uow, uid, c.case_no, c.version, note="已联系客户")),
    "resolve": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: cases.resolve(
        uow, uid, c.case_no, c.version, fact_finding="属实", measures="道歉", accountability="批评")),
    "extend": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: cases.extend(
        uow, uid, c.case_no, c.version, milestone="resolve", new_due=w.extra["due"][whose] + timedelta(hours=1),
        reason="需调取录音", customer_informed_at=at("2026-11-02 12:00"), informed_method="电话")),
    "feedback": ("resolved", DESK, lambda w, whose, c: lambda uow, uid: cases.feedback(
        uow, uid, c.case_no, c.version, method="电话", satisfaction=4, **PROOF)),
    "report_hq": ("resolved", HANDLING, lambda w, whose, c: lambda uow, uid: cases.report_hq(
        uow, uid, c.case_no, c.version, note="已报备")),
    "return_visit": ("feedback_given", DESK | {"supervisor"}, lambda w, whose, c: lambda uow, uid: cases.return_visit(
        uow, uid, c.case_no, c.version, method="电话", satisfaction=4, note="满意")),
    "re_complaint": ("feedback_given", DESK, lambda w, whose, c: lambda uow, uid: cases.re_complaint(
        uow, uid, c.case_no, c.version, {"received_at": at("2026-11-05 09:00"), "content": "对结果不满意"})),
    "archive": ("return_visit", {"intake", "dept_head"}, lambda w, whose, c: lambda uow, uid: cases.archive(
        uow, uid, c.case_no, c.version)),
    # the regulator's clock (RULES.md §7.1): the handling desk; a further extension approved by an executive
    "pause_clock": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: statutory.pause_clock(
        uow, uid, c.case_no, c.version, kind="appraisal", starts_on=date(2026, 11, 3), reason="送鉴定",
        complainant_informed_at=at("2026-11-03 10:00"), informed_method="电话")),
    "resume_clock": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: statutory.resume_clock(
        uow, uid, c.case_no, statutory.pause_clock(
            uow, w.users[OWN_HANDLER[whose]], c.case_no, c.version, kind="mediation", starts_on=date(2026, 11, 3),
            reason="调解", complainant_informed_at=at("2026-11-03 10:00"), informed_method="电话").version,
        ends_on=date(2026, 11, 5))),
    "restart_clock": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: statutory.restart_clock(
        uow, uid, c.case_no, c.version, received_at=at("2026-11-04 10:00"), note="补充材料")),
    "merge_repeat": ("forwarded", DESK, lambda w, whose, c: lambda uow, uid: statutory.merge_repeat(
        uow, uid, c.case_no, c.version, received_at=at("2026-11-04 10:00"), channel="phone", content="催办")),
    "extend_statutory": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: statutory.extend_statutory(
        uow, uid, c.case_no, c.version, reason="情况复杂", customer_informed_at=at("2026-11-04 10:00"),
        informed_method="电话")),
    "request_extension": ("forwarded", HANDLING, lambda w, whose, c: lambda uow, uid: statutory.request_extension(
        uow, uid, c.case_no, _extended(uow, w, whose, c), reason="需鉴定")),
    "decide_extension": ("forwarded", {"executive"}, lambda w, whose, c: lambda uow, uid: statutory.decide_extension(
        uow, uid, c.case_no, statutory.request_extension(uow, w.users[OWN_HANDLER[whose]], c.case_no,
                                                         _extended(uow, w, whose, c), reason="需鉴定").version,
        approve=True, reason="同意")),
    "case_detail": ("forwarded", VIEWERS, lambda w, whose, c: lambda uow, uid: case_detail(uow, uid, c.case_no)),
    "reveal_pii": ("forwarded", DESK | {"supervisor"}, lambda w, whose, c: lambda uow, uid: reveal_pii(
        uow, uid, c.case_no, "id_number")),
    "print_handling_form": ("resolved", VIEWERS, lambda w, whose, c: lambda uow, uid: handling_form.handling_form(
        uow, uid, c.case_no)),
    # issue 11 §3: a transferred case's reply package and the reply sent; §5: a case found major later
    "reply_package": ("resolved", VIEWERS, lambda w, whose, c: lambda uow, uid: transfers.reply_package(
        _transferred(uow, c), uid, c.case_no)),
    "record_reply": ("resolved", DESK, lambda w, whose, c: lambda uow, uid: transfers.record_reply(
        _transferred(uow, c), uid, c.case_no, c.version, sent_on=date(2026, 11, 30), method="监管系统报送")),
    "declare_major": ("registered", DESK | {"supervisor", "executive"}, lambda w, whose, c: lambda uow, uid:
                      transfers.declare_major_later(uow, uid, c.case_no, c.version, cause="regulator_designated")),
    "walkthrough": ("resolved", VIEWERS, lambda w, whose, c: lambda uow, uid: walkthrough.walkthrough(
        uow, uid, c.case_no)),
    # JR/T 0169 codes (RULES.md §7.4): the desk that handles or files the case; the page's view: every viewer
    "classify": ("feedback_given", DESK, lambda w, whose, c: lambda uow, uid: classification.classify(
        uow, uid, c.case_no, c.version, cause="C01")),
    "classification_view": ("forwarded", VIEWERS, lambda w, whose, c: lambda uow, uid:
                            classification.classification_view(uow, uid, c.case_no)),
    "judge": ("resolved", VIEWERS, lambda w, whose, c: lambda uow, uid: walkthrough.judge(
        uow, uid, c.case_no, "feedback")),
    # RULES.md §7.2: the desk records a review request and whom the complaint is about; viewers print the letter
    "request_review": ("feedback_given", DESK, lambda w, whose, c: lambda uow, uid: duties.request_review(
        uow, uid, c.case_no, c.version, at("2026-11-05 09:00"), "申请核查")),
    "name_complained_employee": ("forwarded", DESK, lambda w, whose, c: lambda uow, uid: (
        duties.name_complained_employee(uow, uid, c.case_no, c.version, w.users["outsider"]))),
    "duties_view": ("forwarded", VIEWERS, lambda w, whose, c: lambda uow, uid: duties.duties_view(uow, uid, c.case_no)),
    "decision_letter": ("resolved", VIEWERS, lambda w, whose, c: lambda uow, uid: decision_letter.decision_letter(
        uow, uid, c.case_no)),
}


def _transferred(uow: UnitOfWork, case: Case) -> UnitOfWork:
    """The case as a 12378 transfer, in this rolled-back unit of work only (its version unchanged)."""
    uow.session.execute(CaseRow.__table__.update().where(CaseRow.case_no == case.case_no).values(
        source="nfra_12378", regulator_ref="12378-1", transferred_on=date(2026, 11, 1)))
    return uow


@pytest.mark.parametrize("entry", CASE_ENTRIES)
def test_case_entry_points_allow_exactly_the_roles_in_scope(world, entry):
    state, roles, bind = CASE_ENTRIES[entry]
    wrong = []
    for whose in ("mine", "theirs"):
        case = world.cases[(whose, state)]
        scope = IN_SCOPE[(whose, "registered" if state == "registered" else "later")]
        wrong += [f"{whose}: {m}" for m in _mismatches(
            world, lambda user, scope=scope: bool(set(PEOPLE[user][0]) & roles) and user in scope,
            bind(world, whose, case))]
    assert wrong == []


def test_out_of_scope_and_missing_cases_are_refused_with_the_same_words(world):
    theirs = world.cases[("theirs", "forwarded")]
    answers = []
    for case_no, version in ((theirs.case_no, theirs.version), ("TS-20261102-999999", 1)):
        with UnitOfWork(world.engine) as uow, pytest.raises(NotPermitted) as refused:
            cases.first_contact(uow, world.users["handler"], case_no, version, note="x")
        answers.append((refused.value.message("zh"), refused.value.message("en")))
    assert answers[0] == answers[1]
    assert theirs.case_no not in answers[0][0] + answers[0][1]


def test_a_re_complaint_cannot_reach_another_desks_customer(world):
    """The reported leak: a re-complaint on another desk's case, then a reveal of the new case's ID number."""
    theirs = world.cases[("theirs", "feedback_given")]
    with UnitOfWork(world.engine) as uow, pytest.raises(NotPermitted):
        cases.re_complaint(uow, world.users["clerk"], theirs.case_no, theirs.version,
                           {"received_at": at("2026-11-05 09:00"), "content": "再投诉"})


# --- escalations: answered by the addressee's rank or above --------------------------------------------

@pytest.mark.parametrize("to_whom, whose, allowed", [
    ("ack_branch_head", "mine", {"head", "executive"}),  # branch head: this desk's head, or an executive
    ("ack_branch_head", "theirs", {"executive"}),  # another department's: not this desk's head
    ("ack_leadership", None, {"executive"}),  # the leadership group: never a department head
])
def test_escalations_are_acknowledged_by_their_addressee_or_above(world, to_whom, whose, allowed):
    escalation_id = world.extra[to_whom][whose] if whose else world.extra[to_whom]
    assert _mismatches(world, lambda user: user in allowed,
                       lambda uow, uid: escalation.acknowledge(uow, uid, escalation_id)) == []


@pytest.mark.parametrize("picked, allowed", [
    (lambda x: [x["ack_branch_head"]["mine"]], {"head", "executive"}),
    (lambda x: [x["ack_branch_head"]["mine"], x["ack_branch_head"]["theirs"]], {"executive"}),
    (lambda x: [x["ack_branch_head"]["mine"], x["ack_leadership"]], {"executive"}),
])
def test_acknowledging_several_checks_each_as_if_alone(world, picked, allowed):
    """The board's "acknowledge selected" (issue 10 §1): one escalation the user may not answer refuses all."""
    ids = picked(world.extra)
    assert _mismatches(world, lambda user: user in allowed,
                       lambda uow, uid: escalation.acknowledge_many(uow, uid, ids)) == []


# --- lists: only what is in scope -------------------------------------------------------------------------

def _listed(world: World, user: str, call: Callable[[UnitOfWork, int], list[str]]) -> set[str]:
    with UnitOfWork(world.engine) as uow:  # never committed: every call is rolled back
        return set(call(uow, world.users[user]))


LISTINGS = {  # listing: (call, who finds their own cases in it)
    "queue": (lambda uow, uid: [r.case_no for r in queue.my_queue(uow, uid, view="assigned", page_size=200).rows],
              {"handler": "mine", "outsider": "theirs"}),
    "queue_first_responder": (lambda uow, uid: [
        r.case_no for r in queue.my_queue(uow, uid, view="first_responder", page_size=200).rows],
        {"clerk": "mine", "other_clerk": "theirs"}),
    "board": (lambda uow, uid: [r.case_no for r in escalation.board(uow, uid, now=at("2026-12-30 10:00"))],
              {"head": "mine", "other_clerk": "theirs"}),
}


@pytest.mark.parametrize("listing", LISTINGS)
def test_lists_show_only_cases_in_scope(world, listing):
    call, finds = LISTINGS[listing]
    whose_cases = {w: {c.case_no for (whose, _), c in world.cases.items() if whose == w} for w in ("mine", "theirs")}
    for users, hidden in ((("clerk", "handler", "head"), "theirs"), (("other_clerk", "outsider"), "mine")):
        for user in users:
            assert not _listed(world, user, call) & whose_cases[hidden], (user, listing)
    for user, whose in finds.items():
        assert _listed(world, user, call) & whose_cases[whose], (user, listing)


def test_the_repeat_warning_counts_other_desks_cases_without_showing_them(world):
    with UnitOfWork(world.engine) as uow:  # never committed: every call is rolled back
        found = queue.recent_complaints(uow, world.users["clerk"], customer_phone="13800138000",
                                        now=at("2026-11-10 10:00"))
    theirs = {c.case_no for (whose, _), c in world.cases.items() if whose == "theirs"}
    assert {r.case_no for r in found.visible}.isdisjoint(theirs)
    assert found.elsewhere == len(theirs)


# --- configuration, reports and reads without a case ----------------------------------------------------

ADMIN = {"admin"}
KPI_READERS = {"dept_head"} | SEE_EVERY_CASE


def has(roles: set[str]) -> Callable[[str], bool]:
    """The users holding one of these roles."""
    return lambda user: bool(set(PEOPLE[user][0]) & roles)


PERIOD = {"date_from": date(2026, 11, 1), "date_to": date(2026, 11, 30)}
OTHER_ENTRIES: dict[str, tuple[Callable[[str], bool], Callable[[UnitOfWork, int], Any]]] = {
    "intake": (has(DESK), lambda uow, uid: cases.intake(uow, uid, {
        "customer_name": "李四", "customer_phone": "13700000000", "channel": "phone", "category": "staff_operation",
        "received_at": at("2026-11-02 10:00"), "content": "内容", "compensation_claim": 0, "flags": []})),
    "intake_preview": (has(DESK), lambda uow, uid: queue.intake_preview(uow, uid, {
        "channel": "phone", "category": "staff_operation", "received_at": at("2026-11-02 10:00")})),
    "recent_complaints": (has(DESK), lambda uow, uid: queue.recent_complaints(uow, uid, customer_phone="13800138000")),
    "my_queue": (has(VIEWERS), lambda uow, uid: queue.my_queue(uow, uid)),
    "board": (has(VIEWERS), lambda uow, uid: escalation.board(uow, uid)),
    "home": (has(VIEWERS | {"trainee"}), lambda uow, uid: todays_work(uow, uid)),
    "kpis": (has(KPI_READERS), lambda uow, uid: kpi.kpis(uow, uid, by="department", **PERIOD)),
    "kpi_cases": (has(KPI_READERS), lambda uow, uid: kpi.kpi_cases(uow, uid, kpi="volume", group=None, by="all",
                                                              **PERIOD)),
    "scorecard": (has(KPI_READERS), lambda uow, uid: kpi.scorecard(uow, uid, level="department", **PERIOD)),
    # issue 11 §3: regulator transfers counted by source, and the lists' transfer marks
    "transfers_by_source": (has(KPI_READERS), lambda uow, uid: transfer_stats.transfers_by_source(uow, uid, **PERIOD)),
    "case_sources": (has(VIEWERS), lambda uow, uid: transfer_stats.case_sources(uow, uid, ["TS-20261102-000001"])),
    "monthly_report": (has(KPI_READERS), lambda uow, uid: report.monthly_report(uow, uid, "2026-11")),
    # JR/T 0169 statistics (RULES.md §7.4): supervision, the executives and the admin read the institution's
    "quarterly_statistics": (has({"supervisor", "executive", "admin"}), lambda uow, uid:
                             statistics.quarterly_statistics(uow, uid, "2026Q4")),
    "annual_disclosure": (has({"supervisor", "executive", "admin"}), lambda uow, uid:
                          statistics.annual_disclosure(uow, uid, 2026)),
    "set_kpi_weights": (has(ADMIN), lambda uow, uid: kpi.set_kpi_weights(uow, uid, kpi.kpi_weights(uow.session))),
    "list_users": (has(ADMIN), lambda uow, uid: admin.list_users(uow, uid)),
    "add_user": (has(ADMIN), lambda uow, uid: admin.add_user(uow, uid, username="new.user", display_name="新人",
                                                        password="Kp7-hz!rq2Lm", roles=["intake"], department=HERE)),
    "update_user": (has(ADMIN), lambda uow, uid: admin.update_user(uow, uid, _user(uow, "trainee"), roles=["intake"])),
    "reset_password": (has(ADMIN), lambda uow, uid: admin.reset_password(uow, uid, _user(uow, "trainee"),
                                                                         "Zq4!vw-Lp9xT")),
    "lock": (has(ADMIN), lambda uow, uid: admin.lock(uow, uid, _user(uow, "trainee"))),
    "unlock": (has(ADMIN), lambda uow, uid: admin.unlock(uow, uid, _user(uow, "trainee"))),
    "set_idle_timeout": (has(ADMIN), lambda uow, uid: admin.set_idle_timeout(uow, uid, 45)),
    "idle_minutes": (has(ADMIN), lambda uow, uid: admin.idle_minutes(uow, uid)),
    "save_department": (has(ADMIN), lambda uow, uid: admin.save_department(uow, uid, "audit_office", "审计室")),
    "pack_values": (has(ADMIN), lambda uow, uid: admin.pack_values(uow, uid)),
    "set_pack_value": (has(ADMIN), lambda uow, uid: admin.set_pack_value(uow, uid, "extension.max_count", 1)),
    "set_calendar_day": (has(ADMIN), lambda uow, uid: set_calendar_day(uow, uid, date(2026, 12, 31), DayType.HOLIDAY,
                                                                  "测试")),
    "mark_year_complete": (has(ADMIN), lambda uow, uid: mark_year_complete(uow, uid, 2027)),
    "activate_pack": (has(ADMIN), lambda uow, uid: activate_pack(uow, PACK, actor_id=uid)),
    "forget_demo": (has(ADMIN), lambda uow, uid: setup.forget_demo(uow, uid)),
    # Whoever may record a complaint may record it from a spreadsheet; admins import for the institution.
    "import": (has(DESK | ADMIN), lambda uow, uid: importer.import_file(
        uow, uid, importer.template_xlsx(uow.policy()), "template.xlsx")),
    # Only the reviewer a sampled case was assigned to reviews it (RULES.md §6).
    "review_suggestions": (has({"supervisor"}), lambda uow, uid: reviews.suggestions(uow, uid, EXTRA["item"])),
    "submit_review": (has({"supervisor"}), lambda uow, uid: reviews.submit_review(
        uow, uid, EXTRA["item"], {c.code: ("pass", "") for c in reviews.CHECKLIST})),
    # A rectification action is closed by its owner, the owner's head, or supervision.
    "close_action": (lambda user: user in {"handler", "head", "supervisor", "admin"},
                     lambda uow, uid: reviews.close_action(uow, uid, EXTRA["action"], "已补录回访记录")),
    # The audit trail is read by administrators and supervision (issue 8 §7).
    "audit_search": (has({"admin", "supervisor"}), lambda uow, uid: audit.search(uow, uid)),
    "audit_export": (has({"admin", "supervisor"}), lambda uow, uid: audit.export_frame(uow, uid)),
    "audit_check": (has({"admin", "supervisor"}), lambda uow, uid: audit.check_chain(uow, uid)),
    "plan_preview": (has({"supervisor", "admin"}), lambda uow, uid: sampling.plan_preview(
        uow, uid, sampling.SamplingPlanInput(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30)))),
    "plan_summary": (has({"supervisor", "admin"}), lambda uow, uid: sampling.plan_summary(
        uow, uid, sampling.SamplingPlanInput(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30),
                                             rate=None, confidence=0.95, tolerable=0.05))),
    "draw": (has({"supervisor", "admin"}), lambda uow, uid: sampling.draw(
        uow, uid, sampling.SamplingPlanInput(period_from=date(2026, 11, 1), period_to=date(2026, 11, 30)))),
    # issue 12 §2–3: the draw's reasons replayed, the drawn plans and their evaluation are supervision's
    "replay_reasons": (has({"supervisor", "admin"}), lambda uow, uid: sampling.replay_reasons(uow, uid, EXTRA["plan"])),
    "drawn_plans": (has({"supervisor", "admin"}), lambda uow, uid: evaluation.drawn_plans(uow, uid)),
    "evaluate_plan": (has({"supervisor", "admin"}), lambda uow, uid: evaluation.evaluate_plan(uow, uid, EXTRA["plan"])),
    # Calibration (issue 12 §4): a supervisor sets it up; its organiser and reviewers (supervisors) take part.
    "create_calibration": (has({"supervisor"}), lambda uow, uid: calibration.create_session(
        uow, uid, "校准", EXTRA["closed_cases"], [EXTRA["second"], _user(uow, "supervisor")])),
    "calibration_reviewers": (has({"supervisor"}), lambda uow, uid: calibration.reviewers(uow, uid)),
    "calibration_sessions": (has({"supervisor"}), lambda uow, uid: calibration.sessions(uow, uid)),
    "calibration_view": (has({"supervisor"}), lambda uow, uid: calibration.session_view(
        uow, uid, EXTRA["calibrating"])),
    "submit_calibration_review": (has({"supervisor"}), lambda uow, uid: calibration.submit_calibration_review(
        uow, uid, EXTRA["calibrating"], _calibrated_case(uow), ALL_PASS)),
    "close_calibration": (has({"supervisor"}), _close_calibration),
    "set_calibration_baseline": (has({"supervisor"}), lambda uow, uid: calibration.set_baseline(
        uow, uid, EXTRA["calibration_review"])),
    # Disputes (issue 12 §5): this desk's head files; a supervisor other than the review's author decides.
    "file_dispute": (has({"dept_head"}), lambda uow, uid: disputes.file_dispute(
        uow, uid, EXTRA["review"], "archive_complete", "已补齐归档材料")),
    "decide_dispute": (has({"supervisor"}), lambda uow, uid: disputes.decide_dispute(
        uow, uid, EXTRA["dispute"], "rejected", "回访记录缺失属实")),
    "findings": (has({"dept_head", "supervisor"}), lambda uow, uid: disputes.findings(uow, uid)),
    "disputes": (has({"dept_head", "supervisor"}), lambda uow, uid: disputes.disputes(uow, uid)),
    "dispute_stats": (has({"dept_head", "supervisor"}), lambda uow, uid: disputes.dispute_stats(uow, uid)),
    "reviewer_quality": (has({"supervisor"}), lambda uow, uid: quality.reviewer_quality(uow, uid)),
}


def _user(uow: UnitOfWork, username: str) -> int:
    return uow.session.scalar(text("SELECT id FROM users WHERE username = :u"), {"u": username})


@pytest.mark.parametrize("entry", OTHER_ENTRIES)
def test_configuration_and_report_entry_points_allow_exactly_their_roles(world, entry):
    allowed, call = OTHER_ENTRIES[entry]
    assert _mismatches(world, allowed, call) == []
