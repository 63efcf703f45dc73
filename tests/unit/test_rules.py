"""The rules of RULES.md §4, pack by pack, with real 2026 dates computed by hand.

2026 facts used below: 1-7 Oct National Day holiday; Sat 10 Oct a make-up working day;
no calendar data for 2027 (Mon-Fri fallback). Deadlines are exclusive: "T00:00" is 24:00 of the
day before.
"""

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest

from services.errors import InvalidInput, PolicyError
from services.rules import reasons
from services.rules.assess import Assessment, Facts, assess, latest_extension, parse_facts
from services.rules.calendar import SHANGHAI, WorkingCalendar
from services.rules.packs import load_policy

CAL = WorkingCalendar.shipped()
CHINESE = re.compile(r"[\u3400-\u9fff]")
DEFAULTS = {"futures": ("phone", "brokerage"), "branch": ("walk_in", "A"),
            "securities": ("phone", "staff_operation"), "consumer_finance": ("phone", "business"),
            "bank": ("phone", "deposit")}


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def run(pack: str, received: str, lang: str = "zh", **facts: Any) -> Assessment:
    channel, category = DEFAULTS[pack]
    data = {"received_at": received, "channel": channel, "category": category, **facts}
    policy = load_policy(pack)
    return assess(policy, parse_facts(data, policy, what_if=True), CAL, lang)


def deadlines(a: Assessment) -> dict[str, str]:
    return a.to_json()["deadlines"]


# --- securities (seed 002) ---------------------------------------------------------------------


def test_securities_claim_over_50000_is_major_resolve_10_working_days_target_5() -> None:
    a = run("securities", "2026-09-30T10:00:00+08:00", compensation_claim=60000)
    assert (a.grade, a.handling_level) == ("major", "hq")  # 50,000 < 60,000 <= 100,000
    assert a.responsible_department == "hq_customer_service"
    assert a.escalate_to == ("hq_customer_service_gm",)
    # National Day: working days 8, 9, 10 (Sat make-up), 12, 13 ... 20 Oct
    assert deadlines(a) == {"resolve": "2026-10-21T00:00:00+08:00",
                            "resolve_target": "2026-10-14T00:00:00+08:00"}
    assert a.explanation[0] == (
        "等级：重大（索赔金额 60,000 元 > 50,000 元；《经纪业务客户投诉处理实施细则》第十八条（二））")
    # issue 10 §3: the institution's document and article, never the pack's key path or "seed 002"
    assert a.reasons[0].rule == "securities.grades[1]" and a.reasons[0].cite.source == "seed 002 art. 18(2)"


def test_securities_claim_of_exactly_50000_is_general_at_branch_level() -> None:
    a = run("securities", "2026-09-30T10:00:00+08:00", compensation_claim=50000)
    assert (a.grade, a.handling_level, a.responsible_department) == ("general", "branch", "branch")
    assert a.escalate_to == ("branch_head",)
    # general: 2 working days (8, 9 Oct) beats the branch level's 5 (8-13 Oct)
    assert deadlines(a) == {"resolve": "2026-10-10T00:00:00+08:00"}
    line = next(e for e in a.explanation if e.startswith("期限 办结"))
    assert "《经纪业务客户投诉处理实施细则》第十八条（一）" in line and "取最早" in line
    assert "按《经纪业务客户投诉处理实施细则》第十九条（一）为 2026-10-13 24:00" in line
    assert "securities." not in line and "seed" not in line  # issue 10 §3


def test_securities_branch_level_limit_beats_the_major_limit() -> None:
    a = run("securities", "2026-11-02T09:00:00+08:00", compensation_claim=10000, flags=["severe"])
    assert (a.grade, a.handling_level) == ("major", "branch")
    # 5 working days: 3, 4, 5, 6, 9 Nov; the major 10 days would end on 16 Nov
    assert deadlines(a) == {"resolve": "2026-11-10T00:00:00+08:00",
                            "resolve_target": "2026-11-10T00:00:00+08:00"}


def test_securities_company_cause_without_compensation_goes_to_hq() -> None:
    a = run("securities", "2026-11-02T09:00:00+08:00", cause="company", category="company_system")
    assert (a.grade, a.handling_level) == ("general", "hq")
    assert a.responsible_department == "hq_customer_service"


