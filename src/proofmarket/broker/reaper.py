"""Reaper: fails committed orders past their expiry (plus a grace period).

An order the pipeline can no longer fulfil in time must stop holding capacity; its cluster
session is cancelled so the cluster's time goes to orders that still pay.
"""

from __future__ import annotations

import asyncio
import logging

from proofmarket.broker.context import BrokerContext
from proofmarket.broker.order import OrderStatus

log = logging.getLogger(__name__)


class Reaper:
    def __init__(self, ctx: BrokerContext) -> None:
        self.ctx = ctx

    async def run(self) -> None:
        while True:
            await self.step()
            await asyncio.sleep(self.ctx.config.prover.reaper_interval_secs)

    async def step(self) -> int:
        ctx = self.ctx
        cutoff = ctx.now() - ctx.config.prover.reaper_grace_period_secs
        reaped = 0
        for order in ctx.db.committed_orders():
            if order.status is OrderStatus.LOCKING or order.expire_timestamp >= cutoff:
                continue
            if order.proof_id and order.status is OrderStatus.PROVING:
                await ctx.prover.cancel(order.proof_id)
            ctx.set_status(order, OrderStatus.FAILED, error_msg="expired (reaped)")
            reaped += 1
        return reaped
