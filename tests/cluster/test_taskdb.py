"""TaskDB semantics, run on both backends (``taskdb`` is parametrised: sqlite, postgres)."""

from __future__ import annotations

import math
import sqlite3
import time

import pytest
from taskdb_helpers import drain, make_job_with_tasks, raw_execute

from proofmarket.cluster.taskdb import (
    DatabaseUnavailable,
    InvalidArgument,
    InvalidTaskDBURL,
    JobState,
    TaskDB,
    TaskRow,
    TaskState,
    UnknownJob,
    UnknownStream,
    UnknownTask,
    UnknownWorker,
    open_taskdb,
)

USER = "alice"


def task_row(db: TaskDB, job: str, task_id: str) -> TaskRow:
    return next(row for row in db.get_job_tasks(job) if row.task_id == task_id)


def states(db: TaskDB, job: str) -> dict[str, TaskState]:
    return {row.task_id: row.state for row in db.get_job_tasks(job)}


@pytest.fixture
def streams(taskdb: TaskDB) -> dict[str, str]:
    return {wt: taskdb.get_or_create_stream(USER, wt) for wt in ("exec", "prove", "join")}


def new_job(db: TaskDB, streams: dict[str, str]) -> str:
    return db.create_job(streams["exec"], {"Executor": {"image": "ab"}}, 0, 60, USER)


def test_open_taskdb_satisfies_protocol(taskdb: TaskDB) -> None:
    assert isinstance(taskdb, TaskDB)


