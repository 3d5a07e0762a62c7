"""Concurrent agents (threads and processes), killed agents, long polling — both backends."""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
import threading
import time
from collections import Counter

import taskdb_helpers as h
from taskdb_helpers import claim_threads, make_job_with_tasks, wait_until

from proofmarket.cluster.taskdb import (
    JobState,
    ReadyTask,
    TaskDB,
    TaskDBError,
    TaskState,
    open_taskdb,
)
from proofmarket.cluster.taskdb.sqlite_backend import SqliteTaskDB

SPAWN = multiprocessing.get_context("spawn")


def finish_job(db: TaskDB, job: str) -> None:
    init = db.request_work("exec")
    assert init is not None and init.job_id == job
    assert db.update_task_done(job, "init")


def test_threads_never_share_a_task(taskdb: TaskDB, taskdb_url: str) -> None:
    job, ids = make_job_with_tasks(taskdb, "u", 200)
    claimed = claim_threads(taskdb_url, "prove", threads=8)
    counts = Counter(claimed)
    assert [pair for pair, n in counts.items() if n > 1] == [], "a task was claimed twice"
    assert set(counts) == {(job, i) for i in ids}
    finish_job(taskdb, job)
    assert taskdb.get_job_state(job).state == JobState.DONE  # type: ignore[union-attr]


