"""Training mode (issue 5 §4): a separate training database seeded with the scenario library, practice copies
that never touch real cases, a trainer-only reset, the walkthrough and the judge."""

from __future__ import annotations

import copy
import tomllib

import pytest
from sqlalchemy import func, select, text

from db.models import AuditEvent, Case, CaseEvent, Extension, User
from services.casework import cases
from services.errors import NotFound, NotPermitted, PolicyError
from services.rules.packs import load_policy
from services.rules.policy import PACK_CODES
from services.training.practice import (
    library,
    practice_cases,
    reset_training,
    seed_training,
    start_practice,
    training_engine_for,
    training_user,
)
from services.training.scenarios import SCENARIO_DIR, load_scenarios, scenarios_from_data
from services.training.walkthrough import judge, walkthrough
from services.unit_of_work import transaction
from tests.conftest import TEMPLATE
from tests.service.conftest import at, make_institution

# The special kinds each pack's library must show (issue 5 §4), where the pack's flags or channels allow them
# (RULES.md §4: futures and securities have no group or media flag).
SPECIAL = {"futures": {"major", "invalid", "re_complaint", "extension"},
           "securities": {"major", "invalid", "re_complaint", "extension"},
           "branch": {"major", "invalid", "re_complaint", "extension", "group", "media"},
           "consumer_finance": {"major", "invalid", "re_complaint", "extension", "group", "media"},
           "bank": {"major", "invalid", "re_complaint", "extension", "group", "media"}}


@pytest.fixture
def training(engine, admin_engine):
    """`<main db name>_training` on the same server (from the migrated template, for speed); dropped after."""
    name = f"{engine.url.database}_training"
    with admin_engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{TEMPLATE}"'))
    db = training_engine_for(engine)
    assert db.url.database == name
    yield db
    db.dispose()
    with admin_engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_the_training_database_is_created_beside_the_main_one_and_migrated_on_first_use(engine, admin_engine):
    name = f"{engine.url.database}_training"
    db = training_engine_for(engine)
    try:
        with db.connect() as conn:
            assert conn.scalar(text("SELECT current_database()")) == name
            assert conn.scalar(text("SELECT count(*) FROM working_calendar")) > 0  # migrated, calendar seeded
    finally:
        db.dispose()
        with admin_engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def snapshot(engine) -> list[tuple]:
    with transaction(engine) as uow:
        rows = uow.session.execute(select(Case.case_no, Case.state, Case.version).order_by(Case.case_no)).all()
        events = uow.session.scalar(select(func.count()).select_from(CaseEvent))
    return [*map(tuple, rows), ("events", events)]


def trainee_in(training) -> int:
    """The main institution's trainee, mirrored into the training database."""
    return training_user(training, "trainee", "Trainee", ["trainee"])


# --- the scenario library as data -------------------------------------------------------------------------


@pytest.mark.parametrize("pack", PACK_CODES)
def test_each_pack_library_covers_every_category_and_the_special_kinds(pack):
    scenarios = load_scenarios(pack)
    assert {s.facts.category for s in scenarios} >= set(load_policy(pack).categories)
    assert set().union(*(s.kinds for s in scenarios)) >= SPECIAL[pack]
    for s in scenarios:
        assert s.title.zh and s.title.en and s.goal.zh and s.goal.en and s.content
        assert s.source.startswith(("seed", "CBIRC")), s.code  # the learning goal cites its seed article


def futures_data() -> dict:
    return tomllib.loads((SCENARIO_DIR / "futures.toml").read_text(encoding="utf-8"))


def test_a_broken_scenario_file_is_refused_naming_the_file_and_the_key():
    data = futures_data()
    data["scenarios"][0]["facts"]["category"] = "mortgage"
    with pytest.raises(PolicyError) as error:
        scenarios_from_data(data, "futures.toml")
    assert error.value.message("en").startswith("futures.toml: scenarios[0].facts.category:")

    data = futures_data()
    data["scenarios"][1]["steps"][2]["colour"] = "red"
    with pytest.raises(PolicyError, match=r"futures.toml: scenarios\[1\].steps\[2\].colour: unknown key"):
        scenarios_from_data(data, "futures.toml")

    data = futures_data()
    data["scenarios"][0]["steps"][1]["at"] = "2026-10-13 09:00"  # before the forwarding at 09:55
    with pytest.raises(PolicyError, match=r"scenarios\[0\].steps\[1\].at: must not be before the previous step"):
        scenarios_from_data(data, "futures.toml")

    data = copy.deepcopy(futures_data())
    data["scenarios"] = [s for s in data["scenarios"] if s["code"] != "fut-fee-recomplaint"]
    with pytest.raises(PolicyError, match="the library does not cover: re_complaint"):
        scenarios_from_data(data, "futures.toml")


