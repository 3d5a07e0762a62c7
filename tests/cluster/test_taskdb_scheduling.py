"""Claim order: reserved workers, best-effort multipliers, oldest job then oldest task.

Priority of a stream with ready work (lower first): ``(running - reserved) / reserved`` below
its reservation, ``(running - reserved) / be_mult`` at or above it; ties go to the larger
reservation, then to the stream whose oldest ready job is older.
"""

from __future__ import annotations

import math

import pytest

from proofmarket.cluster.taskdb import TaskDB, stream_priority


def fill(db: TaskDB, user: str, count: int, **stream: object) -> str:
    """One job of ``user`` with ``count`` ready prove tasks; returns the prove stream id."""
    exec_stream = db.get_or_create_stream(user, "exec")
    prove = db.get_or_create_stream(user, "prove", **stream)  # type: ignore[arg-type]
    job = db.create_job(exec_stream, {}, 0, 60, user)
    for i in range(count):
        db.create_task(job, str(i), prove, {"user": user}, [], 0, 60)
    return prove


def claim_users(db: TaskDB, count: int) -> list[str]:
    """Claim ``count`` prove tasks without finishing them; the user of each, in order."""
    users = []
    for _ in range(count):
        task = db.request_work("prove")
        assert task is not None
        users.append(task.task_def["user"])
    return users


def test_priority_formula() -> None:
    assert stream_priority(0, 2, 1.0) == -1.0
    assert stream_priority(1, 2, 1.0) == -0.5
    assert stream_priority(2, 2, 1.0) == 0.0
    assert stream_priority(3, 0, 2.0) == 1.5
    assert stream_priority(4, 1, 3.0) == 1.0


def test_oldest_job_first_then_oldest_task(taskdb: TaskDB) -> None:
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    older = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    newer = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    # Tasks of the newer job are created first; the older job still goes first.
    taskdb.create_task(newer, "n0", prove, {}, [], 0, 60)
    taskdb.create_task(newer, "n1", prove, {}, [], 0, 60)
    taskdb.create_task(older, "o1", prove, {}, [], 0, 60)
    taskdb.create_task(older, "o0", prove, {}, [], 0, 60)
    order = []
    while (task := taskdb.request_work("prove")) is not None:
        order.append((task.job_id, task.task_id))
    assert order == [(older, "o1"), (older, "o0"), (newer, "n0"), (newer, "n1")]
    inits = [taskdb.request_work("exec"), taskdb.request_work("exec")]
    assert [t.job_id for t in inits if t is not None] == [older, newer]


def test_stream_below_its_reservation_is_served_first(taskdb: TaskDB) -> None:
    fill(taskdb, "besteffort", 10)  # older work, no reservation
    fill(taskdb, "dedicated", 10, reserved=2)
    # dedicated: -1, -0.5 (reserved), then 0 ties with besteffort's 0 -> larger reservation
    # wins; then (1 vs 0) besteffort, (1 vs 1) dedicated, (2 vs 1) besteffort ...
    assert claim_users(taskdb, 7) == [
        "dedicated",
        "dedicated",
        "dedicated",
        "besteffort",
        "dedicated",
        "besteffort",
        "dedicated",
    ]


def test_reserved_stream_does_not_starve_others_above_its_reservation(taskdb: TaskDB) -> None:
    """The reference's last query ordered by ``reserved DESC`` only, so a stream with any
    reservation took every worker; here it only gets its reservation plus a fair share."""
    fill(taskdb, "small", 20, reserved=1)
    fill(taskdb, "none", 20)
    users = claim_users(taskdb, 20)
    assert users.count("none") >= 9
    assert users[:2] == ["small", "small"]


def test_best_effort_multiplier_shares_workers(taskdb: TaskDB) -> None:
    fill(taskdb, "one", 20, be_mult=1.0)  # created first: wins ties by job age
    fill(taskdb, "two", 20, be_mult=2.0)
    users = claim_users(taskdb, 9)
    # one: 0,1,2,3 ; two: 0,0.5,1,1.5,2,... -> one, two, two, one, two, two, one, two, two
    assert users == ["one", "two", "two", "one", "two", "two", "one", "two", "two"]
    assert users.count("two") == 2 * users.count("one")


def test_finished_work_frees_share(taskdb: TaskDB) -> None:
    fill(taskdb, "a", 5)
    fill(taskdb, "b", 5)
    first = [taskdb.request_work("prove") for _ in range(2)]
    assert [t.task_def["user"] for t in first if t] == ["a", "b"]
    # a finishes its task: a has 0 running, b 1 -> a is next; then 1 vs 1 ties and a's
    # older job wins again.
    a_task = first[0]
    assert a_task is not None
    taskdb.update_task_done(a_task.job_id, a_task.task_id)
    assert claim_users(taskdb, 3) == ["a", "a", "b"]


def test_idle_streams_are_skipped(taskdb: TaskDB) -> None:
    taskdb.get_or_create_stream("idle", "prove", reserved=5)
    fill(taskdb, "busy", 2)
    assert claim_users(taskdb, 2) == ["busy", "busy"]
    assert taskdb.request_work("prove") is None
    stats = {s.user_id: s for s in taskdb.stream_stats() if s.worker_type == "prove"}
    assert math.isinf(stats["idle"].priority)
    assert (stats["busy"].ready, stats["busy"].running) == (0, 2)


@pytest.mark.parametrize("reserved", [0, 3])
def test_stats_priority_matches_claim_choice(taskdb: TaskDB, reserved: int) -> None:
    fill(taskdb, "x", 4, reserved=reserved, be_mult=1.5)
    fill(taskdb, "y", 4, be_mult=0.5)
    for _ in range(6):
        stats = [s for s in taskdb.stream_stats() if s.worker_type == "prove" and s.ready]
        best = min(stats, key=lambda s: (s.priority, -s.reserved))
        lowest = [s for s in stats if (s.priority, -s.reserved) == (best.priority, -best.reserved)]
        task = taskdb.request_work("prove")
        assert task is not None
        assert task.task_def["user"] in {s.user_id for s in lowest}
