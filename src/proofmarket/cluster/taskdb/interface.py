"""The TaskDB protocol shared by the SQLite and PostgreSQL backends.

Semantics follow Bento's TaskDB: a job is a graph of tasks; a task is ``pending`` until
all its prerequisites are ``done``, then ``ready``; agents claim ready tasks of their
worker type with :meth:`TaskDB.request_work`, which picks the stream by priority (see
:func:`proofmarket.cluster.taskdb.types.stream_priority`) and, within the stream, the
oldest job first and then the oldest task.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from proofmarket.cluster.taskdb.types import (
    JobState,
    JobStatus,
    ReadyTask,
    StateCounts,
    StreamStats,
    TaskRow,
)


@runtime_checkable
class TaskDB(Protocol):
    """Jobs, tasks, streams and workers of the proving cluster.

    Every method may raise :class:`~proofmarket.cluster.taskdb.errors.DatabaseUnavailable`
    when the database cannot be reached; callers retry later. Methods that take ids of
    tasks return ``False``/``None`` for unknown ones unless documented otherwise.
    """

    # -- streams ---------------------------------------------------------------------
    def get_or_create_stream(
        self, user_id: str, worker_type: str, reserved: int = 0, be_mult: float = 1.0
    ) -> str:
        """Id of the user's stream for ``worker_type``, created with these parameters.

        An existing stream keeps its parameters; change them with :meth:`set_stream_params`.
        """
        ...

    def get_stream(self, user_id: str, worker_type: str) -> str | None:
        """Id of the user's stream for ``worker_type`` or ``None``."""
        ...

    def set_stream_params(self, stream_id: str, reserved: int, be_mult: float) -> None:
        """Change a stream's reserved worker count and best-effort multiplier."""
        ...

    def stream_stats(self) -> list[StreamStats]:
        """Every stream with its ready and running task counts."""
        ...

    def state_counts(self) -> StateCounts:
        """How many jobs are in each state and tasks in each (worker type, state)."""
        ...

    # -- jobs and tasks --------------------------------------------------------------
    def create_job(
        self,
        stream_id: str,
        task_def: dict[str, Any],
        max_retries: int,
        timeout_secs: int,
        user_id: str,
    ) -> str:
        """Create a running job with its ready ``init`` task on ``stream_id``; returns its id."""
        ...

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
        """Add a task; ``ready`` at once when every prerequisite is done, else ``pending``.

        Idempotent per ``(job_id, task_id)``: a second call leaves the first task as is.
        Prerequisites must already exist (:class:`UnknownTask`). A task added to a failed
        or cancelled job is stored as ``cancelled``.
        """
        ...

    def request_work(self, worker_type: str, wait_secs: float = 0.0) -> ReadyTask | None:
        """Claim one ready task of ``worker_type`` (it becomes ``running``).

        Waits up to ``wait_secs`` for work to appear (long polling); ``None`` if none came.
        """
        ...

    def update_task_done(
        self, job_id: str, task_id: str, output: dict[str, Any] | None = None
    ) -> bool:
        """Mark a ready or running task done; dependents whose prerequisites are all done
        become ready, and the job is done when all its tasks are. ``False`` if the task was
        not ready/running."""
        ...

    def update_task_failed(self, job_id: str, task_id: str, error: str) -> bool:
        """Fail a task and its job; the job's pending/ready tasks are cancelled."""
        ...

    def update_task_progress(self, job_id: str, task_id: str, progress: float) -> bool:
        """Record progress in ``[0, 1]`` of a running task (monotone; also a heartbeat)."""
        ...

    def update_task_retry(self, job_id: str, task_id: str) -> bool:
        """Put a running task back to ready; past ``max_retries`` it fails (and its job)
        and the call returns ``False``."""
        ...

    def heartbeat(self, job_id: str, task_id: str) -> bool:
        """A running task is still alive: restart its timeout clock."""
        ...

    def get_job_state(self, job_id: str, user_id: str | None = None) -> JobStatus | None:
        """State of a job (``None`` if unknown or, with ``user_id``, another user's)."""
        ...

    def list_jobs(
        self, state: JobState | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[JobStatus]:
        """Newest jobs first, optionally filtered by state and user."""
        ...

    def cancel_job(self, job_id: str, user_id: str | None = None) -> bool:
        """Cancel a running job: its pending/ready tasks are cancelled.

        ``False`` if the job had already finished; :class:`UnknownJob` if it does not exist
        (or belongs to another user). Running tasks may still report done.
        """
        ...

    def get_task_output(self, job_id: str, task_id: str) -> dict[str, Any] | None:
        """Output stored by ``update_task_done`` (``None`` if unknown or no output)."""
        ...

    def get_job_tasks(self, job_id: str) -> list[TaskRow]:
        """All tasks of a job in creation order; :class:`UnknownJob` if it does not exist."""
        ...

    # -- maintenance -----------------------------------------------------------------
    def requeue_timed_out_tasks(self, limit: int = 100) -> int:
        """Retry running tasks silent for longer than their ``timeout_secs``.

        Each is handled like :meth:`update_task_retry` (so it fails past ``max_retries``);
        returns how many timed-out tasks were handled.
        """
        ...

    def requeue_unacknowledged_claims(self, older_than_secs: float, limit: int = 100) -> int:
        """Put back to ready the running tasks claimed longer ago than ``older_than_secs``
        and never heartbeated since: the claim's reply was lost before the agent read it.

        No retry is charged (the task never ran). Agents heartbeat at once after a claim,
        so a live claim is acknowledged within one round trip. Returns how many.
        """
        ...

    def fix_stuck_pending_tasks(self) -> int:
        """Make pending tasks whose prerequisites are all done ready; returns the count."""
        ...

    def clear_completed_jobs(self, older_than_secs: float) -> int:
        """Delete finished (done/failed/cancelled) jobs that ended longer ago than this."""
        ...

    def delete_job(self, job_id: str) -> None:
        """Delete a job with its tasks (no-op for an unknown job)."""
        ...

    # -- worker registry -------------------------------------------------------------
    def register_worker(self, worker_id: str, worker_type: str, host: str) -> None:
        """Add or refresh an agent in the registry."""
        ...

    def worker_heartbeat(self, worker_id: str) -> None:
        """Refresh an agent's ``last_seen``; :class:`UnknownWorker` if not registered."""
        ...

    def list_workers(self) -> list[dict[str, Any]]:
        """Registered agents as dicts: ``id``, ``type``, ``host``, ``registered_at``,
        ``last_seen`` (unix seconds)."""
        ...

    def prune_workers(self, older_than_secs: float) -> int:
        """Forget agents not seen for longer than this; returns how many."""
        ...

    def deregister_worker(self, worker_id: str) -> bool:
        """Forget one agent (it is shutting down); False if it was not registered."""
        ...

    def close(self) -> None:
        """Release connections (and stop the notification listener)."""
        ...