# --- seeding: every scenario replayed through services.casework.cases -----------------------------------------------


@pytest.mark.parametrize("pack", PACK_CODES)
def test_seeding_replays_every_scenario_into_the_training_database_only(pack, engine, training):
    make_institution(engine, pack)
    before = snapshot(engine)
    seeded = seed_training(training, pack)
    assert snapshot(engine) == before  # the main database is untouched
    scenarios = {s.code: s for s in load_scenarios(pack)}
    assert set(seeded.scenarios) == set(scenarios)
    with transaction(training) as uow:
        for code, numbers in seeded.scenarios.items():
            first = cases.case_by_number(uow, numbers[0])
            kinds = scenarios[code].kinds
            assert first.state == "archived", code  # every library case was played to the end
            assert ("major" in kinds) == (first.grade in ("major", "L1")), code
            assert ("invalid" in kinds) == (first.outcome == "invalid"), code
            assert ("at_intake" in kinds) == (first.outcome == "resolved_at_intake"), code
            assert ("group" in kinds) == ("group" in first.flags), code
            assert ("media" in kinds) == ("media" in first.flags or first.channel == "media"), code
            extensions = uow.session.scalar(select(func.count()).select_from(Extension)
                                            .where(Extension.case_id == first.id))
            assert ("extension" in kinds) == (extensions > 0), code
            if "re_complaint" in kinds:
                child = cases.case_by_number(uow, numbers[1])
                assert child.parent_case_id == first.id and child.state == "archived"
    assert seed_training(training, pack).seconds == 0  # seeded already: nothing to do


def test_the_library_lists_each_scenario_with_its_cases(engine, training):
    seed_training(training, "bank")
    with transaction(training) as uow:
        entries = library(uow, "en")
    group = next(e for e in entries if e.code == "bank-wealth-product-group")
    assert group.kinds == ["extension", "group"] and group.category == "other" and len(group.case_nos) == 1
    assert "CBIRC order 2020 no. 3" in group.source and group.title.startswith("Distributed private fund")


# --- practice never touches the main database ----------------------------------------------------------------


def test_a_practice_action_changes_no_case_in_the_main_database(engine, training):
    inst = make_institution(engine, "futures")
    inst.intake()  # a real case in the main database
    before = snapshot(engine)
    seed_training(training, "futures")
    trainee = trainee_in(training)
    case_no = start_practice(training, "trainee", "fut-margin-call", received_at=at("2026-11-02 10:00"))
    with transaction(training) as uow:
        handler = uow.session.scalar(select(User.id).where(User.username == "training.business.handler"))
        version = cases.case_by_number(uow, case_no).version
        ref = cases.forward(uow, trainee, case_no, version, department="business", handler_id=handler,
                            handling_form="请业务部调取保证金监控记录", at=at("2026-11-02 10:30"))
    with transaction(training) as uow:
        ref = cases.first_contact(uow, trainee, case_no, ref.version, note="已联系客户", at=at("2026-11-02 11:00"))
    assert ref.state == "in_progress"
    assert snapshot(engine) == before
    with transaction(training) as uow:
        copy_ = cases.case_by_number(uow, case_no)
        assert copy_.first_responder_id == trainee and copy_.category == "brokerage"
        assert [p.case_no for p in practice_cases(uow, trainee)] == [case_no]


def test_training_cases_have_their_own_number_prefix(engine, training):
    # issue 10 §6: practice numbers repeated real ones (both TS-YYYYMMDD-000001)
    real = make_institution(engine, "futures").intake()
    seeded = seed_training(training, "futures")
    trainee_in(training)
    practice = start_practice(training, "trainee", "fut-margin-call", received_at=at("2026-11-02 10:00"))
    assert real.case_no.startswith("TS-") and practice.startswith("PX-2026")
    assert all(no.startswith("PX-") for numbers in seeded.scenarios.values() for no in numbers)


def test_training_users_mirror_main_users_with_every_practice_role(training):
    first = training_user(training, "trainee", "学员", ["trainee"])
    again = training_user(training, "trainee", "学员", ["trainee"])
    with transaction(training) as uow:
        user = uow.session.get(User, first)
        assert first == again and user.roles == ["dept_head", "handler", "intake", "trainee"]


# --- reset ------------------------------------------------------------------------------------------------


