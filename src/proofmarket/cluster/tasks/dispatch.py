"""Route a claimed task to its handler by the tag of its definition."""

from __future__ import annotations

from typing import Any

from proofmarket.cluster.tasks.context import PermanentTaskError, TaskContext
from proofmarket.cluster.tasks.defs import (
    ExecutorReq,
    FinalizeReq,
    InvalidTaskDef,
    JoinReq,
    ProveReq,
    ResolveReq,
    decode_task_def,
)
from proofmarket.cluster.tasks.executor import run_executor
from proofmarket.cluster.tasks.finalize import run_finalize
from proofmarket.cluster.tasks.join import run_join, run_resolve
from proofmarket.cluster.tasks.prove import run_prove


def run_task(ctx: TaskContext) -> dict[str, Any] | None:
    try:
        req = decode_task_def(ctx.task.task_def)
    except InvalidTaskDef as exc:
        raise PermanentTaskError(str(exc)) from exc
    if isinstance(req, ExecutorReq):
        return run_executor(ctx, req)
    if isinstance(req, ProveReq):
        return run_prove(ctx, req)
    if isinstance(req, JoinReq):
        return run_join(ctx, req)
    if isinstance(req, ResolveReq):
        return run_resolve(ctx, req)
    if isinstance(req, FinalizeReq):
        return run_finalize(ctx, req)
    raise PermanentTaskError(f"no handler for task {ctx.task.task_def!r}")
