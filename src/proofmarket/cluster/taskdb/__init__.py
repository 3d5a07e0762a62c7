"""The proving cluster's task database: jobs, task graphs, streams, scheduling, workers.

Two backends behind one :class:`TaskDB` protocol: SQLite (embedded, one machine) and
PostgreSQL (``FOR UPDATE SKIP LOCKED`` claims, LISTEN/NOTIFY long polling). Open one with
:func:`open_taskdb`; migrations are applied automatically.
"""

from proofmarket.cluster.taskdb.errors import (
    DatabaseUnavailable,
    InvalidArgument,
    InvalidTaskDBURL,
    SchemaTooNew,
    TaskDBError,
    UnknownJob,
    UnknownStream,
    UnknownTask,
    UnknownWorker,
)
from proofmarket.cluster.taskdb.factory import open_taskdb
from proofmarket.cluster.taskdb.interface import TaskDB
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

__all__ = [
    "DatabaseUnavailable",
    "InvalidArgument",
    "InvalidTaskDBURL",
    "JobState",
    "JobStatus",
    "ReadyTask",
    "SchemaTooNew",
    "StateCounts",
    "StreamStats",
    "TaskDB",
    "TaskDBError",
    "TaskRow",
    "TaskState",
    "UnknownJob",
    "UnknownStream",
    "UnknownTask",
    "UnknownWorker",
    "WorkerInfo",
    "open_taskdb",
    "stream_priority",
]
