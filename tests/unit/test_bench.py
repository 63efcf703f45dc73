"""How the benchmark judges a row (issue 13 §4): the p95 against its target, service ÷ floor against its ratio,
an earlier run's figure (`--against`), and the rows' own problems."""

from __future__ import annotations

import json
from types import SimpleNamespace

from bench.__main__ import AGAINST_SLACK, Result, compare_with, measured, p95, table
from bench.crowd import threads_by_role


def row(times, **extra):
    return Result("own_queue", "own queue", 0.030, times, **extra)


def test_p95_is_the_nearest_rank():
    assert p95([0.01, 0.03, 0.02]) == 0.03
    assert p95([i / 1000 for i in range(1, 101)]) == 0.095


def test_a_row_fails_on_its_p95_its_floor_ratio_or_its_rows():
    assert row([0.010, 0.020]).passed
    assert row([0.010, 0.031]).failures() == ["p95"]
    assert row([0.010] * 3, floor_times=[0.004] * 3, ratio_target=2.0).failures() == ["×floor"]
    assert row([0.010] * 3, floor_times=[0.005] * 3, ratio_target=2.0).passed
    assert row([0.010] * 3, floor_times=[0.001] * 3).passed  # a ratio without a target is printed, not judged
    assert row([0.010], problems=["total 3, floor 4"]).failures() == ["rows"]


def test_the_ratio_is_of_medians():
    result = row([0.010, 0.010, 0.029], floor_times=[0.005, 0.005, 0.020], ratio_target=2.0)
    assert result.ratio == 2.0 and result.passed


def test_against_an_earlier_run_a_row_fails_above_twice_its_p95(tmp_path):
    earlier = tmp_path / "1m.json"
    earlier.write_text(json.dumps({"cases": 1000000, "rows": {
        "own_queue": {"p95": 0.010}, "board": {"p95": 0.050}}}))
    slower, faster = row([0.0211]), Result("intake", "intake", 0.030, [0.020])
    notes = compare_with([slower, faster], earlier)
    assert slower.against == 2.11 and slower.failures() == ["×earlier"]
    assert faster.earlier is None and faster.passed  # not in the earlier run: nothing to compare
    assert notes == [f"against 1000000 cases ({earlier}): not in this run: board"]


def test_a_sub_millisecond_figure_may_double_with_the_scheduler_alone():
    tiny = Result("assess", "assess", 0.005, [0.00016], earlier=0.00008)
    assert tiny.against == 2.0 and tiny.passed
    assert not Result("assess", "assess", 0.005, [0.00017 + AGAINST_SLACK], earlier=0.00008).passed


def test_the_table_has_a_line_per_row_with_its_floor_and_verdict():
    lines = table([row([0.010] * 3, floor_times=[0.004] * 3, ratio_target=2.0), row([0.020], earlier=0.020)])
    assert "×floor" in lines.splitlines()[0] and "×earlier" in lines.splitlines()[0]
    assert "2.5*" in lines and "FAIL (×floor)" in lines and "1.00" in lines


def test_a_row_timed_by_its_own_module_keeps_a_key_across_runs_and_fails_on_its_errors():
    crowd = measured(SimpleNamespace(name="crowd 30: department queue (alone p95 12 ms)", target=0.024,
                                     times=[0.010, 0.020], errors=2, notes=["OperationalError ×2"]))
    assert crowd.key == "crowd_30_department_queue" and crowd.p95 == 0.020
    assert crowd.failures() == ["rows"] and "2 errors (OperationalError ×2)" in crowd.problems[0]
    page = measured(SimpleNamespace(name="page kpi as supervisor", target=1.0, times=[], errors=0, notes=[]))
    assert page.key == "page_kpi_as_supervisor" and page.failures() == ["p95", "rows"]
    own, department = (measured(SimpleNamespace(name=f"page queue ({view}) as head", target=1.0, times=[0.1], errors=0,
                                                notes=[])) for view in ("own", "department"))
    assert own.key != department.key  # --json keys its rows: one would have overwritten the other


def test_the_crowd_has_each_role_in_proportion_to_the_staff_and_every_role_at_least_once():
    # one thread each, then 26 by head count: 5.81, 17.43, 2.49, 0.28; the two left to the largest
    # remainders, the clerks' and the heads'
    shares = threads_by_role({"clerk": 21, "handler": 63, "head": 9, "supervisor": 1, "nobody": 0}, 30)
    assert shares == {"clerk": 7, "handler": 18, "head": 4, "supervisor": 1}
    assert sum(shares.values()) == 30