@pytest.mark.parametrize(("cause", "claim", "level"), [
    ("branch", 0, "branch"), ("branch", 50000, "branch"), ("branch", 50000.01, "hq"),
    ("branch", 100000, "hq"), ("branch", 120000, "company"), ("company", 0, "hq"),
    ("company", 10, "company"),
])
def test_securities_handling_level_by_cause_and_claim(cause: str, claim: float, level: str) -> None:
    a = run("securities", "2026-11-02T09:00:00+08:00", cause=cause, compensation_claim=claim)
    assert a.handling_level == level


def test_securities_company_level_is_inferred_and_goes_to_the_leadership_group() -> None:
    a = run("securities", "2026-11-02T09:00:00+08:00", compensation_claim=120000)
    assert (a.grade, a.handling_level) == ("major", "company")
    assert a.responsible_department == "leadership_group"
    assert a.escalate_to == ("leadership_group",)
    assert a.explanation[1].startswith("处理级别：公司级（") and a.explanation[1].endswith("（推断）")
    en = run("securities", "2026-11-02T09:00:00+08:00", lang="en", compensation_claim=120000)
    assert en.explanation[1].endswith(" (inferred)")


def test_securities_invalid_complaint_resolved_in_one_working_day() -> None:
    a = run("securities", "2026-10-09T14:00:00+08:00", flags=["invalid"], compensation_claim=100)
    assert a.grade == "invalid"
    assert deadlines(a) == {"resolve": "2026-10-11T00:00:00+08:00"}  # Sat 10 Oct is a working day


def test_securities_branch_reports_to_hq_3_working_days_after_resolution() -> None:
    a = run("securities", "2026-09-30T10:00:00+08:00", resolved_at="2026-10-09T16:00:00+08:00")
    assert deadlines(a)["report_hq"] == "2026-10-14T00:00:00+08:00"  # 10 (Sat), 12, 13 Oct
    hq = run("securities", "2026-09-30T10:00:00+08:00", cause="company",
             resolved_at="2026-10-09T16:00:00+08:00")
    assert "report_hq" not in deadlines(hq)


def test_securities_litigation_notifies_legal_compliance() -> None:
    a = run("securities", "2026-11-02T09:00:00+08:00", flags=["litigation"])
    assert a.notify == ("legal_compliance",)


# --- futures (seed 000) --------------------------------------------------------------------------


def test_futures_forward_within_one_hour_contact_and_resolve_24_hours_after_forwarding() -> None:
    a = run("futures", "2026-09-30T10:00:00+08:00", forwarded_at="2026-09-30T10:40:00+08:00")
    assert deadlines(a) == {"forward": "2026-09-30T11:00:00+08:00",
                            "first_contact": "2026-10-01T10:40:00+08:00",
                            "resolve": "2026-10-01T10:40:00+08:00"}  # hours ignore holidays
    assert a.handling_level is None


def test_futures_before_forwarding_counts_from_receipt_and_says_so() -> None:
    a = run("futures", "2026-09-30T10:00:00+08:00")
    assert deadlines(a)["first_contact"] == "2026-10-01T10:00:00+08:00"
    assert any("尚未转办，按受理时间起算" in e for e in a.explanation)
    assert a.milestone("first_contact").estimated_start  # type: ignore[union-attr]


def test_futures_special_case_has_3_working_days_over_national_day() -> None:
    a = run("futures", "2026-09-30T10:00:00+08:00", forwarded_at="2026-09-30T10:40:00+08:00",
            flags=["special"])
    assert deadlines(a)["resolve"] == "2026-10-11T00:00:00+08:00"  # 8, 9, 10 Oct
    assert deadlines(a)["first_contact"] == "2026-10-01T10:40:00+08:00"


def test_futures_general_complaint_goes_to_the_vp_for_business() -> None:
    a = run("futures", "2026-11-02T09:00:00+08:00")
    assert (a.grade, a.responsible_department, a.escalate_to, a.notify) == (
        "general", "business", ("vp_business",), ())


def test_futures_violation_is_major_for_the_cro_and_notifies_compliance() -> None:
    a = run("futures", "2026-11-02T09:00:00+08:00", flags=["violation"])
    assert (a.grade, a.escalate_to, a.notify) == ("major", ("cro",), ("compliance",))
    assert any("合规稽核部" in w for w in a.warnings)


