"""TaskDB on PostgreSQL (psycopg 3): the multi-machine cluster backend.

* Every operation is one statement (mostly a PL/pgSQL function from
  :mod:`~proofmarket.cluster.taskdb.postgres_schema`) on an autocommit connection from a
  per-process pool, so it is one round trip and one transaction.
* Claims use ``FOR UPDATE SKIP LOCKED``: concurrent agents never wait on each other and
  never get the same task.
* Long polling: :class:`~proofmarket.cluster.taskdb.postgres_notify.NotificationHub`
  (a dedicated LISTEN connection) wakes waiting ``request_work`` calls within
  milliseconds; they also re-check every second in case a notification was missed.
* Connection loss: the failing call raises :class:`DatabaseUnavailable` after the pool has
  dropped its idle connections, so the next call reconnects; connections are opened on
  demand (:mod:`~proofmarket.cluster.taskdb.pg_pool`), so while the server is down calls
  fail at once, and the first call after it is back succeeds. Calls that are safe to repeat
  (reads, heartbeats, idempotent writes, and any call whose server session was terminated
  before answering) are retried once on a fresh connection first.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from proofmarket.cluster.taskdb import validation as v
from proofmarket.cluster.taskdb.errors import (
    DatabaseUnavailable,
    InvalidTaskDBURL,
    SchemaTooNew,
    TaskDBError,
    UnknownJob,
    UnknownStream,
    UnknownTask,
    UnknownWorker,
)
from proofmarket.cluster.taskdb.pg_pool import ConnectionPool, PoolExhausted
from proofmarket.cluster.taskdb.postgres_notify import NotificationHub
from proofmarket.cluster.taskdb.postgres_schema import MIGRATIONS, SCHEMA_VERSION_TABLE
from proofmarket.cluster.taskdb.types import (
    JobState,
    JobStatus,
    ReadyTask,
    StateCounts,
    StreamStats,
    TaskRow,
    TaskState,
    WorkerInfo,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

#: SQLSTATEs of a session the server terminated (admin/crash shutdown, restart): the
#: statement was aborted, barring a vanishingly rare race right after its commit.
SESSION_TERMINATED = {"57P01", "57P02", "57P03"}
RETRY_CONFLICT = {"40P01", "40001"}
RECHECK_SECS = 1.0
FALLBACK_POLL_SECS = 0.05
WAITER_REFRESH_SECS = 2.0  # rows older than 5 s are skipped by notify_ready
SUBSCRIBE_TIMEOUT_SECS = 2.0
MIGRATION_LOCK = "proofmarket.taskdb.migrate:"
DEFAULT_CONNECT_TIMEOUT = 2  # seconds; a server that does not answer is reported quickly
CLEAR_BATCH_JOBS = 200  # finished jobs deleted per transaction

_TASK_COLUMNS = (
    "job_id, task_id, stream_id, worker_type, task_def, prerequisites, state, created_at, "
    "started_at, updated_at, progress, retries, max_retries, timeout_secs, output, error"
)


def _ts(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def split_url(url: str) -> tuple[str, dict[str, float]]:
    """Remove the TaskDB's own query parameters (``pool_*``) from a libpq URL."""
    parts = urlsplit(url)
    own: dict[str, float] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key in ("pool_min", "pool_max", "pool_timeout"):
            try:
                own[key] = float(value)
            except ValueError as exc:
                raise InvalidTaskDBURL(f"{key}={value!r} in TaskDB URL is not a number") from exc
        else:
            rest.append((key, value))
    if own.get("pool_min", 1) < 0 or own.get("pool_max", 8) < 1:
        raise InvalidTaskDBURL("pool_min must be >= 0 and pool_max >= 1")
    return urlunsplit(parts._replace(query=urlencode(rest))), own


def display_url(url: str) -> str:
    """The URL without password and query, for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = (f"{parts.username}@" if parts.username else "") + host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@dataclass
class _Waiter:
    """A thread's registration in ``taskdb_waiters`` for one worker type."""

    id: str
    written: float | None = None  # monotonic time the row was last written; None: no row
    active: bool = False  # registered since the last withdrawal


