"""The bench's crowd (issue 13 §4) counts what fails: a call that raises is an error of its screen, not a time,
and the user goes on with the next call on a healthy connection."""

from __future__ import annotations

from sqlalchemy import text

from bench.crowd import User, crowd
from bench.rows import Row


def test_a_call_that_raises_is_counted_as_its_screens_error_and_the_crowd_goes_on(engine):
    def fails(uow, _):
        uow.session.execute(text("SELECT 1 / 0"))  # the database refuses: the transaction is rolled back

    def works(uow, _):
        assert uow.session.execute(text("SELECT 1")).scalar() == 1

    calls = {"own queue": lambda _: works, "case page": lambda _: fails, "intake": lambda _: works}
    tally, _ = crowd(engine, [User(1, "clerk", []), User(2, "clerk", [])], calls, seconds=0.5, think=0)
    assert set(tally.errors) == {("case page", "DataError")} and tally.errors[("case page", "DataError")] > 2
    assert "case page" not in tally.times  # a failed call has no time
    assert len(tally.times["own queue"]) > 2 and len(tally.times["intake"]) > 2  # the same pool served on


def test_a_screen_with_an_error_misses_its_target_however_fast():
    assert Row("crowd 30: intake", 1.0, [0.01] * 20).passed
    assert not Row("crowd 30: intake", 1.0, [0.01] * 20, errors=1).passed
    assert not Row("crowd 30: intake", 1.0, []).passed  # nothing measured is no pass