def test_a_trainer_reset_drops_practice_cases_and_restores_the_library(engine, training):
    inst = make_institution(engine, "consumer_finance")
    seed_training(training, "consumer_finance")
    trainee_in(training)
    practice = start_practice(training, "trainee", "cf-autodebit-penalty", received_at=at("2026-11-02 10:00"))
    with transaction(engine) as main:
        restored = reset_training(inst.users["supervisor"], main, "consumer_finance", training=training)
    assert set(restored.scenarios) == {s.code for s in load_scenarios("consumer_finance")}
    with transaction(training) as uow:
        numbers = {n for ns in restored.scenarios.values() for n in ns}
        assert set(uow.session.scalars(select(Case.case_no))) == numbers  # every library case is back
        assert uow.session.scalars(select(Case.intake_key).where(Case.intake_key.like("practice:%"))).all() == []
        assert practice not in numbers  # the trainee's copy (received 2 Nov) is gone
        assert uow.session.scalar(select(User.id).where(User.username == "supervisor")) is not None
    with transaction(engine) as main:
        audit = main.session.scalars(select(AuditEvent).where(AuditEvent.action == "training_reset")).one()
        assert audit.actor_id == inst.users["supervisor"] and audit.detail["pack"] == "consumer_finance"


@pytest.mark.parametrize("who", ["trainee", "clerk", "handler"])
def test_only_a_trainer_may_reset(who, engine, training):
    inst = make_institution(engine, "futures")
    seed_training(training, "futures")
    trainee_in(training)
    practice = start_practice(training, "trainee", "fut-margin-call", received_at=at("2026-11-02 10:00"))
    with pytest.raises(NotPermitted), transaction(engine) as main:
        reset_training(inst.users[who], main, "futures", training=training)
    with transaction(training) as uow:
        assert cases.case_by_number(uow, practice).intake_key.startswith("practice:")


def test_start_practice_needs_a_mirrored_trainee_and_a_known_scenario(training):
    seed_training(training, "futures")
    with pytest.raises(NotFound):
        start_practice(training, "nobody", "fut-margin-call")
    training_user(training, "trainee", "学员", ["trainee"])
    with pytest.raises(NotFound):
        start_practice(training, "trainee", "no-such-scenario")


# --- walkthrough ------------------------------------------------------------------------------------------


def library_case(training, pack: str, code: str, index: int = 0) -> str:
    return seed_training(training, pack).scenarios[code][index]


def test_walkthrough_steps_through_the_timeline_citing_the_seed_and_the_next_action(training):
    case_no = library_case(training, "futures", "fut-margin-call")
    trainee = training_user(training, "trainee", "学员", ["trainee"])
    with transaction(training) as uow:
        steps = walkthrough(uow, trainee, case_no, "zh")
    assert [s.event_type for s in steps] == ["intake", "escalation", "forward", "deadlines_recomputed",
                                             "first_contact", "resolve", "feedback", "archive"]
    intake = steps[0]
    assert intake.to_state == "registered" and intake.actor == "周敏（受理员）"
    assert any(r.startswith("等级：一般") and "《客户投诉解决制度》第四条" in r for r in intake.rules)
    assert any(r.startswith("责任部门：业务部门") or "futures.categories.brokerage" in r for r in intake.rules)
    # seed 000 art. 17(2): forward within 1 hour of intake at 09:20.
    assert intake.next_action == "forward"
    assert any("2026-10-13 10:20" in n and "《客户投诉解决制度》第十七条（二）" in n for n in intake.next_step)
    forward = steps[2]
    assert any(r.startswith("转办期限 2026-10-13 10:20：2026-10-13 09:55 完成，按时") and "第十七条（二）" in r
               for r in forward.rules)
    # seed 000 art. 17(3): contact within 24 hours of forwarding at 09:55.
    assert forward.next_action == "first_contact"
    assert any(n.startswith("须在 2026-10-14 09:55 前完成首次联系") and "《客户投诉解决制度》第十七条（三）" in n
               for n in forward.next_step)
    resolve = steps[5]
    assert any(r.startswith("办结期限 2026-10-14 09:55：2026-10-14 09:40 完成，按时") for r in resolve.rules)
    assert resolve.next_action == "feedback"
    assert steps[-1].next_action is None and steps[-1].next_step[0] == "流程已结束"
    # issue 10 §7: the pack's own document by title; other packs' seeds and RULES.md are not the trainee's
    shown = " ".join(line for s in steps for line in (*s.rules, *s.next_step))
    assert "seed" not in shown and "RULES" not in shown and "（）" not in shown and "（；" not in shown


def test_walkthrough_in_english_shows_a_late_forwarding(training):
    case_no = library_case(training, "futures", "fut-fee-recomplaint")
    trainee = training_user(training, "trainee", "Trainee", ["trainee"])
    with transaction(training) as uow:
        steps = walkthrough(uow, trainee, case_no, "en")
    forward = next(s for s in steps if s.event_type == "forward")
    # received 10:00, forwarded 11:20: the 1-hour rule (seed 000 art. 17(2)) was missed.
    assert any(r.startswith("Forward deadline 2026-09-14 11:00: done 2026-09-14 11:20, late") for r in forward.rules)
    re_complaint = next(s for s in steps if s.event_type == "re_complaint")
    assert any("Customer-complaint resolution rules, art. 17(7)" in r for r in re_complaint.rules)
    assert not any("seed" in line or "RULES" in line for s in steps for line in (*s.rules, *s.next_step))


