"""``Join`` task: merge two consecutive span receipts; ``Resolve``: settle assumptions.

Resolve is Bento's step that discharges assumption receipts from the root; this zkVM has
no composition yet (the executor refuses assumptions), so it checks the root and passes
it on unchanged under the same key.
"""

from __future__ import annotations

from typing import Any

from proofmarket.cluster.storage import keys
from proofmarket.cluster.tasks.context import PermanentTaskError, TaskContext
from proofmarket.cluster.tasks.defs import JoinReq, ResolveReq


def _load_span(ctx: TaskContext, task_number: int) -> Any:
    from proofmarket.cluster.zkvm_api import SuccinctReceipt

    data = ctx.read_segment_store(
        keys.recursion_receipt_key(ctx.job_id, str(task_number)), f"receipt of task {task_number}"
    )
    return SuccinctReceipt.from_bytes(data)


def run_join(ctx: TaskContext, req: JoinReq) -> dict[str, Any] | None:
    from proofmarket.cluster.zkvm_api import ProverUnavailable, VerificationError, join

    left = _load_span(ctx, req.left)
    right = _load_span(ctx, req.right)
    try:
        joined = join(left, right)
    except (VerificationError, ProverUnavailable) as exc:
        raise PermanentTaskError(f"join {req.left}+{req.right} failed: {exc}") from exc
    ctx.segments.put(keys.recursion_receipt_key(ctx.job_id, str(req.idx)), joined.to_bytes())
    return None


def run_resolve(ctx: TaskContext, req: ResolveReq) -> dict[str, Any] | None:
    from proofmarket.cluster.zkvm_api import VerificationError

    root = _load_span(ctx, req.max_idx)
    try:
        root.verify_integrity()
    except VerificationError as exc:
        raise PermanentTaskError(f"root receipt of task {req.max_idx} is invalid: {exc}") from exc
    return None
