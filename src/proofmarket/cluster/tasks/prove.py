"""``Prove`` task: prove one segment and lift it to a succinct (span) receipt.

Calls ``prove_segment(segment, dev_mode=config.dev_mode)``, so STARK receipts need no
cluster change once the prover exists.
"""

from __future__ import annotations

from typing import Any

from proofmarket.cluster.storage import keys
from proofmarket.cluster.tasks.context import PermanentTaskError, TaskContext
from proofmarket.cluster.tasks.defs import ProveReq


def run_prove(ctx: TaskContext, req: ProveReq) -> dict[str, Any] | None:
    from proofmarket.cluster.zkvm_api import (
        ProverUnavailable,
        Segment,
        SegmentError,
        lift,
        prove_segment,
    )

    data = ctx.read_segment_store(keys.segment_key(ctx.job_id, req.index), f"segment {req.index}")
    try:
        segment = Segment.from_bytes(data)
    except SegmentError as exc:
        raise PermanentTaskError(f"segment {req.index} is corrupt: {exc}") from exc
    try:
        receipt = prove_segment(segment, dev_mode=ctx.config.dev_mode)
    except ProverUnavailable as exc:
        raise PermanentTaskError(str(exc)) from exc
    succinct = lift(receipt)
    ctx.segments.put(keys.recursion_receipt_key(ctx.job_id, ctx.task_id), succinct.to_bytes())
    return None
