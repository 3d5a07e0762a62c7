"""``Finalize`` task: root span receipt + journal → the session ``Receipt``, verified
against the job's image id, written to ``receipts/stark/{job_id}.bin``; then the job's
intermediate data is dropped from the segment store. Verification is production's, except
that a dev-mode cluster accepts its DEV MODE receipts and a cluster configured with the
insecure test profile accepts that profile's seals."""

from __future__ import annotations

from typing import Any

from proofmarket.cluster.storage import keys
from proofmarket.cluster.tasks.context import PermanentTaskError, TaskContext
from proofmarket.cluster.tasks.defs import FinalizeReq


def run_finalize(ctx: TaskContext, req: FinalizeReq) -> dict[str, Any] | None:
    from proofmarket.cluster.zkvm_api import (
        SuccinctReceipt,
        VerificationError,
        finalize,
        stark_profiles,
        verify,
    )

    job_id = ctx.job_id
    root = SuccinctReceipt.from_bytes(
        ctx.read_segment_store(keys.recursion_receipt_key(job_id, str(req.max_idx)), "root receipt")
    )
    journal = ctx.read_segment_store(keys.journal_key(job_id), "journal")
    image_hex = ctx.read_segment_store(keys.image_id_key(job_id), "image id").decode()
    try:
        receipt = finalize(root, journal)
        verify(
            receipt,
            bytes.fromhex(image_hex),
            allow_dev_mode=ctx.config.dev_mode,
            allow_insecure_params=ctx.config.insecure_profile,
        )
    except VerificationError as exc:
        raise PermanentTaskError(f"final receipt does not verify: {exc}") from exc
    ctx.objects.put(keys.stark_receipt_key(job_id), receipt.to_bytes())
    ctx.segments.delete_job(job_id)
    return {
        "dev_mode": receipt.is_dev_mode,
        "receipt_mode": receipt.mode,
        "stark_profiles": [] if receipt.is_dev_mode else sorted(stark_profiles(receipt)),
        "receipt_bytes": len(receipt.to_bytes()),
    }
