"""The benchmark's own truth (issue 13 §4), on a small bench institution: each floor returns the same rows as the
service it is the floor of — so a service whose meaning changes takes its floor along, here rather than in a 1M
run — and the import benchmark's filled-in template imports every row."""

from __future__ import annotations

import pytest

from bench import __main__ as bench
from bench.data import build, check
from tests.conftest import TODAY


@pytest.fixture
def bank(owner_engine):
    # the loader writes with session_replication_role = replica, which only the owner may set
    return build(owner_engine, cases=1500, years=1, pack="bank", now=TODAY, log=lambda *_: None)


def test_every_floor_returns_the_rows_of_its_service(bank):
    assert check(bank.engine) == []
    compared = {b.key: b.compare() for b in bench.screens(bank) if b.compare}
    assert set(compared) == {"own_queue", "department_queue", "board", "kpis", "sample_draw"}
    assert compared == {key: [] for key in compared}


def test_the_import_template_of_the_benchmark_imports_every_row(bank):
    result = bench.import_once(bank, 40)
    assert result.problems == []
    assert result.key == "import" and result.target == pytest.approx(bench.IMPORT_TARGET * 40 / bench.IMPORT_ROWS)
