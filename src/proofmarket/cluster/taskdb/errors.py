"""Errors raised by the TaskDB. Every error derives from :class:`TaskDBError`."""

from __future__ import annotations


class TaskDBError(Exception):
    """Base class of every TaskDB error."""


class DatabaseUnavailable(TaskDBError):
    """The database could not be reached or the connection was lost.

    The operation did not take effect (or its outcome is unknown for a claim); callers
    retry after a short pause. The next call reconnects.
    """


class InvalidArgument(TaskDBError, ValueError):
    """A caller passed a value the TaskDB refuses (bad id, negative retries, non-JSON data)."""


class InvalidTaskDBURL(InvalidArgument):
    """The URL given to :func:`open_taskdb` names no supported backend."""


class UnknownJob(TaskDBError, LookupError):
    """No job with that id exists (or it belongs to another user)."""

    def __init__(self, job_id: str, detail: str = "") -> None:
        self.job_id = job_id
        super().__init__(f"unknown job {job_id!r}" + (f": {detail}" if detail else ""))


class UnknownStream(TaskDBError, LookupError):
    """No stream with that id exists."""

    def __init__(self, stream_id: str) -> None:
        self.stream_id = stream_id
        super().__init__(f"unknown stream {stream_id!r}")


class UnknownTask(TaskDBError, LookupError):
    """A task named as a prerequisite does not exist in the job (create it first)."""

    def __init__(self, job_id: str, task_id: str) -> None:
        self.job_id = job_id
        self.task_id = task_id
        super().__init__(f"unknown task {task_id!r} in job {job_id!r}")


class UnknownWorker(TaskDBError, LookupError):
    """A heartbeat came from a worker that never registered (register it again)."""

    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id
        super().__init__(f"unknown worker {worker_id!r}; call register_worker first")


class SchemaTooNew(TaskDBError):
    """The database carries migrations this version of proofmarket does not know."""