def test_walkthrough_of_an_extension_cites_the_pack_limit_and_the_new_deadline(training):
    case_no = library_case(training, "securities", "sec-kiosk-extension")
    trainee = training_user(training, "trainee", "学员", ["trainee"])
    with transaction(training) as uow:
        steps = walkthrough(uow, trainee, case_no, "zh")
    extension = next(s for s in steps if s.event_type == "extension")
    # 2 working days from Mon 2 Nov → Wed 4 Nov 24:00; once more by the same period → Fri 6 Nov 24:00.
    assert extension.rules[0].startswith("办结期限由 2026-11-04 24:00 延至 2026-11-06 24:00")
    assert any("《经纪业务客户投诉处理实施细则》第十八条" in r for r in extension.rules)
    assert any("2026-11-06 24:00" in n for n in extension.next_step)


# --- judge ------------------------------------------------------------------------------------------------


def test_judge_refuses_an_action_the_state_does_not_allow_and_weighs_the_deadline(training):
    seed_training(training, "futures")
    trainee = training_user(training, "trainee", "学员", ["trainee"])
    case_no = start_practice(training, "trainee", "fut-margin-call", received_at=at("2026-11-02 10:00"))
    with transaction(training) as uow:
        refused = judge(uow, trainee, case_no, "resolve", at=at("2026-11-02 10:30"))
        on_time = judge(uow, trainee, case_no, "forward", at=at("2026-11-02 10:30"))
        late = judge(uow, trainee, case_no, "forward", at=at("2026-11-02 11:30"), lang="en")
    assert refused[0].startswith("不允许：案件当前为“已登记”，不能办结") and "转办" in refused[0]
    assert refused[1] == "按流程，下一步应当是：转办"
    assert on_time[0].startswith("允许") and "这正是流程的下一步" in on_time
    # seed 000 art. 17(2): forward within 1 hour of receipt at 10:00.
    assert any(line.startswith("转办期限 2026-11-02 11:00：现在完成即按时") for line in on_time)
    assert any(line.startswith("Forward deadline 2026-11-02 11:00 has passed: doing it now is late") for line in late)
    with transaction(training) as uow:
        assert cases.case_by_number(uow, case_no).version == 1  # judging changes nothing
    other = training_user(training, "trainee2", "另一学员", ["trainee"])
    with pytest.raises(NotPermitted), transaction(training) as uow:
        judge(uow, other, case_no, "forward")  # a practice copy is its trainee's own


def test_judge_warns_of_an_early_return_visit_and_an_archive_without_one(training):
    seed_training(training, "branch")
    trainee = training_user(training, "trainee", "学员", ["trainee"])
    case_no = start_practice(training, "trainee", "br-b-commission", received_at=at("2026-11-02 10:00"))
    with transaction(training) as uow:
        assert judge(uow, trainee, case_no, "invalid", at=at("2026-11-02 10:30"))[1] == "按流程，下一步应当是：转办"
        handler = uow.session.scalar(select(User.id).where(User.username == "training.marketing.handler"))
    steps = [("forward", dict(department="marketing", handler_id=handler, handling_form="核实佣金设置")),
             ("first_contact", dict(note="已联系客户")),
             ("resolve", dict(fact_finding="佣金设置与协议一致", measures="解释说明", accountability="无")),
             ("feedback", dict(method="电话", satisfaction=4))]
    for hour, (action, values) in enumerate(steps, 11):
        with transaction(training) as uow:
            version = cases.case_by_number(uow, case_no).version
            getattr(cases, action)(uow, trainee, case_no, version, at=at(f"2026-11-02 {hour}:00"), **values)
    with transaction(training) as uow:
        visit = judge(uow, trainee, case_no, "return_visit", at=at("2026-11-03 10:00"))
        archive = judge(uow, trainee, case_no, "archive", at=at("2026-11-03 10:00"))
    # seed 001 art. 8: visit one to two months after resolution on 2 Nov; 30 calendar days (RULES.md §3: the
    # start day not counted, to the end of the last day) open the window at 24:00 on 2 Dec.
    assert "这正是流程的下一步" in visit and visit[-1].startswith("回访窗口 2026-12-02 24:00 才开始")
    assert archive[0].startswith("允许") and archive[1] == "按流程，下一步应当是：回访"
    assert archive[-1].startswith("处理单尚不完整，归档会被拒绝：缺少 回访记录")  # by name, not return_visit
