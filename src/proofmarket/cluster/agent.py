"""A long-lived agent: claims tasks of one worker type and runs them (Bento's ``agent``).

Loop: ``request_work`` (long poll) → run the handler → ``update_task_done`` with its
output. On error it follows Bento's retry rule: a task with ``max_retries == 0`` or a
permanent error fails (failing its job); otherwise it is retried until the next retry
would pass ``max_retries``, then failed with ``"retry max hit: ..."``. A background thread
heartbeats the running task (so a dead agent's task times out and is requeued while a
slow live one is not) and the agent's registry record; the first heartbeat is sent at
once after the claim, acknowledging it (a claim never acknowledged lost its reply and is
requeued by maintenance). A lost database or an unreachable store is waited out with
short, capped back-off, so work resumes within about a second of the dependency coming
back; SIGTERM/SIGINT stop the agent after its current task.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, TypeVar

from proofmarket.cluster.config import (
    AUX_WORK_TYPE,
    EXEC_WORK_TYPE,
    PROVE_WORK_TYPE,
    WORKER_TYPES,
    ClusterConfig,
)
from proofmarket.cluster.storage import (
    ObjectStore,
    RetryingObjectStore,
    RetryingSegmentStore,
    RetryPolicy,
    SegmentStore,
    StorageError,
)
from proofmarket.cluster.taskdb import (
    DatabaseUnavailable,
    JobState,
    ReadyTask,
    TaskDB,
    TaskDBError,
    UnknownWorker,
    open_taskdb,
)
from proofmarket.cluster.tasks.aux import Maintenance, MaintenanceSettings
from proofmarket.cluster.tasks.context import JobNotRunning, PermanentTaskError, TaskContext

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_ERROR_LEN = 1024
# An idle agent long-polls in slices this long so that a stop request ends it quickly.
STOP_CHECK_SECS = 0.2


class _Interrupted(BaseException):
    """Raised by the stop signal inside interruptible work (warm-up), never caught as an
    ``Exception`` by that work."""


TaskHandler = Callable[[TaskContext], dict[str, Any] | None]


class InvalidWorkerType(ValueError):
    """The agent was asked to serve a worker type the cluster does not know."""


@dataclass(frozen=True)
class AgentSettings:
    worker_type: str
    poll_time: float = 1.0  # seconds each request_work call waits for work
    task_heartbeat_secs: float = 2.0  # must stay below the shortest task timeout
    worker_heartbeat_secs: float = 10.0
    backoff_initial: float = 0.2
    backoff_max: float = 1.0  # short: resume within ~1 s of the database coming back
    storage_retry: RetryPolicy = field(default_factory=RetryPolicy)
    maintenance: MaintenanceSettings | None = field(default_factory=MaintenanceSettings)
    warm_up: bool = False  # exec/prove agents run a tiny guest before claiming work

    def __post_init__(self) -> None:
        if self.worker_type not in WORKER_TYPES:
            raise InvalidWorkerType(
                f"unknown worker type {self.worker_type!r}; expected one of "
                f"{', '.join(WORKER_TYPES)}"
            )
        if self.poll_time < 0 or self.task_heartbeat_secs <= 0:
            raise ValueError("poll_time must be >= 0 and task_heartbeat_secs > 0")


def _default_handler(ctx: TaskContext) -> dict[str, Any] | None:
    from proofmarket.cluster.tasks.dispatch import run_task

    return run_task(ctx)


def _truncate(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LEN else message[: MAX_ERROR_LEN - 3] + "..."


class _Heartbeater(threading.Thread):
    """Heartbeats the running task and the worker record on its own TaskDB handle."""

    def __init__(self, agent: Agent) -> None:
        super().__init__(name=f"heartbeat-{agent.worker_id}", daemon=True)
        self.agent = agent
        self.current: tuple[str, str] | None = None
        self._stop_event = threading.Event()
        self._db: TaskDB | None = None

    def stop(self) -> None:
        self._stop_event.set()

    def run(self) -> None:
        settings = self.agent.settings
        last_worker_beat = 0.0
        while not self._stop_event.wait(settings.task_heartbeat_secs):
            try:
                if self._db is None:
                    self._db = self.agent.db_factory(self.agent.config.database_url)
                current = self.current
                if current is not None:
                    self._db.heartbeat(*current)
                if time.monotonic() - last_worker_beat >= settings.worker_heartbeat_secs:
                    try:
                        self._db.worker_heartbeat(self.agent.worker_id)
                    except UnknownWorker:
                        self._db.register_worker(
                            self.agent.worker_id, settings.worker_type, self.agent.host
                        )
                    last_worker_beat = time.monotonic()
            except DatabaseUnavailable as exc:
                log.debug("heartbeat skipped: %s", exc)
            except Exception:
                log.exception("heartbeat failed")
        if self._db is not None:
            self._db.close()


class Agent:
    def __init__(
        self,
        config: ClusterConfig,
        settings: AgentSettings,
        *,
        worker_id: str | None = None,
        handler: TaskHandler = _default_handler,
        db_factory: Callable[[str], TaskDB] = open_taskdb,
    ) -> None:
        self.config = config
        self.settings = settings
        self.host = socket.gethostname()
        self.worker_id = worker_id or (
            f"{settings.worker_type}-{self.host}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        )
        self.handler = handler
        self.db_factory = db_factory
        self._stop = threading.Event()
        self._interruptible = False
        self._db: TaskDB | None = None
        self._segments: SegmentStore | None = None
        self._objects: ObjectStore | None = None
        self.tasks_done = 0
        self.tasks_failed = 0
        self._claim_backoff = settings.backoff_initial

    # -- lifecycle -------------------------------------------------------------------------
    def request_stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def install_signal_handlers(self) -> None:
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.info("agent %s: signal %d, stopping after the current task", self.worker_id, signum)
            self.request_stop()
            if self._interruptible:
                raise _Interrupted

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)

    def _sleep(self, secs: float) -> None:
        self._stop.wait(secs)

    def _with_db(self, what: str, fn: Callable[[TaskDB], T], *, give_up_when_stopping: bool) -> T:
        """Call ``fn`` with the TaskDB, reconnecting with back-off while it is unavailable."""
        delay = self.settings.backoff_initial
        attempts = 0
        while True:
            try:
                if self._db is None:
                    self._db = self.db_factory(self.config.database_url)
                return fn(self._db)
            except DatabaseUnavailable as exc:
                attempts += 1
                if give_up_when_stopping and self.stopping and attempts >= 3:
                    raise
                log.warning("%s: database unavailable (%s); retrying in %.1fs", what, exc, delay)
                if self.stopping:
                    time.sleep(delay)
                else:
                    self._sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)

    def run(self) -> None:
        """Serve tasks until ``request_stop`` (or a signal)."""
        worker_type = self.settings.worker_type
        try:
            self._with_db(
                "register",
                lambda db: db.register_worker(self.worker_id, worker_type, self.host),
                give_up_when_stopping=True,
            )
        except DatabaseUnavailable:
            return
        if not self._open_stores():
            if self._db is not None:
                self._db.close()
            return
        assert self._segments is not None and self._objects is not None
        maintenance = None
        if worker_type == AUX_WORK_TYPE and self.settings.maintenance is not None:
            maintenance = Maintenance(self._db_proxy(), self._segments, self.settings.maintenance)
        beater = _Heartbeater(self)
        beater.start()
        self._warm_up()
        log.info("agent %s serving %r", self.worker_id, worker_type)
        try:
            while not self.stopping:
                if maintenance is not None:
                    maintenance.tick()
                task = self._claim(maintenance)
                if task is None:
                    continue
                beater.current = (task.job_id, task.task_id)
                try:
                    self._execute(task)
                finally:
                    beater.current = None
        finally:
            beater.stop()
            beater.join(timeout=5)
            self._segments.close()
            self._objects.close()
            self._deregister()
            if self._db is not None:
                self._db.close()
            log.info("agent %s stopped", self.worker_id)

    def _deregister(self) -> None:
        """Remove this agent from the registry so ``cluster status`` stops listing it."""
        if self._db is None:
            return
        try:
            self._db.deregister_worker(self.worker_id)
        except Exception as exc:  # shutting down: the record ages out of "alive" anyway
            log.warning("agent %s: could not deregister: %s", self.worker_id, exc)

    def _warm_up(self) -> None:
        worker_type = self.settings.worker_type
        if not self.settings.warm_up or worker_type not in (EXEC_WORK_TYPE, PROVE_WORK_TYPE):
            return
        from proofmarket.cluster.tasks.warmup import warm_up

        try:
            self._interruptible = True  # nothing is claimed yet: a stop may cut warm-up short
            if self.stopping:
                return
            secs = warm_up(prove=worker_type == PROVE_WORK_TYPE, dev_mode=self.config.dev_mode)
            log.info("agent %s warmed up in %.1fs", self.worker_id, secs)
        except _Interrupted:
            log.info("agent %s: warm-up interrupted by stop", self.worker_id)
        except Exception as exc:  # warm-up is an optimisation; never fatal
            log.warning("agent %s warm-up skipped: %s", self.worker_id, exc)
        finally:
            self._interruptible = False

    def _open_stores(self) -> bool:
        """Open both stores, waiting out an unreachable Redis/S3; False if stopped first."""
        delay = self.settings.backoff_initial
        policy = self.settings.storage_retry
        while not self.stopping:
            try:
                self._segments = RetryingSegmentStore(
                    self.config.open_segment_store(), policy, lambda: self.stopping
                )
                self._objects = RetryingObjectStore(
                    self.config.open_object_store(), policy, lambda: self.stopping
                )
                return True
            except StorageError as exc:
                log.warning("cannot open the stores (%s); retrying in %.1fs", exc, delay)
                self._sleep(delay)
                delay = min(delay * 2, self.settings.backoff_max)
        return False

    def _db_proxy(self) -> TaskDB:
        assert self._db is not None
        return self._db

    def _claim(self, maintenance: Maintenance | None = None) -> ReadyTask | None:
        try:
            if self._db is None:
                self._db = self.db_factory(self.config.database_url)
            wait = min(self.settings.poll_time, STOP_CHECK_SECS)
            task = self._db.request_work(self.settings.worker_type, wait)
            self._claim_backoff = self.settings.backoff_initial
        except DatabaseUnavailable as exc:
            log.warning("request_work: database unavailable (%s)", exc)
            if maintenance is not None:
                maintenance.note_database_unavailable()
            self._pause_after_claim_error()
            return None
        except Exception as exc:  # a daemon never dies on one bad call
            log.error("request_work failed: %s", exc)
            self._pause_after_claim_error()
            return None
        if task is not None:
            self._acknowledge(task)
        return task

    def _pause_after_claim_error(self) -> None:
        self._sleep(self._claim_backoff)
        self._claim_backoff = min(self._claim_backoff * 2, self.settings.backoff_max)

    def _acknowledge(self, task: ReadyTask) -> None:
        """First heartbeat right after the claim: tells maintenance the reply arrived.
        If it fails the heartbeat thread keeps trying; at worst the task is handed out
        again, and every task is idempotent."""
        try:
            assert self._db is not None
            self._db.heartbeat(task.job_id, task.task_id)
        except TaskDBError as exc:
            log.warning("could not acknowledge %s/%s: %s", task.job_id, task.task_id, exc)

    # -- one task --------------------------------------------------------------------------
    def _execute(self, task: ReadyTask) -> None:
        assert self._db is not None and self._segments is not None and self._objects is not None
        ctx = TaskContext(task, self.config, self._db, self._segments, self._objects)
        started = time.monotonic()
        try:
            output = self.handler(ctx)
        except Exception as exc:
            if not isinstance(exc, PermanentTaskError):
                log.exception("task %s/%s raised", task.job_id, task.task_id)
            self._report_error(task, exc)
            self.tasks_failed += 1
            return
        log.info("task %s/%s done in %.2fs", task.job_id, task.task_id, time.monotonic() - started)
        try:
            recorded = self._with_db(
                "update_task_done",
                lambda db: db.update_task_done(task.job_id, task.task_id, output),
                give_up_when_stopping=True,
            )
            self.tasks_done += 1
            # Not recorded also means "already done": a report repeated after its reply was
            # lost, or a requeued task that another agent finished first. Only a job that
            # really stopped has garbage data; a running one still needs it.
            if self._job_stopped(task.job_id):  # it ended while this task ran
                log.warning(
                    "job %s stopped while task %s ran: its data is dropped",
                    task.job_id,
                    task.task_id,
                )
                self._drop_job_data(task.job_id)
            elif not recorded:
                log.info("task %s/%s was already reported done", task.job_id, task.task_id)
        except DatabaseUnavailable:
            log.error("could not report %s/%s done; it will be requeued", task.job_id, task.task_id)

    def _report_error(self, task: ReadyTask, exc: Exception) -> None:
        message = _truncate(str(exc) or type(exc).__name__)

        def fail(db: TaskDB, reason: str) -> bool:
            recorded = db.update_task_failed(task.job_id, task.task_id, reason)
            state = "failed" if recorded else "had already stopped"
            log.warning("job %s %s: task %s: %s", task.job_id, state, task.task_id, reason)
            return recorded

        def report(db: TaskDB) -> bool:
            """True when the job failed with this task."""
            if isinstance(exc, PermanentTaskError) or task.max_retries <= 0:
                return fail(db, message)
            retries = next(
                (t.retries for t in db.get_job_tasks(task.job_id) if t.task_id == task.task_id), 0
            )
            if retries + 1 > task.max_retries:
                return fail(db, _truncate(f"retry max hit: {message}"))
            db.update_task_retry(task.job_id, task.task_id)
            log.info("task %s/%s will be retried: %s", task.job_id, task.task_id, message)
            return False

        try:
            job_failed = self._with_db("report error", report, give_up_when_stopping=True)
        except DatabaseUnavailable:
            log.error("could not report failure of %s/%s", task.job_id, task.task_id)
            return
        except TaskDBError as err:
            log.error("reporting failure of %s/%s: %s", task.job_id, task.task_id, err)
            return
        if job_failed or isinstance(exc, JobNotRunning):  # failed, or aborted meanwhile
            self._drop_job_data(task.job_id)

    def _job_stopped(self, job_id: str) -> bool:
        """Whether the job already failed or was cancelled (its data is garbage)."""
        try:
            status = self._with_db(
                "get_job_state", lambda db: db.get_job_state(job_id), give_up_when_stopping=True
            )
        except TaskDBError:
            return False
        return status is not None and status.state in (JobState.FAILED, JobState.CANCELLED)

    def _drop_job_data(self, job_id: str) -> None:
        """A failed or aborted job's segments are never read again: free them now
        instead of leaving them to the TTL."""
        assert self._segments is not None
        try:
            removed = self._segments.delete_job(job_id)
            log.info("job %s stopped: removed %d segment store key(s)", job_id, removed)
        except StorageError as err:
            log.warning("could not remove the segment data of stopped job %s: %s", job_id, err)