def test_processes_never_share_a_task(taskdb: TaskDB, taskdb_url: str) -> None:
    jobs = [make_job_with_tasks(taskdb, user, 100) for user in ("u1", "u2")]
    start = SPAWN.Event()
    out = SPAWN.Queue()
    procs = [
        SPAWN.Process(target=h.agent_process, args=(taskdb_url, "prove", 2, start, out))
        for _ in range(3)
    ]
    for proc in procs:
        proc.start()
    start.set()
    results = [out.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert [r for r in results if r[0] != "ok"] == []
    claimed = [pair for _, pairs in results for pair in pairs]
    counts = Counter(tuple(pair) for pair in claimed)
    assert [pair for pair, n in counts.items() if n > 1] == [], "a task was claimed twice"
    assert set(counts) == {(job, i) for job, ids in jobs for i in ids}
    for job, _ in jobs:
        finish_job(taskdb, job)
        assert taskdb.get_job_state(job).state == JobState.DONE  # type: ignore[union-attr]


def test_killed_agent_task_is_requeued_and_job_completes(taskdb: TaskDB, taskdb_url: str) -> None:
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    job = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    taskdb.create_task(job, "0", prove, {"Prove": {"index": 0}}, [], 2, 1)
    out = SPAWN.Queue()
    agent = SPAWN.Process(target=h.claim_and_hang, args=(taskdb_url, "prove", out))
    agent.start()
    try:
        assert out.get(timeout=120) == (job, "0")
    finally:
        os.kill(agent.pid, signal.SIGKILL)  # type: ignore[arg-type]
        agent.join(30)
    assert agent.exitcode == -signal.SIGKILL
    assert taskdb.request_work("prove") is None, "still held by the dead agent"
    wait_until(lambda: taskdb.requeue_timed_out_tasks() == 1, what="timed-out task requeued")
    row = next(r for r in taskdb.get_job_tasks(job) if r.task_id == "0")
    assert (row.state, row.retries) == (TaskState.READY, 1)
    task = taskdb.request_work("prove")
    assert task is not None and (task.job_id, task.task_id) == (job, "0")
    assert taskdb.update_task_done(job, "0", {"ok": True})
    finish_job(taskdb, job)
    assert taskdb.get_job_state(job).state == JobState.DONE  # type: ignore[union-attr]


def _wait_in_thread(db: TaskDB, worker_type: str, wait_secs: float) -> queue.Queue:
    result: queue.Queue = queue.Queue()
    started = threading.Event()

    def run() -> None:
        started.set()
        try:
            result.put(db.request_work(worker_type, wait_secs=wait_secs))
        except BaseException as exc:
            result.put(exc)

    threading.Thread(target=run, daemon=True).start()
    started.wait(10)
    return result


def test_long_poll_returns_work_created_while_waiting(taskdb: TaskDB, taskdb_url: str) -> None:
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    job = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    # The waiter uses its own TaskDB object (own connections), like a separate agent.
    agent_db = open_taskdb(taskdb_url)
    try:
        waiting = _wait_in_thread(agent_db, "prove", 60)
        other = _wait_in_thread(agent_db, "join", 0.5)
        time.sleep(0.3)  # let it reach the waiting state (the result does not depend on it)
        taskdb.create_task(job, "0", prove, {"Prove": {"index": 7}}, [], 0, 60)
        got = waiting.get(timeout=60)
        assert isinstance(got, ReadyTask)
        assert (got.job_id, got.task_id, got.task_def) == (job, "0", {"Prove": {"index": 7}})
        assert other.get(timeout=60) is None, "a waiter for another worker type gets nothing"
    finally:
        agent_db.close()


def test_long_poll_in_another_process(taskdb: TaskDB, taskdb_url: str) -> None:
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    job = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    out = SPAWN.Queue()
    agent = SPAWN.Process(target=h.wait_for_work, args=(taskdb_url, "prove", out))
    agent.start()
    try:
        assert out.get(timeout=120) == "waiting"
        time.sleep(0.5)
        taskdb.create_task(job, "0", prove, {}, [], 0, 60)
        assert out.get(timeout=60) == (job, "0")
    finally:
        agent.join(30)
        if agent.is_alive():
            agent.kill()


def test_long_poll_wakes_on_dependency_completion(taskdb: TaskDB) -> None:
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    join = taskdb.get_or_create_stream("u", "join")
    job = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    taskdb.create_task(job, "0", prove, {}, [], 0, 60)
    taskdb.create_task(job, "1", join, {}, ["0"], 0, 60)
    waiting = _wait_in_thread(taskdb, "join", 60)
    assert taskdb.request_work("prove") is not None
    time.sleep(0.2)
    taskdb.update_task_done(job, "0")
    got = waiting.get(timeout=60)
    assert isinstance(got, ReadyTask) and got.task_id == "1"


def test_long_poll_times_out_empty(taskdb: TaskDB) -> None:
    taskdb.get_or_create_stream("u", "prove")
    assert taskdb.request_work("prove", wait_secs=0.3) is None


def test_planner_and_agents_race_without_stuck_tasks(taskdb: TaskDB, taskdb_url: str) -> None:
    """A planner adds prove tasks and joins over them while agents finish prerequisites
    concurrently: no join may be left pending (lost dependency update) and the job ends."""
    exec_stream = taskdb.get_or_create_stream("u", "exec")
    prove = taskdb.get_or_create_stream("u", "prove")
    join = taskdb.get_or_create_stream("u", "join")
    job = taskdb.create_job(exec_stream, {}, 0, 60, "u")
    stop = threading.Event()
    errors: list[BaseException] = []
    agent_db = open_taskdb(taskdb_url)

    def agent() -> None:
        try:
            while not stop.is_set():
                for worker_type in ("prove", "join"):
                    task = agent_db.request_work(worker_type, wait_secs=0.05)
                    if task is not None:
                        agent_db.update_task_done(task.job_id, task.task_id)
        except BaseException as exc:
            errors.append(exc)

    agents = [threading.Thread(target=agent) for _ in range(4)]
    for thread in agents:
        thread.start()
    try:
        # Binary-counter planner: leaves 0..63, joins of equal-height peaks as they appear.
        peaks: list[tuple[int, str]] = []
        for i in range(64):
            taskdb.create_task(job, f"p{i}", prove, {}, [], 0, 60)
            node, height = f"p{i}", 0
            while peaks and peaks[-1][0] == height:
                _, left = peaks.pop()
                name = f"j{i}-{height}"
                taskdb.create_task(job, name, join, {}, [left, node], 0, 60)
                node, height = name, height + 1
            peaks.append((height, node))
        finish_job(taskdb, job)
        wait_until(
            lambda: taskdb.get_job_state(job).state == JobState.DONE,  # type: ignore[union-attr]
            timeout=120,
            what="job done",
        )
    finally:
        stop.set()
        for thread in agents:
            thread.join(30)
        agent_db.close()
    assert errors == []
    assert taskdb.fix_stuck_pending_tasks() == 0
    assert {r.state for r in taskdb.get_job_tasks(job)} == {TaskState.DONE}


class CountingSqliteTaskDB(SqliteTaskDB):
    """The real SQLite TaskDB, counting its write-lock claim attempts."""

    attempts = 0
    lock = threading.Lock()

    def _claim(self, worker_type: str):  # type: ignore[no-untyped-def]
        with CountingSqliteTaskDB.lock:
            CountingSqliteTaskDB.attempts += 1
        return super()._claim(worker_type)


def test_sqlite_new_task_sends_one_waiter_for_the_lock(tmp_path) -> None:
    """Eight long-polling agents all notice a new task, but only as many as there are
    ready tasks go for the write lock to claim it."""
    path = str(tmp_path / "taskdb.sqlite")
    agents = [CountingSqliteTaskDB(path) for _ in range(8)]
    producer = SqliteTaskDB(path)
    claims: queue.Queue = queue.Queue()
    stop = threading.Event()

    def agent(db: SqliteTaskDB) -> None:
        while not stop.is_set():
            try:
                task = db.request_work("prove", wait_secs=1)
            except TaskDBError as exc:  # reported, never swallowed
                claims.put(exc)
                return
            if task is not None:
                claims.put(task.task_id)

    threads = [threading.Thread(target=agent, args=(db,), daemon=True) for db in agents]
    try:
        exec_stream = producer.get_or_create_stream("u", "exec")
        prove = producer.get_or_create_stream("u", "prove")
        job = producer.create_job(exec_stream, {}, 0, 60, "u")
        for thread in threads:
            thread.start()
        time.sleep(1.0)
        before = CountingSqliteTaskDB.attempts
        for i in range(10):
            producer.create_task(job, str(i), prove, {}, [], 0, 60)
            assert claims.get(timeout=10) == str(i)
            time.sleep(0.05)
        attempts = CountingSqliteTaskDB.attempts - before
    finally:
        stop.set()
        for thread in threads:  # never close a connection another thread is using
            thread.join(timeout=10)
        for db in agents:
            db.close()
        producer.close()
    # per task: the winner's claim and its next poll's first attempt, plus each agent's
    # first attempt of every 1 s poll (~2 s here); waking every waiter costs 8 per task
    assert attempts <= 2 * 10 + 8 * 3, f"{attempts} claim attempts for 10 tasks"
    assert claims.empty()