def test_futures_litigation_is_major_for_the_cro_without_compliance() -> None:
    a = run("futures", "2026-11-02T09:00:00+08:00", flags=["litigation"])
    assert (a.grade, a.escalate_to, a.notify) == ("major", ("cro",), ())


def test_futures_ib_business_is_routed_to_ib_management() -> None:
    a = run("futures", "2026-11-02T09:00:00+08:00", flags=["ib"])
    assert a.responsible_department == "ib_management"
    assert any("《客户投诉解决制度》第九条" in e for e in a.explanation)
    assert any(r.rule == "futures.routing[0]" and r.cite.source == "seed 000 art. 9" for r in a.reasons)


# --- branch (seed 001) ---------------------------------------------------------------------------


@pytest.mark.parametrize(("received", "feedback"), [
    ("2026-11-02T10:00:00+08:00", "2026-11-02T15:30:00+08:00"),  # working day, before cutoff
    ("2026-11-02T15:30:00+08:00", "2026-11-02T15:30:00+08:00"),  # at the cutoff
    ("2026-10-09T16:00:00+08:00", "2026-10-10T15:30:00+08:00"),  # late Fri -> make-up Sat
    ("2026-10-03T10:00:00+08:00", "2026-10-08T15:30:00+08:00"),  # holiday -> next working day
])
def test_branch_feedback_by_1530_cutoff(received: str, feedback: str) -> None:
    assert deadlines(run("branch", received))["feedback"] == feedback


def test_branch_first_reply_24_hours_and_final_feedback_3_working_days() -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00")
    assert deadlines(a) == {"feedback": "2026-11-02T15:30:00+08:00",
                            "first_reply": "2026-11-03T10:00:00+08:00",
                            "resolve": "2026-11-06T00:00:00+08:00"}


def test_branch_return_visit_60_calendar_days_after_resolution() -> None:
    a = run("branch", "2026-08-28T10:00:00+08:00", resolved_at="2026-09-01T15:00:00+08:00")
    # day 60 is Sat 31 Oct -> Mon 2 Nov; the window opens after day 30 (1 Oct -> 8 Oct)
    assert deadlines(a)["return_visit"] == "2026-11-03T00:00:00+08:00"
    visit = a.milestone("return_visit")
    assert visit is not None and visit.window_opens == sh(2026, 10, 9)
    assert visit.met_by == ("return_visit",)
    assert "return_visit" not in deadlines(run("branch", "2026-08-28T10:00:00+08:00"))


@pytest.mark.parametrize(("category", "department"), [
    ("A", "operations"), ("B", "marketing"), ("C", "operations"), ("D", "reception"),
    ("E", "reception"), ("F", "reception")])
def test_branch_category_decides_the_department(category: str, department: str) -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00", category=category)
    assert (a.responsible_department, a.grade) == (department, "general")


def test_branch_category_c_may_start_the_emergency_plan() -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00", category="C")
    assert any("启动应急预案" in w for w in a.warnings)


def test_branch_category_d_goes_to_the_directors_and_the_gm_approves() -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00", category="D")
    assert a.escalate_to == ("marketing_director", "operations_director")
    assert any("总经理审批" in w for w in a.warnings)


@pytest.mark.parametrize("flag", ["severe", "group", "media", "regulator"])
def test_branch_major_complaint_goes_up_and_to_marketing_hq(flag: str) -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00", flags=[flag])
    assert a.grade == "major"
    assert a.escalate_to == ("marketing_director", "operations_director", "general_manager")
    assert any("营销管理总部" in w for w in a.warnings)
    assert a.explanation[0].endswith("（推断）")


# --- consumer_finance (seed 003) -----------------------------------------------------------------


@pytest.mark.parametrize(("flags", "grade", "resolve"), [
    ([], "L3", "2026-11-06T00:00:00+08:00"),  # 3, 4, 5 Nov
    (["regulator"], "L2", "2026-11-12T00:00:00+08:00"),  # 3-6, 9-11 Nov
    (["group"], "L2", "2026-11-12T00:00:00+08:00"),
    (["litigation"], "L1", "2026-11-24T00:00:00+08:00"),  # 3-6, 9-13, 16-20, 23 Nov
    (["media"], "L1", "2026-11-24T00:00:00+08:00"),
    (["severe", "group"], "L1", "2026-11-24T00:00:00+08:00"),
])
def test_consumer_finance_grades_and_working_day_limits(flags: list, grade: str, resolve: str) -> None:
    a = run("consumer_finance", "2026-11-02T10:00:00+08:00", flags=flags)
    # beside it the regulator's clock (RULES.md §7.1): 15 calendar days after 2 Nov is Tue 17 Nov
    assert a.grade == grade and deadlines(a) == {"resolve": resolve, "statutory_decision": "2026-11-18T00:00:00+08:00"}


