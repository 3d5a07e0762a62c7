"""Job progress as Bonsai reports it: state text, elapsed time, cycle statistics.

Shared by the REST API (``/sessions/status``) and ``cluster job-status``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from proofmarket.cluster.planner import FINALIZE_TASK_ID, INIT_TASK_ID, RESOLVE_TASK_ID
from proofmarket.cluster.taskdb import JobState, TaskRow, TaskState
from proofmarket.cluster.tasks.defs import TASK_TYPE_NAMES, InvalidTaskDef, task_tag


@dataclass(frozen=True)
class ExecStats:
    segments: int
    total_cycles: int
    user_cycles: int


def exec_stats(tasks: Sequence[TaskRow]) -> ExecStats | None:
    """Cycle counts from the ``init`` task's output (``ExecutorResp``), once execution ended."""
    for task in tasks:
        if task.task_id == INIT_TASK_ID and task.output:
            out: dict[str, Any] = task.output
            try:
                return ExecStats(
                    segments=int(out["segments"]),
                    total_cycles=int(out["total_cycles"]),
                    user_cycles=int(out["user_cycles"]),
                )
            except (KeyError, TypeError, ValueError):
                return None
    return None


def _count(tasks: Sequence[TaskRow], tag: str) -> tuple[int, int]:
    selected = [t for t in tasks if _tag(t) == tag]
    return sum(t.state == TaskState.DONE for t in selected), len(selected)


def _tag(task: TaskRow) -> str:
    try:
        return task_tag(task.task_def)
    except InvalidTaskDef:
        return "?"


def progress_state(tasks: Sequence[TaskRow], job_state: JobState) -> str:
    """Bonsai progress text: Setup, Executor, ProveSegments: N/M, RecursionJoin: N/M, ..."""
    if job_state != JobState.RUNNING:
        return ""
    by_id = {t.task_id: t for t in tasks}
    init = by_id.get(INIT_TASK_ID)
    if init is None or init.state in (TaskState.PENDING, TaskState.READY):
        return "Setup"
    proves_done, proves = _count(tasks, "Prove")
    if init.state == TaskState.RUNNING and proves == 0:
        return "Executor"
    if proves_done < proves or init.state == TaskState.RUNNING:
        return f"ProveSegments: {proves_done}/{proves}"
    joins_done, joins = _count(tasks, "Join")
    if joins_done < joins:
        return f"RecursionJoin: {joins_done}/{joins}"
    resolve = by_id.get(RESOLVE_TASK_ID)
    if resolve is not None and resolve.state != TaskState.DONE:
        return "Resolve"
    if FINALIZE_TASK_ID in by_id:
        return "Finalize"
    return "InProgress"


def elapsed_seconds(tasks: Sequence[TaskRow], job_state: JobState) -> float | None:
    """Seconds since the job was created; frozen at its last update once it ended."""
    if not tasks:
        return None
    start = min(t.created_at for t in tasks)
    if job_state == JobState.RUNNING:
        return max(0.0, time.time() - start)
    end = max((t.updated_at or t.started_at or t.created_at) for t in tasks)
    return max(0.0, end - start)


@dataclass(frozen=True)
class TaskTypeTimes:
    task_type: str
    count: int
    avg_secs: float | None
    min_secs: float | None
    max_secs: float | None


@dataclass(frozen=True)
class JobReport:
    """``scripts/job_status.sh``: per task type wall times and the job's throughput."""

    job_id: str
    state: str
    error: str | None
    stats: ExecStats | None
    elapsed_secs: float | None
    khz: float | None
    task_types: list[TaskTypeTimes]


def job_report(job_id: str, state: str, error: str | None, tasks: Sequence[TaskRow]) -> JobReport:
    """kHz = total_cycles / (max(updated_at) - min(started_at)) / 1000, as Bento computes it."""
    stats = exec_stats(tasks)
    started = [t.started_at for t in tasks if t.started_at is not None]
    updated = [t.updated_at for t in tasks if t.updated_at is not None]
    elapsed = (max(updated) - min(started)) if started and updated else None
    khz = None
    if stats is not None and elapsed is not None and elapsed > 0:
        khz = stats.total_cycles / elapsed / 1000.0
    order = list(TASK_TYPE_NAMES)
    groups: dict[str, list[float | None]] = {}
    for task in tasks:
        tag = _tag(task)
        wall = None
        if task.state == TaskState.DONE and task.started_at is not None and task.updated_at:
            wall = max(0.0, task.updated_at - task.started_at)
        groups.setdefault(tag, []).append(wall)
    rows = []
    for tag in sorted(groups, key=lambda t: order.index(t) if t in order else len(order)):
        walls = [w for w in groups[tag] if w is not None]
        rows.append(
            TaskTypeTimes(
                task_type=TASK_TYPE_NAMES.get(tag, tag),
                count=len(groups[tag]),
                avg_secs=sum(walls) / len(walls) if walls else None,
                min_secs=min(walls) if walls else None,
                max_secs=max(walls) if walls else None,
            )
        )
    return JobReport(job_id, state, error, stats, elapsed, khz, rows)
