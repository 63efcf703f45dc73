"""The escalation board and its automatic escalations (issue 4 §4): each recorded exactly once."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, text, update

from db.models import OPEN_MAJOR_CASE, Case, CaseDeadline, CaseEvent, Escalation
from services.administration import admin
from services.casework import cases, escalation
from services.errors import Conflict, NotPermitted
from services.unit_of_work import transaction
from tests.service.conftest import Institution, at, at_risk_beyond_the_nearest

ROOT = Path(__file__).resolve().parents[2]
OVERDUE = at("2026-11-02 12:00")  # futures: forward was due within 1 hour of 10:00 (seed 000 art. 17(2))


def recorded(inst: Institution, case_no: str, rule_key: str) -> tuple[int, int]:
    """(escalation rows, timeline events) of one automatic escalation."""
    with inst.uow() as uow:
        case_id = cases.case_by_number(uow, case_no).id
        rows = uow.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.case_id == case_id, Escalation.rule_key == rule_key))
        events = uow.session.scalar(select(func.count()).select_from(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.event_type == "escalation",
            CaseEvent.data["rule"].astext == rule_key))
        return rows, events


def run(inst: Institution, now=OVERDUE) -> int:
    with inst.uow() as uow:
        return escalation.run_automatic_escalations(uow, now=now)


def board(inst: Institution, who: str, now=OVERDUE) -> list[escalation.BoardRow]:
    with inst.uow() as uow:
        return escalation.board(uow, inst.users[who], now=now)


def test_an_overdue_milestone_goes_to_the_department_head_once(futures):
    ref = futures.intake()
    assert run(futures, now=at("2026-11-02 10:59")) == 0  # not yet due
    assert run(futures) == 1
    assert run(futures) == 0
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)
    with futures.uow() as uow:
        row = uow.session.scalar(select(Escalation).where(Escalation.rule_key == "overdue:forward"))
        assert (row.to_role, row.created_by_id) == ("dept_head", None)
        assert "转办" in row.reason and "2026-11-02 11:00" in row.reason


def test_an_overdue_escalation_recorded_before_its_deadline_was_marked_is_not_recorded_again(futures):
    """As on a database escalated before migration 0026: the run skips the recorded key and marks the deadline,
    so the next run does not read it again (issue 13 §2)."""
    ref = futures.intake()
    assert run(futures) == 1
    forward = select(CaseDeadline.overdue_escalated).join(Case).where(
        Case.case_no == ref.case_no, CaseDeadline.milestone == "forward")
    with futures.uow() as uow:
        assert uow.session.scalar(forward) is True
        uow.session.execute(update(CaseDeadline).values(overdue_escalated=False))
    assert run(futures) == 0
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)
    with futures.uow() as uow:
        assert uow.session.scalar(forward) is True


def test_two_sessions_escalating_the_same_case_at_the_same_moment_record_it_once(futures, engine):
    ref = futures.intake()
    results: list[int] = []

    def page_load() -> None:
        with transaction(engine) as uow:
            results.append(escalation.run_automatic_escalations(uow, now=OVERDUE))

    # Hold the table so both sessions have read "nothing recorded yet" and then wait to insert together.
    with engine.connect() as blocker:
        blocker.execute(text("LOCK TABLE escalations IN EXCLUSIVE MODE"))
        threads = [threading.Thread(target=page_load) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while _waiting_on_escalations(engine) < 2:
            assert time.monotonic() < deadline, "both sessions should be waiting to insert"
            time.sleep(0.05)
        blocker.rollback()  # release: both insert at once
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(results) == [0, 1]
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)


def _waiting_on_escalations(engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted "
                                "AND relation = 'escalations'::regclass"))


def test_a_major_case_missing_its_executive_escalation_gets_it_once(consumer_finance):
    inst = consumer_finance
    ref = inst.intake(flags=["litigation"])  # L1 → supervisor and management (seed 003 §2, §4(3))
    with inst.uow() as uow:  # as if imported without them
        uow.session.execute(delete(Escalation).where(Escalation.case_id == cases.case_by_number(uow, ref.case_no).id))
    assert run(inst, now=at("2026-11-02 11:00")) == 2
    assert run(inst, now=at("2026-11-02 11:00")) == 0
    assert recorded(inst, ref.case_no, "rule:management") == (1, 2)  # intake's event and the new one


def test_intakes_own_escalations_are_not_repeated(futures):
    futures.intake(flags=["violation"])  # major → cro, recorded at intake (seed 000 art. 4)
    assert run(futures, now=at("2026-11-02 10:30")) == 0


def test_the_board_shows_overdue_at_risk_and_major_cases_with_who_is_responsible(consumer_finance):
    inst = consumer_finance
    late = inst.intake(received_at=at("2026-09-29 10:00"))  # L3, due 10-09 24:00
    risky = inst.intake(received_at=at("2026-10-08 09:00"))  # L3, due 10-12 24:00 (Sat 10-10 is worked)
    major = inst.intake(flags=["litigation"], received_at=at("2026-10-12 09:00"))  # L1
    inst.intake(received_at=at("2026-10-12 09:30"))  # L3, fresh: not on the board
    now = at("2026-10-12 20:00")
    run(inst, now=now)
    rows = {r.case_no: r for r in board(inst, "head", now=now)}
    assert set(rows) == {late.case_no, risky.case_no, major.case_no}
    overdue = rows[late.case_no]
    # overdue on the pack's own 3 working days, at risk on the regulator's 15 calendar days (due 10-14 24:00,
    # the last quarter of its period began 10-11 02:30: RULES.md §7.1, §3)
    assert overdue.reasons == ("overdue", "at_risk", "escalated")
    assert (overdue.deadline.status, overdue.deadline.unit, overdue.deadline.amount) == ("overdue", "working_days", 2)
    assert overdue.responsible_person == "Clerk"  # not forwarded yet: the first responder
    assert [e.rule_key for e in overdue.escalations] == ["overdue:resolve"]
    assert rows[risky.case_no].reasons == ("at_risk",)
    assert rows[major.case_no].reasons == ("major", "escalated")
    groups = escalation.grouped(rows.values())
    assert [(g.handling_level, g.department_code, len(g.rows)) for g in groups] == [(None, "customer_service", 3)]
    assert board(inst, "outsider", now=now) == []


def test_acknowledging_an_escalation_is_recorded_once(futures):
    ref = futures.intake()
    run(futures)
    with futures.uow() as uow:
        escalation_id = uow.session.scalar(select(Escalation.id).where(Escalation.rule_key == "overdue:forward"))
    with pytest.raises(NotPermitted), futures.uow() as uow:
        escalation.acknowledge(uow, futures.users["clerk"], escalation_id)
    with futures.uow() as uow:
        seen = escalation.acknowledge(uow, futures.users["head"], escalation_id, at=at("2026-11-02 12:10"))
    assert (seen.acknowledged_by, seen.acknowledged_at) == ("Head", at("2026-11-02 12:10"))
    with pytest.raises(Conflict), futures.uow() as uow:
        escalation.acknowledge(uow, futures.users["head"], escalation_id)
    with futures.uow() as uow:
        case_id = uow.session.scalar(select(Case.id).where(Case.case_no == ref.case_no))
        acks = uow.session.scalars(select(CaseEvent.actor_id).where(
            CaseEvent.case_id == case_id, CaseEvent.event_type == "escalation_ack")).all()
    assert acks == [futures.users["head"]]


def test_the_command_line_escalates_without_anyone_opening_the_board(futures, owner_engine):
    """Issue 9 §8: cron runs `python -m services escalate`; a second run finds nothing new."""
    ref = futures.intake(received_at=at("2026-11-02 10:00"))  # forward due within an hour: long overdue by now
    env = {**os.environ, "PYTHONPATH": str(ROOT),
           "DATABASE_URL": owner_engine.url.render_as_string(hide_password=False)}

    def cli() -> int:
        done = subprocess.run([sys.executable, "-m", "services", "--lang", "en", "escalate"], capture_output=True,
                              text=True, env=env, cwd=ROOT, timeout=120, check=True)
        return int(re.fullmatch(r"(\d+) new automatic escalations\n", done.stdout)[1])

    first = cli()  # every open milestone of the case is overdue today
    with futures.uow() as uow:
        overdue = uow.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.rule_key.like("overdue:%")))
    assert first == overdue >= 1
    assert cli() == 0
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)


def test_a_sweep_while_another_server_sweeps_leaves_the_work_to_it(futures):
    """Issue 9 §8: app servers' timers and cron share one advisory lock; the one holding it escalates."""
    ref = futures.intake()
    with futures.uow() as other:
        other.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": escalation.SWEEP_LOCK})
        with futures.uow() as uow:
            assert escalation.sweep(uow, now=OVERDUE) is None
        assert recorded(futures, ref.case_no, "overdue:forward") == (0, 0)
    with futures.uow() as uow:
        assert escalation.sweep(uow, now=OVERDUE) >= 1
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)