def test_consumer_finance_level_1_reports_to_supervisor_and_management() -> None:
    a = run("consumer_finance", "2026-11-02T10:00:00+08:00", flags=["litigation"])
    assert a.escalate_to == ("supervisor", "management")
    assert any("启动应急预案" in w for w in a.warnings)
    assert any("管理层审议" in w for w in a.warnings)


def test_consumer_finance_urgent_complaint_starts_the_emergency_plan() -> None:
    a = run("consumer_finance", "2026-11-02T10:00:00+08:00", flags=["urgent"])
    assert (a.grade, a.escalate_to) == ("L3", ("supervisor",))
    en = run("consumer_finance", "2026-11-02T10:00:00+08:00", "en", flags=["urgent"])
    assert en.warnings == ("Urgent or major complaint: report to the supervisor at once and start "
                           "the emergency plan",)


@pytest.mark.parametrize(("category", "department"), [
    ("business", "operations"), ("service", "customer_service"), ("product", "product"),
    ("other", "legal")])
def test_consumer_finance_departments(category: str, department: str) -> None:
    a = run("consumer_finance", "2026-11-02T10:00:00+08:00", category=category)
    assert a.responsible_department == department


def test_consumer_finance_over_national_day() -> None:
    a = run("consumer_finance", "2026-09-30T10:00:00+08:00")
    # 8, 9, 10 Oct; the regulator's 15 calendar days end on Thu 15 Oct, a working day
    assert deadlines(a) == {"resolve": "2026-10-11T00:00:00+08:00", "statutory_decision": "2026-10-16T00:00:00+08:00"}


def test_a_period_running_into_2027_warns_that_weekdays_were_assumed() -> None:
    a = run("consumer_finance", "2026-12-15T10:00:00+08:00", flags=["severe"])
    # 16-18, 21-25, 28-31 Dec = 12, then Fri 1 Jan (no 2027 data: a weekday), 4 and 5 Jan
    assert deadlines(a) == {"resolve": "2027-01-06T00:00:00+08:00",  # and 15 calendar days: Wed 30 Dec
                            "statutory_decision": "2026-12-31T00:00:00+08:00"}
    assert "2027 年没有工作日历数据，按周一至周五计算" in a.warnings
    assert a.years_without_data == frozenset({2027})
    en = run("consumer_finance", "2026-12-15T10:00:00+08:00", "en", flags=["severe"])
    assert "No working-day calendar data for 2027: Monday to Friday counted as working days" in (
        en.warnings)
    assert run("consumer_finance", "2026-11-02T10:00:00+08:00").warnings == ()


# --- bank (seed 004, CBIRC order 2020 no. 3) ----------------------------------------------------


@pytest.mark.parametrize(("received", "resolve"), [
    ("2026-11-02T10:00:00+08:00", "2026-11-18T00:00:00+08:00"),  # day 15: Tue 17 Nov
    ("2026-09-16T10:00:00+08:00", "2026-10-09T00:00:00+08:00"),  # day 15: 1 Oct holiday -> 8 Oct
    ("2026-11-06T10:00:00+08:00", "2026-11-24T00:00:00+08:00"),  # day 15: Sat 21 -> Mon 23 Nov
])
def test_bank_decision_within_15_calendar_days(received: str, resolve: str) -> None:
    a = run("bank", received)  # the pack's own limit is order 3's, so the regulator's clock agrees with it
    assert deadlines(a) == {"resolve": resolve, "statutory_decision": resolve}
    assert "《银行业保险业消费投诉处理管理办法》" in a.explanation[-1]  # CBIRC order 2020 no. 3


def test_bank_general_complaint_goes_to_the_outlet_through_the_coordinator() -> None:
    a = run("bank", "2026-11-02T10:00:00+08:00", category="card")
    assert (a.grade, a.responsible_department, a.escalate_to, a.notify) == (
        "general", "outlet", (), ("coordinator",))


