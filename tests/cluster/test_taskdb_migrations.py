"""Schema migrations: applied on open, idempotent, safe when several processes open at once."""

from __future__ import annotations

import threading

import pytest
from taskdb_helpers import raw_execute

from proofmarket.cluster.taskdb import SchemaTooNew, TaskDB, open_taskdb
from proofmarket.cluster.taskdb.postgres_schema import MIGRATIONS as PG_MIGRATIONS
from proofmarket.cluster.taskdb.sqlite_schema import MIGRATIONS as SQLITE_MIGRATIONS


def applied(url: str) -> list[int]:
    return [
        row[0]
        for row in raw_execute(url, "SELECT version FROM taskdb_schema_version ORDER BY version")
    ]


def test_backends_know_the_same_versions() -> None:
    assert [m[0] for m in PG_MIGRATIONS] == [m[0] for m in SQLITE_MIGRATIONS]
    assert [m[0] for m in PG_MIGRATIONS] == list(range(1, len(PG_MIGRATIONS) + 1))


def test_migrations_are_idempotent(taskdb: TaskDB, taskdb_url: str) -> None:
    expected = [m[0] for m in SQLITE_MIGRATIONS]
    assert applied(taskdb_url) == expected
    stream = taskdb.get_or_create_stream("u", "exec")
    job = taskdb.create_job(stream, {"keep": "me"}, 0, 60, "u")
    for _ in range(2):
        again = open_taskdb(taskdb_url)
        try:
            assert again.get_job_tasks(job)[0].task_def == {"keep": "me"}, "data survives"
        finally:
            again.close()
    assert applied(taskdb_url) == expected


def test_concurrent_first_opens_migrate_once(taskdb_url: str) -> None:
    errors: list[BaseException] = []
    opened: list[TaskDB] = []
    barrier = threading.Barrier(4)

    def open_one() -> None:
        try:
            barrier.wait()
            opened.append(open_taskdb(taskdb_url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for db in opened:
        db.close()
    assert errors == []
    assert len(opened) == 4
    assert applied(taskdb_url) == [m[0] for m in SQLITE_MIGRATIONS]


def test_newer_schema_is_refused(taskdb: TaskDB, taskdb_url: str) -> None:
    taskdb.close()
    raw_execute(
        taskdb_url,
        "INSERT INTO taskdb_schema_version (version, name, applied_at) VALUES (999, 'future', ?)",
        (0,) if taskdb_url.startswith("sqlite") else ("2030-01-01",),
    )
    with pytest.raises(SchemaTooNew, match="999"):
        open_taskdb(taskdb_url)


def test_old_database_is_upgraded_in_place(taskdb: TaskDB, taskdb_url: str) -> None:
    """A database left at version 1 gets only the missing migrations, keeping its data."""
    stream = taskdb.get_or_create_stream("u", "exec")
    job = taskdb.create_job(stream, {"old": True}, 0, 60, "u")
    taskdb.close()
    # Turn it back into a version-1 database.
    raw_execute(taskdb_url, "DROP INDEX workers_last_seen")
    if taskdb_url.startswith("postgresql"):
        raw_execute(taskdb_url, "DROP FUNCTION task_heartbeat(uuid, text, real)")
        raw_execute(taskdb_url, "DROP FUNCTION requeue_unacked_claims(double precision, integer)")
        raw_execute(taskdb_url, "DROP FUNCTION taskdb_wait(text, text, text)")
        raw_execute(taskdb_url, "DROP FUNCTION taskdb_unwait(text, text)")
    else:
        raw_execute(taskdb_url, "DROP INDEX tasks_pending")
    raw_execute(taskdb_url, "DROP TABLE taskdb_waiters")
    raw_execute(taskdb_url, "DELETE FROM taskdb_schema_version WHERE version >= 2")
    assert applied(taskdb_url) == [1]
    upgraded = open_taskdb(taskdb_url)
    try:
        assert applied(taskdb_url) == [m[0] for m in SQLITE_MIGRATIONS]
        task = upgraded.request_work("exec")
        assert task is not None and task.task_def == {"old": True} and task.job_id == job
        assert upgraded.heartbeat(job, "init") is True
    finally:
        upgraded.close()