def test_the_app_server_sweeps_on_a_timer_while_it_serves(monkeypatch):
    """Issue 9 §8: a single `make run` server escalates with no cron and nobody opening the board."""
    from dashboard import server

    swept = threading.Event()
    monkeypatch.setattr(server, "_sweep", swept.set)
    monkeypatch.setenv("ESCALATION_SWEEP_SECONDS", "0.05")

    async def serve_briefly() -> None:
        async with server.escalation_timer(server.app):
            await asyncio.sleep(1)

    asyncio.run(serve_briefly())
    assert swept.is_set()


def test_one_escalation_is_one_timeline_entry_naming_its_addressee(consumer_finance):
    """Issue 10 §4: a case escalated to two roles at intake showed two identical entries (the same explanation,
    time and clerk); each now names its addressee and points at its escalation, and the sweep adds none."""
    inst = consumer_finance
    ref = inst.intake(flags=["litigation"])  # L1 → supervisor and management (seed 003 §2, §4(3))
    run(inst, now=at("2026-11-02 10:30"))
    with inst.uow() as uow:
        case_id = cases.case_by_number(uow, ref.case_no).id
        events = uow.session.scalars(select(CaseEvent).where(
            CaseEvent.case_id == case_id, CaseEvent.event_type == "escalation").order_by(CaseEvent.id)).all()
        rows = {e.id: e for e in uow.session.scalars(select(Escalation).where(Escalation.case_id == case_id))}
        policy = uow.policy("consumer_finance")
        assert len(events) == len(rows) == 2
        assert len({e.note for e in events}) == 2
        for event in events:
            row = rows[event.data["escalation_id"]]
            assert event.note == row.reason and policy.label("role", row.to_role) in event.note


