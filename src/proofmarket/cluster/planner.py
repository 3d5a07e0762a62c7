"""Work plan of a proving job: Bento's binary-counter (MMR) planner.

Each segment becomes a ``Prove`` task numbered in creation order. Finished receipts are
kept as *peaks* with a height; whenever the two newest peaks have the same height they are
joined (``Join{idx, left, right}``), so joins start while later segments are still being
executed. ``finish()`` joins the remaining peaks right to left, then adds ``resolve`` and
``finalize``. Task ids are decimal strings, so re-planning a job yields the same ids and
``create_task`` stays idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from proofmarket.cluster.tasks.defs import (
    FinalizeReq,
    JoinReq,
    ProveReq,
    ResolveReq,
    encode_task_def,
)

RESOLVE_TASK_ID = "resolve"
FINALIZE_TASK_ID = "finalize"
INIT_TASK_ID = "init"


class TaskKind(StrEnum):
    PROVE = "prove"
    JOIN = "join"
    RESOLVE = "resolve"
    FINALIZE = "finalize"


class PlannerError(RuntimeError):
    """The planner was driven out of order (segment after finish, finish with none)."""


@dataclass(frozen=True)
class PlannedTask:
    task_id: str
    kind: TaskKind
    task_def: dict[str, Any]
    prerequisites: list[str]


@dataclass
class _Peak:
    task_number: int
    height: int


class Planner:
    """Turns a stream of segments into Prove/Join tasks, then resolve and finalize."""

    def __init__(self) -> None:
        self._next_task = 0
        self._segments = 0
        self._peaks: list[_Peak] = []
        self._finished = False

    @property
    def segment_count(self) -> int:
        return self._segments

    def _take_number(self) -> int:
        number = self._next_task
        self._next_task += 1
        return number

    def _join(self, left: _Peak, right: _Peak) -> PlannedTask:
        idx = self._take_number()
        self._peaks.append(_Peak(idx, max(left.height, right.height) + 1))
        return PlannedTask(
            task_id=str(idx),
            kind=TaskKind.JOIN,
            task_def=encode_task_def(
                JoinReq(idx=idx, left=left.task_number, right=right.task_number)
            ),
            prerequisites=[str(left.task_number), str(right.task_number)],
        )

    def enqueue_segment(self, segment_index: int) -> list[PlannedTask]:
        """Plan the proof of the next segment; returns its Prove task and any joins."""
        if self._finished:
            raise PlannerError("segment enqueued after finish()")
        if segment_index != self._segments:
            raise PlannerError(
                f"segments must arrive in order: expected {self._segments}, got {segment_index}"
            )
        self._segments += 1
        number = self._take_number()
        planned = [
            PlannedTask(
                task_id=str(number),
                kind=TaskKind.PROVE,
                task_def=encode_task_def(ProveReq(index=segment_index)),
                prerequisites=[],
            )
        ]
        self._peaks.append(_Peak(number, 0))
        while len(self._peaks) >= 2 and self._peaks[-1].height == self._peaks[-2].height:
            right = self._peaks.pop()
            left = self._peaks.pop()
            planned.append(self._join(left, right))
        return planned

    def finish(self) -> list[PlannedTask]:
        """Join the remaining peaks (right to left), then add resolve and finalize."""
        if self._finished:
            raise PlannerError("finish() called twice")
        if not self._peaks:
            raise PlannerError("cannot finish a plan without segments")
        self._finished = True
        planned: list[PlannedTask] = []
        while len(self._peaks) >= 2:
            right = self._peaks.pop()
            left = self._peaks.pop()
            planned.append(self._join(left, right))
        root = self._peaks[0].task_number
        planned.append(
            PlannedTask(
                task_id=RESOLVE_TASK_ID,
                kind=TaskKind.RESOLVE,
                task_def=encode_task_def(ResolveReq(max_idx=root)),
                prerequisites=[str(root)],
            )
        )
        planned.append(
            PlannedTask(
                task_id=FINALIZE_TASK_ID,
                kind=TaskKind.FINALIZE,
                task_def=encode_task_def(FinalizeReq(max_idx=root)),
                prerequisites=[RESOLVE_TASK_ID],
            )
        )
        return planned

    @property
    def root_task(self) -> int | None:
        """Task number of the final receipt, once ``finish()`` has run."""
        return self._peaks[0].task_number if self._finished else None
