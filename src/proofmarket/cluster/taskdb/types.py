"""Value types exchanged with the TaskDB (states, claimed tasks, rows, statistics)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar


class JobState(StrEnum):
    """Life cycle of a job: ``running`` until every task is done, one fails, or it is cancelled."""

    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


class TaskState(StrEnum):
    """Life cycle of a task.

    ``pending`` waits on prerequisites, ``ready`` can be claimed, ``running`` is claimed by an
    agent; ``done``/``failed`` are final; ``cancelled`` marks tasks of a cancelled or failed
    job that will never be handed out.
    """

    PENDING = "pending"
    READY = "ready"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ReadyTask:
    """A task handed to an agent by ``request_work`` (it is now ``running``)."""

    job_id: str
    task_id: str
    task_def: dict[str, Any]
    prerequisites: list[str]
    max_retries: int
    worker_type: str


@dataclass(frozen=True)
class JobStatus:
    """State of a job; ``error`` carries the failing task's message for failed jobs."""

    job_id: str
    state: JobState
    error: str | None
    user_id: str

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> JobStatus:
        """From a ``SELECT id, state, error, user_id FROM jobs`` row of either backend."""
        return cls(str(row[0]), JobState(row[1]), row[2], row[3])


@dataclass(frozen=True)
class TaskRow:
    """A full task row; times are unix seconds."""

    job_id: str
    task_id: str
    stream_id: str
    worker_type: str
    task_def: dict[str, Any]
    prerequisites: list[str]
    state: TaskState
    created_at: float
    started_at: float | None
    updated_at: float | None
    progress: float
    retries: int
    max_retries: int
    timeout_secs: int
    output: dict[str, Any] | None
    error: str | None


@dataclass(frozen=True)
class StateCounts:
    """Jobs per state and tasks per ``(worker_type, state)`` (for metrics)."""

    jobs: dict[str, int]
    tasks: dict[tuple[str, str], int]

    # Both backends run these two queries (standard SQL) and pass the rows to from_rows.
    JOBS_SQL: ClassVar[str] = "SELECT state, count(*) FROM jobs GROUP BY state"
    TASKS_SQL: ClassVar[str] = (
        "SELECT worker_type, state, count(*) FROM tasks GROUP BY worker_type, state"
    )

    @classmethod
    def from_rows(
        cls, job_rows: Sequence[Sequence[Any]], task_rows: Sequence[Sequence[Any]]
    ) -> StateCounts:
        """From ``(state, count)`` and ``(worker_type, state, count)`` rows."""
        return cls(
            {str(r[0]): int(r[1]) for r in job_rows},
            {(str(r[0]), str(r[1])): int(r[2]) for r in task_rows},
        )


def stream_priority(running: int, reserved: int, be_mult: float) -> float:
    """Scheduling priority of a stream with ready work; lower is served first.

    A stream below its reserved (dedicated) worker count gets a negative value in
    ``[-1, 0)`` and beats every stream at or above its reservation; above it, streams
    compete by ``(running - reserved) / be_mult`` so a multiplier of 2 gets twice the
    share of a multiplier of 1. Both backends order streams by exactly this value.
    """
    if running < reserved:
        return (running - reserved) / reserved
    return (running - reserved) / be_mult


@dataclass(frozen=True)
class StreamStats:
    """A stream with its live counters (computed from the tasks, never drifting)."""

    stream_id: str
    user_id: str
    worker_type: str
    reserved: int
    be_mult: float
    ready: int
    running: int

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> StreamStats:
        """From a stream row with its counters (id, user, worker type, reserved, be_mult,
        ready, running), as both backends select it."""
        return cls(str(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])

    @property
    def priority(self) -> float:
        """Current scheduling priority (``inf`` when the stream has nothing ready)."""
        if self.ready == 0:
            return math.inf
        return stream_priority(self.running, self.reserved, self.be_mult)


@dataclass(frozen=True)
class WorkerInfo:
    """An agent in the worker registry (``list_workers`` returns these as dicts)."""

    id: str
    type: str
    host: str
    registered_at: float
    last_seen: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "host": self.host,
            "registered_at": self.registered_at,
            "last_seen": self.last_seen,
        }