def test_job_starts_with_ready_init_task(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    status = taskdb.get_job_state(job)
    assert status is not None and status.state == JobState.RUNNING and status.user_id == USER
    (init,) = taskdb.get_job_tasks(job)
    assert (init.task_id, init.state, init.prerequisites) == ("init", TaskState.READY, [])
    assert init.worker_type == "exec" and init.stream_id == streams["exec"]
    claimed = taskdb.request_work("exec")
    assert claimed is not None
    assert (claimed.job_id, claimed.task_id) == (job, "init")
    assert claimed.task_def == {"Executor": {"image": "ab"}} and claimed.worker_type == "exec"
    row = taskdb.get_job_tasks(job)[0]
    assert row.state == TaskState.RUNNING and row.started_at is not None
    assert taskdb.request_work("exec") is None


def test_stream_is_reused_per_user_and_worker_type(taskdb: TaskDB) -> None:
    first = taskdb.get_or_create_stream("u1", "prove", reserved=2, be_mult=3.0)
    assert taskdb.get_or_create_stream("u1", "prove") == first
    assert taskdb.get_or_create_stream("u2", "prove") != first
    assert taskdb.get_stream("u1", "prove") == first
    assert taskdb.get_stream("u1", "join") is None
    (stats,) = [s for s in taskdb.stream_stats() if s.stream_id == first]
    assert (stats.reserved, stats.be_mult) == (2, 3.0), "existing parameters are kept"
    taskdb.set_stream_params(first, 5, 0.5)
    (stats,) = [s for s in taskdb.stream_stats() if s.stream_id == first]
    assert (stats.reserved, stats.be_mult, stats.ready, stats.running) == (5, 0.5, 0, 0)
    assert math.isinf(stats.priority)
    with pytest.raises(UnknownStream):
        taskdb.set_stream_params("00000000-0000-0000-0000-000000000000", 1, 1.0)


def test_diamond_graph_runs_in_dependency_order(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    prove, join = streams["prove"], streams["join"]
    taskdb.create_task(job, "a", prove, {"Prove": {"index": 0}}, [], 0, 60)
    taskdb.create_task(job, "b", prove, {"Prove": {"index": 1}}, ["a"], 0, 60)
    taskdb.create_task(job, "c", prove, {"Prove": {"index": 2}}, ["a"], 0, 60)
    taskdb.create_task(
        job, "d", join, {"Join": {"idx": 3, "left": 1, "right": 2}}, ["b", "c"], 0, 60
    )
    assert states(taskdb, job) == {
        "init": TaskState.READY,
        "a": TaskState.READY,
        "b": TaskState.PENDING,
        "c": TaskState.PENDING,
        "d": TaskState.PENDING,
    }
    a = taskdb.request_work("prove")
    assert a is not None and a.task_id == "a"
    assert taskdb.request_work("prove") is None, "b and c wait for a"
    assert taskdb.update_task_done(job, "a", {"receipt": "ra"})
    assert states(taskdb, job)["b"] == states(taskdb, job)["c"] == TaskState.READY
    got = {taskdb.request_work("prove").task_id, taskdb.request_work("prove").task_id}  # type: ignore[union-attr]
    assert got == {"b", "c"}
    assert taskdb.update_task_done(job, "b")
    assert taskdb.request_work("join") is None, "d still waits for c"
    assert states(taskdb, job)["d"] == TaskState.PENDING
    assert taskdb.update_task_done(job, "c")
    d = taskdb.request_work("join")
    assert d is not None and d.task_id == "d" and d.prerequisites == ["b", "c"]
    assert taskdb.update_task_done(job, "d", {"root": True})
    assert taskdb.get_job_state(job).state == JobState.RUNNING  # type: ignore[union-attr]
    assert taskdb.request_work("exec") is not None
    assert taskdb.update_task_done(job, "init", {"segments": 3})
    assert taskdb.get_job_state(job).state == JobState.DONE  # type: ignore[union-attr]
    assert taskdb.get_task_output(job, "a") == {"receipt": "ra"}
    assert taskdb.get_task_output(job, "init") == {"segments": 3}
    assert taskdb.get_task_output(job, "b") is None
    rows = {r.task_id: r for r in taskdb.get_job_tasks(job)}
    assert rows["d"].progress == 1.0 and rows["d"].output == {"root": True}
    assert list(rows) == ["init", "a", "b", "c", "d"], "creation order"
    for row in rows.values():
        assert row.started_at is not None and row.updated_at is not None
        assert row.created_at <= row.started_at <= row.updated_at <= time.time() + 1


def test_task_with_finished_prerequisites_is_ready_at_once(
    taskdb: TaskDB, streams: dict[str, str]
) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 0, 60)
    drain(taskdb, "prove")
    taskdb.create_task(job, "1", streams["join"], {}, ["0"], 0, 60)
    assert states(taskdb, job)["1"] == TaskState.READY


def test_create_task_is_idempotent(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {"Prove": {"index": 0}}, [], 0, 60)
    taskdb.create_task(job, "0", streams["prove"], {"Prove": {"index": 99}}, [], 0, 60)
    rows = [r for r in taskdb.get_job_tasks(job) if r.task_id == "0"]
    assert len(rows) == 1 and rows[0].task_def == {"Prove": {"index": 0}}
    assert drain(taskdb, "prove") == [(job, "0")]


def test_create_task_rejects_bad_references(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    with pytest.raises(UnknownTask, match="'missing'"):
        taskdb.create_task(job, "1", streams["join"], {}, ["missing"], 0, 60)
    with pytest.raises(InvalidArgument, match="itself"):
        taskdb.create_task(job, "1", streams["join"], {}, ["1"], 0, 60)
    with pytest.raises(UnknownJob):
        taskdb.create_task(
            "00000000-0000-0000-0000-000000000000", "1", streams["join"], {}, [], 0, 60
        )
    with pytest.raises(UnknownJob):
        taskdb.create_task("not-a-uuid", "1", streams["join"], {}, [], 0, 60)
    with pytest.raises(UnknownStream):
        taskdb.create_task(job, "1", "00000000-0000-0000-0000-000000000000", {}, [], 0, 60)
    with pytest.raises(UnknownStream):
        taskdb.create_job("00000000-0000-0000-0000-000000000000", {}, 0, 60, USER)
    assert [r.task_id for r in taskdb.get_job_tasks(job)] == ["init"], "nothing half-created"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"task_def": ["not", "a", "dict"]}, "JSON object"),
        ({"task_def": {"x": float("nan")}}, "JSON"),
        ({"task_def": {"x": object()}}, "JSON"),
        ({"max_retries": -1}, "max_retries"),
        ({"timeout_secs": 0}, "timeout_secs"),
        ({"task_id": ""}, "task_id"),
        ({"prerequisites": "a"}, "prerequisites"),
    ],
)
def test_create_task_rejects_bad_input(
    taskdb: TaskDB, streams: dict[str, str], kwargs: dict, message: str
) -> None:
    job = new_job(taskdb, streams)
    args = {
        "job_id": job,
        "task_id": "t",
        "stream_id": streams["prove"],
        "task_def": {},
        "prerequisites": [],
        "max_retries": 0,
        "timeout_secs": 60,
    }
    args.update(kwargs)
    with pytest.raises(InvalidArgument, match=message):
        taskdb.create_task(**args)


