"""`python -m services` end to end, in a subprocess: JSON out, exit 2 with one error line."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "services", *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=60, check=False)


def facts(**change: Any) -> str:
    base = {"received_at": "2026-09-30T10:00:00+08:00", "channel": "phone",
            "category": "staff_operation", "compensation_claim": 60000, "cause": "branch",
            "flags": []}
    return json.dumps({**base, **change})


# The example command of each pack and the deadlines RULES.md gives for it (by hand).
EXAMPLES = {
    "securities": ({}, {"resolve": "2026-10-21T00:00:00+08:00",
                        "resolve_target": "2026-10-14T00:00:00+08:00"}),
    "futures": ({"category": "brokerage"}, {"forward": "2026-09-30T11:00:00+08:00",
                                            "first_contact": "2026-10-01T10:00:00+08:00",
                                            "resolve": "2026-10-01T10:00:00+08:00"}),
    "branch": ({"category": "B"}, {"feedback": "2026-09-30T15:30:00+08:00",
                                   "first_reply": "2026-10-01T10:00:00+08:00",
                                   "resolve": "2026-10-11T00:00:00+08:00"}),
    # + the regulator's clock (RULES.md §7.1): 15 calendar days after 30 Sep is Thu 15 Oct, a working day
    "consumer_finance": ({"category": "service"}, {"resolve": "2026-10-11T00:00:00+08:00",
                                                   "statutory_decision": "2026-10-16T00:00:00+08:00"}),
    "bank": ({"category": "loan"}, {"resolve": "2026-10-16T00:00:00+08:00",  # day 15: 15 Oct
                                    "statutory_decision": "2026-10-16T00:00:00+08:00"}),
}


@pytest.mark.parametrize("pack", list(EXAMPLES))
def test_assess_prints_one_json_object_with_shanghai_deadlines(pack: str) -> None:
    change, expected = EXAMPLES[pack]
    done = cli("assess", "--policy", pack, "--facts", facts(**change))
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["policy"] == pack and out["deadlines"] == expected
    assert all(at.endswith("+08:00") for at in out["deadlines"].values())
    assert out["explanation"][0].startswith("等级：")
    statutory = [m["code"] for m in out["milestones"] if m["statutory"]]
    assert statutory == (["statutory_decision"] if pack in ("bank", "consumer_finance") else [])


def test_assess_reads_facts_from_a_file_and_answers_in_english(tmp_path: Path) -> None:
    path = tmp_path / "facts.json"
    path.write_text(facts(category="deposit", flags=["media"]), encoding="utf-8")
    done = cli("assess", "--policy", "bank", "--facts", f"@{path}", "--lang", "en")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["grade"], out["escalate_to"]) == ("major", ["branch_leader", "president"])
    assert out["explanation"][0].startswith("Grade: major")


@pytest.mark.parametrize(("args", "field"), [
    (["--policy", "insurance", "--facts", facts()], "policy"),
    (["--policy", "securities", "--facts", '{"received_at": '], "facts"),
    (["--policy", "securities", "--facts", "@/nonexistent/facts.json"], "facts"),
    (["--policy", "securities", "--facts", facts(received_at=None)], "received_at"),
    (["--policy", "securities", "--facts", facts(received_at="2026-09-30T10:00:00")],
     "received_at"),
    (["--policy", "securities", "--facts", facts(compensation_claim=-5)], "compensation_claim"),
    (["--policy", "securities", "--facts", facts(channel="letter")], "channel"),
    (["--policy", "securities", "--facts", facts(category="A")], "category"),
    (["--policy", "securities", "--facts", facts(flags=["urgent"])], "flags"),
])
def test_bad_input_exits_2_with_one_line_naming_the_field(args: list[str], field: str) -> None:
    done = cli("assess", *args)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {field}: "), done.stderr


def test_missing_arguments_exit_2_with_one_line() -> None:
    done = cli("assess", "--policy", "bank")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "--facts" in done.stderr


def test_calendar_lists_national_day_2026() -> None:
    done = cli("calendar", "--from", "2026-09-28", "--to", "2026-10-12")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 15
    assert lines[0] == "2026-09-28 Mon workday"
    assert "2026-10-01 Thu holiday National Day" in lines
    assert "2026-10-10 Sat makeup_workday National Day" in lines
    assert "2026-10-11 Sun weekend" in lines
    assert done.stderr == ""


def test_calendar_warns_about_a_year_without_data() -> None:
    done = cli("calendar", "--from", "2026-12-31", "--to", "2027-01-01")
    assert done.stdout.splitlines() == ["2026-12-31 Thu workday", "2027-01-01 Fri workday"]
    assert "2027" in done.stderr


def test_calendar_bad_date_exits_2() -> None:
    done = cli("calendar", "--from", "2026-13-01", "--to", "2026-12-31")
    assert done.returncode == 2 and done.stderr.startswith("error: from: ")


@pytest.mark.parametrize(("args", "n", "method"), [
    # RULES.md §8's worked values through the command (issue 12 §1)
    (["--confidence", "0.95", "--tolerable", "0.05"], 59, "attribute_binomial"),
    (["--confidence", "0.95", "--tolerable", "0.05", "--accepted", "0", "--population", "1000"], 57,
     "attribute_hypergeometric"),
    (["--confidence", "0.90", "--tolerable", "0.05"], 45, "attribute_binomial"),
    (["--aql", "--population", "500"], 50, "iso2859_1_level_ii"),
])
def test_sample_size_prints_the_size_and_its_method_as_json(args: list[str], n: int, method: str) -> None:
    done = cli("sample-size", *args)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert (out["n"], out["method"]) == (n, method)
    assert out["formula"]


@pytest.mark.parametrize(("args", "field"), [
    (["--confidence", "1.5", "--tolerable", "0.05"], "confidence"),
    (["--confidence", "0.95", "--tolerable", "0"], "tolerable"),
    (["--confidence", "0.95"], "tolerable"),
    (["--aql"], "population"),
])
def test_sample_size_refuses_bad_input_with_one_line(args: list[str], field: str) -> None:
    done = cli("sample-size", "--lang", "en", *args)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith(f"error: {field}: ") and len(done.stderr.splitlines()) == 1