@pytest.mark.parametrize("flag", ["regulator", "group"])
def test_bank_larger_issue_goes_to_the_branch_leader(flag: str) -> None:
    a = run("bank", "2026-11-02T10:00:00+08:00", flags=[flag])
    assert (a.grade, a.escalate_to) == ("large", ("branch_leader",))


@pytest.mark.parametrize("flag", ["media", "severe", "litigation"])
def test_bank_major_issue_goes_to_the_president_at_once(flag: str) -> None:
    a = run("bank", "2026-11-02T10:00:00+08:00", flags=[flag])
    assert (a.grade, a.escalate_to) == ("major", ("branch_leader", "president"))


def test_bank_media_exposure_notifies_general_administration() -> None:
    a = run("bank", "2026-11-02T10:00:00+08:00", flags=["media"])
    assert a.notify == ("coordinator", "general_administration")
    by_channel = run("bank", "2026-11-02T10:00:00+08:00", channel="media")
    assert by_channel.responsible_department == "general_administration"
    assert by_channel.notify == ("coordinator", "general_administration")


# --- every pack: explanation and JSON ----------------------------------------------------------


@pytest.mark.parametrize("pack", list(DEFAULTS))
def test_every_decision_is_explained_with_its_rule_and_source(pack: str) -> None:
    a = run(pack, "2026-11-02T10:00:00+08:00", forwarded_at="2026-11-02T10:30:00+08:00",
            resolved_at="2026-11-03T10:00:00+08:00")
    assert a.explanation[0].startswith("等级：")
    for line in a.explanation:  # by the institution's document; key paths stay in the data (issue 10 §3)
        assert "《" in line and f"{pack}." not in line and "seed" not in line and "CBIRC" not in line, line
    assert all(r.rule.startswith(f"{pack}.") and r.cite.source for r in a.reasons)
    assert len([e for e in a.explanation if e.startswith("期限 ")]) == len(a.milestones)


def test_to_json_has_exactly_the_agreed_keys() -> None:
    out = run("securities", "2026-09-30T10:00:00+08:00", compensation_claim=60000).to_json()
    assert list(out) == ["policy", "grade", "handling_level", "responsible_department",
                         "escalate_to", "notify", "deadlines", "reasons", "notices"]
    assert out["policy"] == "securities" and out["escalate_to"] == ["hq_customer_service_gm"]


def test_a_case_stores_each_reason_as_rule_source_and_keyed_words_never_prose() -> None:
    """Issue 9 §6: stored reasons are rendered in the reader's language when shown."""
    a = run("bank", "2026-11-02T10:00:00+08:00", category="deposit", flags=["media"])
    stored = json.loads(json.dumps(a.to_json()))  # as the case's jsonb column holds it
    grade = stored["reasons"][0]
    assert (grade["rule"], grade["source"]) == (f"bank.{load_policy('bank').grades[0].cite.path}",
                                                load_policy("bank").grades[0].cite.source)
    assert grade["head"] == [{"key": "reason.grade", "params": {"value": {"kind": "grade", "codes": ["major"]}}}]
    assert grade["why"] == [{"key": "reason.flags_any", "params": {"codes": {"kind": "flag", "codes": ["media"]}}}]
    assert not CHINESE.search(json.dumps([r["head"] + r["why"] + r["notes"] for r in stored["reasons"]],
                                         ensure_ascii=False))
    policy = load_policy("bank")
    assert reasons.explanation(policy, stored["reasons"], "zh") == list(a.explanation)
    english = run("bank", "2026-11-02T10:00:00+08:00", "en", category="deposit", flags=["media"])
    assert reasons.explanation(policy, stored["reasons"], "en") == list(english.explanation)
    assert reasons.warnings(policy, stored["notices"], "en") == list(english.warnings)
    assert not CHINESE.search("".join(english.explanation + english.warnings))


def test_deadlines_are_shown_in_shanghai_time_whatever_the_input_offset() -> None:
    a = run("futures", "2026-09-30T02:00:00+00:00")  # 10:00 in Shanghai
    assert deadlines(a)["forward"] == "2026-09-30T11:00:00+08:00"


def test_at_risk_from_is_the_last_quarter_of_the_period() -> None:
    a = run("branch", "2026-11-02T10:00:00+08:00")
    first_reply = a.milestone("first_reply")
    assert first_reply is not None and first_reply.at_risk_from == sh(2026, 11, 3, 4)


# --- facts ----------------------------------------------------------------------------------------