def test_bad_stream_and_worker_arguments_are_refused(taskdb: TaskDB) -> None:
    with pytest.raises(InvalidArgument, match="worker type"):
        taskdb.get_or_create_stream(USER, "bad type!")
    with pytest.raises(InvalidArgument, match="reserved"):
        taskdb.get_or_create_stream(USER, "prove", reserved=-1)
    with pytest.raises(InvalidArgument, match="be_mult"):
        taskdb.get_or_create_stream(USER, "prove", be_mult=0)
    with pytest.raises(InvalidArgument, match="be_mult"):
        taskdb.get_or_create_stream(USER, "prove", be_mult=math.inf)
    with pytest.raises(InvalidArgument, match="wait_secs"):
        taskdb.request_work("prove", wait_secs=-1)
    with pytest.raises(InvalidArgument, match="worker type"):
        taskdb.request_work("")
    with pytest.raises(InvalidArgument, match="older_than_secs"):
        taskdb.clear_completed_jobs(-5)
    with pytest.raises(InvalidArgument, match="limit"):
        taskdb.requeue_timed_out_tasks(0)


def test_unusable_sqlite_path_is_unavailable(tmp_path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(DatabaseUnavailable, match="directory"):
        open_taskdb(f"sqlite:///{blocker}/inner/taskdb.sqlite")
    with pytest.raises(DatabaseUnavailable):
        open_taskdb(f"sqlite:///{blocker}")


def test_sqlite_lock_held_too_long_is_unavailable(tmp_path) -> None:
    path = tmp_path / "taskdb.sqlite"
    db = open_taskdb(f"sqlite:///{path}?lock_timeout=0.3")
    try:
        stream = db.get_or_create_stream("u", "exec")
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # fault injection: a writer that never commits
        try:
            with pytest.raises(DatabaseUnavailable, match="locked"):
                db.create_job(stream, {}, 0, 60, "u")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        job = db.create_job(stream, {}, 0, 60, "u")
        assert db.get_job_state(job) is not None
    finally:
        db.close()


def test_bad_urls_are_refused(tmp_path) -> None:
    with pytest.raises(InvalidTaskDBURL, match="unsupported"):
        open_taskdb("mysql://localhost/db")
    with pytest.raises(InvalidTaskDBURL, match="no file"):
        open_taskdb("sqlite:///")
    with pytest.raises(InvalidTaskDBURL, match="lock_timeout"):
        open_taskdb(f"sqlite:///{tmp_path}/t.sqlite?lock_timeout=soon")
    with pytest.raises(InvalidTaskDBURL, match="unknown"):
        open_taskdb(f"sqlite:///{tmp_path}/t.sqlite?journal=off")
    with pytest.raises(InvalidTaskDBURL, match="pool_max"):
        open_taskdb("postgresql://postgres@127.0.0.1/x?pool_max=lots")


def test_retries_up_to_max_then_failure(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 2, 60)
    for expected_retries in (1, 2):
        task = taskdb.request_work("prove")
        assert task is not None and task.max_retries == 2
        taskdb.update_task_progress(job, "0", 0.5)
        assert taskdb.update_task_retry(job, "0") is True
        row = task_row(taskdb, job, "0")
        assert (row.state, row.retries, row.progress) == (TaskState.READY, expected_retries, 0.0)
    assert taskdb.request_work("prove") is not None
    assert taskdb.update_task_retry(job, "0") is False
    row = task_row(taskdb, job, "0")
    assert row.state == TaskState.FAILED and row.error == "retry max hit"
    status = taskdb.get_job_state(job)
    assert status is not None and status.state == JobState.FAILED
    assert status.error == "retry max hit"


def test_retry_only_applies_to_running_tasks(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 3, 60)
    assert taskdb.update_task_retry(job, "0") is False, "ready, not running"
    assert taskdb.update_task_retry(job, "nope") is False
    assert taskdb.update_task_retry("not-a-uuid", "0") is False
    assert states(taskdb, job)["0"] == TaskState.READY


def test_failed_task_fails_job_and_stops_handing_out_its_tasks(
    taskdb: TaskDB, streams: dict[str, str]
) -> None:
    job = new_job(taskdb, streams)
    other = new_job(taskdb, streams)
    for i in range(3):
        taskdb.create_task(job, str(i), streams["prove"], {}, [], 0, 60)
    taskdb.create_task(job, "j", streams["join"], {}, ["0", "1"], 0, 60)
    taskdb.create_task(other, "x", streams["prove"], {}, [], 0, 60)
    first = taskdb.request_work("prove")
    assert first is not None and (first.job_id, first.task_id) == (job, "0")
    second = taskdb.request_work("prove")
    assert second is not None and second.task_id == "1"
    assert taskdb.update_task_failed(job, "0", "guest panicked: boom") is True
    status = taskdb.get_job_state(job)
    assert status is not None and status.state == JobState.FAILED
    assert status.error == "guest panicked: boom"
    got = states(taskdb, job)
    assert got["0"] == TaskState.FAILED
    assert got["2"] == got["j"] == TaskState.CANCELLED
    assert got["1"] == TaskState.RUNNING, "already claimed tasks keep running"
    nxt = taskdb.request_work("prove")
    assert nxt is not None and (nxt.job_id, nxt.task_id) == (other, "x"), "only the other job"
    assert taskdb.request_work("prove") is None
    # A running task of the failed job may still finish; the job stays failed.
    assert taskdb.update_task_done(job, "1") is True
    assert taskdb.get_job_state(job).state == JobState.FAILED  # type: ignore[union-attr]
    assert states(taskdb, job)["j"] == TaskState.CANCELLED
    # Tasks added later (the planner has not noticed yet) are never handed out.
    taskdb.create_task(job, "late", streams["prove"], {}, [], 0, 60)
    assert states(taskdb, job)["late"] == TaskState.CANCELLED
    assert taskdb.request_work("prove") is None
    assert taskdb.update_task_failed(job, "0", "again") is False
    assert taskdb.get_job_state(other).state == JobState.RUNNING  # type: ignore[union-attr]


def test_cancel_job(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 0, 60)
    taskdb.create_task(job, "1", streams["join"], {}, ["0"], 0, 60)
    init = taskdb.request_work("exec")
    assert init is not None
    with pytest.raises(UnknownJob):
        taskdb.cancel_job(job, user_id="mallory")
    assert taskdb.get_job_state(job, user_id="mallory") is None
    assert taskdb.cancel_job(job, user_id=USER) is True
    status = taskdb.get_job_state(job, user_id=USER)
    assert status is not None and status.state == JobState.CANCELLED
    got = states(taskdb, job)
    assert got == {"init": TaskState.RUNNING, "0": TaskState.CANCELLED, "1": TaskState.CANCELLED}
    assert taskdb.request_work("prove") is None
    assert taskdb.update_task_retry(job, "init") is False, "no requeue into a cancelled job"
    assert states(taskdb, job)["init"] == TaskState.CANCELLED
    assert taskdb.cancel_job(job) is False, "already finished"
    with pytest.raises(UnknownJob):
        taskdb.cancel_job("00000000-0000-0000-0000-000000000000")
    with pytest.raises(UnknownJob):
        taskdb.cancel_job("garbage")


def test_progress_and_heartbeat_only_for_running_tasks(
    taskdb: TaskDB, streams: dict[str, str]
) -> None:
    job = new_job(taskdb, streams)
    assert taskdb.update_task_progress(job, "init", 0.5) is False, "not running yet"
    assert taskdb.heartbeat(job, "init") is False
    assert taskdb.request_work("exec") is not None
    assert taskdb.update_task_progress(job, "init", 0.6) is True
    assert taskdb.update_task_progress(job, "init", 0.2) is True
    assert taskdb.get_job_tasks(job)[0].progress == pytest.approx(0.6), "progress is monotone"
    assert taskdb.heartbeat(job, "init") is True
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(InvalidArgument, match="progress"):
            taskdb.update_task_progress(job, "init", bad)
    assert taskdb.heartbeat(job, "missing") is False
    assert taskdb.heartbeat("not-a-uuid", "init") is False


def test_done_is_reported_once(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    assert taskdb.request_work("exec") is not None
    assert taskdb.update_task_done(job, "init", {"n": 1}) is True
    assert taskdb.update_task_done(job, "init", {"n": 2}) is False
    assert taskdb.get_task_output(job, "init") == {"n": 1}
    assert taskdb.update_task_done(job, "nope") is False
    assert taskdb.update_task_done("nope", "init") is False
    with pytest.raises(InvalidArgument, match="output"):
        taskdb.update_task_done(job, "init", ["not", "a", "dict"])  # type: ignore[arg-type]


def test_timed_out_task_is_requeued_then_fails_past_max(
    taskdb: TaskDB, streams: dict[str, str]
) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 1, 1)
    assert taskdb.request_work("prove") is not None
    assert taskdb.requeue_timed_out_tasks() == 0, "not timed out yet"
    time.sleep(1.3)
    assert taskdb.requeue_timed_out_tasks() == 1
    row = task_row(taskdb, job, "0")
    assert (row.state, row.retries) == (TaskState.READY, 1)
    again = taskdb.request_work("prove")
    assert again is not None and again.task_id == "0"
    time.sleep(1.3)
    assert taskdb.requeue_timed_out_tasks() == 1
    row = task_row(taskdb, job, "0")
    assert row.state == TaskState.FAILED
    assert row.error == "timed out after 1 s: retry max hit"
    assert taskdb.get_job_state(job).state == JobState.FAILED  # type: ignore[union-attr]


def test_heartbeat_keeps_a_task_alive(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 1, 2)
    assert taskdb.request_work("prove") is not None
    time.sleep(1.2)
    assert taskdb.heartbeat(job, "0") is True
    time.sleep(1.2)  # 2.4 s after the claim, 1.2 s after the heartbeat
    assert taskdb.requeue_timed_out_tasks() == 0
    assert states(taskdb, job)["0"] == TaskState.RUNNING
    time.sleep(1.2)  # now 2.4 s of silence
    assert taskdb.requeue_timed_out_tasks() == 1
    assert states(taskdb, job)["0"] == TaskState.READY


def test_unacknowledged_claim_is_requeued_without_charging_a_retry(
    taskdb: TaskDB, streams: dict[str, str]
) -> None:
    """A claim whose reply was lost is never heartbeated: it goes back to ready (even for a
    task with no retries), while an acknowledged claim stays with its agent."""
    lost = new_job(taskdb, streams)  # init: 0 retries
    kept = new_job(taskdb, streams)
    first = taskdb.request_work("exec")
    second = taskdb.request_work("exec")
    assert first is not None and second is not None
    assert (first.job_id, second.job_id) == (lost, kept)
    assert taskdb.heartbeat(kept, "init") is True  # the agent that got its reply
    assert taskdb.requeue_unacknowledged_claims(1.0) == 0, "too recent"
    time.sleep(1.2)
    assert taskdb.requeue_unacknowledged_claims(1.0) == 1
    row = task_row(taskdb, lost, "init")
    assert (row.state, row.retries, row.started_at) == (TaskState.READY, 0, None)
    assert states(taskdb, kept)["init"] == TaskState.RUNNING
    again = taskdb.request_work("exec")
    assert again is not None and (again.job_id, again.task_id) == (lost, "init")
    assert taskdb.requeue_unacknowledged_claims(0.0) == 1, "again unacknowledged"
    taskdb.cancel_job(lost)
    assert taskdb.request_work("exec") is None, "cancelled job hands out nothing"
    with pytest.raises(InvalidArgument):
        taskdb.requeue_unacknowledged_claims(-1)


def test_fix_stuck_pending_tasks(taskdb: TaskDB, taskdb_url: str, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 0, 60)
    taskdb.create_task(job, "1", streams["join"], {}, ["0"], 0, 60)
    # Fault injection: a lost decrement leaves "1" waiting on an extra prerequisite.
    raw_execute(taskdb_url, "UPDATE tasks SET waiting_on = waiting_on + 1 WHERE task_id = '1'")
    drain(taskdb, "prove")
    assert states(taskdb, job)["1"] == TaskState.PENDING
    assert taskdb.request_work("join") is None
    assert taskdb.fix_stuck_pending_tasks() == 1
    assert states(taskdb, job)["1"] == TaskState.READY
    assert taskdb.fix_stuck_pending_tasks() == 0
    assert taskdb.request_work("join") is not None


def test_clear_completed_jobs_respects_retention(taskdb: TaskDB, streams: dict[str, str]) -> None:
    done = new_job(taskdb, streams)
    failed = new_job(taskdb, streams)
    cancelled = new_job(taskdb, streams)
    running = new_job(taskdb, streams)
    taskdb.create_task(done, "0", streams["prove"], {}, ["init"], 0, 60)
    for job in (done, failed):
        task = taskdb.request_work("exec")
        assert task is not None and task.job_id == job
    taskdb.update_task_done(done, "init")
    drain(taskdb, "prove")
    taskdb.update_task_failed(failed, "init", "bad elf")
    taskdb.cancel_job(cancelled)
    assert taskdb.get_job_state(done).state == JobState.DONE  # type: ignore[union-attr]
    assert taskdb.clear_completed_jobs(3600) == 0, "all finished just now"
    time.sleep(0.05)
    assert taskdb.clear_completed_jobs(0.0) == 3
    for job in (done, failed, cancelled):
        assert taskdb.get_job_state(job) is None
        with pytest.raises(UnknownJob):
            taskdb.get_job_tasks(job)
    assert taskdb.get_job_state(running).state == JobState.RUNNING  # type: ignore[union-attr]
    assert [r.task_id for r in taskdb.get_job_tasks(running)] == ["init"]


def test_delete_job_removes_tasks(taskdb: TaskDB, streams: dict[str, str]) -> None:
    job = new_job(taskdb, streams)
    taskdb.create_task(job, "0", streams["prove"], {}, [], 0, 60)
    taskdb.create_task(job, "1", streams["join"], {}, ["0"], 0, 60)
    taskdb.delete_job(job)
    assert taskdb.get_job_state(job) is None
    assert taskdb.request_work("prove") is None
    taskdb.delete_job(job)  # idempotent
    taskdb.delete_job("not-a-uuid")


def test_list_jobs_newest_first(taskdb: TaskDB, streams: dict[str, str]) -> None:
    jobs = [new_job(taskdb, streams) for _ in range(3)]
    taskdb.cancel_job(jobs[1])
    other_stream = taskdb.get_or_create_stream("bob", "exec")
    bobs = taskdb.create_job(other_stream, {}, 0, 60, "bob")
    assert [j.job_id for j in taskdb.list_jobs()] == [bobs, *reversed(jobs)]
    assert [j.job_id for j in taskdb.list_jobs(user_id=USER, limit=2)] == [jobs[2], jobs[1]]
    assert [j.job_id for j in taskdb.list_jobs(state=JobState.CANCELLED)] == [jobs[1]]


def test_stream_counters_follow_the_tasks(taskdb: TaskDB) -> None:
    job, _ = make_job_with_tasks(taskdb, USER, 5)
    stream = taskdb.get_stream(USER, "prove")

    def counts() -> tuple[int, int]:
        (stats,) = [s for s in taskdb.stream_stats() if s.stream_id == stream]
        return stats.ready, stats.running

    assert counts() == (5, 0)
    a = taskdb.request_work("prove")
    b = taskdb.request_work("prove")
    assert a is not None and b is not None
    assert counts() == (3, 2)
    taskdb.update_task_done(job, a.task_id)
    taskdb.update_task_retry(job, b.task_id)
    assert counts() == (4, 0)
    taskdb.cancel_job(job)
    assert counts() == (0, 0)


def test_worker_registry(taskdb: TaskDB) -> None:
    taskdb.register_worker("w1", "prove", "gpu-box-1")
    taskdb.register_worker("w2", "exec", "cpu-box")
    first = {w["id"]: w for w in taskdb.list_workers()}
    assert set(first) == {"w1", "w2"}
    assert (first["w1"]["type"], first["w1"]["host"]) == ("prove", "gpu-box-1")
    time.sleep(0.02)
    taskdb.worker_heartbeat("w1")
    second = {w["id"]: w for w in taskdb.list_workers()}
    assert second["w1"]["last_seen"] > first["w1"]["last_seen"]
    assert second["w1"]["registered_at"] == first["w1"]["registered_at"]
    taskdb.register_worker("w1", "join", "gpu-box-2")  # re-registration updates
    assert {w["id"]: w["type"] for w in taskdb.list_workers()}["w1"] == "join"
    with pytest.raises(UnknownWorker, match="register_worker"):
        taskdb.worker_heartbeat("ghost")
    assert taskdb.prune_workers(3600) == 0
    time.sleep(0.02)
    assert taskdb.prune_workers(0.0) == 2
    assert taskdb.list_workers() == []
