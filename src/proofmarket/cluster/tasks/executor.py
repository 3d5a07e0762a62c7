"""``init`` task: execute the guest, stream segments out and plan the proof as they come.

Each segment is written to the segment store and its Prove task (plus any joins the
planner can already make) is created at once, so prove agents start while execution
goes on. Exec-only jobs (preflight) store the journal and cycle counts and plan nothing.

A re-run (the first attempt's agent died, or its claim was lost) is idempotent: execution
is deterministic, task ids are deterministic and ``create_task`` ignores existing ones, and
segments whose Prove task already exists are not written again (that task may be done and
its segment deleted by ``finalize``), so a retried ``init`` leaves no stray keys behind.
"""

from __future__ import annotations

import logging
from typing import Any

from proofmarket.cluster.config import AUX_WORK_TYPE, MCYCLE, PROVE_WORK_TYPE
from proofmarket.cluster.planner import FINALIZE_TASK_ID, PlannedTask, Planner, TaskKind
from proofmarket.cluster.storage import ObjectMissing, keys
from proofmarket.cluster.taskdb import JobState
from proofmarket.cluster.tasks.context import JobNotRunning, PermanentTaskError, TaskContext
from proofmarket.cluster.tasks.defs import ExecutorReq

log = logging.getLogger(__name__)
JOB_STATE_CHECK_EVERY = 4  # segments between checks that the job is still wanted


def _load(ctx: TaskContext, key: str, what: str) -> bytes:
    try:
        return ctx.objects.get(key)
    except ObjectMissing:
        raise PermanentTaskError(f"{what} not found in the object store ({key})") from None


def _exec_error(exc: Exception) -> PermanentTaskError:
    from proofmarket.cluster.zkvm_api import ElfError, GuestFault, GuestPanic, SessionLimitExceeded

    if isinstance(exc, GuestPanic):
        return PermanentTaskError(f"Guest panicked: {exc.message}")
    if isinstance(exc, SessionLimitExceeded):
        return PermanentTaskError(f"Session limit exceeded: {exc.cycles} >= {exc.limit}")
    if isinstance(exc, GuestFault):
        return PermanentTaskError(f"Guest fault: {exc}")
    if isinstance(exc, ElfError):
        return PermanentTaskError(f"Invalid image: {exc}")
    return PermanentTaskError(f"Execution failed: {exc}")


class _TaskCreator:
    """Creates planned tasks on the right stream with the configured retries/timeouts."""

    def __init__(self, ctx: TaskContext, user_id: str) -> None:
        self.ctx = ctx
        limits = ctx.config.limits

        def stream(worker_type: str) -> str:
            return ctx.db(
                "get_or_create_stream", lambda db: db.get_or_create_stream(user_id, worker_type)
            )

        prove = stream(PROVE_WORK_TYPE)
        join = stream(ctx.config.join_worker_type)
        aux = stream(AUX_WORK_TYPE)
        self.routes: dict[TaskKind, tuple[str, int, int]] = {
            TaskKind.PROVE: (prove, limits.prove_retries, limits.prove_timeout),
            TaskKind.JOIN: (join, limits.join_retries, limits.join_timeout),
            TaskKind.RESOLVE: (join, limits.resolve_retries, limits.resolve_timeout),
            TaskKind.FINALIZE: (aux, limits.finalize_retries, limits.finalize_timeout),
        }

    def create(self, planned: PlannedTask) -> None:
        stream, retries, timeout = self.routes[planned.kind]
        self.ctx.db(
            f"create task {planned.task_id}",
            lambda db: db.create_task(
                self.ctx.job_id,
                planned.task_id,
                stream,
                planned.task_def,
                planned.prerequisites,
                retries,
                timeout,
            ),
        )


def _exec_log(session: Any | None, error: str | None) -> bytes:
    lines = []
    if session is not None:
        lines.append(
            f"exit_code={session.exit_code} segments={session.segment_count} "
            f"total_cycles={session.total_cycles} user_cycles={session.user_cycles}"
        )
        if session.stdout:
            lines.append("--- stdout ---\n" + session.stdout.decode("utf-8", "replace"))
        if session.stderr:
            lines.append("--- stderr ---\n" + session.stderr.decode("utf-8", "replace"))
    if error:
        lines.append(f"error: {error}")
    return ("\n".join(lines) + "\n").encode()


def _existing_tasks(ctx: TaskContext) -> set[str]:
    """Tasks an earlier attempt of this ``init`` already created (just ``init`` at first)."""
    rows = ctx.db("get_job_tasks", lambda db: db.get_job_tasks(ctx.job_id))
    return {row.task_id for row in rows}


def run_executor(ctx: TaskContext, req: ExecutorReq) -> dict[str, Any]:
    from proofmarket.cluster.zkvm_api import ZkvmError, execute

    if req.assumptions:
        raise PermanentTaskError(
            f"assumptions are not supported yet ({len(req.assumptions)} given): the zkVM has "
            "no composition (resolve) step"
        )
    elf = _load(ctx, keys.elf_key(req.image), f"image {req.image}")
    guest_input = _load(ctx, keys.input_key(req.input), f"input {req.input}")
    limit_mcycles = req.exec_limit or ctx.config.exec_cycle_limit_mcycles
    cycle_limit = limit_mcycles * MCYCLE
    job_id = ctx.job_id
    planner = Planner()
    creator = None if req.execute_only else _TaskCreator(ctx, req.user_id)
    planned_before = _existing_tasks(ctx)

    def on_segment(segment: Any) -> None:
        assert creator is not None
        planned = planner.enqueue_segment(segment.index)
        # the segment's own Prove task comes first; if it exists, so does the segment
        if not planned or planned[0].task_id not in planned_before:
            ctx.segments.put(keys.segment_key(job_id, segment.index), segment.to_bytes())
        for task in planned:
            creator.create(task)
        if (segment.index + 1) % JOB_STATE_CHECK_EVERY == 0:
            state = ctx.db("get_job_state", lambda db: db.get_job_state(job_id))
            if state is not None and state.state != JobState.RUNNING:
                raise JobNotRunning(f"job {job_id} is {state.state}; execution stopped")

    try:
        session = execute(
            elf,
            guest_input,
            segment_po2=ctx.config.segment_po2,
            cycle_limit=cycle_limit,
            on_segment=None if req.execute_only else on_segment,
            keep_segments=False,
        )
    except ZkvmError as exc:
        error = _exec_error(exc)
        ctx.objects.put(keys.exec_log_key(job_id), _exec_log(None, str(error)))
        raise error from exc
    ctx.objects.put(keys.exec_log_key(job_id), _exec_log(session, None))
    if req.execute_only:
        ctx.objects.put(keys.preflight_journal_key(job_id), session.journal)
    else:
        assert creator is not None
        if FINALIZE_TASK_ID not in planned_before:
            ctx.segments.put(keys.journal_key(job_id), session.journal)
            ctx.segments.put(keys.image_id_key(job_id), req.image.encode())
        for planned in planner.finish():
            creator.create(planned)
    log.info(
        "job %s executed: %d segments, %d cycles",
        job_id,
        session.segment_count,
        session.total_cycles,
    )
    return {
        "segments": session.segment_count,
        "user_cycles": session.user_cycles,
        "total_cycles": session.total_cycles,
        "assumption_count": len(req.assumptions),
        "exit_code": [int(session.exit_code.system), session.exit_code.user],
        "journal_bytes": len(session.journal),
    }