def test_facts_defaults() -> None:
    facts = parse_facts({"received_at": "2026-11-02T10:00:00+08:00", "channel": "phone",
                         "category": "deposit"}, load_policy("bank"))
    assert facts == Facts(sh(2026, 11, 2, 10), "phone", "deposit", Decimal(0), "branch",
                          frozenset())


@pytest.mark.parametrize(("change", "field"), [
    ({"received_at": None}, "received_at"),
    ({"received_at": "2026-11-02T10:00:00"}, "received_at"),  # naive
    ({"received_at": "yesterday"}, "received_at"),
    ({"compensation_claim": -1}, "compensation_claim"),
    ({"compensation_claim": "a lot"}, "compensation_claim"),
    ({"compensation_claim": True}, "compensation_claim"),
    ({"channel": "fax"}, "channel"),  # not a bank channel
    ({"category": "stocks"}, "category"),
    ({"flags": ["ib"]}, "flags"),  # a flag of the futures pack only
    ({"flags": "media"}, "flags"),
    ({"cause": "customer"}, "cause"),
    ({"colour": "red"}, "colour"),
    ({"forwarded_at": "2026-11-01T10:00:00+08:00"}, "forwarded_at"),  # before receipt
])
def test_bad_facts_are_refused_naming_the_field(change: dict, field: str) -> None:
    data = {"received_at": "2026-11-02T10:00:00+08:00", "channel": "phone", "category": "deposit",
            **change}
    with pytest.raises(InvalidInput) as info:
        parse_facts(data, load_policy("bank"))
    assert info.value.field == field
    assert info.value.message("zh") and info.value.message("en")


# --- extensions -----------------------------------------------------------------------------------


def test_consumer_finance_extends_once_by_at_most_the_grade_period() -> None:
    policy = load_policy("consumer_finance")
    start, due = sh(2026, 11, 2, 10), sh(2026, 11, 6)  # L3: 3 working days, ends Thu 5 Nov
    # 3 more working days after Thu 5 Nov: 6, 9, 10 Nov
    assert latest_extension(policy, CAL, "resolve", start, due, 0,
                            period="3 working_days") == sh(2026, 11, 11)
    assert latest_extension(policy, CAL, "resolve", start, due, 0) == sh(2026, 11, 11)
    # L1 (ends Mon 23 Nov): 15 more working days, 24 Nov - 14 Dec
    assert latest_extension(policy, CAL, "resolve", start, sh(2026, 11, 24), 0) == sh(2026, 12, 15)
    with pytest.raises(PolicyError):
        latest_extension(policy, CAL, "resolve", start, sh(2026, 11, 11), 1)


def test_bank_extends_to_30_then_60_days_from_receipt_and_no_further() -> None:
    policy = load_policy("bank")
    start = sh(2026, 9, 16, 10)
    # day 30: Fri 16 Oct; day 60: Sun 15 Nov -> Mon 16 Nov
    assert latest_extension(policy, CAL, "resolve", start, sh(2026, 10, 9), 0) == sh(2026, 10, 17)
    assert latest_extension(policy, CAL, "resolve", start, sh(2026, 10, 17), 1) == sh(2026, 11, 17)
    with pytest.raises(PolicyError):
        latest_extension(policy, CAL, "resolve", start, sh(2026, 11, 17), 2)


def test_futures_resolve_extends_by_24_hours_and_forward_never() -> None:
    policy = load_policy("futures")
    start = sh(2026, 9, 30, 10, 40)
    assert latest_extension(policy, CAL, "resolve", start, sh(2026, 10, 1, 10, 40), 0) == (
        sh(2026, 10, 2, 10, 40))
    with pytest.raises(PolicyError) as info:
        latest_extension(policy, CAL, "forward", sh(2026, 9, 30, 10), sh(2026, 9, 30, 11), 0)
    assert info.value.field == "milestone" and info.value.message("zh")


def test_extension_needs_aware_times_and_a_known_period() -> None:
    policy = load_policy("consumer_finance")
    with pytest.raises(InvalidInput):
        latest_extension(policy, CAL, "resolve", datetime(2026, 11, 2, 10), sh(2026, 11, 6), 0)
    with pytest.raises(InvalidInput) as info:  # matches none of 3/7/15 working days
        latest_extension(policy, CAL, "resolve", sh(2026, 11, 2, 10), sh(2026, 11, 7), 0)
    assert info.value.field == "period"
