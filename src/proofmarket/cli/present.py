"""How the CLI shows times, request states and pre-submission warnings to people.

Chain values are unix seconds and wei; people read dates and "in 12 min". The request
checks here run before a transaction is sent, so a request that cannot succeed costs no
gas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


def relative(seconds: float) -> str:
    """``"in 12 min"`` / ``"3 h ago"`` for a signed offset from now."""
    span = abs(int(seconds))
    if span < 90:
        text = f"{span} s"
    elif span < 90 * 60:
        text = f"{round(span / 60)} min"
    elif span < 48 * 3600:
        text = f"{span / 3600:.1f} h".replace(".0 h", " h")
    else:
        text = f"{round(span / 86400)} days"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def when(timestamp: int, now: int) -> str:
    """``"2026-11-30 10:12:00 UTC (in 12 min)"`` for a chain timestamp."""
    date = datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"{date} ({relative(timestamp - now)})"


@dataclass(frozen=True)
class RequestView:
    """What ``request status`` knows about a request, for :func:`state_text`."""

    status: str  # the market's RequestStatus name: Unknown, Locked, Fulfilled, Expired
    submitted: bool
    locked: bool
    slashed: bool
    lock_deadline: int | None
    deadline: int | None
    now: int


def state_text(view: RequestView) -> str:
    """One line that tells "open, not locked" apart from "no such request"."""
    if view.status == "Fulfilled":
        return "fulfilled"
    if view.slashed:
        return "expired; the prover that locked it was slashed"
    if view.status == "Expired" or (view.deadline is not None and view.now > view.deadline):
        return "expired" + (f" {when(view.deadline, view.now)}" if view.deadline else "")
    if view.locked:
        if view.lock_deadline is not None and view.now > view.lock_deadline:
            return (
                f"locked, but the lock expired {when(view.lock_deadline, view.now)}; anyone "
                f"may fulfil it until {when(view.deadline or 0, view.now)}"
            )
        return "locked" + (
            f"; the prover must fulfil by {when(view.lock_deadline, view.now)}"
            if view.lock_deadline is not None
            else ""
        )
    if not view.submitted:
        return "no such request: it was never submitted to this market (no RequestSubmitted event)"
    if view.lock_deadline is not None and view.now <= view.lock_deadline:
        return f"open, not locked (provers may lock it until {when(view.lock_deadline, view.now)})"
    return "open, not locked; the lock window closed" + (
        f", it can still be fulfilled until {when(view.deadline, view.now)}"
        if view.deadline
        else ""
    )


def input_problem(input_bytes: int, max_input_bytes: int) -> str | None:
    """Why no prover could run this input, or None (checked before anything is uploaded)."""
    if input_bytes > max_input_bytes:
        return (
            f"the input is {input_bytes:,} bytes but the executor accepts at most "
            f"{max_input_bytes:,}: no prover could run it"
        )
    return None


def submission_problems(*, deadline: int, max_price: int, now: int) -> tuple[list[str], list[str]]:
    """``(errors, warnings)`` for a request about to be submitted.

    Errors make the request unfulfillable (it would only waste gas); warnings make it
    unattractive to provers.
    """
    errors = []
    warnings = []
    if deadline <= now:
        errors.append(f"the deadline {when(deadline, now)} has already passed")
    if max_price == 0:
        warnings.append("the max price is 0: no prover earns anything for it")
    return errors, warnings


__all__ = ["RequestView", "input_problem", "relative", "state_text", "submission_problems", "when"]
