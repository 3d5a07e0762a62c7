"""PostgreSQL-only behaviour: surviving terminated connections, unreachable servers."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from taskdb_helpers import TcpProxy, retrying

from proofmarket.cluster.taskdb import DatabaseUnavailable, JobState, ReadyTask, TaskDB, open_taskdb


@pytest.fixture
def pg_url(make_postgres_url: Callable[[], str]) -> str:
    return make_postgres_url()


@pytest.fixture
def pg(pg_url: str) -> Iterator[TaskDB]:
    db = open_taskdb(pg_url + "&pool_min=2&pool_max=4")
    yield db
    db.close()


def terminate_other_sessions(url: str) -> int:
    """Kill every other session on the test database, as a server restart would."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


def test_survives_terminated_connections(pg: TaskDB, pg_url: str) -> None:
    exec_stream = pg.get_or_create_stream("u", "exec")
    prove = pg.get_or_create_stream("u", "prove")
    job = pg.create_job(exec_stream, {}, 0, 60, "u")
    assert terminate_other_sessions(pg_url) >= 1
    time.sleep(0.2)
    # Reads and idempotent writes reconnect transparently; others may raise
    # DatabaseUnavailable once, which callers retry.
    status = pg.get_job_state(job)
    assert status is not None and status.state == JobState.RUNNING
    retrying(lambda: pg.create_task(job, "0", prove, {}, [], 0, 60))
    assert terminate_other_sessions(pg_url) >= 1
    time.sleep(0.2)
    task = retrying(lambda: pg.request_work("prove"))
    assert task is not None and task.task_id == "0"
    assert retrying(lambda: pg.update_task_done(job, "0"))
    init = retrying(lambda: pg.request_work("exec"))
    assert init is not None
    assert retrying(lambda: pg.update_task_done(job, "init"))
    assert pg.get_job_state(job).state == JobState.DONE  # type: ignore[union-attr]


def test_long_poll_survives_terminated_listener(pg: TaskDB, pg_url: str) -> None:
    exec_stream = pg.get_or_create_stream("u", "exec")
    prove = pg.get_or_create_stream("u", "prove")
    job = pg.create_job(exec_stream, {}, 0, 60, "u")
    assert pg.request_work("prove", wait_secs=0.2) is None  # starts the listener
    terminate_other_sessions(pg_url)
    result: queue.Queue = queue.Queue()

    def wait() -> None:
        try:
            result.put(retrying(lambda: pg.request_work("prove", wait_secs=60)))
        except BaseException as exc:
            result.put(exc)

    threading.Thread(target=wait, daemon=True).start()
    time.sleep(0.3)
    creator = open_taskdb(pg_url)
    try:
        creator.create_task(job, "0", prove, {"n": 1}, [], 0, 60)
    finally:
        creator.close()
    got = result.get(timeout=60)
    assert isinstance(got, ReadyTask) and got.task_id == "0"


def test_unreachable_server_raises_database_unavailable() -> None:
    with pytest.raises(DatabaseUnavailable, match="cannot connect") as caught:
        open_taskdb("postgresql://postgres:hunter2@127.0.0.1:1/taskdb?connect_timeout=2")
    assert "hunter2" not in str(caught.value), "no password in messages"


def test_pool_parameters_are_not_passed_to_libpq(pg_url: str) -> None:
    db = open_taskdb(pg_url + "&pool_min=0&pool_max=1&pool_timeout=3")
    try:
        stream = db.get_or_create_stream("u", "exec")
        assert db.get_stream("u", "exec") == stream
    finally:
        db.close()


def test_survives_a_database_outage(make_postgres_url: Callable[[], str]) -> None:
    """The server goes away (connections dropped, new ones refused) and comes back."""
    real = urlsplit(make_postgres_url())
    proxy = TcpProxy(real.hostname or "127.0.0.1", real.port or 5432)
    proxy.start()
    url = real._replace(netloc=f"{real.username}@127.0.0.1:{proxy.port}").geturl()
    db = open_taskdb(url + "&pool_timeout=1&connect_timeout=1")
    try:
        stream = db.get_or_create_stream("u", "exec")
        job = db.create_job(stream, {}, 0, 60, "u")
        proxy.stop()
        with pytest.raises(DatabaseUnavailable):
            db.get_job_state(job)
        with pytest.raises(DatabaseUnavailable):
            db.request_work("exec")
        proxy.start()
        status = retrying(lambda: db.get_job_state(job), attempts=60)
        assert status is not None and status.state == JobState.RUNNING
        task = retrying(lambda: db.request_work("exec"), attempts=60)
        assert task is not None and task.job_id == job
    finally:
        db.close()
        proxy.stop()


def test_a_new_task_wakes_one_waiting_agent(pg_url: str) -> None:
    """Eight agents (each its own TaskDB, so its own LISTEN connection) long-poll; each new
    task reaches exactly one of them, and that one claims it."""
    agents = [open_taskdb(pg_url) for _ in range(8)]
    producer = open_taskdb(pg_url)
    claims: queue.Queue = queue.Queue()
    stop = threading.Event()

    def agent(db: TaskDB) -> None:
        while not stop.is_set():
            try:
                task = db.request_work("prove", wait_secs=5)
            except Exception as exc:  # reported, never swallowed
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
        waiting = lambda: raw_count(pg_url, "SELECT count(*) FROM taskdb_waiters")  # noqa: E731
        deadline = time.monotonic() + 30
        while waiting() < len(agents) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert waiting() == len(agents), "every agent registered as a waiter"
        for i in range(3):
            producer.create_task(job, str(i), prove, {}, [], 0, 60)
            assert claims.get(timeout=10) == str(i)
            time.sleep(0.3)  # let every notification arrive
        wakeups = sum(db._hub.wakeups for db in agents)  # type: ignore[attr-defined]
        assert wakeups == 3, f"{wakeups} wake-ups for 3 tasks"
        assert claims.empty()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        for db in agents:
            db.close()
        producer.close()


def raw_count(url: str, query: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(query).fetchone()
    return int(row[0]) if row else 0
