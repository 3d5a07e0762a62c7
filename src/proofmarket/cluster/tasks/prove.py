"""``Prove`` task: prove one segment and lift it to a succinct (span) receipt.

Calls ``prove_segment(segment, dev_mode=config.dev_mode, profile=config.stark_profile)``:
a STARK seal over the segment machine by default, a DEV MODE seal only when the cluster
runs in dev mode. A segment the circuit cannot prove (``ProverUnavailable``) fails the
job at once with the reason: a retry would fail the same way.
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
        receipt = prove_segment(
            segment, dev_mode=ctx.config.dev_mode, profile=ctx.config.stark_profile
        )
    except ProverUnavailable as exc:
        raise PermanentTaskError(str(exc)) from exc
    succinct = lift(receipt)
    ctx.segments.put(keys.recursion_receipt_key(ctx.job_id, ctx.task_id), succinct.to_bytes())
    return None
