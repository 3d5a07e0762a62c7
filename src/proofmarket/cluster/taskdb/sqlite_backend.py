"""Embedded TaskDB on SQLite: one machine, any number of threads and processes.

Concurrency: WAL journal (readers never block the writer), every write runs in
``BEGIN IMMEDIATE`` so claims are serialised by SQLite's write lock across processes.
Threads of one process first queue on a per-file Python lock; between processes the
SQLite lock is retried here with short jittered sleeps (SQLite's own busy handler sleeps
up to 100 ms at a time, which ruins tail latency). Each thread of each process uses its
own connection.

Long polling: a waiting ``request_work`` polls ``PRAGMA data_version`` (a counter in the
shared WAL index that changes when another connection commits; reading it costs
microseconds and takes no lock) every 1 ms, backing off to 5 ms while nothing changes,
and is woken at once by writes of the same ``SqliteTaskDB`` object. Only when something
changed does it look for ready work, and only when there is some does it take the write
lock. Expected ready→claimed latency: a few milliseconds.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

from proofmarket.cluster.taskdb import validation as v
from proofmarket.cluster.taskdb.errors import (
    DatabaseUnavailable,
    SchemaTooNew,
    TaskDBError,
    UnknownJob,
    UnknownStream,
    UnknownTask,
    UnknownWorker,
)
from proofmarket.cluster.taskdb.sqlite_schema import MIGRATIONS, SCHEMA_VERSION_TABLE
from proofmarket.cluster.taskdb.types import (
    JobState,
    JobStatus,
    ReadyTask,
    StateCounts,
    StreamStats,
    TaskRow,
    TaskState,
    WorkerInfo,
    stream_priority,
)

T = TypeVar("T")

RETRY_MAX_HIT = "retry max hit"
POLL_MIN_SECS = 0.001
POLL_MAX_SECS = 0.005
LOCK_SLEEP_MIN = 0.0002
LOCK_SLEEP_MAX = 0.005
CLEAR_BATCH_JOBS = 50  # finished jobs deleted per write transaction
WAITER_REFRESH_SECS = 1.0  # a waiting request_work re-registers this often
WAITER_FRESH_SECS = 2.5  # waiters not refreshed for this long are gone (or stalled)
WAITER_OVERTAKE_SECS = 0.5  # ready work nobody ahead took for this long: claim anyway

_TASK_COLUMNS = (
    "job_id, task_id, stream_id, worker_type, task_def, prerequisites, state, created_at, "
    "started_at, updated_at, progress, retries, max_retries, timeout_secs, output, error"
)


_WRITE_LOCKS: dict[str, threading.Lock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _process_write_lock(path: str) -> threading.Lock:
    """One lock per database file per process: threads queue here for the write lock
    instead of all spinning on SQLite's (which, with the GIL, stalls the holder)."""
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(path, threading.Lock())


def _reset_write_locks_after_fork() -> None:
    global _WRITE_LOCKS_GUARD
    _WRITE_LOCKS_GUARD = threading.Lock()
    _WRITE_LOCKS.clear()


os.register_at_fork(after_in_child=_reset_write_locks_after_fork)


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _load(text: str | None) -> Any:
    return None if text is None else json.loads(text)


@dataclass
class _Waiter:
    """A thread's registration in ``taskdb_waiters`` for one worker type."""

    id: str
    since: float = 0.0  # its row's ``since`` (rank order)
    written: float | None = None  # monotonic time the row was last written; None: no row