class PostgresTaskDB:
    """TaskDB in a PostgreSQL database (see the module docstring for the design)."""

    def __init__(self, url: str) -> None:
        self._conninfo, own = split_url(url)
        self._connect_kwargs: dict[str, Any] = {}
        if "connect_timeout" not in self._conninfo:
            self._connect_kwargs["connect_timeout"] = DEFAULT_CONNECT_TIMEOUT
        self._display = display_url(self._conninfo)
        self._migrate()
        self._pool = ConnectionPool(
            self._conninfo,
            max_size=int(own.get("pool_max", 8)),
            timeout=own.get("pool_timeout", 10.0),
            connect_kwargs=self._connect_kwargs,
        )
        self._hub = NotificationHub(self._conninfo, self._connect_kwargs)
        self._local = threading.local()
        self._closed = False

    # -- plumbing -----------------------------------------------------------------------
    def _migrate(self) -> None:
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True, **self._connect_kwargs)
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"cannot connect to TaskDB {self._display}: {exc}") from exc
        try:
            conn.execute(
                "SELECT pg_advisory_lock(hashtext(%s || coalesce(current_schema(), '')))",
                (MIGRATION_LOCK,),
            )
            try:
                conn.execute(SCHEMA_VERSION_TABLE)
                row = conn.execute("SELECT max(version) FROM taskdb_schema_version").fetchone()
                current = int(row[0] or 0) if row else 0
                known = max(version for version, _, _ in MIGRATIONS)
                if current > known:
                    raise SchemaTooNew(
                        f"TaskDB {self._display} has schema version {current}; "
                        f"this proofmarket knows up to {known}"
                    )
                for version, name, script in MIGRATIONS:
                    if version <= current:
                        continue
                    with conn.transaction():
                        conn.execute(script.encode())
                        conn.execute(
                            "INSERT INTO taskdb_schema_version (version, name) VALUES (%s, %s)",
                            (version, name),
                        )
            finally:
                conn.execute(
                    "SELECT pg_advisory_unlock(hashtext(%s || coalesce(current_schema(), '')))",
                    (MIGRATION_LOCK,),
                )
        except psycopg.OperationalError as exc:
            raise DatabaseUnavailable(f"TaskDB {self._display}: {exc}") from exc
        except psycopg.Error as exc:
            raise TaskDBError(f"migrating TaskDB {self._display} failed: {exc}") from exc
        finally:
            conn.close()

    def _call(
        self,
        fn: Callable[[psycopg.Connection[Any]], T],
        *,
        idempotent: bool,
        retry_terminated: bool = True,
    ) -> T:
        """Run ``fn`` on a pooled connection, mapping and (where safe) retrying errors.

        ``idempotent`` calls are repeated once after any connection error;
        others only when the server reported that it terminated the session (and
        ``retry_terminated``: not for ``create_job``, whose repeat would make a second job).
        """
        if self._closed:
            raise TaskDBError("TaskDB is closed")
        attempt = 0
        while True:
            attempt += 1
            try:
                with self._pool.connection() as conn:
                    return fn(conn)
            except PoolExhausted as exc:
                raise DatabaseUnavailable(
                    f"no connection to TaskDB {self._display} available: {exc}"
                ) from exc
            except psycopg.OperationalError as exc:
                state = exc.sqlstate or ""
                if state in RETRY_CONFLICT and attempt < 5:
                    continue
                if state in RETRY_CONFLICT:
                    raise TaskDBError(f"TaskDB {self._display}: {exc}") from exc
                self._drop_dead_connections()
                terminated = retry_terminated and state in SESSION_TERMINATED
                if attempt < 2 and (idempotent or terminated):
                    continue
                raise DatabaseUnavailable(
                    f"lost the connection to TaskDB {self._display}: {exc}"
                ) from exc
            except psycopg.Error as exc:
                raise self._map_error(exc) from exc

    def _drop_dead_connections(self) -> None:
        self._pool.drop_idle()

    @staticmethod
    def _map_error(exc: psycopg.Error) -> TaskDBError:
        state = exc.sqlstate or ""
        detail = exc.diag.message_primary or str(exc)
        if state == "PMJ01":
            return UnknownJob(detail)
        if state == "PMS01":
            return UnknownStream(detail)
        if state == "PMT01":
            return TaskDBError(detail)  # replaced by the caller with UnknownTask
        if state == "22P02":
            return TaskDBError(f"invalid value: {detail}")
        return TaskDBError(f"TaskDB query failed ({state}): {detail}")

    def _one(
        self,
        query: str,
        params: Sequence[Any] = (),
        *,
        idempotent: bool,
        retry_terminated: bool = True,
    ) -> Any:
        return self._call(
            lambda c: c.execute(query, params).fetchone(),
            idempotent=idempotent,
            retry_terminated=retry_terminated,
        )

    def _all(self, query: str, params: Sequence[Any] = ()) -> list[Any]:
        return self._call(lambda c: c.execute(query, params).fetchall(), idempotent=True)

    def _rowcount(self, query: str, params: Sequence[Any], *, idempotent: bool) -> int:
        return self._call(lambda c: c.execute(query, params).rowcount, idempotent=idempotent)

    def schema_version(self) -> int:
        row = self._one("SELECT max(version) FROM taskdb_schema_version", idempotent=True)
        return int(row[0] or 0)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._hub.close()
        self._pool.close()

    # -- streams ------------------------------------------------------------------------
    def get_or_create_stream(
        self, user_id: str, worker_type: str, reserved: int = 0, be_mult: float = 1.0
    ) -> str:
        v.check_name("user_id", user_id)
        v.check_worker_type(worker_type)
        reserved, be_mult = v.check_stream_params(reserved, be_mult)
        row = self._one(
            "SELECT get_or_create_stream(%s, %s, %s, %s)",
            (user_id, worker_type, reserved, be_mult),
            idempotent=True,
        )
        return str(row[0])

    def get_stream(self, user_id: str, worker_type: str) -> str | None:
        row = self._one(
            "SELECT id FROM streams WHERE user_id = %s AND worker_type = %s",
            (user_id, worker_type),
            idempotent=True,
        )
        return None if row is None else str(row[0])

    def set_stream_params(self, stream_id: str, reserved: int, be_mult: float) -> None:
        reserved, be_mult = v.check_stream_params(reserved, be_mult)
        key = v.stream_key(stream_id)
        count = self._rowcount(
            "UPDATE streams SET reserved = %s, be_mult = %s WHERE id = %s",
            (reserved, be_mult, key),
            idempotent=True,
        )
        if count == 0:
            raise UnknownStream(stream_id)

    def stream_stats(self) -> list[StreamStats]:
        rows = self._all(
            """
            SELECT s.id, s.user_id, s.worker_type, s.reserved, s.be_mult,
                   count(t.*) FILTER (WHERE t.state = 'ready'),
                   count(t.*) FILTER (WHERE t.state = 'running')
            FROM streams s
            LEFT JOIN tasks t ON t.stream_id = s.id AND t.state IN ('ready', 'running')
            GROUP BY s.id ORDER BY s.worker_type, s.user_id
            """
        )
        return [StreamStats.from_row(r) for r in rows]

    def state_counts(self) -> StateCounts:
        jobs = self._all(StateCounts.JOBS_SQL)
        tasks = self._all(StateCounts.TASKS_SQL)
        return StateCounts.from_rows(jobs, tasks)

    # -- jobs and tasks -------------------------------------------------------------------
    def create_job(
        self,
        stream_id: str,
        task_def: dict[str, Any],
        max_retries: int,
        timeout_secs: int,
        user_id: str,
    ) -> str:
        v.check_name("user_id", user_id)
        task_json = v.dump_json_object("task_def", task_def)
        max_retries, timeout_secs = v.check_limits(max_retries, timeout_secs)
        stream_key = v.stream_key(stream_id)
        row = self._one(
            "SELECT create_job(%s, %s::jsonb, %s, %s, %s)",
            (stream_key, task_json, max_retries, timeout_secs, user_id),
            idempotent=False,
            retry_terminated=False,
        )
        return str(row[0])

    def create_task(
        self,
        job_id: str,
        task_id: str,
        stream_id: str,
        task_def: dict[str, Any],
        prerequisites: list[str],
        max_retries: int,
        timeout_secs: int,
    ) -> None:
        v.check_name("task_id", task_id)
        prereqs = v.check_prerequisites(task_id, prerequisites)
        task_json = v.dump_json_object("task_def", task_def)
        max_retries, timeout_secs = v.check_limits(max_retries, timeout_secs)
        job_key = v.job_key(job_id)
        stream_key = v.stream_key(stream_id)
        try:
            self._one(
                "SELECT create_task(%s, %s, %s, %s::jsonb, %s::jsonb, %s, %s)",
                (
                    job_key,
                    task_id,
                    stream_key,
                    task_json,
                    json.dumps(prereqs),
                    max_retries,
                    timeout_secs,
                ),
                idempotent=True,
            )
        except TaskDBError as exc:
            cause = exc.__cause__
            if isinstance(cause, psycopg.Error) and cause.sqlstate == "PMT01":
                raise UnknownTask(job_key, cause.diag.message_primary or "?") from cause
            raise

    def _claim(self, worker_type: str) -> ReadyTask | None:
        row = self._one("SELECT * FROM request_work(%s)", (worker_type,), idempotent=False)
        if row is None:
            return None
        return ReadyTask(str(row[0]), row[1], row[2], list(row[3]), row[4], worker_type)

    def _waiter(self, worker_type: str) -> _Waiter:
        """This thread's waiter for ``worker_type``: its row outlives one ``request_work``
        call, so an agent polling in short slices does not write on every slice."""
        table: dict[str, _Waiter] | None = getattr(self._local, "waiters", None)
        if table is None:
            table = self._local.waiters = {}
        waiter = table.get(worker_type)
        if waiter is None:
            waiter = table[worker_type] = _Waiter(uuid.uuid4().hex)
        return waiter

    def request_work(self, worker_type: str, wait_secs: float = 0.0) -> ReadyTask | None:
        v.check_worker_type(worker_type)
        wait_secs = v.check_wait(wait_secs)
        deadline = time.monotonic() + wait_secs
        waiter = self._waiter(worker_type)
        task = self._claim(worker_type)
        if task is not None or wait_secs <= 0:
            return self._busy(waiter, worker_type, task)
        listening = self._hub.ensure_listening(
            timeout=min(SUBSCRIBE_TIMEOUT_SECS, max(0.0, deadline - time.monotonic()))
        )
        try:
            while not self._closed:
                token = self._hub.token(waiter.id)
                now = time.monotonic()
                stale = waiter.written is None or now - waiter.written > WAITER_REFRESH_SECS
                if listening and stale:
                    # Register (or refresh) and claim again: a task readied after this
                    # commit wakes us, one readied before it is seen by this claim.
                    self._one(
                        "SELECT taskdb_wait(%s, %s, %s)",
                        (waiter.id, worker_type, self._hub.channel),
                        idempotent=True,
                    )
                    waiter.written, waiter.active = now, True
                    task = self._claim(worker_type)
                    if task is not None:
                        return self._busy(waiter, worker_type, task)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None  # the row stays: agents poll again at once
                if not listening:
                    listening = self._hub.ensure_listening(timeout=0.0)
                pause = RECHECK_SECS if listening else FALLBACK_POLL_SECS
                if self._hub.wait(waiter.id, token, timeout=min(remaining, pause)):
                    waiter.written = None  # a notifier took our row (or the listener reconnected)
                task = self._claim(worker_type)  # woken: one round trip to the task
                if task is not None:
                    return self._busy(waiter, worker_type, task)
            return None
        except BaseException:
            waiter.written = None  # unknown; a row left behind goes stale after 5 s
            raise

    def _busy(self, waiter: _Waiter, worker_type: str, task: ReadyTask | None) -> ReadyTask | None:
        """After a claim the agent is busy: withdraw its waiter row so no wake-up is sent
        to it (passing on one it may have swallowed)."""
        if task is None or not waiter.active:
            return task
        waiter.written, waiter.active = None, False
        try:
            self._one("SELECT taskdb_unwait(%s, %s)", (waiter.id, worker_type), idempotent=True)
        except TaskDBError as exc:  # the row goes stale and is skipped after 5 s
            log.debug("could not unregister waiter %s: %s", waiter.id, exc)
        return task

    def _task_call(
        self, query: str, job_id: str, task_id: str, *args: Any, idempotent: bool
    ) -> Any:
        """The answer of a per-task SQL function over ``(job, task, *args)``; None when
        ``job_id`` is not a UUID (so no such task exists)."""
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return None
        return self._one(query, (job_key, task_id, *args), idempotent=idempotent)[0]

    def update_task_done(
        self, job_id: str, task_id: str, output: dict[str, Any] | None = None
    ) -> bool:
        out_json = v.dump_json_object("output", output)
        done = self._task_call(
            "SELECT update_task_done(%s, %s, %s::jsonb)",
            job_id,
            task_id,
            out_json,
            idempotent=False,
        )
        return bool(done)

    def update_task_failed(self, job_id: str, task_id: str, error: str) -> bool:
        error = v.check_error_text(error)
        failed = self._task_call(
            "SELECT update_task_failed(%s, %s, %s)", job_id, task_id, error, idempotent=False
        )
        return bool(failed)

    def update_task_progress(self, job_id: str, task_id: str, progress: float) -> bool:
        progress = v.check_progress(progress)
        alive = self._task_call(
            "SELECT task_heartbeat(%s, %s, %s::real)", job_id, task_id, progress, idempotent=True
        )
        return bool(alive)

    def heartbeat(self, job_id: str, task_id: str) -> bool:
        alive = self._task_call(
            "SELECT task_heartbeat(%s, %s, NULL::real)", job_id, task_id, idempotent=True
        )
        return bool(alive)

    def update_task_retry(self, job_id: str, task_id: str) -> bool:
        outcome = self._task_call(
            "SELECT retry_task(%s, %s, '', false)", job_id, task_id, idempotent=False
        )
        return bool(outcome == "requeued")

    # -- queries ------------------------------------------------------------------------
    def get_job_state(self, job_id: str, user_id: str | None = None) -> JobStatus | None:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return None
        row = self._one(
            "SELECT id, state, error, user_id FROM jobs WHERE id = %s", (job_key,), idempotent=True
        )
        if row is None or (user_id is not None and row[3] != user_id):
            return None
        return JobStatus.from_row(row)

    def list_jobs(
        self, state: JobState | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        limit = v.check_limit(limit)
        rows = self._all(
            "SELECT id, state, error, user_id FROM jobs "
            "WHERE (%s::text IS NULL OR state = %s) AND (%s::text IS NULL OR user_id = %s) "
            "ORDER BY seq DESC LIMIT %s",
            (
                None if state is None else str(JobState(state)),
                None if state is None else str(JobState(state)),
                user_id,
                user_id,
                limit,
            ),
        )
        return [JobStatus.from_row(r) for r in rows]

    def cancel_job(self, job_id: str, user_id: str | None = None) -> bool:
        job_key = v.job_key(job_id)
        row = self._one("SELECT cancel_job(%s, %s)", (job_key, user_id), idempotent=False)
        return bool(row[0])

    def get_task_output(self, job_id: str, task_id: str) -> dict[str, Any] | None:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return None
        row = self._one(
            "SELECT output FROM tasks WHERE job_id = %s AND task_id = %s",
            (job_key, task_id),
            idempotent=True,
        )
        return None if row is None else row[0]

    def get_job_tasks(self, job_id: str) -> list[TaskRow]:
        job_key = v.job_key(job_id)

        def run(conn: psycopg.Connection[Any]) -> list[Any]:
            with conn.transaction():
                if conn.execute("SELECT 1 FROM jobs WHERE id = %s", (job_key,)).fetchone() is None:
                    raise UnknownJob(job_key)
                return conn.execute(
                    f"SELECT {_TASK_COLUMNS} FROM tasks WHERE job_id = %s ORDER BY seq",
                    (job_key,),
                ).fetchall()

        rows = self._call(run, idempotent=True)
        return [
            TaskRow(
                job_id=str(r[0]),
                task_id=r[1],
                stream_id=str(r[2]),
                worker_type=r[3],
                task_def=r[4],
                prerequisites=list(r[5]),
                state=TaskState(r[6]),
                created_at=r[7].timestamp(),
                started_at=_ts(r[8]),
                updated_at=_ts(r[9]),
                progress=float(r[10]),
                retries=r[11],
                max_retries=r[12],
                timeout_secs=r[13],
                output=r[14],
                error=r[15],
            )
            for r in rows
        ]

    # -- maintenance --------------------------------------------------------------------
    def requeue_timed_out_tasks(self, limit: int = 100) -> int:
        limit = v.check_limit(limit)
        rows = self._all(
            "SELECT job_id, task_id, timeout_secs FROM tasks WHERE state = 'running' "
            "AND now() - greatest(started_at, updated_at) > make_interval(secs => timeout_secs) "
            "ORDER BY seq LIMIT %s",
            (limit,),
        )
        handled = 0
        for job_id, task_id, timeout in rows:
            # One transaction per task, re-checking the timeout under the row lock.
            outcome = self._one(
                "SELECT retry_task(%s, %s, %s, true)",
                (job_id, task_id, f"timed out after {timeout} s"),
                idempotent=True,
            )
            if outcome[0] != "none":
                handled += 1
        return handled

    def requeue_unacknowledged_claims(self, older_than_secs: float, limit: int = 100) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        limit = v.check_limit(limit)
        row = self._one(
            "SELECT requeue_unacked_claims(%s, %s)", (older_than_secs, limit), idempotent=True
        )
        return int(row[0])

    def fix_stuck_pending_tasks(self) -> int:
        row = self._one("SELECT fix_stuck_pending_tasks()", idempotent=True)
        return int(row[0])

    def clear_completed_jobs(self, older_than_secs: float) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        total = 0
        while True:  # small batches, one transaction each: no long-held locks
            count = self._rowcount(
                "DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state <> 'running' "
                "AND finished_at < now() - make_interval(secs => %s) LIMIT %s)",
                (older_than_secs, CLEAR_BATCH_JOBS),
                idempotent=True,
            )
            total += count
            if count < CLEAR_BATCH_JOBS:
                return total

    def delete_job(self, job_id: str) -> None:
        job_key = v.parse_uuid(job_id)
        if job_key is not None:
            self._rowcount("DELETE FROM jobs WHERE id = %s", (job_key,), idempotent=True)

    # -- worker registry ----------------------------------------------------------------
    def register_worker(self, worker_id: str, worker_type: str, host: str) -> None:
        v.check_name("worker_id", worker_id)
        v.check_worker_type(worker_type)
        v.check_name("host", host)
        self._rowcount(
            "INSERT INTO workers (id, worker_type, host) VALUES (%s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET worker_type = excluded.worker_type, "
            "host = excluded.host, last_seen = now()",
            (worker_id, worker_type, host),
            idempotent=True,
        )

    def worker_heartbeat(self, worker_id: str) -> None:
        count = self._rowcount(
            "UPDATE workers SET last_seen = now() WHERE id = %s", (worker_id,), idempotent=True
        )
        if count == 0:
            raise UnknownWorker(worker_id)

    def list_workers(self) -> list[dict[str, Any]]:
        rows = self._all(
            "SELECT id, worker_type, host, registered_at, last_seen FROM workers "
            "ORDER BY worker_type, id"
        )
        return [
            WorkerInfo(r[0], r[1], r[2], r[3].timestamp(), r[4].timestamp()).as_dict() for r in rows
        ]

    def deregister_worker(self, worker_id: str) -> bool:
        v.check_name("worker_id", worker_id)
        count = self._rowcount("DELETE FROM workers WHERE id = %s", (worker_id,), idempotent=True)
        return int(count) > 0

    def prune_workers(self, older_than_secs: float) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        return self._rowcount(
            "DELETE FROM workers WHERE last_seen < now() - make_interval(secs => %s)",
            (older_than_secs,),
            idempotent=True,
        )
