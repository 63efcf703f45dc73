"""The migrations build exactly the schema the models describe (so no change is ever unmigrated)."""

import json

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import select, text

import db.calibration_models  # registers the calibration and dispute tables
import db.session_models  # registers the sign-in session tables  # registers the sign-in session tables
import db.supervision_models  # noqa: F401 - registers the supervision tables  # noqa: F401 - registers the supervision tables
from db.engine import ROOT
from db.models import Base, Case
from services.rules import reasons
from services.rules.calendar import shipped_special_days
from services.rules.packs import load_policy


def test_the_migrated_database_matches_the_models(engine):
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    assert differences == []


def test_a_fresh_database_has_the_shipped_calendar_2004_to_2026(engine):
    """Migration 0002 carries the calendar as data (issue 9 §4): the same rows chinesecalendar gave for those years."""
    with engine.connect() as conn:
        days = conn.execute(text("SELECT day, day_type, name, source FROM working_calendar ORDER BY day")).all()
        years = conn.scalars(text("SELECT year FROM calendar_years WHERE source = 'chinese_calendar' ORDER BY year"))
        assert list(years) == list(range(2004, 2027))
    shipped = [(d.day, d.day_type.value, d.name, "chinese_calendar") for d in shipped_special_days()
               if 2004 <= d.day.year <= 2026]
    assert [tuple(row) for row in days] == shipped
    assert len(shipped) == 771
OLD_PROSE = ["等级：一般（其他情况；futures.grades[1]，seed 000 art. 4）",
             "期限 办结：2026-11-20 24:00（受理后 15 个工作日）"]
OLD_WARNING = "2027 年没有工作日历数据，按周一至周五计算"


def _migrate(owner_engine, revision: str, down: bool = False) -> None:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "db" / "migrations"))
    with owner_engine.begin() as conn:
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def test_a_case_assessed_before_reasons_were_data_still_reads_its_recorded_explanation(futures, owner_engine):
    """Issue 9 §6, migration 0013: old prose is kept as it was written, in every reader's language."""
    ref = futures.intake()
    _migrate(owner_engine, "0011", down=True)
    with owner_engine.begin() as conn:
        old = conn.execute(text("SELECT assessment FROM cases WHERE case_no = :no"), {"no": ref.case_no}).scalar_one()
        assert old["explanation"][0].startswith("futures.grades[") and "reasons" not in old
        conn.execute(text("UPDATE cases SET assessment = assessment || CAST(:old AS jsonb) WHERE case_no = :no"),
                     {"no": ref.case_no, "old": json.dumps({"explanation": OLD_PROSE, "warnings": [OLD_WARNING]})})
    _migrate(owner_engine, "head")
    with futures.uow() as uow:
        stored = uow.session.scalar(select(Case.assessment).where(Case.case_no == ref.case_no))
    assert "explanation" not in stored and "warnings" not in stored
    policy = load_policy("futures")
    for lang in ("zh", "en"):
        assert reasons.explanation(policy, stored["reasons"], lang) == OLD_PROSE
        assert reasons.warnings(policy, stored["notices"], lang) == [OLD_WARNING]


def test_plans_drawn_before_0017_keep_their_sizing_as_rate_or_margin(futures, owner_engine):
    """Issue 12 §1, migration 0017: the stored method is read from the columns an older plan filled."""
    _migrate(owner_engine, "0016", down=True)
    with owner_engine.begin() as conn:
        supervisor = conn.scalar(text("SELECT id FROM users WHERE username = 'supervisor'"))
        for rate, confidence, margin in ((0.1, None, None), (None, 0.95, 0.05)):
            conn.execute(text(
                "INSERT INTO sampling_plans (period_from, period_to, population_filter, stratify_by, seed,"
                " population_size, sample_size, created_by_id, rate, confidence, margin) VALUES ('2026-10-01',"
                " '2026-10-31', '{}', ARRAY['department'], 's', 0, 0, :who, :rate, :confidence, :margin)"),
                {"who": supervisor, "rate": rate, "confidence": confidence, "margin": margin})
    _migrate(owner_engine, "head")
    with owner_engine.connect() as conn:
        rows = conn.execute(text("SELECT sizing_method, tolerable, accepted FROM sampling_plans ORDER BY id")).all()
    assert [tuple(row) for row in rows] == [("rate", None, None), ("margin", None, None)]


def test_cases_taken_in_full_before_0018_are_recorded_as_included_by_the_major_rule(futures, owner_engine):
    """Issue 12 §2, migration 0018: an older sample's all_major items name their rule; drawn ones none; an older
    plan has no strata stored (its evaluation is binomial) and no risk rules."""
    ref = futures.intake()
    _migrate(owner_engine, "0017", down=True)
    with owner_engine.begin() as conn:
        supervisor = conn.scalar(text("SELECT id FROM users WHERE username = 'supervisor'"))
        case_id = conn.scalar(text("SELECT id FROM cases WHERE case_no = :no"), {"no": ref.case_no})
        plans = [conn.scalar(text(
            "INSERT INTO sampling_plans (period_from, period_to, population_filter, stratify_by, seed,"
            " population_size, sample_size, created_by_id, rate) VALUES ('2026-10-01', '2026-10-31', '{}',"
            " ARRAY['department'], 's', 1, 1, :who, 0.1) RETURNING id"), {"who": supervisor}) for _ in range(2)]
        for plan_id, reason in zip(plans, ("all_major", "drawn"), strict=True):
            conn.execute(text("INSERT INTO sample_items (plan_id, case_id, stratum, reason, reviewer_id)"
                              " VALUES (:plan, :case, 'x', :reason, :who)"),
                         {"plan": plan_id, "case": case_id, "reason": reason, "who": supervisor})
    _migrate(owner_engine, "head")
    with owner_engine.connect() as conn:
        items = conn.execute(text("SELECT reason, included_by FROM sample_items ORDER BY id")).all()
        stored = conn.execute(text("SELECT include_rules, strata, evaluation_tolerable FROM sampling_plans")).all()
    assert [tuple(row) for row in items] == [("all_major", ["major"]), ("drawn", [])]
    assert [tuple(row) for row in stored] == [([], {}, None)] * 2
