"""What a task handler gets: its claimed task, the stores, the TaskDB and the config."""

from __future__ import annotations

from dataclasses import dataclass

from proofmarket.cluster.config import ClusterConfig
from proofmarket.cluster.storage import ObjectMissing, ObjectStore, SegmentStore
from proofmarket.cluster.taskdb import ReadyTask, TaskDB


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