def test_an_unacknowledged_escalation_stays_on_the_board_after_archive_and_the_home_tile_counts_the_same(futures):
    """Issue 10 §3: archiving hid unacknowledged escalations from the board while the home tile kept counting
    them (346 vs ~127 in the demo); both now count the one set, the closed case badged as such."""
    from services.casework.home import todays_work
    from tests.service.test_case_view import to_archive

    closed = to_archive(futures, futures.intake(flags=["violation"]))  # major → cro, never acknowledged
    still_open = futures.intake(flags=["violation"], received_at=at("2026-11-30 09:00"))
    now = at("2026-11-30 10:00")
    for who in ("head", "supervisor"):
        rows = {r.case_no: r for r in board(futures, who, now=now)}
        assert rows[closed.case_no].reasons == ("escalated", "closed_unacknowledged")
        assert "closed_unacknowledged" not in rows[still_open.case_no].reasons
        with futures.uow() as uow:
            tile = {w.key: w.count for w in todays_work(uow, futures.users[who], now=now)}
        awaiting = [r for r in rows.values() if any(e.acknowledged_at is None for e in r.escalations)]
        assert tile["escalations"] == len(awaiting) == 2


def test_acknowledging_several_records_each_or_none(consumer_finance):
    """Issue 10 §1: one action for the selected rows; an escalation the head may not answer refuses the batch."""
    inst = consumer_finance
    ref = inst.intake(flags=["litigation"])  # L1 → supervisor (a head answers) and management (an executive)
    with inst.uow() as uow:
        ids = {e.to_role: e.id for e in uow.session.scalars(select(Escalation))}
    with pytest.raises(NotPermitted), inst.uow() as uow:
        escalation.acknowledge_many(uow, inst.users["head"], ids.values())
    with inst.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Escalation).where(
            Escalation.acknowledged_at.is_not(None))) == 0
        seen = escalation.acknowledge_many(uow, inst.users["head"], [ids["supervisor"]], at=at("2026-11-02 10:10"))
    assert [(e.id, e.acknowledged_by) for e in seen] == [(ids["supervisor"], "Head")]
    assert [r.to_answer for r in board(inst, "head", now=at("2026-11-02 10:20")) if r.case_no == ref.case_no] == [()]


def test_the_presidents_escalation_is_the_presidents(engine):
    """Issue 10 §2: any executive acknowledged an escalation to the bank's president; the pack ranks its roles
    (president above the branch leaders, seed 004 art. 9) and an executive answers up to their own title."""
    from services.institution.directory import create_user
    from tests.service.conftest import make_institution

    bank = make_institution(engine, "bank")
    with bank.uow() as uow:
        for name, title in (("leader", None), ("president", "president")):
            bank.users[name] = create_user(uow, name, name.title(), "kite-harbour9", ["executive"], title=title).id
    bank.intake(flags=["media"])  # major → branch leader and president (seed 004 art. 9)
    with bank.uow() as uow:
        ids = {e.to_role: e.id for e in uow.session.scalars(select(Escalation))}
    with pytest.raises(NotPermitted), bank.uow() as uow:
        escalation.acknowledge(uow, bank.users["leader"], ids["president"])
    [row] = board(bank, "leader", now=at("2026-11-02 10:30"))
    assert row.to_answer == (ids["branch_leader"],)
    [row] = board(bank, "president", now=at("2026-11-02 10:30"))
    assert set(row.to_answer) == set(ids.values())  # the president answers the branch leader's too
    with bank.uow() as uow:
        escalation.acknowledge(uow, bank.users["president"], ids["president"])
        escalation.acknowledge(uow, bank.users["leader"], ids["branch_leader"])


