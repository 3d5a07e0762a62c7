"""Times as dates with "in 12 min", request states in words, and the checks that stop a
hopeless request before gas is spent."""

from __future__ import annotations

import pytest

from proofmarket.cli.present import (
    RequestView,
    input_problem,
    relative,
    state_text,
    submission_problems,
    when,
)

NOW = 1_764_496_320  # 2025-11-30 09:52:00 UTC


@pytest.mark.parametrize(
    ("offset", "text"),
    [
        (720, "in 12 min"),
        (-45, "45 s ago"),
        (3 * 3600, "in 3 h"),
        (5400, "in 1.5 h"),
        (-3 * 86400, "3 days ago"),
    ],
)
def test_relative(offset: int, text: str) -> None:
    assert relative(offset) == text


def test_when_is_a_utc_date_with_the_time_left() -> None:
    assert when(NOW + 720, NOW) == "2025-11-30 10:04:00 UTC (in 12 min)"


def view(**changes) -> RequestView:
    base = dict(
        status="Unknown",
        submitted=True,
        locked=False,
        slashed=False,
        lock_deadline=NOW + 600,
        deadline=NOW + 1200,
        now=NOW,
    )
    return RequestView(**{**base, **changes})


def test_open_is_not_the_same_as_missing() -> None:
    assert state_text(view()).startswith("open, not locked (provers may lock it until")
    missing = state_text(view(submitted=False, lock_deadline=None, deadline=None))
    assert missing.startswith("no such request")


@pytest.mark.parametrize(
    ("changes", "start"),
    [
        ({"locked": True}, "locked; the prover must fulfil by"),
        ({"locked": True, "now": NOW + 700}, "locked, but the lock expired"),
        ({"now": NOW + 700}, "open, not locked; the lock window closed"),
        ({"status": "Fulfilled"}, "fulfilled"),
        ({"now": NOW + 1300}, "expired"),
        ({"status": "Expired", "slashed": True, "locked": True}, "expired; the prover"),
    ],
)
def test_each_state_reads_in_words(changes: dict, start: str) -> None:
    assert state_text(view(**changes)).startswith(start)


def test_hopeless_requests_are_refused_and_poor_ones_warned() -> None:
    errors, warnings = submission_problems(deadline=NOW - 1, max_price=10**15, now=NOW)
    assert errors and "already passed" in errors[0] and not warnings
    errors, warnings = submission_problems(deadline=NOW + 60, max_price=0, now=NOW)
    assert not errors and "max price is 0" in warnings[0]
    assert input_problem(65, 64) is not None and "no prover could run it" in input_problem(65, 64)
    assert input_problem(64, 64) is None
