"""Aggregator: gathers proven orders into batches with one Merkle root each.

A batch is open (``Aggregating``) until one trigger fires: it holds ``min_batch_size``
proofs, its journals reach ``batch_max_journal_bytes``, it is ``batch_max_time`` seconds
old, its lock prices reach ``batch_max_fees``, its earliest expiry is within
``block_deadline_buffer_secs``, or it is full (the contract's 32 fills). Then the root of
its claim digests is computed and the batch becomes ``Complete`` for the submitter.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from proofmarket.broker.config import BatcherConfig
from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import BatchStatus, OrderStatus
from proofmarket.contracts.seals import merkle_root
from proofmarket.market.units import parse_units
from proofmarket.market.validation import MAX_BATCH_FILLS

log = logging.getLogger(__name__)


def finalize_reason(batch: dict[str, Any], cfg: BatcherConfig, now: int, wall: float) -> str | None:
    """Why the batch should close now, or None (Boundless ``check_finalize``)."""
    count = len(batch["orders"])
    if count == 0:
        return None
    if count >= MAX_BATCH_FILLS:
        return "full"
    if count >= cfg.min_batch_size:
        return f"min_batch_size ({cfg.min_batch_size})"
    if batch["journal_bytes"] >= cfg.batch_max_journal_bytes:
        return "batch_max_journal_bytes"
    if cfg.batch_max_time is not None and wall - batch["start_time"] >= cfg.batch_max_time:
        return "batch_max_time"
    if cfg.batch_max_fees is not None and int(batch["fees"], 16) >= parse_units(cfg.batch_max_fees):
        return "batch_max_fees"
    deadline = batch.get("deadline")
    if deadline is not None and deadline - now <= cfg.block_deadline_buffer_secs:
        return "block_deadline_buffer_secs"
    return None


class Aggregator:
    def __init__(self, ctx: BrokerContext) -> None:
        self.ctx = ctx

    async def run(self) -> None:
        while True:
            self.step()
            await asyncio.sleep(self.ctx.config.batcher.batch_poll_time_ms / 1000)

    def step(self) -> None:
        ctx = self.ctx
        db = ctx.db
        now = ctx.now()
        ready = []
        for order in db.orders_with_status(OrderStatus.READY_FOR_BATCH):
            if now > order.expire_timestamp:
                ctx.set_status(order, OrderStatus.FAILED, error_msg="expired before aggregation")
            else:
                ready.append(order)
        batch_id = (
            db.current_batch() if ready or db.batches_with_status(BatchStatus.AGGREGATING) else None
        )
        if batch_id is None:
            return
        batch = db.get_batch(batch_id)
        assert batch is not None
        room = MAX_BATCH_FILLS - len(batch["orders"])
        if ready and room > 0:
            db.add_to_batch(batch_id, ready[:room])
            batch = db.get_batch(batch_id)
            assert batch is not None
        reason = finalize_reason(batch, ctx.config.batcher, now, time.time())
        if reason is None:
            return
        digests = []
        for oid in batch["orders"]:
            member = db.get_order(oid)
            if member is None or member.claim_digest is None:
                raise RuntimeError(f"batch {batch_id}: order {oid} has no proven claim")
            digests.append(member.claim_digest)
        root = merkle_root([bytes.fromhex(d) for d in digests])
        db.update_batch(
            batch_id,
            BatchStatus.COMPLETE,
            order_status=OrderStatus.PENDING_SUBMISSION,
            claim_digests=digests,
            root=root.hex(),
        )
        log.info(
            "batch %d closed (%s): %d orders, root %s", batch_id, reason, len(digests), root.hex()
        )
