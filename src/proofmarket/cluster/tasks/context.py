"""What a task handler gets: its claimed task, the stores, the TaskDB and the config."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from proofmarket.cluster.config import ClusterConfig
from proofmarket.cluster.storage import ObjectMissing, ObjectStore, SegmentStore
from proofmarket.cluster.taskdb import DatabaseUnavailable, ReadyTask, TaskDB

log = logging.getLogger(__name__)
T = TypeVar("T")
DB_RETRY_SECS = 60.0
DB_RETRY_MAX_DELAY = 1.0  # resume within ~1 s of the database coming back


class TaskError(Exception):
    """A task failed in a way a retry may fix (lost data, storage hiccup, crash)."""


class PermanentTaskError(TaskError):
    """A task failed for good (guest panic, bad image, cycle limit): no retry, the job
    fails with this message."""


class JobNotRunning(PermanentTaskError):
    """The job was cancelled or failed while the task ran; the work was dropped."""


@dataclass
class TaskContext:
    task: ReadyTask
    config: ClusterConfig
    taskdb: TaskDB
    segments: SegmentStore
    objects: ObjectStore

    @property
    def job_id(self) -> str:
        return self.task.job_id

    @property
    def task_id(self) -> str:
        return self.task.task_id

    def db(self, what: str, fn: Callable[[TaskDB], T], max_wait: float = DB_RETRY_SECS) -> T:
        """Call the TaskDB from inside a task, waiting out a short outage (a lock storm or
        a database restart) instead of failing the task; the calls used are idempotent."""
        delay = 0.2
        deadline = time.monotonic() + max_wait
        while True:
            try:
                return fn(self.taskdb)
            except DatabaseUnavailable as exc:
                if time.monotonic() > deadline:
                    raise TaskError(
                        f"{what}: database unavailable for {max_wait:.0f}s: {exc}"
                    ) from exc
                log.warning("%s: database unavailable (%s); retrying in %.1fs", what, exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, DB_RETRY_MAX_DELAY)

    def read_segment_store(self, key: str, what: str) -> bytes:
        """Read intermediate data; a missing key means an upstream task's output is gone
        (expired or never written), which a retry cannot fix."""
        try:
            return self.segments.get(key)
        except ObjectMissing:
            raise PermanentTaskError(
                f"{what} is missing from the segment store (key {key}); it expired or the "
                "task that writes it did not finish"
            ) from None