def test_an_escalation_is_dated_when_it_was_made_not_when_it_was_written(futures):
    # the demo records months of history in one transaction: every escalation showed on the board as made
    # "just now" (the database's transaction time) instead of when it was made
    ref = futures.intake()  # received 2026-11-02 10:00, before the pinned 2026-11-30
    run(futures)
    with futures.uow() as uow:
        cases.escalate(uow, futures.users["head"], ref.case_no, ref.version, to_role="vp_business",
                       reason="客户情绪激动", at=at("2026-11-03 09:30"))
    with futures.uow() as uow:
        made = dict(uow.session.execute(select(Escalation.rule_key, Escalation.created_at)).tuples().all())
    assert made == {"rule:vp_business": at("2026-11-02 10:00"),  # the pack's rule, at receipt
                    "overdue:forward": OVERDUE, None: at("2026-11-03 09:30")}


# --- the board's and the sweep's candidates (issue 13 §1–2): read from indexes, the same cases as before -----------


def test_a_case_at_risk_on_a_deadline_other_than_its_nearest_is_on_the_board(consumer_finance):
    inst = consumer_finance
    ref = at_risk_beyond_the_nearest(inst)
    row = next(r for r in board(inst, "head", now=at("2026-11-03 12:00")) if r.case_no == ref.case_no)
    assert row.reasons == ("at_risk",)
    assert row.deadline.milestone == "resolve" and row.deadline.status == "on_time"  # the nearest is not at risk


def test_the_board_judges_at_risk_by_the_window_of_the_case_s_own_pack(consumer_finance):
    inst = consumer_finance
    ref = inst.intake(received_at=at("2026-11-02 09:00"))  # L3: resolve due 11-06 00:00, 87 hours
    with inst.uow() as uow:  # narrower than every other pack's 25 %: at risk from 11-05 15:18
        admin.set_pack_value(uow, inst.users["admin"], "warning_window", 0.1)
    assert ref.case_no not in {r.case_no for r in board(inst, "head", now=at("2026-11-05 12:00"))}
    row = next(r for r in board(inst, "head", now=at("2026-11-05 16:00")) if r.case_no == ref.case_no)
    assert row.reasons == ("at_risk",)


def test_a_hand_escalation_does_not_stand_in_for_a_missing_rule_escalation(consumer_finance):
    inst = consumer_finance
    ref = inst.intake(flags=["litigation"])  # L1 → supervisor and management
    with inst.uow() as uow:  # as if imported without them, then escalated by hand (no rule key)
        uow.session.execute(delete(Escalation).where(Escalation.case_id == cases.case_by_number(uow, ref.case_no).id))
    with inst.uow() as uow:
        cases.escalate(uow, inst.users["clerk"], ref.case_no, ref.version, to_role="supervisor", reason="客户情绪激动",
                       at=at("2026-11-02 10:30"))
    assert run(inst, now=at("2026-11-02 11:00")) == 2
    assert recorded(inst, ref.case_no, "rule:supervisor")[0] == 1


def test_a_hand_escalation_does_not_stand_in_for_an_overdue_one(futures):
    ref = futures.intake()
    with futures.uow() as uow:
        cases.escalate(uow, futures.users["clerk"], ref.case_no, ref.version, to_role="vp_business",
                       reason="客户要求尽快处理", at=at("2026-11-02 10:30"))
    assert run(futures) == 1
    assert recorded(futures, ref.case_no, "overdue:forward") == (1, 1)


def test_a_closed_case_is_not_escalated_by_its_rules_or_its_open_deadlines(consumer_finance):
    inst = consumer_finance
    ref = inst.intake(flags=["litigation"], received_at=at("2026-11-02 09:00"))
    with inst.uow() as uow:
        case_id = cases.case_by_number(uow, ref.case_no).id
        uow.session.execute(delete(Escalation).where(Escalation.case_id == case_id))
        uow.session.execute(update(Case).where(Case.id == case_id).values(state="withdrawn"))  # deadlines left open
    assert run(inst, now=at("2026-12-30 12:00")) == 0


def test_the_board_s_index_of_major_cases_names_the_board_s_major_grades():
    """A grade missing from the partial index's predicate would still be shown, but read from every open case."""
    assert OPEN_MAJOR_CASE.count("grade IN") == 1
    assert all(f"'{grade}'" in OPEN_MAJOR_CASE for grade in escalation.MAJOR_GRADES)