class SqliteTaskDB:
    """TaskDB stored in one SQLite file (see the module docstring for the design)."""

    def __init__(self, path: str, *, lock_timeout_secs: float = 30.0) -> None:
        self._path = os.path.abspath(path)
        self._lock_timeout = lock_timeout_secs
        self._local = threading.local()
        self._all_conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        self._wake = threading.Condition()
        self._wake_gen = 0
        self._write_lock = _process_write_lock(self._path)
        self._write_lock_pid = os.getpid()
        parent = os.path.dirname(self._path)
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailable(f"cannot create directory {parent!r}: {exc}") from exc
        self._migrate()

    # -- connections and transactions ---------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        if self._closed:
            raise TaskDBError("TaskDB is closed")
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        try:
            conn = sqlite3.connect(
                self._path, timeout=0.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA busy_timeout = 0")
            self._retry_busy(lambda: conn.execute("PRAGMA journal_mode = WAL"))
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"cannot open SQLite TaskDB {self._path!r}: {exc}") from exc
        self._local.conn = conn
        self._local.pid = os.getpid()
        with self._conns_lock:
            self._all_conns.append(conn)
        return conn

    def _retry_busy(self, fn: Callable[[], T]) -> T:
        deadline = time.monotonic() + self._lock_timeout
        sleep = LOCK_SLEEP_MIN
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(sleep * (0.5 + random.random()))
            sleep = min(sleep * 2, LOCK_SLEEP_MAX)

    def _tx(self, fn: Callable[[sqlite3.Connection], T], *, write: bool = True) -> T:
        """Run ``fn`` in a transaction (``BEGIN IMMEDIATE`` for writes), retrying on busy."""
        conn = self._conn()

        def attempt() -> T:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                result = fn(conn)
                conn.execute("COMMIT")
                return result
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

        try:
            if not write:
                return self._retry_busy(attempt)
            if self._write_lock_pid != os.getpid():  # forked: the parent's lock is stale
                self._write_lock = _process_write_lock(self._path)
                self._write_lock_pid = os.getpid()
            if not self._write_lock.acquire(timeout=self._lock_timeout):
                raise sqlite3.OperationalError("database is locked (by this process)")
            try:
                return self._retry_busy(attempt)
            finally:
                self._write_lock.release()
        except sqlite3.OperationalError as exc:
            if _is_busy(exc):
                raise DatabaseUnavailable(
                    f"SQLite TaskDB {self._path!r} stayed locked for {self._lock_timeout} s"
                ) from exc
            raise DatabaseUnavailable(f"SQLite TaskDB {self._path!r}: {exc}") from exc
        except sqlite3.Error as exc:
            raise TaskDBError(f"SQLite TaskDB {self._path!r}: {exc}") from exc

    def _signal(self) -> None:
        """Wake waiting ``request_work`` calls of this object (others see data_version)."""
        with self._wake:
            self._wake_gen += 1
            self._wake.notify_all()

    def _migrate(self) -> None:
        def apply(conn: sqlite3.Connection) -> None:
            conn.execute(SCHEMA_VERSION_TABLE)
            row = conn.execute("SELECT max(version) FROM taskdb_schema_version").fetchone()
            current = row[0] or 0
            known = max(version for version, _, _ in MIGRATIONS)
            if current > known:
                raise SchemaTooNew(
                    f"TaskDB {self._path!r} has schema version {current}; "
                    f"this proofmarket knows up to {known}"
                )
            for version, name, statements in MIGRATIONS:
                if version <= current:
                    continue
                for statement in statements:
                    conn.execute(statement)
                conn.execute(
                    "INSERT INTO taskdb_schema_version (version, name, applied_at) "
                    "VALUES (?, ?, ?)",
                    (version, name, time.time()),
                )

        self._tx(apply)

    def schema_version(self) -> int:
        """Highest applied migration."""
        row = self._tx(
            lambda c: c.execute("SELECT max(version) FROM taskdb_schema_version").fetchone(),
            write=False,
        )
        return int(row[0] or 0)

    def close(self) -> None:
        self._closed = True
        self._signal()
        with self._conns_lock:
            conns, self._all_conns = self._all_conns, []
        for conn in conns:
            with suppress(sqlite3.Error):
                conn.close()

    # -- streams ------------------------------------------------------------------------
    def get_or_create_stream(
        self, user_id: str, worker_type: str, reserved: int = 0, be_mult: float = 1.0
    ) -> str:
        v.check_name("user_id", user_id)
        v.check_worker_type(worker_type)
        reserved, be_mult = v.check_stream_params(reserved, be_mult)

        def run(conn: sqlite3.Connection) -> str:
            row = conn.execute(
                "SELECT id FROM streams WHERE user_id = ? AND worker_type = ?",
                (user_id, worker_type),
            ).fetchone()
            if row is not None:
                return str(row[0])
            stream_id = str(uuid.uuid4())
            conn.execute(
                "INSERT INTO streams (id, user_id, worker_type, reserved, be_mult, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (stream_id, user_id, worker_type, reserved, be_mult, time.time()),
            )
            return stream_id

        return self._tx(run)

    def get_stream(self, user_id: str, worker_type: str) -> str | None:
        row = self._tx(
            lambda c: c.execute(
                "SELECT id FROM streams WHERE user_id = ? AND worker_type = ?",
                (user_id, worker_type),
            ).fetchone(),
            write=False,
        )
        return None if row is None else str(row[0])

    def set_stream_params(self, stream_id: str, reserved: int, be_mult: float) -> None:
        reserved, be_mult = v.check_stream_params(reserved, be_mult)

        def run(conn: sqlite3.Connection) -> None:
            cur = conn.execute(
                "UPDATE streams SET reserved = ?, be_mult = ? WHERE id = ?",
                (reserved, be_mult, stream_id),
            )
            if cur.rowcount == 0:
                raise UnknownStream(stream_id)

        self._tx(run)

    def stream_stats(self) -> list[StreamStats]:
        rows = self._tx(
            lambda c: c.execute(
                """
                SELECT s.id, s.user_id, s.worker_type, s.reserved, s.be_mult,
                       (SELECT count(*) FROM tasks t WHERE t.stream_id = s.id
                            AND t.state = 'ready'),
                       (SELECT count(*) FROM tasks t INDEXED BY tasks_running
                            WHERE t.stream_id = s.id AND t.state = 'running')
                FROM streams s ORDER BY s.worker_type, s.user_id
                """
            ).fetchall(),
            write=False,
        )
        return [StreamStats.from_row(r) for r in rows]

    def state_counts(self) -> StateCounts:
        def run(conn: sqlite3.Connection) -> StateCounts:
            jobs = conn.execute(StateCounts.JOBS_SQL).fetchall()
            tasks = conn.execute(StateCounts.TASKS_SQL).fetchall()
            return StateCounts.from_rows(jobs, tasks)

        return self._tx(run, write=False)

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
        job_id = str(uuid.uuid4())

        def run(conn: sqlite3.Connection) -> None:
            stream = conn.execute(
                "SELECT worker_type FROM streams WHERE id = ?", (stream_id,)
            ).fetchone()
            if stream is None:
                raise UnknownStream(stream_id)
            now = time.time()
            cur = conn.execute(
                "INSERT INTO jobs (id, state, user_id, created_at) VALUES (?, 'running', ?, ?)",
                (job_id, user_id, now),
            )
            conn.execute(
                "INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, task_def, "
                "prerequisites, state, created_at, waiting_on, max_retries, timeout_secs) "
                "VALUES (?, 'init', ?, ?, ?, ?, '[]', 'ready', ?, 0, ?, ?)",
                (
                    job_id,
                    stream_id,
                    stream[0],
                    cur.lastrowid,
                    task_json,
                    now,
                    max_retries,
                    timeout_secs,
                ),
            )

        self._tx(run)
        self._signal()
        return job_id

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

        def run(conn: sqlite3.Connection) -> bool:
            job = conn.execute("SELECT seq, state FROM jobs WHERE id = ?", (job_key,)).fetchone()
            if job is None:
                raise UnknownJob(job_key)
            if conn.execute(
                "SELECT 1 FROM tasks WHERE job_id = ? AND task_id = ?", (job_key, task_id)
            ).fetchone():
                return False
            stream = conn.execute(
                "SELECT worker_type FROM streams WHERE id = ?", (stream_id,)
            ).fetchone()
            if stream is None:
                raise UnknownStream(stream_id)
            waiting = 0
            for pre in prereqs:
                row = conn.execute(
                    "SELECT state FROM tasks WHERE job_id = ? AND task_id = ?", (job_key, pre)
                ).fetchone()
                if row is None:
                    raise UnknownTask(job_key, pre)
                if row[0] != TaskState.DONE:
                    waiting += 1
            if job[1] != JobState.RUNNING:
                state = TaskState.CANCELLED
            else:
                state = TaskState.READY if waiting == 0 else TaskState.PENDING
            conn.execute(
                "INSERT INTO tasks (job_id, task_id, stream_id, worker_type, job_seq, task_def, "
                "prerequisites, state, created_at, waiting_on, max_retries, timeout_secs) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    job_key,
                    task_id,
                    stream_id,
                    stream[0],
                    job[0],
                    task_json,
                    json.dumps(prereqs),
                    str(state),
                    time.time(),
                    waiting,
                    max_retries,
                    timeout_secs,
                ),
            )
            conn.executemany(
                "INSERT INTO task_deps (job_id, pre_task_id, post_task_id) VALUES (?, ?, ?)",
                [(job_key, pre, task_id) for pre in prereqs],
            )
            return state == TaskState.READY

        if self._tx(run):
            self._signal()

    def _claim(self, worker_type: str) -> ReadyTask | None:
        def run(conn: sqlite3.Connection) -> ReadyTask | None:
            candidates = conn.execute(
                """
                SELECT * FROM (
                    SELECT s.id, s.reserved, s.be_mult,
                        (SELECT count(*) FROM tasks r INDEXED BY tasks_running
                            WHERE r.stream_id = s.id AND r.state = 'running') AS running,
                        (SELECT t.seq FROM tasks t WHERE t.stream_id = s.id AND t.state = 'ready'
                            ORDER BY t.job_seq, t.seq LIMIT 1) AS head_seq,
                        (SELECT t.job_seq FROM tasks t WHERE t.stream_id = s.id
                            AND t.state = 'ready' ORDER BY t.job_seq, t.seq LIMIT 1) AS head_job
                    FROM streams s WHERE s.worker_type = ?
                ) WHERE head_seq IS NOT NULL
                """,
                (worker_type,),
            ).fetchall()
            if not candidates:
                return None
            best = min(
                candidates,
                key=lambda c: (stream_priority(c[3], c[1], c[2]), -c[1], c[5], c[4]),
            )
            now = time.time()
            row = conn.execute(
                "UPDATE tasks SET state = 'running', started_at = ?, updated_at = ? "
                "WHERE seq = ? "
                "RETURNING job_id, task_id, task_def, prerequisites, max_retries, worker_type",
                (now, now, best[4]),
            ).fetchone()
            return ReadyTask(row[0], row[1], json.loads(row[2]), json.loads(row[3]), row[4], row[5])

        return self._tx(run)

    def _has_ready(self, worker_type: str) -> bool:
        row = (
            self._conn()
            .execute(
                "SELECT 1 FROM tasks WHERE worker_type = ? AND state = 'ready' LIMIT 1",
                (worker_type,),
            )
            .fetchone()
        )
        return row is not None

    def _data_version(self) -> int:
        row = self._conn().execute("PRAGMA data_version").fetchone()
        return int(row[0])

    def _register_waiter(self, waiter: str, worker_type: str) -> float:
        since = time.time()
        self._tx(
            lambda c: c.execute(
                "INSERT INTO taskdb_waiters (id, worker_type, since) VALUES (?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET since = excluded.since",
                (waiter, worker_type, since),
            )
        )
        return since

    def _my_turn(self, waiter: str, worker_type: str, since: float) -> bool:
        """Claim only while there are more ready tasks than live waiters ahead of us, so a
        new task sends one waiter (not all of them) for the write lock."""
        conn = self._conn()
        fresh = time.time() - WAITER_FRESH_SECS
        ahead = conn.execute(
            "SELECT count(*) FROM taskdb_waiters WHERE worker_type = ? AND since > ? "
            "AND (since < ? OR (since = ? AND id < ?))",
            (worker_type, fresh, since, since, waiter),
        ).fetchone()[0]
        ready = conn.execute(
            "SELECT count(*) FROM (SELECT 1 FROM tasks WHERE worker_type = ? "
            "AND state = 'ready' LIMIT ?)",
            (worker_type, ahead + 1),
        ).fetchone()[0]
        return int(ready) > int(ahead)

    def request_work(self, worker_type: str, wait_secs: float = 0.0) -> ReadyTask | None:
        v.check_worker_type(worker_type)
        wait_secs = v.check_wait(wait_secs)
        deadline = time.monotonic() + wait_secs
        try:
            version = self._data_version()
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(f"SQLite TaskDB {self._path!r}: {exc}") from exc
        with self._wake:
            gen = self._wake_gen
        waiter = self._waiter(worker_type)
        task = self._claim(worker_type)
        if task is not None or wait_secs <= 0:
            return self._busy(waiter, task)
        ready_since: float | None = None
        delay = POLL_MIN_SECS
        try:
            while task is None:
                now = time.monotonic()
                remaining = deadline - now
                if remaining <= 0 or self._closed:
                    return None  # the row stays: agents poll again at once
                if waiter.written is None or now - waiter.written > WAITER_REFRESH_SECS:
                    waiter.since = self._register_waiter(waiter.id, worker_type)
                    waiter.written = now
                with self._wake:
                    if self._wake_gen == gen:
                        self._wake.wait(timeout=min(delay, remaining))
                    woken = self._wake_gen != gen
                    gen = self._wake_gen
                try:
                    new_version = self._data_version()
                    changed = woken or new_version != version
                    version = new_version
                    if not changed and ready_since is None:
                        delay = min(delay * 1.5, POLL_MAX_SECS)
                        continue
                    delay = POLL_MIN_SECS
                    if not self._retry_busy(lambda: self._has_ready(worker_type)):
                        ready_since = None
                        continue
                    ready_since = ready_since or time.monotonic()
                    # a waiter ahead that does not claim (stalled) is overtaken soon
                    overdue = time.monotonic() - ready_since > WAITER_OVERTAKE_SECS
                    if not overdue and not self._retry_busy(
                        partial(self._my_turn, waiter.id, worker_type, waiter.since)
                    ):
                        delay = POLL_MAX_SECS
                        continue
                except sqlite3.Error as exc:
                    raise DatabaseUnavailable(f"SQLite TaskDB {self._path!r}: {exc}") from exc
                task = self._claim(worker_type)
                ready_since = None
            return self._busy(waiter, task)
        except BaseException:
            waiter.written = None
            raise

    def _waiter(self, worker_type: str) -> _Waiter:
        """This thread's waiter for ``worker_type``: its row outlives one ``request_work``
        call, so an agent polling in short slices does not write on every slice."""
        table: dict[str, _Waiter] | None = getattr(self._local, "waiters", None)
        if table is None or getattr(self._local, "waiters_pid", None) != os.getpid():
            table = self._local.waiters = {}
            self._local.waiters_pid = os.getpid()
        waiter = table.get(worker_type)
        if waiter is None:
            waiter = table[worker_type] = _Waiter(uuid.uuid4().hex)
        return waiter

    def _busy(self, waiter: _Waiter, task: ReadyTask | None) -> ReadyTask | None:
        """After a claim the agent is busy: withdraw its waiter row."""
        if task is None or waiter.written is None or self._closed:
            return task
        waiter.written = None
        with suppress(TaskDBError):
            self._tx(lambda c: c.execute("DELETE FROM taskdb_waiters WHERE id = ?", (waiter.id,)))
        return task

    # -- state transitions --------------------------------------------------------------
    @staticmethod
    def _fail_job(conn: sqlite3.Connection, job_id: str, error: str, now: float) -> None:
        cur = conn.execute(
            "UPDATE jobs SET state = 'failed', error = ?, finished_at = ? "
            "WHERE id = ? AND state = 'running'",
            (error, now, job_id),
        )
        if cur.rowcount:
            conn.execute(
                "UPDATE tasks SET state = 'cancelled', updated_at = ? "
                "WHERE job_id = ? AND state IN ('pending', 'ready')",
                (now, job_id),
            )

    def update_task_done(
        self, job_id: str, task_id: str, output: dict[str, Any] | None = None
    ) -> bool:
        out_json = v.dump_json_object("output", output)
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return False

        def run(conn: sqlite3.Connection) -> tuple[bool, bool]:
            now = time.time()
            cur = conn.execute(
                "UPDATE tasks SET state = 'done', progress = 1.0, output = ?, updated_at = ? "
                "WHERE job_id = ? AND task_id = ? AND state IN ('ready', 'running')",
                (out_json, now, job_key, task_id),
            )
            if cur.rowcount == 0:
                return False, False
            promoted = conn.execute(
                """
                UPDATE tasks
                SET waiting_on = waiting_on - 1,
                    state = CASE WHEN waiting_on = 1 AND state = 'pending'
                                 THEN 'ready' ELSE state END,
                    updated_at = CASE WHEN waiting_on = 1 AND state = 'pending'
                                 THEN ? ELSE updated_at END
                WHERE job_id = ? AND task_id IN (
                    SELECT post_task_id FROM task_deps WHERE job_id = ? AND pre_task_id = ?)
                RETURNING state
                """,
                (now, job_key, job_key, task_id),
            ).fetchall()
            conn.execute(
                "UPDATE jobs SET state = 'done', finished_at = ? WHERE id = ? "
                "AND state = 'running' AND NOT EXISTS "
                "(SELECT 1 FROM tasks WHERE job_id = ? AND state <> 'done')",
                (now, job_key, job_key),
            )
            return True, any(r[0] == TaskState.READY for r in promoted)

        done, readied = self._tx(run)
        if readied:
            self._signal()
        return done

    def update_task_failed(self, job_id: str, task_id: str, error: str) -> bool:
        error = v.check_error_text(error)
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return False

        def run(conn: sqlite3.Connection) -> bool:
            now = time.time()
            cur = conn.execute(
                "UPDATE tasks SET state = 'failed', error = ?, updated_at = ? "
                "WHERE job_id = ? AND task_id = ? AND state IN ('pending', 'ready', 'running')",
                (error, now, job_key, task_id),
            )
            if cur.rowcount == 0:
                return False
            self._fail_job(conn, job_key, error, now)
            return True

        return self._tx(run)

    def update_task_progress(self, job_id: str, task_id: str, progress: float) -> bool:
        progress = v.check_progress(progress)
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return False
        cur = self._tx(
            lambda c: c.execute(
                "UPDATE tasks SET progress = max(progress, ?), updated_at = ? "
                "WHERE job_id = ? AND task_id = ? AND state = 'running'",
                (progress, time.time(), job_key, task_id),
            )
        )
        return cur.rowcount > 0

    def heartbeat(self, job_id: str, task_id: str) -> bool:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return False
        cur = self._tx(
            lambda c: c.execute(
                "UPDATE tasks SET updated_at = ? "
                "WHERE job_id = ? AND task_id = ? AND state = 'running'",
                (time.time(), job_key, task_id),
            )
        )
        return cur.rowcount > 0

    def _retry(self, conn: sqlite3.Connection, job_id: str, task_id: str, reason: str) -> str:
        """Retry one running task; returns 'requeued', 'failed', 'cancelled' or 'none'."""
        row = conn.execute(
            "SELECT t.retries, t.max_retries, j.state FROM tasks t JOIN jobs j ON j.id = t.job_id "
            "WHERE t.job_id = ? AND t.task_id = ? AND t.state = 'running'",
            (job_id, task_id),
        ).fetchone()
        if row is None:
            return "none"
        retries, max_retries, job_state = row
        now = time.time()
        if job_state != JobState.RUNNING:
            conn.execute(
                "UPDATE tasks SET state = 'cancelled', updated_at = ? "
                "WHERE job_id = ? AND task_id = ?",
                (now, job_id, task_id),
            )
            return "cancelled"
        if retries + 1 > max_retries:
            error = f"{reason}: {RETRY_MAX_HIT}" if reason else RETRY_MAX_HIT
            conn.execute(
                "UPDATE tasks SET state = 'failed', error = ?, updated_at = ? "
                "WHERE job_id = ? AND task_id = ?",
                (error, now, job_id, task_id),
            )
            self._fail_job(conn, job_id, error, now)
            return "failed"
        conn.execute(
            "UPDATE tasks SET state = 'ready', retries = retries + 1, progress = 0.0, "
            "error = NULL, started_at = NULL, updated_at = ? WHERE job_id = ? AND task_id = ?",
            (now, job_id, task_id),
        )
        return "requeued"

    def update_task_retry(self, job_id: str, task_id: str) -> bool:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return False
        outcome = self._tx(lambda c: self._retry(c, job_key, task_id, ""))
        if outcome == "requeued":
            self._signal()
        return outcome == "requeued"

    # -- queries ------------------------------------------------------------------------
    def get_job_state(self, job_id: str, user_id: str | None = None) -> JobStatus | None:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return None
        row = self._tx(
            lambda c: c.execute(
                "SELECT id, state, error, user_id FROM jobs WHERE id = ?", (job_key,)
            ).fetchone(),
            write=False,
        )
        if row is None or (user_id is not None and row[3] != user_id):
            return None
        return JobStatus.from_row(row)

    def list_jobs(
        self, state: JobState | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        limit = v.check_limit(limit)
        sql = "SELECT id, state, error, user_id FROM jobs WHERE 1 = 1"
        params: list[Any] = []
        if state is not None:
            sql += " AND state = ?"
            params.append(str(JobState(state)))
        if user_id is not None:
            sql += " AND user_id = ?"
            params.append(user_id)
        sql += " ORDER BY seq DESC LIMIT ?"
        params.append(limit)
        rows = self._tx(lambda c: c.execute(sql, params).fetchall(), write=False)
        return [JobStatus.from_row(r) for r in rows]

    def cancel_job(self, job_id: str, user_id: str | None = None) -> bool:
        job_key = v.job_key(job_id)

        def run(conn: sqlite3.Connection) -> bool:
            row = conn.execute(
                "SELECT state, user_id FROM jobs WHERE id = ?", (job_key,)
            ).fetchone()
            if row is None or (user_id is not None and row[1] != user_id):
                raise UnknownJob(job_key)
            if row[0] != JobState.RUNNING:
                return False
            now = time.time()
            conn.execute(
                "UPDATE jobs SET state = 'cancelled', finished_at = ? WHERE id = ?", (now, job_key)
            )
            conn.execute(
                "UPDATE tasks SET state = 'cancelled', updated_at = ? "
                "WHERE job_id = ? AND state IN ('pending', 'ready')",
                (now, job_key),
            )
            return True

        return self._tx(run)

    def get_task_output(self, job_id: str, task_id: str) -> dict[str, Any] | None:
        job_key = v.parse_uuid(job_id)
        if job_key is None:
            return None
        row = self._tx(
            lambda c: c.execute(
                "SELECT output FROM tasks WHERE job_id = ? AND task_id = ?", (job_key, task_id)
            ).fetchone(),
            write=False,
        )
        return None if row is None else _load(row[0])

    def get_job_tasks(self, job_id: str) -> list[TaskRow]:
        job_key = v.job_key(job_id)

        def run(conn: sqlite3.Connection) -> list[Any]:
            if conn.execute("SELECT 1 FROM jobs WHERE id = ?", (job_key,)).fetchone() is None:
                raise UnknownJob(job_key)
            return conn.execute(
                f"SELECT {_TASK_COLUMNS} FROM tasks WHERE job_id = ? ORDER BY seq", (job_key,)
            ).fetchall()

        rows = self._tx(run, write=False)
        return [
            TaskRow(
                job_id=r[0],
                task_id=r[1],
                stream_id=r[2],
                worker_type=r[3],
                task_def=json.loads(r[4]),
                prerequisites=json.loads(r[5]),
                state=TaskState(r[6]),
                created_at=r[7],
                started_at=r[8],
                updated_at=r[9],
                progress=r[10],
                retries=r[11],
                max_retries=r[12],
                timeout_secs=r[13],
                output=_load(r[14]),
                error=r[15],
            )
            for r in rows
        ]

    # -- maintenance --------------------------------------------------------------------
    def _running_candidates(self, condition: str, params: tuple[Any, ...], limit: int) -> list[Any]:
        """Running tasks matching ``condition``, read without the write lock (a snapshot;
        each one is re-checked inside its own short write transaction)."""
        return self._tx(
            lambda c: c.execute(
                "SELECT job_id, task_id, timeout_secs FROM tasks INDEXED BY tasks_running "
                f"WHERE state = 'running' AND {condition} ORDER BY seq LIMIT ?",
                (*params, limit),
            ).fetchall(),
            write=False,
        )

    def requeue_timed_out_tasks(self, limit: int = 100) -> int:
        limit = v.check_limit(limit)
        timed_out = "? - max(started_at, coalesce(updated_at, started_at)) > timeout_secs"
        rows = self._running_candidates(timed_out, (time.time(),), limit)
        handled = 0
        requeued = False
        for job, task, timeout in rows:

            def run(
                conn: sqlite3.Connection, job: str = job, task: str = task, timeout: int = timeout
            ) -> str:
                still = conn.execute(
                    f"SELECT 1 FROM tasks WHERE job_id = ? AND task_id = ? "
                    f"AND state = 'running' AND {timed_out}",
                    (job, task, time.time()),
                ).fetchone()
                if still is None:
                    return "none"
                return self._retry(conn, job, task, f"timed out after {timeout} s")

            outcome = self._tx(run)
            handled += outcome != "none"
            requeued = requeued or outcome == "requeued"
        if requeued:
            self._signal()
        return handled

    def requeue_unacknowledged_claims(self, older_than_secs: float, limit: int = 100) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        limit = v.check_limit(limit)
        unacked = "updated_at = started_at AND started_at < ?"
        rows = self._running_candidates(unacked, (time.time() - older_than_secs,), limit)
        handled = 0
        for job, task, _ in rows:

            def run(conn: sqlite3.Connection, job: str = job, task: str = task) -> bool:
                now = time.time()
                cur = conn.execute(
                    "UPDATE tasks SET state = CASE WHEN (SELECT state FROM jobs WHERE id = ?) "
                    "= 'running' THEN 'ready' ELSE 'cancelled' END, "
                    "started_at = NULL, updated_at = ? "
                    f"WHERE job_id = ? AND task_id = ? AND state = 'running' AND {unacked}",
                    (job, now, job, task, now - older_than_secs),
                )
                return cur.rowcount > 0

            handled += self._tx(run)
        if handled:
            self._signal()
        return handled

    def fix_stuck_pending_tasks(self) -> int:
        def run(conn: sqlite3.Connection) -> int:
            rows = conn.execute(
                """
                UPDATE tasks INDEXED BY tasks_pending
                SET state = 'ready', waiting_on = 0, updated_at = ?
                WHERE state = 'pending'
                  AND job_id IN (SELECT id FROM jobs WHERE state = 'running')
                  AND NOT EXISTS (
                      SELECT 1 FROM task_deps d JOIN tasks p
                          ON p.job_id = d.job_id AND p.task_id = d.pre_task_id
                      WHERE d.job_id = tasks.job_id AND d.post_task_id = tasks.task_id
                        AND p.state <> 'done')
                RETURNING task_id
                """,
                (time.time(),),
            ).fetchall()
            return len(rows)

        count = self._tx(run)
        if count:
            self._signal()
        return count

    @staticmethod
    def _delete_jobs(conn: sqlite3.Connection, job_ids: list[str]) -> None:
        for job_id in job_ids:
            conn.execute("DELETE FROM task_deps WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM tasks WHERE job_id = ?", (job_id,))
            conn.execute("DELETE FROM jobs WHERE id = ?", (job_id,))

    def clear_completed_jobs(self, older_than_secs: float) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        cutoff = time.time() - older_than_secs

        def run(conn: sqlite3.Connection) -> int:
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT id FROM jobs WHERE state <> 'running' AND finished_at < ? LIMIT ?",
                    (cutoff, CLEAR_BATCH_JOBS),
                ).fetchall()
            ]
            self._delete_jobs(conn, ids)
            return len(ids)

        # Small batches, one transaction each: claims are never held up for long.
        total = 0
        while True:
            count = self._tx(run)
            total += count
            if count < CLEAR_BATCH_JOBS:
                return total

    def delete_job(self, job_id: str) -> None:
        job_key = v.parse_uuid(job_id)
        if job_key is not None:
            self._tx(lambda c: self._delete_jobs(c, [job_key]))

    # -- worker registry ----------------------------------------------------------------
    def register_worker(self, worker_id: str, worker_type: str, host: str) -> None:
        v.check_name("worker_id", worker_id)
        v.check_worker_type(worker_type)
        v.check_name("host", host)
        now = time.time()
        self._tx(
            lambda c: c.execute(
                "INSERT INTO workers (id, worker_type, host, registered_at, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "worker_type = excluded.worker_type, host = excluded.host, "
                "last_seen = excluded.last_seen",
                (worker_id, worker_type, host, now, now),
            )
        )

    def worker_heartbeat(self, worker_id: str) -> None:
        cur = self._tx(
            lambda c: c.execute(
                "UPDATE workers SET last_seen = ? WHERE id = ?", (time.time(), worker_id)
            )
        )
        if cur.rowcount == 0:
            raise UnknownWorker(worker_id)

    def list_workers(self) -> list[dict[str, Any]]:
        rows = self._tx(
            lambda c: c.execute(
                "SELECT id, worker_type, host, registered_at, last_seen FROM workers "
                "ORDER BY worker_type, id"
            ).fetchall(),
            write=False,
        )
        return [WorkerInfo(*r).as_dict() for r in rows]

    def deregister_worker(self, worker_id: str) -> bool:
        v.check_name("worker_id", worker_id)
        cur = self._tx(lambda c: c.execute("DELETE FROM workers WHERE id = ?", (worker_id,)))
        return int(cur.rowcount) > 0

    def prune_workers(self, older_than_secs: float) -> int:
        older_than_secs = v.check_age("older_than_secs", older_than_secs)
        cur = self._tx(
            lambda c: c.execute(
                "DELETE FROM workers WHERE last_seen < ?", (time.time() - older_than_secs,)
            )
        )
        return int(cur.rowcount)
